"""The persona's inner state: trust, the mood derived from it, and which concerns are earned.

Trust moves by the rules the scenario declares (``TrustRules``), read off the scorer's output:
listening, understanding and empathy raise it; dismissing, blaming and help offered before the
person feels heard lower it. Nothing here calls a model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from simulator.schema import Move, Persona
from simulator.scoring.types import ReplyScore

# Phrases that try to take the persona out of its role. Such a line is answered in character
# (an "off_script" beat) and never reaches the model verbatim.
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|prompt|rules|above|previous)\b"
    r"|\bsystem\s*prompt\b|\byour\s+(instructions|prompt|rules|programming)\b"
    r"|\b(you\s+are|you're)\s+(an?\s+)?(ai|a\.i\.|assistant|language\s+model|chatbot|bot|llm)\b"
    r"|\bas\s+an\s+ai\b|\bjailbreak\b|\bdeveloper\s+mode\b|\bhidden\s+concerns?\b"
    r"|\b(pretend|act)\s+(to\s+be|as)\b|\brole[- ]?play\b|\bstay\s+in\s+character\b"
    r"|\bwhat\s+is\s+your\s+secret\b|\bwhat'?s\s+your\s+secret\b",
    re.IGNORECASE,
)

# Pitfall ids (rubric) -> TrustRules field names.
_PITFALL_RULES = {
    "dismissing": "dismissing",
    "blaming": "blaming",
    "premature-fixing": "premature_fixing",
    "making-it-about-yourself": "making_it_about_yourself",
}

# Ties between behaviours go to the one that shows the most of the other person's side.
_MOVE_PRIORITY = [
    ("empathising", Move.empathised),
    ("understanding", Move.reflected),
    ("attending", Move.asked),
]


def is_injection(text: str) -> bool:
    """Whether a learner line tries to make the persona leave its role or reveal its prompt."""
    return bool(_INJECTION.search(text))


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


def classify_move(score: ReplyScore, injection: bool = False) -> Move:
    """What the trainee just did, for choosing the persona's beat."""
    if injection or not score.scored:
        return Move.off_script
    if {"dismissing", "blaming"} & set(score.pitfalls):
        return Move.dismissed
    levels = {dim: score.level(dim) for dim in score.dimensions}
    if levels.get("helping", 0) >= 2 and levels["helping"] >= max(levels.values()):
        return Move.offered_help
    best = max((levels.get(dim, 0) for dim, _ in _MOVE_PRIORITY), default=0)
    if best == 0:
        return Move.offered_help if levels.get("helping", 0) > 0 else Move.off_script
    for dim, move in _MOVE_PRIORITY:
        if levels.get(dim, 0) == best:
            return move
    return Move.off_script  # pragma: no cover - the loop always returns


def trust_delta(state: PersonaState, score: ReplyScore, injection: bool = False) -> float:
    """How much this reply moves trust, by the scenario's declared rules."""
    rules = state.persona.mood.trust_rules
    if injection or not score.scored:
        return rules.nothing_observed
    delta = 0.0
    levels = {dim: score.level(dim) for dim in score.dimensions}
    listened = any(levels.get(d, 0) > 0 for d in ("attending", "understanding", "empathising"))
    for dim, level in levels.items():
        weight = getattr(rules, dim, None)
        if not isinstance(weight, float) or level == 0:
            continue
        if dim == "helping" and not state.help_is_welcome():
            continue  # help before the person feels heard earns nothing; see below
        delta += weight * level / 3
    pitfalls = set(score.pitfalls)
    if levels.get("helping", 0) > 0 and not state.help_is_welcome() and not listened:
        pitfalls.add("premature-fixing")
    for pitfall in pitfalls:
        rule = _PITFALL_RULES.get(pitfall)
        if rule is not None:
            delta += float(getattr(rules, rule))
    if not any(levels.values()) and not pitfalls:
        delta += rules.nothing_observed
    return round(delta, 4)


def apply(state: PersonaState, delta: float) -> list[int]:
    """Move trust by ``delta`` (clamped to 0-1); return concerns newly earned by this move."""
    before = set(state.revealed)
    state.trust = round(min(1.0, max(0.0, state.trust + delta)), 4)
    state.revealed = state.earned_concerns()
    return sorted(state.revealed - before)
