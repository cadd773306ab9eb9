"""Shared pieces of the fuzz tests: deterministic settings and text strategies.

Every fuzz test runs a fixed number of generated inputs, the same ones on every run
(``derandomize``), with no deadline (a loaded CI machine must not turn a slow example into a
failure) and no example database (nothing is written into the work tree).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz(examples: int) -> settings:
    """The fuzz settings with this many generated inputs."""
    return settings(FUZZ, max_examples=examples)


# Characters that matter to the parsers (syntax, quoting, line ends, the control characters
# that once escaped as ReaderError or _csv.Error), then any character at all.
SYNTAX = [
    *":-[]{}#&*!|>'\",;%@`?=+\\ \t\n\r",
    "\x00",
    "\x07",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x7f",
    "\x85",
    "\u2028",
    "\ufeff",
    "\ud800",
]
characters = st.one_of(st.sampled_from(SYNTAX), st.characters())
noisy_text = st.text(characters, max_size=200)
words = st.text(st.characters(codec="utf-8"), max_size=30)


def mutate(base: str) -> st.SearchStrategy[str]:
    """Texts made from ``base`` by up to six random edits: insert, delete, duplicate or move a
    span, or replace it with noise. Most stay close to a valid file, so the checks past the
    syntax (fields, types, lines) are reached too."""

    edit = st.tuples(
        st.sampled_from(["insert", "delete", "duplicate", "replace", "move"]),
        st.integers(0, len(base)),
        st.integers(0, 80),
        noisy_text,
    )

    def apply(edits: list[tuple[str, int, int, str]]) -> str:
        text = base
        for kind, at, length, noise in edits:
            at = min(at, len(text))
            span = text[at : at + length]
            if kind == "insert":
                text = text[:at] + noise + text[at:]
            elif kind == "delete":
                text = text[:at] + text[at + length :]
            elif kind == "duplicate":
                text = text[:at] + span + span + text[at + length :]
            elif kind == "replace":
                text = text[:at] + noise + text[at + length :]
            else:
                rest = text[:at] + text[at + length :]
                to = min(length * 7, len(rest))
                text = rest[:to] + span + rest[to:]
        return text

    return st.lists(edit, min_size=1, max_size=6).map(apply)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | words,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(words, children, max_size=4),
    max_leaves=20,
)
