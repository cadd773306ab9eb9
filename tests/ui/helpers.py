"""Small helpers shared by the UI tests."""

from __future__ import annotations

import html
import re


def plain(markdown: str) -> str:
    """Undo ``simulator.ui.text.as_text`` escaping, to compare with the library's messages."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))
