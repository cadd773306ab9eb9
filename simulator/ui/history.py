"""History tab: a trainee's past sessions from the store, progress per behaviour, downloads.

Only sessions stored under the name typed at the top of the page are shown (names compared
case-insensitively), and only with that name's passphrase (or the trusted proxy header):
:func:`simulator.ui.identity.verify` checks it before anything is read. A transcript is handed
out only when it belongs to the verified name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from simulator.content.loading import available_scenarios
from simulator.content.schema import Rubric
from simulator.store.database import StoreError
from simulator.store.trainees import name_key
from simulator.ui import identity
from simulator.ui.context import AppContext
from simulator.ui.text import as_text
from simulator.ui.throttle import client_of

NEED_NAME = (
    "Type your name in **Your name** and your passphrase in **Your passphrase** at the top of "
    "the page to see your past conversations. Conversations started without a name are not "
    "listed in anyone's history."
)
Headers = dict[str, str] | None


@dataclass
class HistoryView:
    """What the history tab shows for one name."""

    message: str
    rows: list[list[Any]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    figure: Any = None
    choices: list[tuple[str, str]] = field(default_factory=list)


def _rubric(ctx: AppContext) -> Rubric | None:
    return ctx.services.default_rubric()


def _verified(
    ctx: AppContext, trainee: str | None, passphrase: str | None, client: str, headers: Headers
) -> tuple[str | None, str]:
    """(the verified name, '') or (None, why not)."""
    if not ctx.trusted_header and identity.is_anonymous(trainee):
        return None, NEED_NAME
    try:
        return identity.verify(ctx, trainee, passphrase, client=client, headers=headers).name, ""
    except identity.Refused as refusal:
        return None, str(refusal)


def history(
    ctx: AppContext,
    trainee: str | None,
    passphrase: str | None = None,
    *,
    client: str = "local",
    headers: Headers = None,
) -> HistoryView:
    """Past sessions of one trainee, newest first, with a progress chart.

    Args:
        ctx: The app context.
        trainee: The name typed at the top of the page.
        passphrase: That name's passphrase (the first one given claims the name).
        client: The client's address (for the sign-in rate limit).
        headers: The request's headers (for a trusted proxy header).
    """
    from simulator.ui.charts import progress_figure

    name, refusal = _verified(ctx, trainee, passphrase, client, headers)
    if name is None:
        return HistoryView(message=refusal)
    shown = as_text(name)
    try:
        sessions = ctx.store.list_sessions(name)
        progress = ctx.store.behaviour_progress(name)
    except StoreError as exc:
        return HistoryView(message=f"Your history cannot be read just now: {exc}")
    # A conversation started and left before the first reply holds nothing to look back on.
    sessions = [s for s in sessions if s.n_turns > 0]
    if not sessions:
        return HistoryView(
            message=f"No conversations saved under **{shown}** yet. Start one in the Practice tab."
        )
    rubric = _rubric(ctx)
    dims = rubric.dimension_ids if rubric else sorted({d for s in sessions for d in s.means})
    names = [rubric.dimension(d).name if rubric else d for d in dims]
    titles = {sid: s.title for sid, s in available_scenarios().items()}
    rows = []
    choices = []
    for summary in sessions:
        when = summary.started_at.replace("T", " ")[:16]
        title = titles.get(summary.scenario_id, summary.scenario_id)
        means = [round(m, 1) if (m := summary.means.get(d)) is not None else "" for d in dims]
        status = "finished" if summary.ended_at else "not finished"
        rows.append([when, title, summary.mode, summary.n_turns, status, *means])
        choices.append((f"{when} · {title} · {summary.n_turns} replies", summary.session_id))
    # The chart names each session as the table does: by title, not by scenario id.
    titled = [(when, titles.get(sid, sid), levels) for when, sid, levels in progress]
    return HistoryView(
        message=f"{len(sessions)} conversation(s) saved under **{shown}**. Averages are 0-3.",
        rows=rows,
        headers=["When (UTC)", "Situation", "Mode", "Replies", "Status", *names],
        figure=progress_figure(titled, rubric),
        choices=choices,
    )


def download(
    ctx: AppContext,
    trainee: str | None,
    session_id: str | None,
    passphrase: str | None = None,
    *,
    client: str = "local",
    headers: Headers = None,
) -> tuple[Any, Any, str]:
    """The JSON and Markdown transcript of one of this trainee's sessions (passphrase checked)."""
    from simulator.content.loading import get_rubric
    from simulator.ui.formatting import transcript_markdown

    name, refusal = _verified(ctx, trainee, passphrase, client, headers)
    if name is None:
        return None, None, refusal
    if not session_id:
        return None, None, "Choose a conversation first."
    try:
        transcript = ctx.store.load_transcript(session_id)
    except (StoreError, KeyError, LookupError):
        return None, None, "That conversation could not be found."
    if name_key(transcript.trainee) != name_key(name):
        # Same answer as a missing id: do not confirm that someone else's session exists.
        return None, None, "That conversation could not be found."
    import json

    scenario = available_scenarios().get(transcript.scenario_id)
    try:
        rubric: Rubric | None = get_rubric(transcript.rubric_id)
    except Exception:  # a rubric removed since: the transcript still downloads, with ids
        rubric = None
    folder = ctx.download_dir()
    stem = f"rapport-{transcript.scenario_id}-{transcript.session_id[:8]}"
    json_path = folder / f"{stem}.json"
    md_path = folder / f"{stem}.md"
    json_path.write_text(
        json.dumps(transcript.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    md_path.write_text(transcript_markdown(transcript, scenario, rubric), encoding="utf-8")
    return str(json_path), str(md_path), "Your files are ready: use the buttons below."


def build_history_tab(
    ctx: AppContext, trainee: gr.Textbox, passphrase: gr.Textbox, tab: gr.Tab
) -> None:
    """Lay out the history tab inside ``tab``; it refreshes when the tab is opened."""
    gr.Markdown(
        "Your past conversations and how each behaviour has developed. Only conversations "
        "saved under the name at the top of the page are shown, and only with its passphrase."
    )
    refresh = gr.Button("Show my history", variant="primary", elem_id="history-refresh")
    message = gr.Markdown(NEED_NAME, elem_id="history-message")
    table = gr.Dataframe(interactive=False, wrap=True, elem_id="history-table", visible=False)
    plot = gr.Plot(label="Progress per behaviour", visible=False, elem_id="history-plot")
    with gr.Row():
        pick = gr.Dropdown(choices=[], label="Download a conversation", scale=3)
        prepare = gr.Button("Prepare download", scale=1)
    with gr.Row():
        json_file = gr.DownloadButton("Transcript (JSON)", visible=False)
        md_file = gr.DownloadButton("Transcript (Markdown)", visible=False)

    def on_refresh(name: str | None, secret: str | None, request: gr.Request) -> list[Any]:
        view = history(ctx, name, secret, client=client_of(request), headers=dict(request.headers))
        has_rows = bool(view.rows)
        return [
            view.message,
            gr.update(
                value={"headers": view.headers, "data": view.rows} if has_rows else None,
                visible=has_rows,
            ),
            gr.update(value=view.figure, visible=has_rows),
            gr.update(choices=view.choices, value=None),
            gr.update(visible=False),
            gr.update(visible=False),
        ]

    def on_prepare(
        name: str | None, secret: str | None, session_id: str | None, request: gr.Request
    ) -> list[Any]:
        json_path, md_path, note = download(
            ctx, name, session_id, secret, client=client_of(request), headers=dict(request.headers)
        )
        if json_path is None:
            gr.Warning(note)
        return [
            note,
            gr.update(value=json_path, visible=json_path is not None),
            gr.update(value=md_path, visible=md_path is not None),
        ]

    outputs = [message, table, plot, pick, json_file, md_file]
    refresh.click(on_refresh, [trainee, passphrase], outputs, api_name="history")
    tab.select(on_refresh, [trainee, passphrase], outputs, api_visibility="private")
    prepare.click(
        on_prepare,
        [trainee, passphrase, pick],
        [message, json_file, md_file],
        api_name="history_download",
    )
