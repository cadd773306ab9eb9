"""Remember the trainee's name in the browser (local storage) across page reloads.

The name is not a secret (see :mod:`simulator.ui.history`), so it is kept with
``gr.BrowserState``; its encryption key is made once per data folder and kept there, so a
name saved before a server restart is still read after it (Gradio's default key is new at
every start). Only the name is kept: never a password or passphrase.
"""

from __future__ import annotations

import secrets
from pathlib import Path

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


# Both steps run in the browser only (no round trip to the server): restoring on load cannot
# then overwrite a name typed while the page was loading, and typing sends nothing.
RESTORE = (
    "(saved, typed) => (typed && typed.trim()) ? typed : (typeof saved === 'string' ? saved : '')"
)
KEEP = "(typed) => (typed || '').trim().slice(0, 80)"


def remember_name(demo: gr.Blocks, trainee: gr.Textbox, folder: Path) -> gr.BrowserState:
    """Keep ``trainee``'s text in the browser's local storage and restore it on load.

    Call inside ``demo``'s ``with`` block, after ``trainee`` is created. A name already typed
    when the page finishes loading is kept, not replaced by the stored one.
    """
    saved = gr.BrowserState("", storage_key=STORAGE_KEY, secret=browser_secret(folder))
    demo.load(None, [saved, trainee], trainee, js=RESTORE, api_visibility="private")
    trainee.change(None, trainee, saved, js=KEEP, api_visibility="private")
    return saved
