"""Remember the trainee's name in the browser (local storage) across page reloads.

The name is not a secret (see :mod:`simulator.ui.history`), so it is kept with
``gr.BrowserState``; its encryption key is made once per data folder and kept there, so a
name saved before a server restart is still read after it (Gradio's default key is new at
every start). Only the name is kept: never a password or passphrase.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import gradio as gr

STORAGE_KEY = "rapport-trainee-name"
KEY_FILE = "browser-state.key"


def browser_secret(folder: Path) -> str:
    """The key ``gr.BrowserState`` encrypts with: read from ``folder``, made on first use.

    An unwritable folder gives a key for this run only (the name is then kept until the
    server restarts), never an error: remembering a name is a convenience.
    """
    path = folder / KEY_FILE
    try:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 16:
            return key
    except (OSError, UnicodeDecodeError):
        pass
    key = secrets.token_urlsafe(24)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(key + "\n", encoding="ascii")
        path.chmod(0o600)
    except OSError:
        pass
    return key


def remembered(saved: Any) -> str:
    """The name to put back in the box on page load (anything odd in storage gives '')."""
    return saved.strip()[:80] if isinstance(saved, str) else ""


def remember_name(demo: gr.Blocks, trainee: gr.Textbox, folder: Path) -> gr.BrowserState:
    """Keep ``trainee``'s text in the browser's local storage and restore it on load.

    Call inside ``demo``'s ``with`` block, after ``trainee`` is created.
    """
    saved = gr.BrowserState("", storage_key=STORAGE_KEY, secret=browser_secret(folder))
    demo.load(remembered, saved, trainee, api_visibility="private", show_progress="hidden")
    trainee.change(
        remembered,
        trainee,
        saved,
        api_visibility="private",
        show_progress="hidden",
        trigger_mode="always_last",
    )
    return saved
