"""Showing untrusted text (learner replies, model output, file contents) as text.

The chat and feedback panels render Markdown; anything a person or the model wrote is escaped
first, so ``<script>`` or ``<img onerror=...>`` shows as those characters and never runs, and
``*`` or ``_`` do not turn into formatting.
"""

from __future__ import annotations

import html
import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]{}()#+!|~$-])")


def as_text(value: str) -> str:
    """Escape ``value`` for a Markdown/HTML renderer so it is displayed literally."""
    # Markdown punctuation first (so lists, links and emphasis stay literal), then HTML: the
    # entities html.escape adds (&lt; &amp;) must not be backslash-escaped themselves.
    return html.escape(_MARKDOWN_SPECIALS.sub(r"\\\1", value), quote=False)


def quote(value: str) -> str:
    """``value`` as literal text inside curly quotes, for evidence spans."""
    return f"“{as_text(value)}”"
