"""Cohorts: a facilitator's view of a group of trainees, and the code trainees join with.

A facilitator (signed in) creates a cohort and gives its code out; each trainee types it in
My history under the name they practise with. The view then shows, for that cohort only, each
trainee's sessions and progress per behaviour, the behaviours and situations the cohort finds
hardest, and a CSV of every session. Trainees are identified by the name they practise under
(:func:`simulator.ui.context.clean_name`), the same identity My history uses.

Handlers are plain functions over :class:`CohortView` so they are tested without a browser;
:func:`build_cohort_tab` and :func:`build_join_row` lay them out.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

import gradio as gr

from simulator.content.loading import available_scenarios
from simulator.evaluation.csvfiles import safe_writer
from simulator.store.database import Cohort, SessionSummary, StoreError
from simulator.ui import identity
from simulator.ui.auth import NOT_SIGNED_IN
from simulator.ui.context import ANONYMOUS, AppContext, clean_name
from simulator.ui.text import as_text
from simulator.ui.throttle import client_of

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read out loud, typed right
CODE_LENGTH = 6
BELOW = 1.5
"""An average under this (between "emerging" and "competent") counts as a session that found
the behaviour hard."""
MAX_SESSIONS = 1000


@dataclass
class CohortView:
    """What the cohort view shows for one cohort.

    Attributes:
        message: One line on top (what was found, or what to do).
        trainees: Per trainee: sessions, replies, last practised, per behaviour first → latest.
        behaviours: The behaviours, hardest (lowest average) first.
        scenarios: The situations played, hardest first.
        sessions: Every session of the cohort, newest first (also the CSV's rows).
        csv_path: The CSV export, once written.
    """

    message: str
    trainees: tuple[list[str], list[list[Any]]] = ([], [])
    behaviours: tuple[list[str], list[list[Any]]] = ([], [])
    scenarios: tuple[list[str], list[list[Any]]] = ([], [])
    sessions: tuple[list[str], list[list[Any]]] = ([], [])
    csv_path: Path | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)


def normalise_code(code: str | None) -> str:
    """A code as typed ("ab3 k7q", "ab3-k7q") in its stored form ("AB3K7Q")."""
    return re.sub(r"[\s-]+", "", code or "").upper()


def new_code() -> str:
    """A random cohort code, easy to read out and type."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _label(cohort: Cohort) -> str:
    people = f"{cohort.members} trainee{'s' if cohort.members != 1 else ''}"
    return f"{cohort.name} ({cohort.code}, {people})"


def cohort_choices(ctx: AppContext) -> list[tuple[str, str]]:
    """(label, code) for every cohort, newest first."""
    return [(_label(c), c.code) for c in ctx.store.list_cohorts()]


def create(ctx: AppContext, allowed: bool, name: str | None) -> tuple[str, str | None]:
    """Create a cohort; returns the message (with the code to give out) and the new code."""
    if not allowed:
        return NOT_SIGNED_IN, None
    title = " ".join((name or "").split())[:80]
    if not title:
        return "Give the cohort a name first, e.g. *Ward managers, March*.", None
    try:
        for _ in range(10):  # 31**6 codes: a clash is rare, ten in a row impossible in practice
            code = new_code()
            if ctx.store.create_cohort(code, title):
                break
        else:
            return "✖ No free cohort code was found; try again.", None
    except StoreError as exc:
        return f"✖ The cohort could not be saved: {as_text(str(exc))}", None
    return (
        f"✔ Created **{as_text(title)}**. Give your trainees the code **{code}**: they type it "
        "under *Join a cohort* in My history, with the name they practise under.",
        code,
    )


def join(ctx: AppContext, trainee: str | None, code: str | None) -> str:
    """A trainee joins a cohort under the name at the top of the page."""
    name = clean_name(trainee)
    if not name or name == ANONYMOUS:
        return (
            "Type your name in **Your name** at the top of the page first: the cohort sees "
            "the conversations saved under it."
        )
    wanted = normalise_code(code)
    if not wanted:
        return "Type the cohort code your facilitator gave you."
    try:
        cohort = ctx.store.cohort(wanted)
        if cohort is None:
            return (
                f"No cohort has the code **{as_text(wanted)}**. Check it with your facilitator "
                "(codes use letters and the digits 2-9)."
            )
        added = ctx.store.join_cohort(wanted, name)
    except StoreError as exc:
        return f"✖ Could not join just now: {as_text(str(exc))}"
    where = f"**{as_text(cohort.name)}**"
    if not added:
        return f"**{as_text(name)}** is in {where} already."
    return (
        f"✔ **{as_text(name)}** joined {where}. Your facilitator now sees your practice "
        "sessions (situations, replies and scores) in the cohort view."
    )


def _dims(ctx: AppContext) -> tuple[list[str], list[str]]:
    rubric = ctx.services.default_rubric()
    if rubric is None:
        return [], []
    return list(rubric.dimension_ids), [rubric.dimension(d).name for d in rubric.dimension_ids]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _trend(values: list[float]) -> str:
    """First → latest session's average, or the one average there is."""
    if not values:
        return ""
    if len(values) == 1:
        return _number(values[0])
    return f"{values[0]:.1f} → {values[-1]:.1f}"


def _hardest_behaviours(
    sessions: list[SessionSummary], dims: list[str], names: list[str]
) -> list[list[Any]]:
    rows = []
    for dim_id, dim_name in zip(dims, names, strict=True):
        values = [m for s in sessions if (m := s.means.get(dim_id)) is not None]
        if not values:
            continue
        hard = sum(v < BELOW for v in values)
        rows.append([dim_name, _number(mean(values)), len(values), f"{hard} of {len(values)}"])
    return sorted(rows, key=lambda row: float(row[1]))


def _hardest_scenarios(
    sessions: list[SessionSummary], dims: list[str], names: list[str], titles: dict[str, str]
) -> list[list[Any]]:
    rows = []
    for scenario_id in dict.fromkeys(s.scenario_id for s in sessions):
        played = [s for s in sessions if s.scenario_id == scenario_id]
        per_dim = {
            name: mean(values)
            for d, name in zip(dims, names, strict=True)
            if (values := [m for s in played if (m := s.means.get(d)) is not None])
        }
        if not per_dim:
            continue
        weakest = min(per_dim, key=lambda n: per_dim[n])
        rows.append(
            [
                titles.get(scenario_id, scenario_id),
                len(played),
                len({s.trainee.casefold() for s in played}),
                _number(mean(per_dim.values())),
                f"{weakest} ({per_dim[weakest]:.1f})",
            ]
        )
    return sorted(rows, key=lambda row: float(row[3]))


def report(ctx: AppContext, allowed: bool, code: str | None) -> CohortView:
    """The cohort view for one cohort: trainees, hardest behaviours and situations, a CSV."""
    if not allowed:
        return CohortView(NOT_SIGNED_IN)
    wanted = normalise_code(code)
    if not wanted:
        return CohortView("Choose a cohort (or create one above).", choices=cohort_choices(ctx))
    try:
        cohort = ctx.store.cohort(wanted)
        if cohort is None:
            return CohortView(f"No cohort has the code {as_text(wanted)}.")
        members = ctx.store.cohort_members(wanted)
        by_member = {m: ctx.store.list_sessions(m, limit=MAX_SESSIONS) for m in members}
    except StoreError as exc:
        return CohortView(f"✖ The cohort cannot be read just now: {as_text(str(exc))}")
    dims, names = _dims(ctx)
    titles = {sid: s.title for sid, s in available_scenarios().items()}
    # Only conversations with at least one reply: one left at the opening line says nothing.
    sessions = [s for m in members for s in by_member[m] if s.n_turns > 0]
    choices = cohort_choices(ctx)
    if not members:
        return CohortView(
            f"Nobody has joined **{as_text(cohort.name)}** yet. Give your trainees the code "
            f"**{cohort.code}**: they type it under *Join a cohort* in My history.",
            choices=choices,
        )
    trainee_rows = []
    for member in members:
        # Oldest first; the store lists newest first, so reversing keeps same-second starts in
        # the order they were made (timestamps have whole seconds).
        own = [s for s in reversed(by_member[member]) if s.n_turns > 0]
        trainee_rows.append(
            [
                member,
                len(own),
                sum(s.n_turns for s in own),
                own[-1].started_at.replace("T", " ")[:16] if own else "never",
                *[_trend([m for s in own if (m := s.means.get(d)) is not None]) for d in dims],
            ]
        )
    session_headers = ["trainee", "when (UTC)", "situation", "mode", "replies", "status", *names]
    session_rows = [
        [
            s.trainee,
            s.started_at.replace("T", " ")[:16],
            titles.get(s.scenario_id, s.scenario_id),
            s.mode,
            s.n_turns,
            "finished" if s.ended_at else "not finished",
            *[_number(s.means.get(d)) for d in dims],
        ]
        for s in sorted(sessions, key=lambda s: s.started_at, reverse=True)
    ]
    csv_path = _write_csv(ctx, cohort, session_headers, session_rows)
    people = f"{len(members)} trainee{'s' if len(members) != 1 else ''}"
    return CohortView(
        message=(
            f"**{as_text(cohort.name)}** (code **{cohort.code}**): {people}, "
            f"{len(sessions)} conversation(s). Levels are averages on the 0-3 scale; "
            "*first → latest* compares a trainee's first and latest session."
        ),
        trainees=(["trainee", "sessions", "replies", "last practised", *names], trainee_rows),
        behaviours=(
            ["behaviour", "average level", "sessions", f"sessions below {BELOW}"],
            _hardest_behaviours(sessions, dims, names),
        ),
        scenarios=(
            ["situation", "sessions", "trainees", "average level", "weakest behaviour"],
            _hardest_scenarios(sessions, dims, names, titles),
        ),
        sessions=(session_headers, session_rows),
        csv_path=csv_path,
        choices=choices,
    )


def _write_csv(ctx: AppContext, cohort: Cohort, headers: list[str], rows: list[list[Any]]) -> Path:
    path = ctx.download_dir() / f"rapport-cohort-{cohort.code.lower()}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        # A name starting with = + - @ would run as a formula in a spreadsheet.
        writer = safe_writer(handle)
        writer.writerow(["cohort", *headers])
        for row in rows:
            writer.writerow([cohort.name, *row])
    return path


def build_cohort_tab(ctx: AppContext, gate: Any) -> None:
    """Lay out the cohort view inside the current ``gr.Tab`` (behind the facilitator sign-in)."""
    from simulator.ui.gate import login_form

    content = login_form(ctx, gate, "The cohort view")
    with content:
        gr.Markdown(
            "Follow a group of trainees. Create a cohort and give its code out; trainees type "
            "it under *Join a cohort* in My history. Then choose the cohort to see how each "
            "trainee is doing and what the group finds hardest."
        )
        with gr.Row():
            name = gr.Textbox(
                label="New cohort's name",
                placeholder="e.g. Ward managers, March",
                scale=3,
                elem_id="cohort-name",
            )
            make = gr.Button("Create a cohort", scale=1, elem_id="cohort-create")
        with gr.Row():
            # Cohort names and codes are for facilitators: filled in at sign-in (see Gate).
            pick = gr.Dropdown(
                choices=[] if ctx.gate.required else cohort_choices(ctx),
                label="Cohort",
                scale=3,
                elem_id="cohort-pick",
            )
            show = gr.Button("Show cohort", variant="primary", scale=1, elem_id="cohort-show")
        message = gr.Markdown(elem_id="cohort-message")
        trainees = gr.Dataframe(
            label="Trainees", interactive=False, visible=False, elem_id="cohort-trainees"
        )
        behaviours = gr.Dataframe(
            label="Behaviours, hardest first",
            interactive=False,
            visible=False,
            elem_id="cohort-behaviours",
        )
        scenarios = gr.Dataframe(
            label="Situations, hardest first",
            interactive=False,
            visible=False,
            elem_id="cohort-scenarios",
        )
        sessions = gr.Dataframe(
            label="Every conversation",
            interactive=False,
            visible=False,
            max_height=400,
            elem_id="cohort-sessions",
        )
        export = gr.DownloadButton("Download CSV", visible=False, elem_id="cohort-csv")

    def table(part: tuple[list[str], list[list[Any]]]) -> Any:
        headers, rows = part
        if not rows:
            return gr.update(value=None, visible=False)
        return gr.update(value={"headers": headers, "data": rows}, visible=True)

    def on_create(allowed: bool, title: str | None) -> list[Any]:
        note, code = create(ctx, allowed, title)
        if code is None:
            return [note, gr.skip(), gr.skip()]
        return [note, gr.update(choices=cohort_choices(ctx), value=code), ""]

    def on_show(allowed: bool, code: str | None) -> list[Any]:
        view = report(ctx, allowed, code)
        path = view.csv_path
        return [
            view.message,
            table(view.trainees),
            table(view.behaviours),
            table(view.scenarios),
            table(view.sessions),
            gr.update(value=str(path) if path else None, visible=path is not None),
            gr.update(choices=view.choices) if view.choices else gr.skip(),
        ]

    gate.after_sign_in(pick, lambda: gr.update(choices=cohort_choices(ctx)))
    gate.on(make.click, on_create, [name], [message, pick, name], api_name="cohort_create")
    shown = [message, trainees, behaviours, scenarios, sessions, export, pick]
    gate.on(show.click, on_show, [pick], shown, api_name="cohort")


def build_join_row(ctx: AppContext, trainee: Any, passphrase: Any) -> None:
    """The trainee's side: join a cohort with the facilitator's code (in My history).

    Joining shows a name's sessions to the cohort's facilitator, so it needs the name's
    passphrase, like reading the history does.
    """
    with gr.Accordion("Join a cohort", open=False, elem_id="cohort-join"):
        gr.Markdown(
            "If your facilitator gave you a cohort code, type it here. They will then see the "
            "conversations saved under your name (situations, replies and scores)."
        )
        with gr.Row():
            code = gr.Textbox(label="Cohort code", max_lines=1, scale=3, elem_id="cohort-code")
            go = gr.Button("Join", scale=1, elem_id="cohort-join-button")
        note = gr.Markdown(elem_id="cohort-join-message")

    def on_join(
        name: str | None, secret: str | None, typed: str | None, request: gr.Request
    ) -> str:
        try:
            who = identity.verify(
                ctx, name, secret, client=client_of(request), headers=dict(request.headers)
            )
        except identity.Refused as refusal:
            return f"⚠ {refusal}"
        return join(ctx, who.name, typed)

    go.click(on_join, [trainee, passphrase, code], note, api_name="cohort_join")
    code.submit(on_join, [trainee, passphrase, code], note, api_visibility="private")
