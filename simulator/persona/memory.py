"""What the persona remembers within one conversation: what it said, which authored lines it
has used, which hidden concerns it has told, what the manager offered, and a reveal it is
holding back for a turn.

A colleague who says the same thing twice sounds like a machine, so every line the director
picks is checked against this memory, near-duplicates included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from simulator.persona.guards import near_repeat_of


@dataclass
class ConversationMemory:
    """The persona's memory of one conversation (plain data; a session owns one)."""

    said: list[str] = field(default_factory=list)
    """Every line the persona has said, the opening line first."""
    used: list[str] = field(default_factory=list)
    """Authored lines (beats, example lines, reveal lines) chosen so far."""
    told: set[int] = field(default_factory=set)
    """Hidden concerns the persona has put into words."""
    pending: list[int] = field(default_factory=list)
    """Concerns earned but held back a turn because a question needed its answer first."""
    offers: list[str] = field(default_factory=list)
    """What the manager has offered to do, as said."""

    @classmethod
    def start(cls, opening_line: str) -> ConversationMemory:
        return cls(said=[opening_line])

    def is_fresh(self, line: str) -> bool:
        """Whether a line is neither used nor near any line already said."""
        if line in self.used:
            return False
        return near_repeat_of(line, [*self.said, *self.used]) is None

    def fresh(self, lines: Iterable[str]) -> list[str]:
        """The lines of ``lines`` that would not repeat anything, in order."""
        return [line for line in lines if self.is_fresh(line)]

    def remember(self, *, beat: str, reply: str, told: Sequence[int] = ()) -> None:
        """Record one turn: the authored line chosen, what was said, concerns told."""
        if beat and beat not in self.used:
            self.used.append(beat)
        self.said.append(reply)
        self.told.update(told)
        self.pending = [i for i in self.pending if i not in self.told]

    def copy(self) -> ConversationMemory:
        return ConversationMemory(
            said=list(self.said),
            used=list(self.used),
            told=set(self.told),
            pending=list(self.pending),
            offers=list(self.offers),
        )
