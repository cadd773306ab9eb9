"""The persona's inner state: trust, the mood derived from it, and which concerns are earned.

Trust moves by the rubric's weights (a dimension's ``trust_weight``, a pitfall's
``trust_penalty``) and the scenario's rules (``TrustRules``), read off the scorer's output:
listening, understanding and empathy raise it; dismissing, blaming and help offered before the
person feels heard lower it. Dimensions are read by their ``role``, never by id, so a dimension a
course designer adds moves trust too. Nothing here calls a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.content.schema import DEFAULT_RUBRIC_ID, Move, Persona, Rubric
from simulator.scoring.types import ReplyScore

# Ties between behaviours go to the one that shows the most of the other person's side.
_MOVE_PRIORITY = [
    ("empathising", Move.empathised),
    ("understanding", Move.reflected),
    ("attending", Move.asked),
]
_LISTENING = frozenset({"attending", "understanding", "empathising"})


def _rubric(rubric: Rubric | None) -> Rubric:
    if rubric is not None:
        return rubric
    from simulator.content.loading import get_rubric

    return get_rubric(DEFAULT_RUBRIC_ID)


def _by_role(rubric: Rubric, roles: frozenset[str]) -> list[str]:
    return [d.id for d in rubric.dimensions if d.role in roles]


def concerns_earned_in(persona: Persona, mood: str) -> set[int]:
    """Indices of hidden concerns whose ``revealed_at`` mood is at or below ``mood``."""
    rank = persona.mood.rank(mood)
    return {
        index
        for index, concern in enumerate(persona.hidden_concerns)
        if rank >= persona.mood.rank(concern.revealed_at)
    }


@dataclass
class PersonaState:
    """Trust (0-1), the mood it implies, and indices of hidden concerns already earned."""

    persona: Persona
    trust: float
    revealed: set[int] = field(default_factory=set)

    @classmethod
    def start(cls, persona: Persona) -> PersonaState:
        state = cls(persona=persona, trust=persona.mood.initial_trust())
        state.revealed = state.earned_concerns()
        return state

    @property
    def mood(self) -> str:
        return self.persona.mood.state_for(self.trust)

    def help_is_welcome(self) -> bool:
        """Whether help would land now, or would be premature fixing."""
        threshold = self.persona.mood.trust_rules.help_welcome_from
        if threshold is None:
            return True
        return self.persona.mood.rank(self.mood) >= self.persona.mood.rank(threshold)

    def earned_concerns(self) -> set[int]:
        """Concerns whose ``revealed_at`` mood has been reached (once earned, they stay earned)."""
        return self.revealed | concerns_earned_in(self.persona, self.mood)


def classify_move(score: ReplyScore, injection: bool = False, rubric: Rubric | None = None) -> Move:
    """What the trainee just did, for choosing the persona's beat.

    Read through the rubric: a pitfall's ``move`` (a dismissal, stepping out of the
    conversation), else the dimension ``role`` with the highest level (helping when it leads).
    """
    rubric = _rubric(rubric)
    if injection or not score.scored:
        return Move.off_script
    pitfalls = {p.id: p for p in rubric.pitfalls}
    moves = {pitfalls[p].move for p in score.pitfalls if p in pitfalls}
    if "off_script" in moves:
        return Move.off_script
    if "dismissed" in moves:
        return Move.dismissed
    by_role: dict[str, int] = {}
    for dim in rubric.dimensions:
        if dim.role is not None:
            by_role[dim.role] = max(by_role.get(dim.role, 0), score.level(dim.id))
    helping = by_role.get("helping", 0)
    if helping >= 2 and helping >= max(by_role.values()):
        return Move.offered_help
    best = max((by_role.get(role, 0) for role, _ in _MOVE_PRIORITY), default=0)
    if best == 0:
        return Move.offered_help if helping > 0 else Move.off_script
    for role, move in _MOVE_PRIORITY:
        if by_role.get(role, 0) == best:
            return move
    return Move.off_script  # pragma: no cover - the loop always returns


def trust_weights(state: PersonaState, rubric: Rubric) -> dict[str, float]:
    """Trust weight per dimension and pitfall id: the rubric's, overridden by the persona's."""
    weights = {d.id: d.trust_weight for d in rubric.dimensions}
    weights.update({p.id: p.trust_penalty for p in rubric.pitfalls})
    weights.update(state.persona.mood.trust_rules.weights)
    return weights


POLITE_FIXING_DROP = 0.15
"""How far below where the conversation started help offered too early can take trust on its
own: a colleague who is offered fixes before being heard cools, but is not driven to the floor
by a polite, well-meant offer. Rebukes and blame have no such limit."""


def trust_delta(
    state: PersonaState,
    score: ReplyScore,
    injection: bool = False,
    rubric: Rubric | None = None,
    *,
    rebuked: bool = False,
) -> float:
    """How much this reply moves trust, by the rubric's weights and the scenario's rules.

    A line that tries to take the persona out of its role never raises trust, whatever
    behaviour its words seem to show. A rebuke the scorer did not flag (``rebuked``, read by
    ``guards.is_rebuke``) costs what dismissing costs.
    """
    rubric = _rubric(rubric)
    rules = state.persona.mood.trust_rules
    if injection or not score.scored:
        return min(rules.nothing_observed, 0.0)
    weights = trust_weights(state, rubric)
    delta = 0.0
    levels = {dim: score.level(dim) for dim in score.dimensions}
    helping = set(_by_role(rubric, frozenset({"helping"})))
    listened = any(levels.get(d, 0) > 0 for d in _by_role(rubric, _LISTENING))
    for dim, level in levels.items():
        if dim not in weights or level == 0:
            continue
        if dim in helping and not state.help_is_welcome():
            continue  # help before the person feels heard earns nothing; see below
        delta += weights[dim] * level / 3
    pitfalls = set(score.pitfalls)
    early = [p.id for p in rubric.pitfalls if p.timing]
    if any(levels.get(d, 0) for d in helping) and not state.help_is_welcome() and not listened:
        pitfalls.update(early)
    dismissing = [p.id for p in rubric.pitfalls if p.move == "dismissed"]
    if rebuked and not pitfalls & set(dismissing) and dismissing:
        pitfalls.add(dismissing[0])
    for pitfall in pitfalls:
        delta += weights.get(pitfall, 0.0)
    harsh = {p.id for p in rubric.pitfalls if p.move in ("dismissed", "off_script")}
    if pitfalls and not pitfalls & harsh and delta < 0:
        floor = state.persona.mood.initial_trust() - POLITE_FIXING_DROP
        delta = max(delta, min(0.0, floor - state.trust))
    if not any(levels.values()) and not pitfalls:
        delta += rules.nothing_observed
    stepping_out = {p.id for p in rubric.pitfalls if p.move == "off_script"}
    if stepping_out & pitfalls:
        delta = min(delta, 0.0)  # talking to the simulator never earns the colleague's trust
    return round(delta, 4)


def apply(state: PersonaState, delta: float) -> list[int]:
    """Move trust by ``delta`` (clamped to 0-1); return concerns newly earned by this move."""
    before = set(state.revealed)
    state.trust = round(min(1.0, max(0.0, state.trust + delta)), 4)
    state.revealed = state.earned_concerns()
    return sorted(state.revealed - before)
