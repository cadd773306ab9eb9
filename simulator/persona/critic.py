"""The critic: a small learned model that rates a persona reply in context.

For each criterion a trainee notices (in character, coherent, responsive, non-repeating, and no
leak of what the persona should not yet say) it gives the chance a reader would pass the reply,
from the reply, the trainee's line just said and what the persona said before. It is a logistic
regression per criterion over sentence embeddings (the scorer's MiniLM) and a few checks, trained
on persona replies the team wrote and labelled (``data/critic/``; see
``simulator.persona.critic_training``). The voice uses it to rank candidates and to set the floor
below which the authored line is said as written; ``rapport persona-eval`` uses it to rate whole
conversations.

The weights are plain JSON (``data/critic.json``): no pickle, nothing to execute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.persona import guards
from simulator.persona.guards import Encode

CRITERIA = ("in_character", "coherent", "responsive", "non_repeating", "no_leak")
"""What the critic rates; the first four are the blind reader's criteria."""
CRITIC_FILE = Path(__file__).parent / "data" / "critic.json"
PASS = 0.5
"""A criterion passes when the critic's chance is at least this."""

_ASSISTANT_LINES = (
    "I'm here to help you with anything you need.",
    "Thank you for sharing that with me, I appreciate it.",
    "That sounds really hard for you. How are you feeling?",
    "Don't worry, everything will be fine. You're doing great.",
)
_FEELING = re.compile(
    r"\b(?:tired|shattered|angry|upset|scared|worried|gutted|exhausted|fed up|stressed|sad)\b",
    re.IGNORECASE,
)

SCALAR_FEATURES = (
    "cos_learner",
    "max_cos_earlier",
    "max_overlap_earlier",
    "words",
    "ends_whole",
    "learner_asks",
    "reply_asks",
    "out_of_character",
    "fragment",
    "repetition",
    "parrots",
    "learner_rebukes",
    "learner_offers",
    "learner_injection",
    "reply_feeling",
    "cos_assistant",
    "first_person",
    "second_person",
)


def features(
    replies: Sequence[str], learner: str, earlier: Sequence[str], encode: Encode
) -> np.ndarray:
    """One row per reply: its embedding, its product with the trainee line's, then checks."""
    n = len(replies)
    vectors = encode([*replies, learner, *earlier, *_ASSISTANT_LINES])
    reply_v = vectors[:n]
    learner_v = vectors[n]
    earlier_v = vectors[n + 1 : n + 1 + len(earlier)]
    assistant_v = vectors[n + 1 + len(earlier) :]
    rows = []
    rebukes = float(guards.is_rebuke(learner))
    offers = float(guards.offer_made(learner) is not None)
    injection = float(guards.is_injection(learner))
    asks = float("?" in learner)
    for i, reply in enumerate(replies):
        words = guards.words_of(reply)
        scalars = [
            float(reply_v[i] @ learner_v),
            float((earlier_v @ reply_v[i]).max()) if len(earlier) else 0.0,
            max((guards.overlap(reply, line) for line in earlier), default=0.0),
            min(len(words), 60) / 30.0,
            float(reply.rstrip()[-1:] in {".", "!", "?"}),
            asks,
            float("?" in reply),
            float(guards.out_of_character(reply) is not None),
            float(bool(guards.FRAGMENT.search(reply))),
            float(guards.has_repetition(reply)),
            float(guards.parrots(reply, learner)),
            rebukes,
            offers,
            injection,
            float(bool(_FEELING.search(reply))),
            float((assistant_v @ reply_v[i]).max()),
            sum(w in {"i", "i'm", "i've", "me", "my"} for w in words) / max(1, len(words)),
            sum(w in {"you", "you're", "your"} for w in words) / max(1, len(words)),
        ]
        rows.append(np.concatenate([reply_v[i], reply_v[i] * learner_v, np.array(scalars)]))
    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 0), dtype=np.float32)


@dataclass(frozen=True)
class CriticWeights:
    """Standardisation and logistic weights per criterion."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    """(criteria, features)"""
    intercept: np.ndarray
    criteria: tuple[str, ...]

    def to_json(self, extra: dict[str, object]) -> str:
        return json.dumps(
            {
                "criteria": list(self.criteria),
                "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(),
                "coef": self.coef.round(6).tolist(),
                "intercept": self.intercept.round(6).tolist(),
                **extra,
            }
        )

    @classmethod
    def from_file(cls, path: Path) -> CriticWeights:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            mean=np.array(data["mean"], dtype=np.float32),
            scale=np.array(data["scale"], dtype=np.float32),
            coef=np.array(data["coef"], dtype=np.float32),
            intercept=np.array(data["intercept"], dtype=np.float32),
            criteria=tuple(data["criteria"]),
        )


class Critic:
    """Rates persona replies in context with shipped weights."""

    def __init__(self, weights: CriticWeights, encode: Encode) -> None:
        self.weights = weights
        self.encode = encode

    def rate(self, replies: Sequence[str], learner: str, earlier: Sequence[str]) -> np.ndarray:
        """(replies, criteria) chances that a reader passes each reply on each criterion."""
        if not replies:
            return np.zeros((0, len(self.weights.criteria)), dtype=np.float32)
        x = (features(replies, learner, earlier, self.encode) - self.weights.mean) / (
            self.weights.scale
        )
        logits = x @ self.weights.coef.T + self.weights.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def quality(self, replies: Sequence[str], learner: str, earlier: Sequence[str]) -> np.ndarray:
        """Per reply, the chance it passes every criterion (the product of the chances)."""
        if not replies:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.rate(replies, learner, earlier).prod(axis=1))


def load_critic(encode: Encode, path: Path = CRITIC_FILE) -> Critic | None:
    """The shipped critic, or None when its weights are not there (the voice then ranks by
    closeness to the line alone)."""
    if not path.is_file():
        return None
    return Critic(CriticWeights.from_file(path), encode)
