"""Layout of the facilitator's Scenarios tab: the handlers are in :mod:`simulator.ui.authoring`.

Every event here is wired through :meth:`simulator.ui.gate.Gate.on`, behind the sign-in.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from simulator.ui import authoring
from simulator.ui.context import AppContext
from simulator.ui.gate import Gate, login_form


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
            # Listing saved scenarios is for facilitators: filled in at sign-in (see Gate).
            start_from = gr.Dropdown(
                [authoring.BLANK] if ctx.gate.required else authoring.template_choices(),
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
        broken = gr.Markdown(elem_id="broken-scenarios")
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

    gate.after_sign_in(start_from, lambda: gr.update(choices=authoring.template_choices()))

    def on_validate(allowed: bool, text: str | None) -> str:
        return authoring.validation_markdown(text)

    # Validation costs CPU with the text's size: one at a time, and only for facilitators.
    gate.on(
        editor.change,
        on_validate,
        [editor],
        problems,
        trigger_mode="always_last",
        show_progress="hidden",
        api_name="validate",
        concurrency_limit=1,
        concurrency_id="validate",
    )

    def on_load(allowed: bool, choice: str | None) -> str:
        return authoring.load_template(choice)

    gate.on(load.click, on_load, [start_from], editor, api_visibility="private")

    # A "✖ Not saved" is about the text as it was; it goes once the text changes.
    def on_edit(allowed: bool, message: str | None) -> str:
        return authoring.after_edit(message)

    gate.on(
        editor.change, on_edit, [saved], saved, api_visibility="private", show_progress="hidden"
    )

    def on_preview(allowed: bool, text: str | None, line: str | None) -> str:
        return authoring.preview(ctx, allowed, text, line)

    gate.on(
        try_it.click,
        on_preview,
        [editor, test_line],
        preview,
        api_name="preview",
        concurrency_limit=1,
        concurrency_id="preview",
    )

    def on_save(allowed: bool, text: str | None) -> list[Any]:
        from simulator.ui.practice import scenario_choices

        message = authoring.save(allowed, text)
        return [
            message,
            gr.update(choices=scenario_choices()),
            gr.update(choices=authoring.template_choices()),
        ]

    saving = gate.on(save.click, on_save, [editor], [saved, picker, start_from], api_name="save")
    # Files that fail to load are listed after a save and when a facilitator opens the list.
    gate.on(saving.then, authoring.broken_markdown, [], broken, api_visibility="private")
    gate.on(start_from.focus, authoring.broken_markdown, [], broken, api_visibility="private")

    def on_file(allowed: bool, file: Any, importer: Any) -> list[Any]:
        path = getattr(file, "name", file)
        text, message = importer(allowed, path)
        if text is None:
            gr.Warning(message.removeprefix("✖ "))
        return [gr.update() if text is None else text, message]

    def on_upload(allowed: bool, file: Any) -> list[Any]:
        return on_file(allowed, file, authoring.upload_yaml)

    def on_card(allowed: bool, file: Any) -> list[Any]:
        return on_file(allowed, file, authoring.import_card)

    gate.on(upload.upload, on_upload, [upload], [editor, note], api_visibility="private")
    gate.on(card.upload, on_card, [card], [editor, note], api_visibility="private")
