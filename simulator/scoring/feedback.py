"""Feedback text: the one-line explanation and the tip for one dimension of one reply."""

from __future__ import annotations

from simulator.schema import Dimension, Pitfall, Rubric

_PITFALL_TIPS: dict[str, str] = {
    "dismissing": "Acknowledge the feeling before anything else; avoid words that shrink it "
    '("just", "at least", "not a big deal").',
    "premature-fixing": "Hold the solution back until you have asked what is going on and what "
    "would help.",
    "blaming": "Ask what happened and what got in the way before judging how it was handled.",
    "making-it-about-yourself": "Keep the focus on them: swap your own story for a question "
    "about theirs.",
}


STRONG_PREFIX = "To make it strong: "
"""How a level-2 tip starts (the coaching panel shows level-2 tips without "Try:")."""


def explanation(
    rubric: Rubric,
    dimension: Dimension,
    level: int,
    probability: float,
    lowered_by: list[Pitfall],
) -> str:
    """One line saying what level was given and why.

    Args:
        rubric: The rubric (for the scale's level names).
        dimension: The dimension rated.
        level: The level given (0-3).
        probability: Probability that the behaviour is present.
        lowered_by: Pitfalls that lowered this dimension.

    Returns:
        A single line of text.
    """
    name = rubric.scale[level].capitalize()
    if level == 0:
        text = f"{name}: no clear sign of {dimension.name.lower()} in this reply"
    else:
        text = f"{name}: {dimension.levels[level].rstrip('.')}"
    text += f" (p={probability:.2f})"
    if lowered_by:
        text += "; lowered by " + ", ".join(p.name.lower() for p in lowered_by)
    return text + "."


def tip(dimension: Dimension, level: int, lowered_by: list[Pitfall]) -> str:
    """The next step for this dimension, matched to the level given.

    A pitfall that lowered the dimension comes first: its advice. Otherwise levels 0-1 get the
    rubric's tip (how to show the behaviour at all), level 2 the rubric's own level-3 descriptor
    as the step towards strong (the tip, which teaches the basics, would repeat what the reply
    already does), and level 3 nothing: there is no higher level to aim for.

    Args:
        dimension: The dimension rated.
        level: The level given (0-3).
        lowered_by: Pitfalls that lowered this dimension.

    Returns:
        One line of advice, or "" when there is nothing to add.
    """
    for pitfall in lowered_by:
        if pitfall.id in _PITFALL_TIPS:
            return _PITFALL_TIPS[pitfall.id]
        return f"Avoid {pitfall.name.lower()}: {pitfall.description}"
    if level >= 3:
        return ""
    if level == 2:
        strong = dimension.levels.get(3, "").strip()
        if strong:
            return STRONG_PREFIX + _sentence_case_off(strong)
    return dimension.tip


def _sentence_case_off(text: str) -> str:
    """A descriptor continued after a colon: first letter lower-cased unless it starts an
    acronym ("Makes time ..." becomes "makes time ...", "HR ..." stays)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text
