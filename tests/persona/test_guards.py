"""Output guards: every failure kind seen in the persona's replies is caught, good lines pass."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.persona import guards
from simulator.persona.memory import ConversationMemory


def _guard(text: str, previous: list[str] | None = None, learner: str = "") -> str | None:
    return guards.guard(
        text,
        persona_first_name="Sam",
        forbidden_keywords=["childminder"],
        previous_lines=previous or [],
        learner_line=learner,
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("I'm proud of the way you're doing this.", "role reversal"),
        ("It is sad. I can't imagine being in your shoes.", "role reversal"),
        ("I'm glad you're here, but I'm not here to take your frustrations.", "role reversal"),
        ("I beg your pardon? I've been instructed to explain.", "talks about its instructions"),
        ("Honestly, I've been...", "unfinished sentence"),
        ("It's the rota and the", "unfinished sentence"),
        ("What? What? I've got meds to do.", "repeats itself"),
        ("Thank you for sharing that with me.", "assistant-speak"),
        ("My childminder quit.", "gives away a hidden concern too early (childminder)"),
    ],
)
def test_failure_kinds_are_caught(text: str, why: str) -> None:
    assert _guard(text) == why


def test_near_repeats_are_caught_and_fresh_lines_pass() -> None:
    said = ["Honestly? I'm shattered. Third week running."]
    assert _guard("I'm shattered, honestly. Third week running!", said) == "repeats an earlier line"
    assert _guard("Nobody asked me before adding two patients.", said) is None


@pytest.mark.parametrize(
    "text",
    [
        "I'm not after sympathy. I'm after a fair allocation.",
        "Right. So I just suck it up. Got it.",
        "If I could finish at half seven, that would change everything.",
        "Okay. I'm willing to try that.",
    ],
)
def test_good_lines_pass(text: str) -> None:
    assert _guard(text) is None


def test_repeats_in_meaning_compare_sentence_by_sentence() -> None:
    vocabulary = ["time", "home", "late", "rota"]

    def encode(texts: list[str]) -> np.ndarray:
        rows = np.array([[t.lower().count(w) + 0.01 for w in vocabulary] for t in texts], float)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    earlier = ["I need to get home on time."]
    found = guards.repeats_in_meaning(
        ["Okay. I want to get home on time tonight.", "What about the rota?"], earlier, encode
    )
    assert found == [True, False]


def test_memory_remembers_lines_and_beats() -> None:
    memory = ConversationMemory.start("What now?")
    memory.remember(beat="Honestly? I'm shattered.", reply="I'm shattered, honestly.", told=[0])
    assert not memory.is_fresh("Honestly? I'm shattered.")
    assert not memory.is_fresh("What now?")
    assert memory.is_fresh("Nobody asked me.")
    assert memory.told == {0}
