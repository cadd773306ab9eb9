"""Result types of the scorer: what every caller (session, UI, CLI, batch evaluation) reads."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field


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
