"""The persona engine: one turn of the simulated colleague, from the trainee's scored line to
what the colleague says.

    trainee's line + score -> trust and mood (``state``) -> what to get across (``director``)
    -> said in context by the model, guarded and ranked (``voice``) -> remembered (``memory``)

A session calls ``PersonaEngine.turn`` once per trainee line and keeps what it returns; nothing
here writes to a store or knows about the UI.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.content.schema import Move, Rubric, Scenario
from simulator.models.base import ChatModel
from simulator.persona.director import Director, Plan, read_line
from simulator.persona.memory import ConversationMemory
from simulator.persona.state import PersonaState, apply, classify_move, trust_delta
from simulator.persona.voice import Encode, PersonaReply, Rater, Voice
from simulator.scoring.types import ReplyScore


@dataclass(frozen=True)
class PersonaTurn:
    """Everything one persona turn decided; the caller keeps ``state`` and ``memory``."""

    state: PersonaState
    memory: ConversationMemory
    move: Move
    trust_delta: float
    newly_revealed: list[int]
    plan: Plan
    reply: PersonaReply


class PersonaEngine:
    """Plays one scenario's persona, turn by turn."""

    def __init__(
        self,
        scenario: Scenario,
        model: object,
        *,
        rubric: Rubric | None = None,
        n_candidates: int = 6,
        max_new_tokens: int = 32,
        encode: Encode | None = None,
        critic: Rater | None = None,
        prefill_beat: bool = True,
    ) -> None:
        if not isinstance(model, ChatModel):
            raise TypeError("model must implement the ChatModel protocol")
        self.scenario = scenario
        self.rubric = rubric
        self.director = Director(scenario, encode=encode)
        self.voice = Voice(
            scenario,
            model,
            n_candidates=n_candidates,
            max_new_tokens=max_new_tokens,
            encode=encode,
            critic=critic,
            prefill_beat=prefill_beat,
        )

    @property
    def model(self) -> ChatModel:
        return self.voice.model

    def start(self) -> tuple[PersonaState, ConversationMemory]:
        """The state and memory a conversation starts with."""
        persona = self.scenario.persona
        return PersonaState.start(persona), ConversationMemory.start(persona.opening_line)

    def turn(
        self,
        state: PersonaState,
        memory: ConversationMemory,
        score: ReplyScore,
        learner_line: str,
        history: Sequence[tuple[str, str]],
        *,
        seed: int | None,
        rng: random.Random,
    ) -> PersonaTurn:
        """Play one turn. ``state`` and ``memory`` are not changed: the new ones are returned,
        so a model error part-way leaves the conversation as it was."""
        reading = read_line(learner_line)
        move = classify_move(score, reading.injection, self.rubric)
        trial = PersonaState(state.persona, state.trust, set(state.revealed))
        delta = trust_delta(trial, score, reading.injection, self.rubric, rebuked=reading.rebuke)
        newly = apply(trial, delta)
        recalled = memory.copy()
        plan = self.director.plan(trial, move, learner_line, newly, recalled, rng)
        reply = self.voice.say(
            plan.beat,
            state=trial,
            history=history,
            learner_line=learner_line,
            earlier=recalled.said,
            injection=reading.injection,
            seed=seed,
            reveal=bool(plan.reveal),
        )
        recalled.remember(beat=plan.beat, reply=reply.text, told=plan.reveal)
        return PersonaTurn(trial, recalled, move, delta, newly, plan, reply)

    def recall(self, turns: Sequence[tuple[str, str, Sequence[int]]]) -> ConversationMemory:
        """Memory rebuilt from earlier turns (trainee line, reply, concerns earned), for a
        conversation branched from another: authored lines already said count as used."""
        memory = ConversationMemory.start(self.scenario.persona.opening_line)
        reveal_lines = {
            c.reveal_line: i for i, c in enumerate(self.scenario.persona.hidden_concerns)
        }
        for _, reply, _ in turns:
            memory.said.append(reply)
            for line, index in reveal_lines.items():
                if line and not memory.is_fresh(line):
                    memory.told.add(index)
        return memory
