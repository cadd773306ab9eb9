"""Colours shared by every chart that shows rubric levels (the app's and the HTML report's).

One palette, so level 2 is the same colour wherever a trainee or course designer sees it:
grey for "not observed", then warm to green as the behaviour gets stronger.
"""

from __future__ import annotations

LEVEL_COLOURS = ("#9e9e9e", "#f4a259", "#8cc084", "#2e7d32")
"""Level 0 (not observed), 1, 2 and 3 (strong)."""


def level_colour(level: int) -> str:
    """The colour of a rubric level (levels above 3 take the strongest colour)."""
    return LEVEL_COLOURS[max(0, min(level, len(LEVEL_COLOURS) - 1))]
