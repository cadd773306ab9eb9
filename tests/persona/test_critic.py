"""The critic: shipped weights fit its features and agree with held-out labels."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.persona.critic import CRITERIA, CRITIC_FILE, Critic, CriticWeights
from simulator.persona.evaluation import rate_reply


def _encode(texts: list[str]) -> np.ndarray:
    rng = np.random.default_rng(sum(map(ord, "".join(texts))))
    rows = rng.normal(size=(len(texts), 384))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_shipped_weights_fit_the_features_and_give_chances() -> None:
    critic = Critic(CriticWeights.from_file(CRITIC_FILE), _encode)
    chances = critic.rate(["Right. Fine.", "As an AI I can't."], "Everyone's busy.", ["What now?"])
    assert chances.shape == (2, len(CRITERIA))
    assert ((chances >= 0) & (chances <= 1)).all()
    assert critic.quality([], "x", []).shape == (0,)


def test_checks_fail_certain_faults_whatever_the_critic_says() -> None:
    rating = rate_reply("I'm proud of the way you're doing this.", "How are you?", ["What now?"])
    assert rating.passed["in_character"] is False and not rating.all_four
    repeat = rate_reply("What now?", "Hi.", ["What now?"])
    assert repeat.passed["non_repeating"] is False


@pytest.mark.slow
def test_critic_agrees_with_held_out_labels() -> None:
    from simulator.persona.critic_training import (
        _probabilities,
        agreement,
        featurise,
        read_labels,
        split,
    )
    from simulator.scoring.twin import get_scorer_embedder

    _, held_out = split(read_labels())
    x, y = featurise(held_out, get_scorer_embedder().encode)
    report = agreement(_probabilities(CriticWeights.from_file(CRITIC_FILE), x), y)
    assert report["all_four"]["auroc"] >= 0.85
    assert report["in_character"]["accuracy"] >= 0.9
    assert report["responsive"]["auroc"] >= 0.8
