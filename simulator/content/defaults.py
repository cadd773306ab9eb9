"""The standard moods a persona gets when its scenario leaves ``persona.mood`` out.

A facilitator's first scenario needs only a persona card, a situation and hidden concerns; this
module is the one place the mood ladder they then play with is written, so the schema fills it in
and the authoring guide's reference shows it (``python -m simulator.content.docs``).

The lines are deliberately plain: short, spoken, British English and true of almost any colleague
in almost any workplace, so they fit whoever the persona is. They say nothing about a particular
situation and use no word a hidden concern might list as a keyword. A scenario's own moods,
example lines and beats replace them and play better.
"""

from __future__ import annotations

from typing import Any

STANDARD_START = "guarded"
"""The mood a conversation with the standard moods starts in."""

STANDARD_START_TRUST = 0.35
"""Where trust starts: inside ``guarded``, far enough from ``opening-up`` that it must be earned
(a caring reply raises trust by about 0.05 to 0.1) and far enough from ``closed-off`` that one
clumsy reply does not shut the colleague down."""

STANDARD_HELP_WELCOME_FROM = "opening-up"
"""Help offered before this mood, before the colleague feels heard, counts as premature fixing."""

STANDARD_STATES: dict[str, dict[str, Any]] = {
    "closed-off": {
        "min_trust": 0.0,
        "description": (
            "Feels dismissed or cornered. Gives short, flat answers, wants the conversation over "
            "and gives nothing away."
        ),
        "example_lines": [
            "Fine. Can we just leave it there?",
            "I don't really see the point in going over it.",
            "Whatever you think. I've got work to get back to.",
        ],
    },
    "guarded": {
        "min_trust": 0.25,
        "description": (
            "Wary but polite. Keeps it brief, plays things down and watches whether the other "
            "person is really listening before saying any more."
        ),
        "example_lines": [
            "I'm alright. It's just been a busy few weeks.",
            "It's nothing I can't handle, honestly.",
            "Why, has someone said something?",
        ],
    },
    "opening-up": {
        "min_trust": 0.5,
        "description": (
            "Starting to trust the conversation. Says more about how things really are, a little "
            "hesitantly, and checks it is safe to go on."
        ),
        "example_lines": [
            "If I'm honest, it's been getting on top of me.",
            "I haven't really said this to anyone yet.",
            "It's been harder than I've been letting on.",
        ],
    },
    "collaborative": {
        "min_trust": 0.75,
        "description": (
            "Feels heard and steadier. Talks openly and is ready to think about what would help "
            "and agree the next steps together."
        ),
        "example_lines": [
            "That would actually help, yes.",
            "Could we check in again next week and see how it's going?",
            "It helps to have said it out loud, to be honest.",
        ],
    },
}
"""The standard mood ladder, lowest trust first: thresholds, descriptions and example lines."""

STANDARD_OFF_SCRIPT = [
    "Sorry, you've lost me. What do you mean?",
    "I'm not sure what that's got to do with anything.",
]
"""Said (in any standard mood) to a line that makes no sense or tries to take the persona out of
its role: the mood's example lines would answer it as if it had been a real question."""


def standard_mood(extra_lines: list[str] | None = None) -> dict[str, Any]:
    """The standard ``persona.mood`` as the YAML would spell it out.

    Args:
        extra_lines: ``persona.example_lines``, lines in the persona's own voice; added to every
            mood's example lines (after the mood's own, which carry how the mood sounds).

    Returns:
        A fresh mapping for ``Mood.model_validate`` (nothing in it is shared between calls).
    """
    extra = list(extra_lines or [])
    states = {
        name: {
            **state,
            "example_lines": [*state["example_lines"], *extra],
            "beats": {"off_script": list(STANDARD_OFF_SCRIPT)},
        }
        for name, state in STANDARD_STATES.items()
    }
    return {
        "start": STANDARD_START,
        "start_trust": STANDARD_START_TRUST,
        "states": states,
        "trust_rules": {"help_welcome_from": STANDARD_HELP_WELCOME_FROM},
    }
