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
    """The tip for this dimension: the pitfall's advice if one lowered it, else the rubric's tip.

    Args:
        dimension: The dimension rated.
        level: The level given (0-3).
        lowered_by: Pitfalls that lowered this dimension.

    Returns:
        One line of advice.
    """
    for pitfall in lowered_by:
        if pitfall.id in _PITFALL_TIPS:
            return _PITFALL_TIPS[pitfall.id]
        return f"Avoid {pitfall.name.lower()}: {pitfall.description}"
    if level >= 3:
        return f"Strong {dimension.name.lower()}; keep doing this."
    return dimension.tip
