"""The end-of-session debrief: trajectories, turning points, best and worst moments, next steps."""

from __future__ import annotations

from collections.abc import Sequence

from simulator.content.schema import Rubric, Scenario
from simulator.conversation.transcript import BehaviourSummary, Debrief, Moment, Transcript, Turn
from simulator.persona.state import concerns_earned_in
from simulator.scoring.cues import distinct_spans

TURNING_POINT = 0.05
"""A turn that moves trust by at least this much is shown as a turning point."""


def _total(turn: Turn) -> int:
    if turn.scores is None or not turn.scores.scored:
        return -1
    return sum(turn.scores.level(d) for d in turn.scores.dimensions) - 2 * len(turn.scores.pitfalls)


def _evidence(turn: Turn) -> list[str]:
    if turn.scores is None:
        return []
    spans = [span for score in turn.scores.dimensions.values() for span in score.evidence]
    # Two behaviours often quote the same words ("... makes sense" and "... makes sense."): show
    # them once.
    return distinct_spans(spans)


def _moment(turn: Turn, note: str) -> Moment:
    return Moment(
        turn=turn.index,
        learner=turn.learner,
        total=_total(turn),
        evidence=_evidence(turn),
        note=note,
    )


def _weakest_behaviour(behaviours: dict[str, BehaviourSummary]) -> str | None:
    """The behaviour to try next: lowest mean over the session, then lowest best level (one
    shown strongly once has been done); None when every behaviour averaged "competent"."""
    means = {d: s.mean for d, s in behaviours.items() if s.mean is not None and s.mean < 2}
    if not means:
        return None

    def best(dim: str) -> int:
        return max((lvl for lvl in behaviours[dim].levels if lvl is not None), default=0)

    return min(means, key=lambda d: (means[d], best(d)))


def build_debrief(transcript: Transcript, scenario: Scenario, rubric: Rubric) -> Debrief:
    """Summarise a session for the trainee (pure: reads the transcript, computes nothing new)."""
    turns: Sequence[Turn] = transcript.turns
    behaviours: dict[str, BehaviourSummary] = {}
    for dim in rubric.dimension_ids:
        levels = [
            t.scores.dimensions[dim].level if t.scores and dim in t.scores.dimensions else None
            for t in turns
        ]
        known = [lvl for lvl in levels if lvl is not None]
        behaviours[dim] = BehaviourSummary(
            levels=levels, mean=round(sum(known) / len(known), 2) if known else None
        )
    turning = [
        _moment(
            t,
            f"trust {'rose' if t.trust_delta > 0 else 'fell'} by "
            f"{abs(t.trust_delta):.2f}; mood: {t.mood}",
        )
        for t in turns
        if abs(t.trust_delta) >= TURNING_POINT
    ]
    scored = [t for t in turns if _total(t) >= 0]
    # A reply with a pitfall is never held up as the best one, however much else it showed.
    clean = [t for t in scored if t.scores is not None and not t.scores.pitfalls]
    strongest = max(clean, key=_total, default=None)
    weakest = min(scored, key=_total, default=None)
    suggestions: list[str] = []
    weakest_behaviour = _weakest_behaviour(behaviours)
    if weakest_behaviour is not None:
        dimension = rubric.dimension(weakest_behaviour)
        suggestions.append(f"{dimension.name}: {dimension.tip}")
    pitfalls = sorted({p for t in turns if t.scores for p in t.scores.pitfalls})
    names = {p.id: p for p in rubric.pitfalls}
    for pitfall in pitfalls:
        if pitfall in names:
            suggestions.append(
                f"Watch for {names[pitfall].name.lower()}: {names[pitfall].description}"
            )
    total = len(scenario.persona.hidden_concerns)
    revealed = len(
        {i for t in turns for i in t.revealed}
        | concerns_earned_in(scenario.persona, transcript.start_mood)
    )
    if revealed < total:
        suggestions.append(
            f"{scenario.persona.first_name} had something on their mind they did not share. "
            "Listening and naming how they feel, before offering fixes, builds the trust "
            "to hear it."
        )
    return Debrief(
        behaviours=behaviours,
        trust=[transcript.start_trust, *(t.trust for t in turns)],
        moods=[transcript.start_mood, *(t.mood for t in turns)],
        turning_points=turning,
        strongest=_moment(strongest, "your strongest reply") if strongest else None,
        weakest=_moment(weakest, "the reply with most room to grow")
        if weakest and weakest is not strongest
        else None,
        suggestions=suggestions,
        concerns_revealed=revealed,
        concerns_total=total,
    )
