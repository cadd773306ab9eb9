"""Feedback text: the one-line explanation and the tip for one dimension of one reply."""

from __future__ import annotations

import re
from collections.abc import Sequence

from simulator.content.schema import Dimension, Pitfall, Rubric
from simulator.scoring.cues import content_words

STRONG_PREFIX = "To make it strong: "
"""How a level-2 tip starts (the coaching panel shows level-2 tips without "Try:")."""


def explanation(
    rubric: Rubric,
    dimension: Dimension,
    level: int,
    probability: float,
    lowered_by: list[Pitfall],
    note: str = "",
) -> str:
    """One line saying what level was given and why.

    Args:
        rubric: The rubric (for the scale's level names).
        dimension: The dimension rated.
        level: The level given (0-3).
        probability: Probability that the behaviour is present.
        lowered_by: Pitfalls that lowered this dimension.
        note: Why the behaviour was ruled out, when a check did (not a pitfall).

    Returns:
        A single line of text.
    """
    name = rubric.scale[level].capitalize()
    if level == 0 and note:
        # Ruled out by a gate or a check: the probability is only what the words suggest.
        return f"{name}: {note} (its words alone read p={probability:.2f})."
    if level == 0:
        text = f"{name}: no clear sign of {dimension.name.lower()} in this reply"
    else:
        text = f"{name}: {dimension.levels[level].rstrip('.')}"
    text += f" (p={probability:.2f})"
    if lowered_by:
        text += "; lowered by " + ", ".join(p.name.lower() for p in lowered_by)
    if note:
        text += f"; {note}"
    return text + "."


def tip(
    dimension: Dimension,
    level: int,
    lowered_by: list[Pitfall],
    reply: str = "",
    cues: Sequence[str] = (),
) -> str:
    """The next step for this dimension, matched to the level given and to what the reply did.

    A pitfall that lowered the dimension comes first: its advice. Otherwise levels 0-1 get the
    rubric's tip (how to show the behaviour at all), level 2 the parts of the rubric's level-3
    descriptor that the reply does not already do (the tip, which teaches the basics, would
    repeat what the reply already does; "makes time and space explicitly and invites them ..."
    after "Take all the time you need" keeps only the invitation), and level 3 nothing.

    Args:
        dimension: The dimension rated.
        level: The level given (0-3).
        lowered_by: Pitfalls that lowered this dimension.
        reply: The reply rated, so that the tip does not ask for what it already did.
        cues: Names of the dimension's cues the reply shows ("time_giving"): what it did, in
            words a descriptor uses ("I've got all afternoon" gives time without saying so).

    Returns:
        One line of advice, or "" when there is nothing to add.
    """
    for pitfall in lowered_by:
        return pitfall.tip or f"Avoid {pitfall.name.lower()}: {pitfall.description}"
    if level >= 3:
        return ""
    if level == 2:
        descriptor = dimension.levels.get(3, "").strip()
        if descriptor:
            done = " ".join([reply, *(name.replace("_", " ") for name in cues)])
            strong = _still_to_do(descriptor, done)
            # Everything the strong level names is already there: nothing to ask for.
            return STRONG_PREFIX + _sentence_case_off(strong) if strong else ""
    return dimension.tip


# Parts of a descriptor are joined by "and" before a verb ("... and invites them", "... and
# checks"), not inside a phrase ("time and space").
_PART_BREAK = re.compile(r",?\s+and\s+(?=[a-z]+s\b)|;\s+")


def _still_to_do(descriptor: str, reply: str) -> str:
    """The parts of a descriptor that share no content word (first five letters) with the reply."""
    if not reply:
        return descriptor
    said = {w[:5] for w in content_words(reply)}
    parts = [p.strip(" .") for p in _PART_BREAK.split(descriptor) if p.strip(" .")]
    kept = [p for p in parts if not ({w[:5] for w in content_words(p)} & said)]
    if len(kept) == len(parts):
        return descriptor
    return " and ".join(kept) + ("." if kept else "")


def _sentence_case_off(text: str) -> str:
    """A descriptor continued after a colon: first letter lower-cased unless it starts an
    acronym ("Makes time ..." becomes "makes time ...", "HR ..." stays)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text
