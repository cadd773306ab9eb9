"""Common dismissing and blaming phrasings are caught as pitfalls (wordings not in the scripts)."""

from __future__ import annotations

import pytest

from simulator.services import Services

pytestmark = pytest.mark.slow  # every test here loads a real model


@pytest.mark.parametrize(
    ("reply", "pitfall"),
    [
        ("Worrying won't fix it, so pull yourself together and crack on.", "dismissing"),
        ("Deadlines slipping is part of the job in software.", "dismissing"),
        ("You'll get used to it after a few more nights.", "dismissing"),
        ("Honestly it isn't that big deal, one late ticket.", "dismissing"),
        ("If you'd asked for help on Monday we wouldn't be here.", "blaming"),
        ("If you planned your day better you'd finish on time.", "blaming"),
    ],
)
def test_pitfall_is_caught(reply: str, pitfall: str) -> None:
    assert pitfall in Services().scorer().score(reply).pitfalls


@pytest.mark.parametrize(
    "reply",
    ["That sounds like a really hard night. What happened?", "It's a big deal, and it matters."],
)
def test_caring_replies_are_not_pitfalls(reply: str) -> None:
    assert Services().scorer().score(reply).pitfalls == []
