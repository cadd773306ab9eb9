"""One practice conversation: the turn loop that every caller (app, CLI, tests) drives.

learner reply -> scorer -> persona engine (trust and mood, what to say, said in context) ->
persona reply; each finished turn is written to the store before ``respond`` returns, so a crash
never loses a finished turn. Everything about the persona lives in ``simulator.persona``; this
module only keeps the conversation going.
"""

from __future__ import annotations

import random
import uuid
from typing import Literal, Protocol

from simulator.content.schema import Rubric, Scenario
from simulator.conversation.debrief import build_debrief
from simulator.conversation.transcript import Debrief, Transcript, Turn, utc_now
from simulator.models.base import ChatModel
from simulator.persona.engine import PersonaEngine
from simulator.persona.voice import Encode, Rater
from simulator.scoring.types import Scorer

MAX_REPLY_CHARS = 2000


class InputError(ValueError):
    """A learner reply that cannot be taken (empty, too long, session over); say what to do."""


class StoreLike(Protocol):
    """What a session needs from storage (``simulator.store.database.Store`` provides it)."""

    def start_session(self, transcript: Transcript) -> None: ...
    def add_turn(self, session_id: str, turn: Turn) -> None: ...
    def end_session(self, session_id: str, debrief: Debrief) -> None: ...


class Session:
    """A conversation between a trainee and a scenario's persona.

    Args:
        scenario: the scenario to play.
        rubric: the rubric the scorer uses (for the debrief's names and tips).
        scorer: rates each learner reply.
        model: voices the persona.
        store: where turns are written as they happen (optional).
        seed: same seed, same transcript.
        encode: sentence embedder used to re-rank persona candidates (lexical when None).
        critic: rates persona candidates in context (``simulator.persona.critic``).
    """

    def __init__(
        self,
        scenario: Scenario,
        rubric: Rubric,
        scorer: Scorer,
        model: ChatModel,
        *,
        store: StoreLike | None = None,
        seed: int | None = None,
        trainee: str = "anonymous",
        mode: Literal["coaching", "assessment"] = "coaching",
        encode: Encode | None = None,
        critic: Rater | None = None,
        n_candidates: int = 6,
    ) -> None:
        self.scenario = scenario
        self.rubric = rubric
        self.scorer = scorer
        self.engine = PersonaEngine(
            scenario,
            model,
            rubric=rubric,
            n_candidates=n_candidates,
            encode=encode,
            critic=critic,
        )
        self.store = store
        self.seed = seed
        self.state, self.memory = self.engine.start()
        self.transcript = Transcript(
            session_id=uuid.uuid4().hex,
            scenario_id=scenario.id,
            scenario_version=scenario.version,
            rubric_id=rubric.id,
            rubric_version=rubric.version,
            model=model.name,
            seed=seed,
            trainee=trainee,
            mode=mode,
            start_trust=self.state.trust,
            start_mood=self.state.mood,
            opening_line=scenario.persona.opening_line,
        )
        if store is not None:
            store.start_session(self.transcript)

    @property
    def turns(self) -> list[Turn]:
        return self.transcript.turns

    @property
    def finished(self) -> bool:
        return self.transcript.ended_at is not None or len(self.turns) >= self.scenario.max_turns

    def _previous_persona_line(self) -> str:
        return self.turns[-1].persona if self.turns else self.scenario.persona.opening_line

    def _colleague_lines(self) -> list[str]:
        """Everything the persona has said so far, oldest first."""
        return [self.scenario.persona.opening_line, *(t.persona for t in self.turns)]

    def check_input(self, learner_line: object) -> str:
        """The reply, stripped, or an InputError that says what to do instead."""
        if self.finished:
            raise InputError("This conversation has ended. Start a new one or look at the debrief.")
        if not isinstance(learner_line, str) or not learner_line.strip():
            raise InputError(
                f"Type what you would say to {self.scenario.persona.first_name} before sending."
            )
        text = learner_line.strip()
        if len(text) > MAX_REPLY_CHARS:
            raise InputError(
                f"That reply is {len(text)} characters; keep it under "
                f"{MAX_REPLY_CHARS}, as you would in a real conversation."
            )
        return text

    def respond(self, learner_line: str) -> Turn:
        """Play one turn; the turn is stored before it is returned.

        Raises:
            InputError: the reply cannot be taken (nothing is changed).
            ModelError: the persona model failed (nothing is changed; the trainee may retry).
        """
        text = self.check_input(learner_line)
        index = len(self.turns)
        # A scorer that can check a paraphrase against the whole conversation gets all of it.
        in_conversation = getattr(self.scorer, "score_in_conversation", None)
        score = (
            in_conversation(text, self._colleague_lines())
            if callable(in_conversation)
            else self.scorer.score(text, context=self._previous_persona_line())
        )
        turn_seed = None if self.seed is None else self.seed * 1000 + index
        rng = random.Random(f"{self.seed}-{index}" if self.seed is not None else None)
        history = [(t.learner, t.persona) for t in self.turns]
        played = self.engine.turn(
            self.state, self.memory, score, text, history, seed=turn_seed, rng=rng
        )
        # Only now, with a reply in hand, does the turn count.
        self.state, self.memory = played.state, played.memory
        turn = Turn(
            index=index,
            learner=text,
            persona=played.reply.text,
            scores=score,
            move=played.move.value,
            mood=played.state.mood,
            trust=played.state.trust,
            trust_delta=played.trust_delta,
            source=played.reply.source,
            revealed=played.newly_revealed,
        )
        self.transcript.turns.append(turn)
        if self.store is not None:
            self.store.add_turn(self.transcript.session_id, turn)
        return turn

    def debrief(self) -> Debrief:
        """The debrief for the turns so far (does not end the session)."""
        return build_debrief(self.transcript, self.scenario, self.rubric)

    def end(self) -> Debrief:
        """End the conversation, store and return the debrief."""
        debrief = self.debrief()
        self.transcript.debrief = debrief
        self.transcript.ended_at = self.transcript.ended_at or utc_now()
        if self.store is not None:
            self.store.end_session(self.transcript.session_id, debrief)
        return debrief

    def branch(self, at_turn: int) -> Session:
        """A new session that keeps turns before ``at_turn``, to try a different reply there.

        The original session is left as it was (and stays in the history).
        """
        if not 0 <= at_turn <= len(self.turns):
            raise InputError(f"There is no turn {at_turn + 1} to go back to.")
        clone = Session.__new__(Session)
        clone.scenario, clone.rubric, clone.scorer = self.scenario, self.rubric, self.scorer
        clone.engine, clone.store, clone.seed = self.engine, self.store, self.seed
        kept = [t.model_copy(deep=True) for t in self.turns[:at_turn]]
        clone.transcript = self.transcript.model_copy(
            update={
                "session_id": uuid.uuid4().hex,
                "turns": [],
                "debrief": None,
                "ended_at": None,
                "started_at": utc_now(),
            },
            deep=True,
        )
        clone.state, _ = clone.engine.start()
        clone.memory = clone.engine.recall([(t.learner, t.persona, t.revealed) for t in kept])
        if kept:
            clone.state.trust = kept[-1].trust
            clone.state.revealed = clone.state.earned_concerns() | {
                i for t in kept for i in t.revealed
            }
        if clone.store is not None:
            clone.store.start_session(clone.transcript)
        for turn in kept:
            clone.transcript.turns.append(turn)
            if clone.store is not None:
                clone.store.add_turn(clone.transcript.session_id, turn)
        return clone
