"""Result types of the scorer: what every caller (session, UI, CLI, batch evaluation) reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from simulator.content.schema import Rubric

THRESHOLD = 0.5
"""A behaviour counts as present when its probability reaches this (every scorer's cut-off)."""

MAX_REPLY_CHARS = 2000
"""Longest reply any scorer rates: one conversational turn, not a document."""


class DimensionScore(BaseModel):
    """One behaviour's rating for one reply.

    ``level`` is 0-3 where 0 means "not observed" (a real answer). ``level`` is None only when
    the whole reply is unscored (see ``ReplyScore.unscored_reason``).
    """

    level: int | None = Field(default=None, ge=0, le=3)
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list, description="Verbatim spans of the reply.")
    explanation: str = ""
    tip: str = ""


class ReplyScore(BaseModel):
    """The scorer's verdict on one learner reply, for every dimension of the rubric."""

    text: str
    rubric_id: str
    rubric_version: int
    dimensions: dict[str, DimensionScore]
    pitfalls: list[str] = Field(default_factory=list, description="Pitfall ids detected.")
    unscored_reason: str | None = None
    scorer: str = Field(default="", description="Which scorer rated it (e.g. rubric-scorer).")
    scorer_version: str = Field(default="", description="That scorer's version.")

    @property
    def scored(self) -> bool:
        return self.unscored_reason is None

    @classmethod
    def unscored(
        cls, rubric: Rubric, reply: object, reason: str, scorer: str = "", scorer_version: str = ""
    ) -> ReplyScore:
        """The result for a reply that cannot be rated: every dimension unscored, with the
        reason (and which scorer could not rate it), never a midpoint."""
        text = reply if isinstance(reply, str) else repr(reply)
        return cls(
            text=text[:MAX_REPLY_CHARS],
            rubric_id=rubric.id,
            rubric_version=rubric.version,
            dimensions={
                d.id: DimensionScore(explanation=f"Unscored: {reason}.") for d in rubric.dimensions
            },
            unscored_reason=reason,
            scorer=scorer,
            scorer_version=scorer_version,
        )

    def level(self, dimension_id: str) -> int:
        """Level of a dimension, 0 when unscored or absent (for state updates, not for reports)."""
        score = self.dimensions.get(dimension_id)
        return score.level if score is not None and score.level is not None else 0


class Scorer(Protocol):
    """Anything that rates learner replies against a rubric."""

    def score(self, reply: str, context: str = "") -> ReplyScore:
        """Rate one reply; ``context`` is what the other person said just before."""
        ...

    def score_batch(
        self, replies: list[str], contexts: list[str] | None = None
    ) -> list[ReplyScore]:
        """Rate many replies at once (faster: embeddings are computed in one batch)."""
        ...


def unscored_reason(reply: object) -> str | None:
    """Why a reply cannot be rated, or None when it can.

    Args:
        reply: Whatever the caller passed as the reply.

    Returns:
        A reason a person can act on, or None.
    """
    if not isinstance(reply, str):
        return f"the reply is not text (got {type(reply).__name__})"
    if not reply.strip():
        return "the reply is empty"
    if len(reply) > MAX_REPLY_CHARS:
        return (
            f"the reply is {len(reply)} characters long; the limit is {MAX_REPLY_CHARS} "
            "(rate one conversational turn at a time)"
        )
    if not any(ch.isalpha() for ch in reply):
        return "the reply has no words"
    return None


def paired_contexts(replies: Sequence[Any], contexts: Sequence[Any] | None) -> Sequence[Any]:
    """One context per reply ("" each when none were given).

    Raises:
        ValueError: The lengths differ.
    """
    if contexts is None:
        return [""] * len(replies)
    if len(contexts) != len(replies):
        raise ValueError(
            f"got {len(replies)} replies but {len(contexts)} contexts; pass one context each"
        )
    return contexts
