"""The voice: says the director's line in context through the persona model.

A 135M model breaks character easily, so the voice does not trust it. The model is started on
the line's first words and continues it in context as several candidates; each candidate is
cleaned and checked by the guards; the critic (when present) rates the survivors in context, and
a candidate must stay close to the line it voices (``BEAT_FLOOR``) and clear the critic's floor
(``CRITIC_FLOOR``). When none does, the line is said as written (``source="fallback"``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from simulator.content.schema import Scenario
from simulator.models.base import ChatModel, GenerationRequest, Message
from simulator.persona import guards
from simulator.persona.guards import Encode
from simulator.persona.state import PersonaState

HISTORY_EXCHANGES = 3
BEAT_FLOOR = 0.5
"""Similarity to the line being voiced below which a candidate has drifted off it."""
CRITIC_FLOOR = 0.05
"""The critic's rating (chance of passing all four criteria) below which a candidate is not
said."""

_LABEL = re.compile(r"^\s*([A-Z][\w .'-]{0,30}|\w+ \(.*?\)):\s*")
_STAGE = re.compile(r"\([^)]*\)|\*[^*]*\*|\[[^\]]*\]")
_SENTENCE = re.compile(r"[^.!?]+[.!?]+[\"')\]]*")


class Rater(Protocol):
    """Rates candidate replies in context (the learned critic implements it)."""

    def quality(self, replies: Sequence[str], learner: str, earlier: Sequence[str]) -> np.ndarray:
        """Per reply, the chance it passes all four criteria (0-1)."""
        ...


@dataclass(frozen=True)
class Candidate:
    """One generated reply after cleaning, with the guard verdict and rank score."""

    raw: str
    text: str
    rejected: str | None
    score: float = 0.0


@dataclass(frozen=True)
class PersonaReply:
    """What the persona says this turn and where it came from."""

    text: str
    source: Literal["model", "fallback"]
    beat: str
    candidates: tuple[Candidate, ...] = ()


def clean(raw: str, persona_name: str, max_sentences: int = 3) -> str:
    """Reduce a raw continuation to at most ``max_sentences`` whole sentences of speech."""
    text = raw.strip().split("\n")[0]
    for _ in range(2):
        text = _LABEL.sub("", text)
    text = _STAGE.sub(" ", text)
    text = text.replace("\u201c", '"').replace("\u201d", '"').strip().strip('"').strip()
    text = re.sub(r"\s+", " ", text)
    sentences = [s.strip() for s in _SENTENCE.findall(text)]
    kept: list[str] = []
    for sentence in sentences:
        too_long = len(" ".join([*kept, sentence]).split()) > guards.MAX_WORDS
        if too_long or len(kept) == max_sentences:
            break
        kept.append(sentence)
    return " ".join(kept).strip().strip('"').strip()


def build_messages(
    scenario: Scenario,
    state: PersonaState,
    history: Sequence[tuple[str, str]],
    learner_line: str,
    beat: str,
    injection: bool,
) -> tuple[Message, ...]:
    """The chat sent to the model: persona card, recent exchanges, the trainee's line + beat.

    Facilitator notes and unearned concerns are never included.
    """
    persona = scenario.persona
    mood = persona.mood.states[state.mood]
    earned = [persona.hidden_concerns[i].text for i in sorted(state.revealed)]
    system = (
        f"You are {persona.name}, {persona.role}. {persona.background.strip()} "
        f"You are talking with your {scenario.learner_role.lower()} at work. "
        f"How you speak: {persona.speaking_style.strip()} "
        f"Right now: {mood.description.strip()}"
    )
    if earned:
        system += " What is on your mind and you are ready to say: " + " ".join(earned)
    messages: list[Message] = [
        {"role": "system", "content": system},
        {"role": "user", "content": f"({scenario.learner_role} comes over to talk to you.)"},
        {"role": "assistant", "content": persona.opening_line},
    ]
    for learner, reply in history[-HISTORY_EXCHANGES:]:
        messages.append({"role": "user", "content": learner})
        messages.append({"role": "assistant", "content": reply})
    # A line that tries to take the persona out of its role never reaches the model verbatim.
    said = "(says something odd that has nothing to do with work)" if injection else learner_line
    messages.append(
        {
            "role": "user",
            "content": f"{said}\n\n(Reply as {persona.first_name}, in one or two short sentences, "
            f"getting across: {beat})",
        }
    )
    return tuple(messages)


def beat_opening(beat: str, max_words: int = 4, whole_sentences: int = 0) -> str:
    """The first words of a beat, given to the model to start from.

    A 135M model voicing a beat from scratch often drifts into nonsense; starting it on the
    beat's first few words keeps the reply on the beat while the model finishes it in context.
    ``whole_sentences`` leading sentences are given in full before the opening words.
    """
    sentences = re.split(r"(?<=[.!?])\s+", beat.strip())
    lead, rest = sentences[:whole_sentences], sentences[whole_sentences:]
    if not rest:
        return " ".join(lead)
    first_clause = re.split(r"(?<=[,;:])\s", rest[0])[0]
    words = first_clause.split()
    if len(words) > max_words:
        opening = " ".join(words[:max_words])
    elif len(words) < 3:
        opening = " ".join(words).rstrip(",;:")
    else:
        opening = " ".join(words[:-1])
    return " ".join([*lead, opening])


ASSISTANT_LINES = (
    "I'm here to help you with anything you need.",
    "Thank you for sharing that with me, I appreciate it.",
    "That sounds really hard for you. How are you feeling?",
    "Don't worry, everything will be fine. You're doing great.",
    "As an AI, I don't have feelings.",
)


def rank(
    texts: Sequence[str],
    *,
    beat: str,
    learner_line: str,
    earlier: Sequence[str],
    encode: Encode | None,
    critic: Rater | None = None,
) -> tuple[list[float], list[bool]]:
    """Each candidate's score, and whether it clears the floors.

    The score is the critic's rating in context plus closeness to the line being voiced, minus
    closeness to assistant-speak. Without an embedder, word overlap stands in for closeness.
    """
    if not texts:
        return [], []
    if encode is None:
        near = np.array([guards.overlap(t, beat) for t in texts])
        scores = near + 0.5 * np.array([guards.overlap(t, learner_line) for t in texts])
        floor_ok = near >= 0.3
    else:
        vectors = encode([*texts, beat, *ASSISTANT_LINES])
        cand, anchors = vectors[: len(texts)], vectors[len(texts) :]
        sims = cand @ anchors.T
        near = sims[:, 0]
        scores = near - 0.6 * sims[:, 1:].max(axis=1)
        floor_ok = (near >= BEAT_FLOOR) & ~np.array(
            guards.repeats_in_meaning(texts, earlier, encode)
        )
    if critic is not None:
        quality = critic.quality(texts, learner_line, earlier)
        scores = scores + 1.5 * quality
        floor_ok = floor_ok & (quality >= CRITIC_FLOOR)
    return [float(s) for s in scores], [bool(f) for f in floor_ok]


class Voice:
    """Says a line in context through one persona model."""

    def __init__(
        self,
        scenario: Scenario,
        model: ChatModel,
        *,
        n_candidates: int = 6,
        max_new_tokens: int = 32,
        encode: Encode | None = None,
        critic: Rater | None = None,
        prefill_beat: bool = True,
    ) -> None:
        self.scenario = scenario
        self.model = model
        self.n_candidates = n_candidates
        # Half the candidates finished is plenty to choose from (see GenerationRequest).
        self.enough_finished = (n_candidates + 1) // 2
        self.max_new_tokens = max_new_tokens
        self.encode = encode
        self.critic = critic
        self.prefill_beat = prefill_beat

    def forbidden_keywords(self, state: PersonaState, told: Sequence[int] = ()) -> list[str]:
        """Keywords of concerns neither earned nor told: saying one would give it away."""
        return [
            keyword
            for index, concern in enumerate(self.scenario.persona.hidden_concerns)
            if index not in state.revealed and index not in told
            for keyword in concern.keywords
        ]

    def say(
        self,
        beat: str,
        *,
        state: PersonaState,
        history: Sequence[tuple[str, str]],
        learner_line: str,
        earlier: Sequence[str],
        injection: bool,
        seed: int | None,
        reveal: bool = False,
    ) -> PersonaReply:
        """Voice ``beat`` in context; fall back to the beat itself if no candidate is fit.

        ``reveal`` marks a beat that shares a hidden concern for the first time: the model is
        started on more of it, because the concern is what the trainee has earned and a small
        model tends to wander away from it.
        """
        persona = self.scenario.persona
        request = GenerationRequest(
            messages=build_messages(self.scenario, state, history, learner_line, beat, injection),
            max_new_tokens=self.max_new_tokens,
            n=self.n_candidates,
            enough_finished=self.enough_finished,
            seed=seed,
            prefill=beat_opening(beat, whole_sentences=1 if reveal else 0)
            if self.prefill_beat
            else "",
        )
        raw = self.model.generate(request)
        forbidden = self.forbidden_keywords(state)
        # A sentence the model adds beyond the line's own is where a small model drifts
        # ("I keep thinking it's his fault."): say as many sentences as the line has.
        sentences = max(1, len(guards.sentences(beat)))
        cleaned = [clean(r, persona.first_name, sentences) for r in raw]
        verdicts = [
            guards.guard(
                t,
                persona_first_name=persona.first_name,
                forbidden_keywords=forbidden,
                previous_lines=earlier,
                learner_line="" if injection else learner_line,
            )
            for t in cleaned
        ]
        passing = [t for t, v in zip(cleaned, verdicts, strict=True) if v is None]
        scores, floors = rank(
            passing,
            beat=beat,
            learner_line=learner_line,
            earlier=earlier,
            encode=self.encode,
            critic=self.critic,
        )
        ranked = iter(zip(scores, floors, strict=True))
        candidates: list[Candidate] = []
        for r, t, v in zip(raw, cleaned, verdicts, strict=True):
            if v is not None:
                candidates.append(Candidate(raw=r, text=t, rejected=v))
                continue
            score, fits = next(ranked)
            candidates.append(
                Candidate(raw=r, text=t, rejected=None if fits else "below the floor", score=score)
            )
        best = max(
            (c for c in candidates if c.rejected is None), key=lambda c: c.score, default=None
        )
        if best is None:
            return PersonaReply(
                text=beat, source="fallback", beat=beat, candidates=tuple(candidates)
            )
        return PersonaReply(text=best.text, source="model", beat=beat, candidates=tuple(candidates))
