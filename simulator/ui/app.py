"""Build the whole Gradio app and launch it.

``python app.py`` (repository root) calls :func:`main`. Settings come from the environment:
``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` (read by Gradio's ``launch``),
``RAPPORT_CONCURRENCY`` (requests that run at once, default 4), ``RAPPORT_MODEL`` (persona model;
default the embedded one), ``RAPPORT_HOME`` (where sessions and scenarios are kept),
``RAPPORT_MAX_UPLOAD_MB`` (largest upload, default 50), ``RAPPORT_TRUSTED_USER_HEADER`` (a
reverse proxy's signed-in user, see :mod:`simulator.ui.identity`) and the facilitator login
(see :mod:`simulator.ui.auth`). docs/security.md says who can reach what.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

import gradio as gr

import simulator.ui  # noqa: F401  (switches analytics off before gradio is imported)
from simulator.files.paths import data_dir
from simulator.store.database import Store, StoreError
from simulator.ui.auth import ConfigError, for_server, load_admin_gate
from simulator.ui.authoring_tab import build_scenarios_tab
from simulator.ui.cohort import build_cohort_tab, build_join_row
from simulator.ui.context import (
    AppContext,
    SettingsError,
    concurrency_from_env,
    max_upload_mb_from_env,
    trusted_header_from_env,
)
from simulator.ui.evaluate import build_evaluate_tab
from simulator.ui.gate import Gate, check_gated
from simulator.ui.history import build_history_tab
from simulator.ui.practice_tab import build_practice_tab
from simulator.ui.remember import remember_name

TITLE = "Rapport: practise a hard conversation"

HEADER = """\
# Rapport
**Practise a difficult conversation with a colleague, and see how each reply landed.**
Your replies are rated on four behaviours of compassionate leadership: *attending*,
*understanding*, *empathising* and *helping*. Everything stays on this computer.
"""

CSS = """
#status p { margin: 0.25em 0; }
#feedback { font-size: 0.95em; }
/* The chat's "clear" icon would empty the display but not the conversation: hide it. */
#chat button[aria-label="Clear"] { display: none; }
/* Table headers wrap between words, never inside one (a narrow column showed "Re/ply"). */
table th, table th * { word-break: normal !important; overflow-wrap: normal !important; }
/* Report plots at their drawn size, centred, never wider than the screen. */
#eval-plots figure { margin: 0.5em 0; }
#eval-plots figcaption { font-size: 0.85em; color: var(--body-text-color-subdued); }
"""


def theme() -> Any:
    """A theme with system fonts: the default one downloads web fonts, and we stay offline."""
    return gr.themes.Soft(
        font=["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "Consolas", "monospace"],
    )


UPLOAD_CACHE_SECONDS = 3600
"""Uploads and generated files older than this leave Gradio's cache (checked every 10 minutes),
so repeated uploads cannot fill the disk."""


def build_app(ctx: AppContext) -> gr.Blocks:
    """The Gradio Blocks for every tab, with its queue set up (not launched).

    Raises:
        RuntimeError: A handler reaches the facilitator tabs without the sign-in check.
    """
    with gr.Blocks(
        title=TITLE, analytics_enabled=False, delete_cache=(600, UPLOAD_CACHE_SECONDS)
    ) as demo:
        gr.Markdown(HEADER)
        # With a trusted proxy header the proxy says who the trainee is: nothing to type.
        with gr.Row(visible=ctx.trusted_header is None):
            trainee = gr.Textbox(
                label="Your name",
                placeholder="e.g. Jo Smith — keeps your practice history yours",
                max_lines=1,
                elem_id="trainee",
                scale=2,
            )
            passphrase = gr.Textbox(
                label="Your passphrase",
                placeholder="chosen the first time you use your name; needed for your history",
                type="password",
                max_lines=1,
                elem_id="passphrase",
                scale=2,
            )
        remember_name(demo, trainee, data_dir())  # kept in the browser across reloads
        gate = Gate(allowed=gr.State(not ctx.gate.required))
        with gr.Tabs():
            with gr.Tab("Practice", id="practice", elem_id="tab-practice"):
                practice_tab = build_practice_tab(ctx, trainee, passphrase)
            with gr.Tab("My history", id="history", elem_id="tab-history") as history_tab:
                build_history_tab(ctx, trainee, passphrase, history_tab)
                build_join_row(ctx, trainee, passphrase)
            with gr.Tab("Scenarios (facilitators)", id="scenarios", elem_id="tab-scenarios"):
                build_scenarios_tab(ctx, gate, practice_tab.picker)
            with gr.Tab("Evaluate (course designers)", id="evaluate", elem_id="tab-evaluate"):
                build_evaluate_tab(ctx, gate)
            with gr.Tab("Cohort (facilitators)", id="cohort", elem_id="tab-cohort"):
                build_cohort_tab(ctx, gate)
        gate.wire(ctx)

        def refresh_choices() -> Any:
            from simulator.ui.practice import scenario_choices

            return gr.update(choices=scenario_choices())

        # Scenarios saved since the server started appear on the next page load.
        demo.load(
            refresh_choices,
            None,
            practice_tab.picker,
            api_visibility="private",
            show_progress="hidden",
        )
    check_gated(demo, gate)
    demo.queue(default_concurrency_limit=ctx.concurrency)
    return demo


def launch_options(ctx: AppContext) -> dict[str, Any]:
    """``launch()`` settings that bound what a visitor can send (shared with the tests)."""
    return {"max_file_size": ctx.max_upload_mb * 1024 * 1024, "show_error": False}


def warm_up(ctx: AppContext) -> None:
    """Load the persona model and the scorer in the background so the first reply is quicker.

    Handlers that need the model wait for it (``ctx.wait_until_warm``): two threads loading the
    same model at once would double the time and the memory.
    """
    ctx.warming = threading.Event()
    done = ctx.warming

    def work() -> None:
        try:
            services = ctx.services
            services.model()
            services.scorer()
        except Exception as exc:  # the first conversation reports it properly; say it here too
            print(f"note: warming up the model failed: {exc}", file=sys.stderr)
        finally:
            done.set()

    threading.Thread(target=work, name="rapport-warm-up", daemon=True).start()


def make_context() -> AppContext:
    """Read the settings from the environment and open the store.

    Raises:
        SettingsError, ConfigError, StoreError: With a message saying what to fix.
    """
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    return AppContext(
        store=Store(),
        gate=for_server(load_admin_gate(), host),
        concurrency=concurrency_from_env(),
        trusted_header=trusted_header_from_env(),
        max_upload_mb=max_upload_mb_from_env(),
    )


def main() -> int:
    """Start the app; returns an exit code (1 with a message when a setting is wrong)."""
    # Refused sign-ins are logged at WARNING (simulator.ui.throttle); show them on stderr.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        ctx = make_context()
    except (SettingsError, ConfigError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    warm_up(ctx)
    demo = build_app(ctx)
    if ctx.gate.locked:
        print(
            f"Facilitator tabs are closed ({ctx.gate.source}): set RAPPORT_ADMIN_USER and "
            "RAPPORT_ADMIN_PASSWORD to open them with a login."
        )
    elif ctx.gate.required:
        print(f"Facilitator tabs need a login (from {ctx.gate.source}).")
    else:
        print(
            "Facilitator tabs are open: set RAPPORT_ADMIN_USER and RAPPORT_ADMIN_PASSWORD to "
            "require a login."
        )
    if ctx.trusted_header:
        print(f"Trainees are who the {ctx.trusted_header!r} header says (a trusted proxy).")
    demo.launch(theme=theme(), css=CSS, footer_links=[], ssr_mode=False, **launch_options(ctx))
    return 0
