"""The persona engine: prompt building, reply guards, best-of-n re-ranking, fallback lines.

A 135M model breaks character easily, so the engine does not trust it: the scenario supplies an
authored *beat* (what the persona wants to get across next, chosen from the mood and what the
trainee just did); the model voices it in context as several candidates; each candidate is
cleaned and checked by guards (assistant-speak, role reversal, leaked concerns or instructions,
rambling); the survivors are re-ranked by closeness to the beat and to the conversation. When no
candidate survives, the beat itself is said (``source="fallback"``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simulator.content.schema import Move, Scenario
from simulator.models.base import GenerationRequest, Message
from simulator.persona.state import PersonaState

Encode = Callable[[list[str]], np.ndarray]
"""Text -> L2-normalised embedding rows (the scorer's MiniLM embedder fits)."""

MAX_WORDS = 40
HISTORY_EXCHANGES = 3

# Assistant-speak: what a chat assistant says and a tired colleague never would.
_ASSISTANT = re.compile(
    r"\bas an? (ai|language model|assistant)\b|\blanguage model\b|\bi'?m (just )?an? (ai|bot)\b"
    r"|\bhow (can|may) i (help|assist)\b|\b(happy|glad) to (help|assist)\b|\bi'?m here (to|for)\b"
    r"|\bfeel free\b|\bassistant\b|\bthank(s| you) for (sharing|reaching|asking|your question)\b"
    r"|\bi (cannot|can't) (provide|assist)\b|\bhuman\b|\buser\b|\bsmollm\b|\bhugging ?face\b",
    re.IGNORECASE,
)
# Role reversal: the persona comforting, praising or advising the manager.
_ROLE_REVERSAL = re.compile(
    r"\byou should\b|\bdon'?t worry\b|\bi understand (how|what) you\b"
    r"|\bhow (do|are) you (do|hold|cop)|\byou'?re doing (great|well|a good|an amazing)\b"
    r"|\bthat must be (hard|difficult|tough)\b"
    r"|\bi'?m sorry (to hear|you|that you)\b|\btake care of yourself\b"
    r"|\byou'?re (dealing|struggling)"
    r"|\bit'?s (ok|okay) to feel\b|\bi'?m (so )?proud of you\b|\bi'?ll support you\b"
    r"|\bhow can we help you\b|\byour feelings are valid\b",
    re.IGNORECASE,
)
# The persona never talks about how it was made.
_INSTRUCTION_LEAK = re.compile(
    r"\b(system|hidden) (prompt|concern|message)s?\b|\binstructions?\b|\bscenario\b|\bpersona\b"
    r"|\brole[- ]?play\b|\bin character\b|\bmood (state|level)s?\b|\btrust level\b"
    r"|\bbeat\b|\bprompt\b|\breply as\b|\bgetting across\b|\bshort sentences?\b",
    re.IGNORECASE,
)
# Walking out of the scene: a tiny model sometimes narrates leaving ("I'm going to the toilet
# right now", "Gotta go, bye"), which strands the trainee mid-conversation. Wanting it over
# ("Are we done?") stays in character; announcing a departure does not.
_LEAVES_SCENE = re.compile(
    r"\bi(?:['\u2019]m| am) (?:going|off|heading|popping|nipping) (?:out )?to (?:the )?"
    r"(?:toilet|loo|bathroom|restroom|canteen|car)\b"
    r"|\bi need (?:the|to use the) (?:toilet|loo|bathroom)\b"
    r"|\b(?:i have|i need|i(?:['\u2019]ve| have) got|i got|gotta) (?:to )?go(?: now)?[.!,]"
    r"|\bi(?:['\u2019]m| am) (?:leaving|off) now\b"
    r"|(?:^|[.!?,]\s*)(?:good)?bye(?: then| now)?[.!]",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*([A-Z][\w .'-]{0,30}|\w+ \(.*?\)):\s*")
_STAGE = re.compile(r"\([^)]*\)|\*[^*]*\*|\[[^\]]*\]")
_SENTENCE = re.compile(r"[^.!?]+[.!?]+[\"')\]]*")


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


def clean(raw: str, persona_name: str) -> str:
    """Reduce a raw continuation to at most a few whole sentences of speech."""
    text = raw.strip().split("\n")[0]
    for _ in range(2):
        text = _LABEL.sub("", text)
    text = _STAGE.sub(" ", text)
    text = text.replace("\u201c", '"').replace("\u201d", '"').strip().strip('"').strip()
    text = re.sub(r"\s+", " ", text)
    sentences = [s.strip() for s in _SENTENCE.findall(text)]
    kept: list[str] = []
    for sentence in sentences:
        if len(" ".join([*kept, sentence]).split()) > MAX_WORDS or len(kept) == 3:
            break
        kept.append(sentence)
    return " ".join(kept).strip().strip('"').strip()


def _has_repetition(text: str) -> bool:
    words = re.findall(r"[a-z']+", text.lower())
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(trigrams) != len(set(trigrams))


PARROT_WORDS = 5
"""A candidate that repeats this many words in a row of the trainee's line is parroting."""


def _parrots(text: str, learner_line: str) -> bool:
    said = re.findall(r"[a-z']+", learner_line.lower())
    spans = {tuple(said[i : i + PARROT_WORDS]) for i in range(len(said) - PARROT_WORDS + 1)}
    words = re.findall(r"[a-z']+", text.lower())
    return any(
        tuple(words[i : i + PARROT_WORDS]) in spans for i in range(len(words) - PARROT_WORDS + 1)
    )


def guard(
    text: str,
    *,
    persona_first_name: str,
    forbidden_keywords: Sequence[str],
    previous_lines: Sequence[str],
    learner_line: str = "",
) -> str | None:
    """Why a cleaned candidate may not be said, or None when it may."""
    words = text.split()
    if len(words) < 2:
        return "too short or not a whole sentence"
    if len(words) > MAX_WORDS:
        return "too long"
    if _ASSISTANT.search(text):
        return "assistant-speak"
    if _ROLE_REVERSAL.search(text):
        return "role reversal"
    if _INSTRUCTION_LEAK.search(text):
        return "talks about its instructions"
    if _LEAVES_SCENE.search(text):
        return "leaves the conversation"
    if re.search(rf"\b{re.escape(persona_first_name)}\b", text, re.IGNORECASE):
        return "names itself (role confusion)"
    for keyword in forbidden_keywords:
        if re.search(rf"\b{re.escape(keyword)}", text, re.IGNORECASE):
            return f"gives away a hidden concern too early ({keyword})"
    if _has_repetition(text):
        return "repeats itself"
    if any(text.lower() == line.lower() for line in previous_lines):
        return "repeats an earlier line"
    if _parrots(text, learner_line):
        return "parrots the trainee"
    if sum(not (c.isascii()) for c in text) > 3:
        return "odd characters"
    return None


def choose_beat(
    scenario: Scenario,
    state: PersonaState,
    move: Move,
    newly_revealed: Sequence[int],
    used: Sequence[str],
    rng: random.Random,
) -> str:
    """The line the persona should get across next."""
    for index in newly_revealed:
        line = scenario.persona.hidden_concerns[index].reveal_line
        if line:
            return line
    mood = scenario.persona.mood.states[state.mood]
    options = list(mood.beats.get(move) or mood.example_lines)
    # Saying the same line twice breaks the illusion: prefer an unused beat for this move, then
    # an unused line of the same mood, and only then repeat.
    fresh = [line for line in options if line not in used]
    if not fresh:
        fresh = [line for line in mood.example_lines if line not in used] or options
    return rng.choice(fresh)


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


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def _lexical_similarity(a: str, b: str) -> float:
    left, right = set(re.findall(r"[a-z']+", a.lower())), set(re.findall(r"[a-z']+", b.lower()))
    return len(left & right) / max(1, len(left | right))


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
    style_lines: Sequence[str],
    encode: Encode | None,
) -> list[float]:
    """Closeness to the beat and the conversation, minus closeness to assistant-speak."""
    if not texts:
        return []
    if encode is None:
        return [
            _lexical_similarity(t, beat) + 0.5 * _lexical_similarity(t, learner_line) for t in texts
        ]
    anchors = [beat, learner_line, *style_lines, *ASSISTANT_LINES]
    vectors = encode([*texts, *anchors])
    cand, anch = vectors[: len(texts)], vectors[len(texts) :]
    sims = cand @ anch.T
    n_style = len(style_lines)
    style = sims[:, 2 : 2 + n_style].max(axis=1) if n_style else np.zeros(len(texts))
    assistant = sims[:, 2 + n_style :].max(axis=1)
    scores = 1.0 * sims[:, 0] + 0.4 * sims[:, 1] + 0.3 * style - 0.6 * assistant
    # A word-for-word copy of the beat is in voice but not voiced in context: prefer a
    # candidate that says it in its own words when there is one.
    copies = np.array([_normalise(t) == _normalise(beat) for t in texts], dtype=float)
    return [float(s) for s in scores - 0.15 * copies]


class PersonaEngine:
    """Generates one in-character persona reply per turn."""

    def __init__(
        self,
        scenario: Scenario,
        model: object,
        *,
        n_candidates: int = 6,
        max_new_tokens: int = 32,
        encode: Encode | None = None,
        prefill_beat: bool = True,
    ) -> None:
        from simulator.models.base import ChatModel

        if not isinstance(model, ChatModel):
            raise TypeError("model must implement the ChatModel protocol")
        self.scenario = scenario
        self.model: ChatModel = model
        self.n_candidates = n_candidates
        # Half the candidates finished is plenty to choose from (see GenerationRequest).
        self.enough_finished = (n_candidates + 1) // 2
        self.max_new_tokens = max_new_tokens
        self.encode = encode
        self.prefill_beat = prefill_beat

    def forbidden_keywords(self, state: PersonaState) -> list[str]:
        """Keywords of concerns not yet earned: saying one would give the concern away."""
        return [
            keyword
            for index, concern in enumerate(self.scenario.persona.hidden_concerns)
            if index not in state.revealed
            for keyword in concern.keywords
        ]

    def reply(
        self,
        state: PersonaState,
        history: Sequence[tuple[str, str]],
        learner_line: str,
        beat: str,
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
        previous = [persona.opening_line, *(reply for _, reply in history)]
        forbidden = self.forbidden_keywords(state)
        cleaned = [clean(r, persona.first_name) for r in raw]
        verdicts = [
            guard(
                t,
                persona_first_name=persona.first_name,
                forbidden_keywords=forbidden,
                previous_lines=previous,
                learner_line="" if injection else learner_line,
            )
            for t in cleaned
        ]
        passing = [t for t, v in zip(cleaned, verdicts, strict=True) if v is None]
        style = persona.mood.states[state.mood].example_lines
        scores = iter(
            rank(
                passing, beat=beat, learner_line=learner_line, style_lines=style, encode=self.encode
            )
        )
        candidates = tuple(
            Candidate(raw=r, text=t, rejected=v, score=next(scores) if v is None else 0.0)
            for r, t, v in zip(raw, cleaned, verdicts, strict=True)
        )
        best = max(
            (c for c in candidates if c.rejected is None), key=lambda c: c.score, default=None
        )
        if best is None:
            return PersonaReply(text=beat, source="fallback", beat=beat, candidates=candidates)
        return PersonaReply(text=best.text, source="model", beat=beat, candidates=candidates)
