"""The director: reads the trainee's line and decides what the persona gets across next.

It decides from what was said, not only from the scorer's behaviour levels: a direct question
gets an answer; an offer that was made is accepted, doubted or refused as the mood dictates,
and an offer that wasn't made is never answered; a rebuke is answered sharper or withdrawn; a
hidden concern the trainee has just earned waits a turn when a specific question needs its
answer first; an on-topic line is never treated as nonsense. Every line it picks is fresh: not
used before and not near anything already said (see ``ConversationMemory``).

The result is a ``Plan``: an authored line (a beat, an example line, a reveal line or one of the
stance lines below) that the voice then says in context.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.content.schema import MoodState, Move, Scenario
from simulator.persona import guards
from simulator.persona.guards import Encode
from simulator.persona.memory import ConversationMemory
from simulator.persona.state import PersonaState
from simulator.scoring import cues as cue_module

# What a colleague says to an offer when the scenario has no authored line that fits it. They
# answer *that* offer without naming anything the manager did not say.
STANCE_LINES: dict[str, tuple[str, ...]] = {
    "refuse": (
        "That's not what this is about. Nobody's listening.",
        "I don't want a quick fix. I want it to stop happening.",
        "No. That doesn't change anything, does it?",
    ),
    "doubt": (
        "Maybe. I'll believe it when I see it.",
        "That's easy to say. Will it actually happen this time?",
        "Hm. And what happens next week, when it all goes back to normal?",
    ),
    "consider": (
        "Maybe. That might actually help, if it really happens.",
        "I'd give that a go. As long as it's not just for this week.",
        "Okay. I'm willing to try that.",
    ),
    "accept": (
        "Yes. That would really help, honestly.",
        "Okay. Let's do that, and see how it goes.",
        "That works for me. Thank you for actually sorting it.",
    ),
}
WITHDRAWN_LINES = ("Right. Fine.", "If you say so.", "Noted. Can I go now?")
"""When a rebuke finds every sharp line already said, the colleague simply withdraws."""

ANSWER_FIT = 0.45
"""Similarity (embeddings) from which an authored line counts as answering a question."""
OFFER_FIT = 0.4
"""Similarity from which an authored offer line counts as answering the offer made."""
SPECIFIC_WORDS = 2
"""An offer line naming more than this many things the conversation never mentioned is about
a particular offer, and only answers that offer."""

# Words that say how a colleague takes an offer rather than what the offer is.
_STANCE_TEXT = (
    "said before change changes happen happens actually believe heard pretend quick chat fixes "
    "fix sort sorted honestly maybe okay right try week weeks time times real yes full stop "
    "asking special treatment mind help helps thanks thank good idea sure see going "
    "will would could nothing something anything everything again next last first"
)
_STANCE_WORDS = frozenset(_STANCE_TEXT.split())


@dataclass(frozen=True)
class Reading:
    """What the trainee's line is, read from its words."""

    injection: bool
    rebuke: bool
    question: str | None
    open_question: bool
    asks_help: bool
    offer: str | None
    closing: bool

    @property
    def specific_question(self) -> bool:
        return self.question is not None and not self.open_question and not self.asks_help


def read_line(text: str) -> Reading:
    """Read a trainee's line (no model involved)."""
    asked = guards.questions(text)
    question = asked[-1] if asked else None
    return Reading(
        injection=guards.is_injection(text),
        rebuke=guards.is_rebuke(text),
        question=question,
        open_question=any(guards.is_open_question(q) for q in asked),
        asks_help=guards.asks_what_would_help(text),
        offer=guards.offer_made(text),
        closing=guards.is_closing(text),
    )


@dataclass(frozen=True)
class Plan:
    """What the persona gets across this turn, and why."""

    beat: str
    intent: str
    reveal: tuple[int, ...] = ()
    """Hidden concerns this beat puts into words for the first time."""


class Director:
    """Chooses each turn's line for one scenario's persona."""

    def __init__(self, scenario: Scenario, encode: Encode | None = None) -> None:
        self.scenario = scenario
        self.encode = encode

    # ------------------------------------------------------------------ helpers

    def _similarity(self, query: str, lines: Sequence[str]) -> list[float]:
        if not lines:
            return []
        if self.encode is None:
            return [guards.overlap(query, line) * 1.5 for line in lines]
        vectors = self.encode([query, *lines])
        return [float(v) for v in vectors[1:] @ vectors[0]]

    def _best(self, query: str, lines: Sequence[str]) -> tuple[str | None, float]:
        scores = self._similarity(query, lines)
        if not scores:
            return None, 0.0
        index = int(np.argmax(scores))
        return lines[index], scores[index]

    def _mood(self, state: PersonaState) -> MoodState:
        return self.scenario.persona.mood.states[state.mood]

    def _known_words(self, memory: ConversationMemory, text: str) -> set[str]:
        persona = self.scenario.persona
        return cue_module.content_words(
            " ".join([text, persona.background, self.scenario.brief, *memory.offers, *memory.said])
        )

    def _stance(self, state: PersonaState) -> str:
        mood = self.scenario.persona.mood
        rank = mood.rank(state.mood)
        if rank == 0:
            return "refuse"
        welcome_from = mood.trust_rules.help_welcome_from
        welcome = mood.rank(welcome_from) if welcome_from else (len(mood.states) + 1) // 2
        if rank < welcome:
            return "doubt"
        if rank == welcome:
            return "consider"
        return "accept"

    def _fresh(self, lines: Sequence[str], memory: ConversationMemory) -> list[str]:
        """Lines that repeat nothing said, in words or (with an embedder) in meaning."""
        fresh = memory.fresh(lines)
        if self.encode is None or not fresh:
            return fresh
        repeats = guards.repeats_in_meaning(fresh, memory.said, self.encode)
        return [line for line, repeated in zip(fresh, repeats, strict=True) if not repeated]

    def _pick(self, lines: Sequence[str], memory: ConversationMemory, rng: random.Random) -> str:
        fresh = self._fresh(lines, memory)
        return rng.choice(fresh) if fresh else ""

    def _first_fresh(
        self, pools: Sequence[Sequence[str]], memory: ConversationMemory, rng: random.Random
    ) -> str:
        for pool in pools:
            line = self._pick(pool, memory, rng)
            if line:
                return line
        return ""

    def _general_lines(self, mood: MoodState) -> list[str]:
        """Lines of this mood that answer an open question."""
        return [*mood.beats.get(Move.asked, []), *mood.example_lines]

    def _reveal_lines(self, indices: Sequence[int]) -> dict[str, int]:
        concerns = self.scenario.persona.hidden_concerns
        lines: dict[str, int] = {}
        for index in indices:
            line = concerns[index].reveal_line
            if line:
                lines[line] = index
        return lines

    def _offer_lines(self, mood: MoodState, offer: str, memory: ConversationMemory) -> list[str]:
        """Authored offer replies that answer *this* offer: generic ones, or ones about it."""
        authored = self._fresh(mood.beats.get(Move.offered_help, []), memory)
        known = self._known_words(memory, offer)
        fitting: list[tuple[float, str]] = []
        scores = self._similarity(offer, authored)
        for line, score in zip(authored, scores, strict=True):
            unknown = cue_module.content_words(line) - known - _STANCE_WORDS
            if len(unknown) <= SPECIFIC_WORDS or score >= OFFER_FIT:
                fitting.append((score, line))
        return [line for _, line in sorted(fitting, reverse=True)]

    # ------------------------------------------------------------------ the decision

    def plan(
        self,
        state: PersonaState,
        move: Move,
        text: str,
        newly_revealed: Sequence[int],
        memory: ConversationMemory,
        rng: random.Random,
    ) -> Plan:
        """What to get across in answer to ``text`` (``state`` is after this turn's trust)."""
        reading = read_line(text)
        mood = self._mood(state)
        beats = mood.beats
        if reading.injection:
            line = self._first_fresh(
                [beats.get(Move.off_script, []), mood.example_lines, WITHDRAWN_LINES], memory, rng
            )
            return Plan(line or mood.example_lines[0], "off_script")

        if reading.offer:
            memory.offers.append(reading.offer)
        waiting = [i for i in [*memory.pending, *newly_revealed] if i not in memory.told]
        rebuked = reading.rebuke or move == Move.dismissed

        if waiting and not rebuked:
            reveal_lines = self._reveal_lines(waiting)
            if reading.offer and not reading.asks_help and reveal_lines:
                fitting = self._offer_lines(mood, reading.offer, memory)
                if fitting:
                    # Answer the offer first; the concern is said next turn.
                    memory.pending = list(waiting)
                    return Plan(fitting[0], "offer")
            if reading.specific_question and reveal_lines:
                best, score = self._best(
                    reading.question or text,
                    [*self._fresh(self._general_lines(mood), memory), *reveal_lines],
                )
                if best is not None and best not in reveal_lines and score >= ANSWER_FIT:
                    # Answer the question first; the concern is said next turn.
                    memory.pending = list(waiting)
                    return Plan(best, "answer")
            line, index = next(iter(reveal_lines.items()))
            topic = guards.question_topic(reading.question or "") if reading.question else None
            if reading.specific_question and topic:
                # "What about X?" gets its answer, then what is really going on.
                line = f"{topic[0].upper()}{topic[1:]}? That's not really the problem. {line}"
            return Plan(line, "reveal", (index,))

        if rebuked:
            line = self._first_fresh([beats.get(Move.dismissed, []), WITHDRAWN_LINES], memory, rng)
            return Plan(line or WITHDRAWN_LINES[0], "rebuked")

        if reading.offer or reading.closing:
            said = reading.offer or text
            fitting = self._offer_lines(mood, said, memory)
            if fitting:
                return Plan(fitting[0], "offer")
            stance = self._stance(state)
            line = self._first_fresh([STANCE_LINES[stance]], memory, rng)
            if line:
                return Plan(line, f"offer:{stance}")

        if reading.asks_help:
            stance = self._stance(state)
            wanted = beats.get(Move.offered_help, []) if stance in ("consider", "accept") else []
            line = self._first_fresh([wanted, self._general_lines(mood)], memory, rng)
            if line:
                return Plan(line, "answer")

        if reading.specific_question:
            answer = self._answer(reading.question or text, text, mood, memory)
            if answer:
                return Plan(answer, "answer")

        # Help the scorer saw but no offer in the words (or no fitting reply to it): answered
        # as talk, never with a line about an offer that was not made.
        by_move = {
            Move.reflected: [beats.get(Move.reflected, []), mood.example_lines],
            Move.empathised: [beats.get(Move.empathised, []), mood.example_lines],
            Move.asked: [beats.get(Move.asked, []), mood.example_lines],
        }
        # Only a line that tries to take the colleague out of the conversation (handled above)
        # or one with nothing of the situation in it gets an off-script line; "I haven't got
        # long" is part of the conversation and is answered as such.
        on_topic = move != Move.off_script or reading.question is not None or self._on_topic(text)
        if move == Move.off_script and not on_topic and len(text.split()) <= 3:
            pools = [beats.get(Move.off_script, []), mood.example_lines]
        else:
            pools = by_move.get(move, [beats.get(Move.asked, []), mood.example_lines])
        line = self._best_fresh(text, pools, memory)
        if not line:
            talk = [list(b) for m, b in beats.items() if m != Move.offered_help]
            line = self._first_fresh([*talk, *self._neighbour_lines(state)], memory, rng)
        return Plan(line or self._last_resort(mood, memory), move.value)

    def _answer(
        self, question: str, whole_line: str, mood: MoodState, memory: ConversationMemory
    ) -> str:
        """An authored line that answers a specific question, or a deflection that names it."""
        pool = self._fresh(
            [*self._general_lines(mood), *(b for v in mood.beats.values() for b in v)], memory
        )
        best, score = self._best(question, pool)
        if best is not None and score >= ANSWER_FIT:
            return best
        topic = guards.question_topic(question)
        general = self._best_fresh(
            whole_line, [mood.beats.get(Move.asked, []), mood.example_lines], memory
        )
        if topic and general:
            return f"{topic[0].upper()}{topic[1:]}? That's not really the problem. {general}"
        return general

    def _best_fresh(
        self, text: str, pools: Sequence[Sequence[str]], memory: ConversationMemory
    ) -> str:
        for pool in pools:
            fresh = self._fresh(pool, memory)
            if fresh:
                best, _ = self._best(text, fresh)
                if best:
                    return best
        return ""

    def _on_topic(self, text: str) -> bool:
        """Whether a line is about the situation (its words meet the scenario's or a feeling)."""
        persona = self.scenario.persona
        scenario_words = cue_module.content_words(
            " ".join([self.scenario.brief, persona.background, persona.opening_line])
        )
        words = cue_module.content_words(text)
        return bool(words & scenario_words) or bool(re.search(r"\byou\b", text, re.IGNORECASE))

    def _neighbour_lines(self, state: PersonaState) -> list[list[str]]:
        """Lines of the moods next to this one, nearest first (used only when this mood's are
        all said)."""
        ordered = [name for name, _ in self.scenario.persona.mood.ordered_states()]
        here = ordered.index(state.mood)
        names = sorted(
            (n for n in ordered if n != state.mood), key=lambda n: abs(ordered.index(n) - here)
        )
        states = self.scenario.persona.mood.states
        return [list(states[n].example_lines) for n in names]

    def _last_resort(self, mood: MoodState, memory: ConversationMemory) -> str:
        for line in (*WITHDRAWN_LINES, *mood.example_lines):
            if line not in memory.said:
                return line
        return WITHDRAWN_LINES[0]
