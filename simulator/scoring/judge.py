"""LLM-judge mode: a capable chat model rates replies against the rubric instead of the scorer.

For users who configure a model that can follow a rubric (a 7B+ instruct model in-process, or
any OpenAI-compatible server). It returns the same ``ReplyScore`` shape as ``RubricScorer``, so
the session, the agreement harness and batch evaluation read it unchanged.

Parsing is strict. The answer must be one JSON object, optionally inside a ```json fence; it is
validated with pydantic:

- every rubric dimension must be rated and no other dimension id may appear;
- ``level`` must be a JSON integer 0-3 (not ``"2"``, ``2.5`` or ``true``);
- ``probability``, when given, must be a number 0-1;
- keys we do not read (a judge's ``"reasoning"``) are ignored: they cannot change the meaning of
  the keys we do read, and rejecting them would discard good ratings for a harmless habit.

An answer that fails any of these, or a model that raises, leaves that reply unscored with the
reason, never a midpoint; the other replies of the batch are rated as usual. Evidence spans the
judge quotes are kept only when they are found verbatim in the reply; pitfall ids the rubric does
not define are dropped.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulator.content.schema import Dimension, Pitfall, Rubric
from simulator.models.base import ChatModel, GenerationRequest, ModelError
from simulator.scoring import feedback
from simulator.scoring.cues import distinct_spans
from simulator.scoring.evidence import MAX_EVIDENCE
from simulator.scoring.judge_prompt import messages
from simulator.scoring.types import (
    THRESHOLD,
    DimensionScore,
    ReplyScore,
    paired_contexts,
    unscored_reason,
)

log = logging.getLogger(__name__)

LEVEL_PROBABILITY: dict[int, float] = {0: 0.1, 1: 0.55, 2: 0.75, 3: 0.9}
"""Probability given when the judge states none: rises with the level, and levels 1-3 sit above
the scorer's threshold (0.5) because any level above 0 means the behaviour is present."""

MAX_EXPLANATION_CHARS = 240
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)
_APOSTROPHES = "'\u2018\u2019"
_QUOTES = '"\u201c\u201d'


JUDGE_NAME = "llm-judge"
JUDGE_VERSION = "1"
"""Stored with every result the judge rates (with the judge model's name)."""


class JudgeError(ModelError):
    """The judge model keeps failing (server down, model missing): stop instead of waiting on
    every remaining reply."""


class _JudgedDimension(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    level: int = Field(ge=0, le=3)
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)
    explanation: str = ""


class _Verdict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    dimensions: dict[str, _JudgedDimension]
    pitfalls: list[str] = Field(default_factory=list)


class UnparseableAnswer(ValueError):
    """The judge's answer cannot be read; the message is the unscored reason."""


def _snippet(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def parse_answer(answer: str, rubric: Rubric) -> _Verdict:
    """Read a judge's answer strictly.

    Args:
        answer: The model's raw text.
        rubric: The rubric whose dimension ids must be rated, all of them and only them.

    Returns:
        The validated verdict.

    Raises:
        UnparseableAnswer: with the reason the reply is left unscored.
    """
    text = answer.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        what = "not JSON"
        if text.startswith(("{", "```")):
            # Cut off at max_new_tokens, or at a line break by the openai and llama-cpp
            # backends (pretty-printed JSON), or simply broken.
            what = "not valid JSON (cut off or malformed; answer with one line of JSON)"
        reason = f"the judge's answer is {what}: {_snippet(answer)}"
        raise UnparseableAnswer(reason) from None
    try:
        verdict = _Verdict.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        raise UnparseableAnswer(
            f"the judge's answer does not fit the format: {where}: {first['msg']}"
        ) from None
    ids = rubric.dimension_ids
    unknown = [d for d in verdict.dimensions if d not in ids]
    if unknown:
        raise UnparseableAnswer(
            f"the judge rated unknown dimension(s) {', '.join(unknown)}; "
            f"the rubric has {', '.join(ids)}"
        )
    missing = [d for d in ids if d not in verdict.dimensions]
    if missing:
        raise UnparseableAnswer(f"the judge's answer has no rating for {', '.join(missing)}")
    return verdict


def verbatim_span(span: str, reply: str) -> str | None:
    """The part of ``reply`` a quoted span stands for, or None when the reply does not hold it.

    Whitespace runs and straight or curly quote marks may differ (the openai backend collapses
    whitespace, and models straighten quotes); the span returned is always the reply's own text.
    """
    span = span.strip().strip(_QUOTES).strip()
    if not span:
        return None
    if span in reply:
        return span
    parts: list[str] = []
    for char in span:
        if char.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        elif char in _APOSTROPHES:
            parts.append(f"[{_APOSTROPHES}]")
        elif char in _QUOTES:
            parts.append(f"[{_QUOTES}]")
        else:
            parts.append(re.escape(char))
    found = re.search("".join(parts), reply)
    return found.group(0) if found else None


def _evidence(quotes: list[str], reply: str) -> list[str]:
    spans: list[str] = []
    for quote in quotes:
        span = verbatim_span(quote, reply)
        if span is None:
            log.debug("dropped evidence not found in the reply: %r", quote)
        else:
            spans.append(span)
    # A quote and the sentence around it, or one quoted twice, would show the same words twice.
    return distinct_spans(spans)[:MAX_EVIDENCE]


def _probability(judged: _JudgedDimension) -> float:
    """The judge's probability, unless it contradicts its own level (then the level wins: it is
    the primary answer, and reports compare probability with the 0.5 threshold)."""
    derived = LEVEL_PROBABILITY[judged.level]
    p = judged.probability
    if p is None or (p >= THRESHOLD) != (judged.level > 0):
        return derived
    return p


def _explanation(rubric: Rubric, dim: Dimension, level: int, p: float, text: str) -> str:
    text = " ".join(text.split()).rstrip(".")
    if not text:
        return feedback.explanation(rubric, dim, level, p, [])
    if len(text) > MAX_EXPLANATION_CHARS:
        text = text[: MAX_EXPLANATION_CHARS - 3].rstrip() + "..."
    return f"{rubric.scale[level].capitalize()}: {text} (p={p:.2f}, LLM judge)."


class LLMJudgeScorer:
    """Rates learner replies with a chat model acting as judge (implements ``Scorer``).

    The probability of each dimension is the judge's own when it gives one that agrees with its
    level (probability >= 0.5 exactly when level >= 1); otherwise it is derived from the level,
    monotonically, by ``LEVEL_PROBABILITY`` (0.1, 0.55, 0.75, 0.9). Tips come from the rubric
    (``feedback.tip``), with a pitfall's advice on the dimensions it lowers.

    Args:
        rubric: The rubric to rate against; the prompt is built from it.
        model: Any ``ChatModel`` (see ``simulator.models.load_model``); it is asked at
            temperature 0 with a fixed seed, so backends that can be deterministic are.
        max_new_tokens: Room for the answer; by default enough for the rubric's dimensions.
        max_consecutive_errors: After this many model errors in a row (no answer in between),
            raise ``JudgeError``: a server that is down would otherwise be waited on for every
            remaining reply. Single errors leave only that reply unscored.
    """

    batch_size = 8
    """Replies per ``score_batch`` call the harnesses should use: the judge answers one reply at
    a time, so small batches keep progress bars moving."""

    def __init__(
        self,
        rubric: Rubric,
        model: ChatModel,
        *,
        max_new_tokens: int | None = None,
        max_consecutive_errors: int = 5,
    ) -> None:
        self.rubric = rubric
        self.model = model
        self.max_new_tokens = max_new_tokens or 60 + 100 * len(rubric.dimensions)
        self.max_consecutive_errors = max(1, max_consecutive_errors)
        self._errors_in_a_row = 0
        self._pitfalls: dict[str, Pitfall] = {p.id: p for p in rubric.pitfalls}

    def _identity(self) -> tuple[str, str]:
        """Which scorer this is and its version, stored with every result."""
        return JUDGE_NAME, f"{JUDGE_VERSION} ({self.model.name})"

    def score(self, reply: str, context: str = "") -> ReplyScore:
        """Rate one reply; ``context`` is what the other person said just before."""
        return self.score_batch([reply], [context])[0]

    def score_batch(
        self, replies: Sequence[Any], contexts: Sequence[Any] | None = None
    ) -> list[ReplyScore]:
        """Rate many replies, one judge call each; a failure leaves only its reply unscored.

        Args:
            replies: Learner replies; anything that is not rateable text is marked unscored.
            contexts: What the other person said before each reply (same length), or None.

        Returns:
            One ReplyScore per reply, in order.

        Raises:
            JudgeError: The model failed ``max_consecutive_errors`` times in a row.
        """
        contexts = paired_contexts(replies, contexts)
        out = []
        for reply, context in zip(replies, contexts, strict=True):
            reason = unscored_reason(reply)
            if reason is not None:
                out.append(ReplyScore.unscored(self.rubric, reply, reason, *self._identity()))
                continue
            out.append(self._judge(reply, context if isinstance(context, str) else ""))
        return out

    # -- internals --------------------------------------------------------------------------
    def _judge(self, reply: str, context: str) -> ReplyScore:
        request = GenerationRequest(
            messages=messages(self.rubric, reply, context),
            max_new_tokens=self.max_new_tokens,
            n=1,
            temperature=0.0,
            seed=0,
        )
        try:
            answer = self.model.generate(request)[0]
        except ModelError as exc:
            self._errors_in_a_row += 1
            if self._errors_in_a_row >= self.max_consecutive_errors:
                raise JudgeError(
                    f"the judge model {self.model.name} failed on {self._errors_in_a_row} "
                    f"replies in a row; last error: {exc}"
                ) from exc
            reason = f"the judge model failed: {exc}"
            return ReplyScore.unscored(self.rubric, reply, reason, *self._identity())
        self._errors_in_a_row = 0
        try:
            verdict = parse_answer(answer, self.rubric)
        except UnparseableAnswer as exc:
            log.info("unscored reply %r: %s", reply[:60], exc)
            return ReplyScore.unscored(self.rubric, reply, str(exc), *self._identity())
        return self._reply_score(reply, verdict)

    def _reply_score(self, reply: str, verdict: _Verdict) -> ReplyScore:
        named = dict.fromkeys(verdict.pitfalls)  # in order, without repeats
        pitfalls = [self._pitfalls[p] for p in named if p in self._pitfalls]
        dims: dict[str, DimensionScore] = {}
        for dim in self.rubric.dimensions:
            judged = verdict.dimensions[dim.id]
            p = _probability(judged)
            lowered = [pit for pit in pitfalls if dim.id in pit.lowers]
            dims[dim.id] = DimensionScore(
                level=judged.level,
                probability=round(p, 4),
                # A behaviour that is not observed has nothing to quote.
                evidence=_evidence(judged.evidence, reply) if judged.level > 0 else [],
                explanation=_explanation(self.rubric, dim, judged.level, p, judged.explanation),
                tip=feedback.tip(dim, judged.level, lowered),
            )
        return ReplyScore(
            text=reply,
            rubric_id=self.rubric.id,
            rubric_version=self.rubric.version,
            dimensions=dims,
            pitfalls=[p.id for p in pitfalls],
            scorer=JUDGE_NAME,
            scorer_version=self._identity()[1],
        )
