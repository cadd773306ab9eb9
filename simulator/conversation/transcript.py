"""Records of a practice conversation: one turn, the debrief, the whole transcript.

These are what the store writes, what `rapport run --json` prints, what the app downloads and
what `rapport evaluate` reads back (one Transcript per JSONL line).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from simulator.scoring.types import ReplyScore


def utc_now() -> str:
    """ISO timestamp in UTC, second precision (what the store and exports carry)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Turn(BaseModel):
    """One exchange: the trainee's reply, how it scored, and the persona's answer."""

    index: int = Field(ge=0, description="0-based trainee turn number.")
    learner: str
    persona: str
    scores: ReplyScore | None = None
    move: str = Field(default="off_script", description="What the trainee did (persona beats key).")
    mood: str
    trust: float
    trust_delta: float = 0.0
    source: Literal["model", "fallback"] = "model"
    revealed: list[int] = Field(default_factory=list, description="Hidden concerns now earned.")
    created_at: str = Field(default_factory=utc_now)


class BehaviourSummary(BaseModel):
    """Per-behaviour trajectory and its mean across the session."""

    levels: list[int | None]
    mean: float | None


class Moment(BaseModel):
    """A notable reply for the debrief, with the evidence that made it so."""

    turn: int
    learner: str
    total: int
    evidence: list[str] = Field(default_factory=list)
    note: str = ""


class Debrief(BaseModel):
    """What the trainee reads at the end."""

    behaviours: dict[str, BehaviourSummary]
    trust: list[float] = Field(description="Trust before the first turn, then after each turn.")
    moods: list[str] = Field(description="Mood before the first turn, then after each turn.")
    turning_points: list[Moment] = Field(default_factory=list)
    strongest: Moment | None = None
    weakest: Moment | None = None
    suggestions: list[str] = Field(default_factory=list)
    concerns_revealed: int = 0
    concerns_total: int = 0


class Transcript(BaseModel):
    """A whole session, as stored and exported."""

    session_id: str
    scenario_id: str
    scenario_version: int
    rubric_id: str
    rubric_version: int
    model: str
    seed: int | None = None
    trainee: str = "anonymous"
    mode: Literal["coaching", "assessment"] = "coaching"
    start_trust: float
    start_mood: str
    opening_line: str
    turns: list[Turn] = Field(default_factory=list)
    debrief: Debrief | None = None
    started_at: str = Field(default_factory=utc_now)
    ended_at: str | None = None
