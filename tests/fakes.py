"""Test doubles: a scorer that returns levels we dictate (the real scorer is tested elsewhere)."""

from __future__ import annotations

from simulator.scoring.types import DimensionScore, ReplyScore

DIMENSIONS = ("attending", "understanding", "empathising", "helping")


class DictatedScorer:
    """Scores a reply with the levels registered for it (all 0 otherwise); records contexts."""

    def __init__(self) -> None:
        self.levels: dict[str, dict[str, int]] = {}
        self.pitfalls: dict[str, list[str]] = {}
        self.contexts: list[str] = []

    def set(self, text: str, pitfalls: list[str] | None = None, **levels: int) -> None:
        self.levels[text] = levels
        self.pitfalls[text] = pitfalls or []

    def score(self, reply: str, context: str = "") -> ReplyScore:
        self.contexts.append(context)
        levels = self.levels.get(reply, {})
        return ReplyScore(
            text=reply,
            rubric_id="compassionate-leadership",
            rubric_version=1,
            dimensions={
                d: DimensionScore(level=levels.get(d, 0), tip=f"tip for {d}") for d in DIMENSIONS
            },
            pitfalls=self.pitfalls.get(reply, []),
            scorer="dictated",
            scorer_version="test",
        )

    def score_batch(
        self, replies: list[str], contexts: list[str] | None = None
    ) -> list[ReplyScore]:
        contexts = contexts or [""] * len(replies)
        return [self.score(r, c) for r, c in zip(replies, contexts, strict=True)]


def transcript_record(turns: list[dict[str, object]]) -> dict[str, object]:
    """An exported transcript (as ``rapport run --json`` writes one) around the given turns, for
    the tests of the readers that take them back."""
    return {
        "session_id": "t1",
        "scenario_id": "workload-conflict",
        "scenario_version": 1,
        "rubric_id": "compassionate-leadership",
        "rubric_version": 1,
        "model": "scripted",
        "start_trust": 0.3,
        "start_mood": "guarded",
        "opening_line": "What now?",
        "turns": turns,
    }
