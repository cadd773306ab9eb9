"""Layout of the facilitator (Scenarios) tab and the login form shared with the Evaluate tab."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from simulator.ui import authoring
from simulator.ui.context import AppContext


@dataclass
class Gate:
    """One login form per admin tab; signing in on either opens both.

    ``allowed`` lives in server-side session state, so a browser cannot set it, and every admin
    handler takes it as an input and refuses to act without it.
    """

    allowed: gr.State
    forms: list[gr.Column] = field(default_factory=list)
    contents: list[gr.Column] = field(default_factory=list)
    fields: list[tuple[gr.Button, gr.Textbox, gr.Textbox, gr.Markdown]] = field(
        default_factory=list
    )

    def wire(self, ctx: AppContext) -> None:
        """Connect every form's Sign in button (call once, after all admin tabs exist)."""

        def on_sign_in(name: str | None, secret: str | None) -> list[Any]:
            ok = ctx.gate.check(name or "", secret or "")
            message = "" if ok else "✖ That user name and password do not match."
            return [
                ok,
                message,
                *[gr.update(visible=not ok) for _ in self.forms],
                *[gr.update(visible=ok) for _ in self.contents],
                "",
            ]

        for button, user, password, message in self.fields:
            button.click(
                on_sign_in,
                [user, password],
                [self.allowed, message, *self.forms, *self.contents, password],
                api_visibility="private",
            )


def login_form(ctx: AppContext, gate: Gate, what: str) -> gr.Column:
    """A sign-in form (hidden when no admin login is configured); returns the column it guards."""
    with gr.Column(visible=ctx.gate.required) as form:
        gr.Markdown(f"**{what} is for facilitators.** Sign in to continue.")
        with gr.Row():
            user = gr.Textbox(label="User name", scale=1)
            password = gr.Textbox(label="Password", type="password", scale=1)
        sign_in = gr.Button("Sign in", variant="primary")
        message = gr.Markdown()
    content = gr.Column(visible=not ctx.gate.required)
    gate.forms.append(form)
    gate.contents.append(content)
    gate.fields.append((sign_in, user, password, message))
    return content


def build_scenarios_tab(ctx: AppContext, gate: Gate, picker: gr.Radio) -> None:
    """The Scenarios tab: YAML editor with live validation, preview, save, upload, import."""
    content = login_form(ctx, gate, "Writing scenarios")
    with content:
        gr.Markdown(
            "Write or change a practice scenario. Start from a template or an existing scenario, "
            "edit the YAML, and fix anything listed under the editor. Preview how the colleague "
            "answers, then **Save scenario**. See docs/authoring.md for every field."
        )
        with gr.Row():
            start_from = gr.Dropdown(
                authoring.template_choices(),
                value=authoring.BLANK,
                label="Start from",
                scale=3,
            )
            load = gr.Button("Load into editor", scale=1)
            upload = gr.UploadButton(
                "Upload a YAML file", file_types=[".yaml", ".yml"], scale=1, elem_id="upload-yaml"
            )
            card = gr.UploadButton(
                "Import a character card (JSON)",
                file_types=[".json"],
                scale=1,
                elem_id="import-card",
            )
        note = gr.Markdown(elem_id="authoring-note")
        # No syntax colouring: Gradio's YAML mode (CodeMirror's legacy one) reads an apostrophe
        # in plain text ("Sam's") as the start of a quoted string and colours the rest of the
        # line as one, which misleads more than colour helps; messages come from the validator.
        editor = gr.Code(
            authoring.TEMPLATE,
            language=None,
            label="Scenario (YAML)",
            lines=24,
            max_lines=40,
            elem_id="editor",
        )
        problems = gr.Markdown(
            authoring.validation_markdown(authoring.TEMPLATE), elem_id="validation"
        )
        with gr.Row():
            test_line = gr.Textbox(
                label="Test line (what a trainee might say)",
                placeholder="What's been happening this week?",
                scale=3,
            )
            try_it = gr.Button("Preview the colleague's reply", scale=1, elem_id="preview")
        preview = gr.Markdown(elem_id="preview-out")
        save = gr.Button("Save scenario", variant="primary", elem_id="save")
        saved = gr.Markdown(elem_id="save-out")

    editor.change(
        authoring.validation_markdown,
        editor,
        problems,
        trigger_mode="always_last",
        show_progress="hidden",
        api_name="validate",
    )
    # A "✖ Not saved" is about the text as it was; it goes once the text changes.
    editor.change(
        authoring.after_edit, saved, saved, api_visibility="private", show_progress="hidden"
    )
    load.click(authoring.load_template, start_from, editor, api_visibility="private")

    def on_preview(allowed: bool, text: str | None, line: str | None) -> str:
        return authoring.preview(ctx, allowed, text, line)

    try_it.click(on_preview, [gate.allowed, editor, test_line], preview, api_name="preview")

    def on_save(allowed: bool, text: str | None) -> list[Any]:
        from simulator.ui.practice import scenario_choices

        message = authoring.save(allowed, text)
        return [
            message,
            gr.update(choices=scenario_choices()),
            gr.update(choices=authoring.template_choices()),
        ]

    save.click(on_save, [gate.allowed, editor], [saved, picker, start_from], api_name="save")

    def on_file(allowed: bool, file: Any, importer: Any) -> list[Any]:
        path = getattr(file, "name", file)
        text, message = importer(allowed, path)
        if text is None:
            gr.Warning(message.removeprefix("✖ "))
        return [gr.update() if text is None else text, message]

    upload.upload(
        lambda allowed, file: on_file(allowed, file, authoring.upload_yaml),
        [gate.allowed, upload],
        [editor, note],
        api_visibility="private",
    )
    card.upload(
        lambda allowed, file: on_file(allowed, file, authoring.import_card),
        [gate.allowed, card],
        [editor, note],
        api_visibility="private",
    )
