"""Rating one persona reply in context, on the criteria a trainee notices.

Two sources, both needed: checks (the guards' patterns, re-applied to what was actually said,
including a hidden concern said before it was earned) catch what is certain; the critic (a model
trained on the team's labelled replies) catches what patterns cannot, such as a reply that does
not answer the question or makes no sense. A criterion passes when no check fails it and the
critic gives it at least an even chance. Used by ``rapport persona-eval``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from simulator.persona import guards
from simulator.persona.critic import CRITERIA, PASS, Critic

READER_CRITERIA = CRITERIA[:4]
"""The four criteria of the blind reading: in character, coherent, responsive, non-repeating."""


@dataclass(frozen=True)
class ReplyRating:
    """How one reply fares on each criterion, and why."""

    passed: dict[str, bool]
    checks: list[str] = field(default_factory=list)
    """Problems the checks found, each prefixed with its criterion."""
    critic: dict[str, float] = field(default_factory=dict)
    """The critic's chance of passing, per criterion (empty without a critic)."""

    @property
    def all_four(self) -> bool:
        return all(self.passed[c] for c in READER_CRITERIA)


def check_reply(
    reply: str, earlier: Sequence[str], forbidden_keywords: Sequence[str]
) -> dict[str, list[str]]:
    """Per criterion, what the checks find wrong with a reply (certain faults only)."""
    found: dict[str, list[str]] = {c: [] for c in CRITERIA}
    problem = guards.out_of_character(reply)
    if problem:
        found["in_character"].append(problem)
    if len(reply.split()) > 60:
        found["in_character"].append("over 60 words")
    if guards.FRAGMENT.search(reply):
        found["coherent"].append("unfinished sentence")
    if guards.has_repetition(reply):
        found["coherent"].append("repeats words within the reply")
    repeated = guards.near_repeat_of(reply, earlier)
    if repeated is not None:
        found["non_repeating"].append(f"says again {repeated!r}")
    keyword = guards.gives_away(reply, forbidden_keywords)
    if keyword:
        found["no_leak"].append(f"hidden concern before it was earned ({keyword})")
    return found


def rate_reply(
    reply: str,
    learner: str,
    earlier: Sequence[str],
    *,
    forbidden_keywords: Sequence[str] = (),
    critic: Critic | None = None,
) -> ReplyRating:
    """Rate ``reply`` (said after ``earlier``, in answer to ``learner``)."""
    found = check_reply(reply, earlier, forbidden_keywords)
    chances: dict[str, float] = {}
    if critic is not None:
        row = critic.rate([reply], learner, earlier)[0]
        chances = {c: round(float(p), 3) for c, p in zip(CRITERIA, row, strict=True)}
    passed = {c: not found[c] and chances.get(c, 1.0) >= PASS for c in CRITERIA}
    checks = [f"{c}: {p}" for c in CRITERIA for p in found[c]]
    return ReplyRating(passed=passed, checks=checks, critic=chances)
