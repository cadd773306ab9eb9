"""The Practice tab's layout and wiring (handlers live in :mod:`simulator.ui.practice`)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from simulator.conversation.session import Session
from simulator.ui import identity, practice
from simulator.ui.authoring import is_shipped
from simulator.ui.context import AppContext
from simulator.ui.throttle import client_of

INTRO = """\
Pick a situation, read the brief, then talk to your colleague as you would at work.
Write your replies in your own words. When you are done, press **End and see debrief**.
"""


@dataclass
class PracticeTab:
    """The components other tabs and tests need to reach."""

    picker: gr.Radio
    chatbot: gr.Chatbot
    state: gr.State


SHOW_DEBRIEF = """() => {
    const area = document.querySelector('#debrief-area');
    if (area && area.offsetParent !== null) area.scrollIntoView({block: 'start'});
}"""
REPLY_HINT = "Type what you would say. Enter sends; Shift+Enter starts a new line."


def render(view: practice.PracticeView) -> list[Any]:
    """Component updates for a view, in the order of the tab's ``outputs``.

    A stale view (an answer for a conversation the trainee has left) changes nothing. A busy
    view locks the reply box and the buttons that would start another turn until the answer is
    shown, so a second message cannot be typed into a box that is about to be cleared.
    """
    if view.stale:
        return [gr.skip()] * OUTPUT_COUNT
    if view.notice:
        gr.Warning(html.escape(view.notice, quote=False))  # pop-ups render HTML
    if view.info:
        gr.Info(view.info)
    status = f"⚠ {view.notice}" if view.notice else view.status
    figures = view.figures or (None, None)
    downloads = view.downloads
    ended = bool(view.debrief)
    free = not view.busy
    name = view.session.scenario.persona.first_name if view.session is not None else ""
    return [
        view.session,
        view.chat,
        gr.update(
            value=view.reply,
            interactive=free,
            placeholder=REPLY_HINT if free else f"{name} is answering… wait a moment.",
        ),
        view.feedback,
        status,
        gr.update(visible=ended),
        view.debrief,
        figures[0],
        figures[1],
        gr.update(value=str(downloads[0]) if downloads else None, visible=bool(downloads)),
        gr.update(value=str(downloads[1]) if downloads else None, visible=bool(downloads)),
        gr.update(choices=view.branch_choices, value=None),
        gr.update(interactive=free),  # Send
        gr.update(interactive=free),  # End and see debrief
        gr.update(interactive=free),  # Start conversation
        gr.update(interactive=free),  # Try a different reply here
    ]


OUTPUT_COUNT = 16


def build_practice_tab(ctx: AppContext, trainee: gr.Textbox, passphrase: gr.Textbox) -> PracticeTab:
    """Lay out the Practice tab inside the current ``gr.Tab`` and wire its events."""
    # The public page config lists shipped scenarios only; saved ones arrive with the page's
    # load event (app.py), so the config names nothing a facilitator wrote.
    choices = [c for c in practice.scenario_choices() if is_shipped(c[1])]
    first = choices[0][1] if choices else None
    gr.Markdown(INTRO)
    with gr.Row():
        with gr.Column(scale=3):
            picker = gr.Radio(
                choices=choices, value=first, label="1. Choose a situation", elem_id="scenario"
            )
            card = gr.Markdown(practice.describe(first), elem_id="scenario-card")
        with gr.Column(scale=2):
            mode = gr.Radio(
                practice.MODE_CHOICES,
                value=practice.COACHING,
                label="2. How would you like feedback?",
                elem_id="mode",
            )
            start_button = gr.Button("Start conversation", variant="primary", elem_id="start")
    with gr.Row():
        with gr.Column(scale=3):
            # A heading rather than the chat's own label, which floats over the first message.
            gr.Markdown("### Conversation", elem_id="chat-heading")
            chatbot = gr.Chatbot(
                label="Conversation",
                show_label=False,
                height=420,
                placeholder="Press **Start conversation** to begin.",
                sanitize_html=True,
                render_markdown=True,
                latex_delimiters=[],
                feedback_options=None,
                allow_tags=False,
                buttons=["copy_all"],  # no "share" (it would reach out to Hugging Face)
                elem_id="chat",
            )
            status = gr.Markdown(elem_id="status")
            reply = gr.Textbox(
                label="3. Your reply",
                placeholder=REPLY_HINT,
                # One line to start with (it grows to eight): Gradio sends on Enter only for a
                # one-line box; Shift+Enter adds a line. With lines=2 Enter would add a line.
                lines=1,
                max_lines=8,
                elem_id="reply",
            )
            with gr.Row():
                send_button = gr.Button("Send", variant="primary", elem_id="send")
                end_button = gr.Button("End and see debrief", elem_id="end")
        with gr.Column(scale=2):
            gr.Markdown("### Feedback")
            feedback = gr.Markdown(practice.FEEDBACK_HINT, elem_id="feedback")
    with gr.Column(visible=False, elem_id="debrief-area") as debrief_area:
        debrief = gr.Markdown(elem_id="debrief")
        behaviours_plot = gr.Plot(label="The four behaviours", elem_id="behaviours-plot")
        trust_plot = gr.Plot(label="Trust and mood", elem_id="trust-plot")
        with gr.Row():
            again_button = gr.Button("Try again", variant="primary", elem_id="again")
            json_download = gr.DownloadButton(
                "Download transcript (JSON)", visible=False, elem_id="download-json"
            )
            md_download = gr.DownloadButton(
                "Download transcript (Markdown)", visible=False, elem_id="download-md"
            )
    with gr.Accordion("Go back and try a different reply", open=False, elem_id="go-back"):
        branch_choice = gr.Dropdown(
            choices=[], label="Which reply do you want to change?", elem_id="branch-choice"
        )
        branch_button = gr.Button("Try a different reply here", elem_id="branch")

    state = gr.State(None)
    outputs = [
        state,
        chatbot,
        reply,
        feedback,
        status,
        debrief_area,
        debrief,
        behaviours_plot,
        trust_plot,
        json_download,
        md_download,
        branch_choice,
        send_button,
        end_button,
        start_button,
        branch_button,
    ]
    assert len(outputs) == OUTPUT_COUNT

    def on_pick(scenario_id: str | None, session: Session | None) -> list[Any]:
        view = practice.switch(session, scenario_id)
        # skip() leaves the chat as it is when there is nothing to clear (no conversation yet,
        # or one with the situation picked), so a stray change event never wipes it.
        rest = [gr.skip()] * len(outputs) if view is None else render(view)
        return [practice.describe(scenario_id), *rest]

    picker.change(on_pick, [picker, state], [card, *outputs], api_visibility="private")

    def on_start(
        scenario_id: str | None,
        mode_label: str | None,
        name: str | None,
        secret: str | None,
        old: Session | None,
        request: gr.Request,
    ) -> Iterator[list[Any]]:
        # Adding sessions under a name needs its passphrase (no name: an unlisted session).
        if ctx.trusted_header or not identity.is_anonymous(name):
            try:
                who = identity.verify(
                    ctx, name, secret, client=client_of(request), headers=dict(request.headers)
                )
            except identity.Refused as refusal:
                gr.Warning("Not started: see the message under the conversation.")
                yield status_only(f"⚠ {refusal}")
                return
            name = who.name
        if not ctx.warm:
            yield status_only(
                "Getting your colleague ready: the first conversation after the app starts "
                "takes up to a minute."
            )
        view = practice.start(ctx, scenario_id, mode_label, name)
        if view.session is None:
            # A refused start changes only the status: a conversation on screen stays as it is.
            gr.Warning(html.escape(view.notice or view.status, quote=False))
            yield status_only(f"⚠ {view.notice or view.status}")
            return
        practice.leave(old)  # an answer still coming for the earlier conversation is dropped
        yield render(view)

    def status_only(text: str) -> list[Any]:
        updates: list[Any] = [gr.skip()] * len(outputs)
        updates[next(i for i, c in enumerate(outputs) if c is status)] = text
        return updates

    def on_send(session: Session | None, line: str | None) -> Iterator[list[Any]]:
        for view in practice.send(ctx, session, line):
            yield render(view)

    def on_end(session: Session | None) -> list[Any]:
        return render(practice.finish(ctx, session))

    def on_again(session: Session | None) -> list[Any]:
        return render(practice.try_again(ctx, session))

    def on_branch(session: Session | None, turn_index: int | None) -> list[Any]:
        return render(practice.go_back(ctx, session, turn_index))

    start_button.click(
        on_start, [picker, mode, trainee, passphrase, state], outputs, api_name="start"
    )
    # The last reply allowed ends the conversation: its debrief is brought into view too.
    send_button.click(on_send, [state, reply], outputs, api_name="send").then(
        None, None, None, js=SHOW_DEBRIEF, api_visibility="private"
    )
    reply.submit(on_send, [state, reply], outputs, api_visibility="private").then(
        None, None, None, js=SHOW_DEBRIEF, api_visibility="private"
    )
    # At 1366x900 the debrief opens below the fold: bring its heading into view once shown.
    end_button.click(on_end, [state], outputs, api_name="end").then(
        None, None, None, js=SHOW_DEBRIEF, api_visibility="private"
    )
    again_button.click(on_again, [state], outputs, api_name="try_again")
    branch_button.click(on_branch, [state, branch_choice], outputs, api_name="go_back")
    return PracticeTab(picker=picker, chatbot=chatbot, state=state)
