"""The rubric scorer: rates a learner reply on every dimension of any rubric.

How a reply is rated (all offline, on the CPU):

1. Replies that cannot be rated (empty, not text, too long) are marked unscored with the reason.
2. Observable cues (``cues.py``) give verbatim evidence spans and a feature vector.
3. The reply is embedded whole (one MiniLM pass) and compared with the rubric's exemplars.
4. For dimensions that our labelled set covers, a model fitted on that set and on the rubric's
   exemplars (``model.py``) turns embeddings + cues + context features into a probability that
   the behaviour is present and a level. Dimensions the labelled set does not know (a course
   designer's own) are rated from exemplar similarity alone, so any rubric works without code.
5. Pitfalls are detected from cues and from similarity to the pitfall's examples; each lowers the
   dimensions it names by at least one level (never below "emerging" while the behaviour still
   shows outside its words). The clauses a pitfall's cues flag ("calm down", "it's not a big
   deal") are no sign of the behaviours it lowers: those dimensions are rated again on the rest
   of the reply (unless a cue of the behaviour already shows outside them), and a reply whose
   only sign of a behaviour is in the flagged clauses does not show it at all.
6. Gates and checks, read from the rubric after the regressions: a reply that is mainly a
   pitfall marked ``gate`` (a dismissal, blame, an order or threat, talk to the simulator) is
   rated 0 on every behaviour and never quoted; a dimension's ``floors`` give the level a cue
   names outright (time made explicit attends at 2); a restatement that shares nothing with what
   the colleague said is not understanding. Levels change; probabilities stay what the words
   suggest (capping them cost AUROC on the development set).
7. Evidence (``evidence.py``) quotes cue matches and the sentence that shows each behaviour most
   (at the highest level, then most surely), never the words a pitfall flagged, and two
   behaviours do not quote the same sentence when another fits one of them as well. In small
   batches (the app rates one reply at a time) sentences are embedded to find it; large batches
   (batch evaluation) rank sentences by their cues and words alone, which costs no extra
   embedding.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.content.schema import Dimension, Pitfall, Rubric
from simulator.scoring import cues as cue_module
from simulator.scoring import evidence, feedback
from simulator.scoring.embeddings import Embedder
from simulator.scoring.twin import get_scorer_embedder
from simulator.scoring.types import (
    THRESHOLD,
    DimensionScore,
    ReplyScore,
    paired_contexts,
    unscored_reason,
)

log = logging.getLogger(__name__)

PITFALL_SIMILARITY = 0.72
"""Cosine similarity to a pitfall example above which the pitfall is reported."""

MAINLY = 0.5
"""Share of a reply's letters in a gating pitfall's clauses from which the reply is "mainly" it."""

PARAPHRASE_SIMILARITY = 0.3
"""Cosine (shipped MiniLM) below which a restatement sharing no word with the colleague's lines
states something they never said."""

SCORER_NAME = "rubric-scorer"
SCORER_VERSION = "2"
"""Bumped whenever the same reply may be rated differently (stored with every result)."""

SENTENCE_EVIDENCE_BATCH = 16
"""Batches up to this many replies embed their sentences to choose evidence; larger ones rank
sentences by cues only (embedding every sentence would cost about half as much again as scoring)."""


@dataclass
class Predictions:
    """Per-reply, per-dimension probability of presence and level."""

    probability: np.ndarray  # (n, d) float
    level: np.ndarray  # (n, d) int


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


class ExemplarIndex:
    """Rubric exemplars embedded once, for similarity features and the exemplar-only fallback."""

    def __init__(self, rubric: Rubric, embedder: Embedder | None) -> None:
        self.rubric = rubric
        self.vectors: dict[str, np.ndarray] = {}
        self.levels: dict[str, np.ndarray] = {}
        self.pitfall_vectors: dict[str, np.ndarray] = {}
        if embedder is None:
            return
        texts: list[str] = []
        for dim in rubric.dimensions:
            texts.extend(e.text for e in dim.exemplars)
        for pit in rubric.pitfalls:
            texts.extend(pit.examples)
        vectors = embedder.encode(texts) if texts else np.zeros((0, 384), dtype=np.float32)
        at = 0
        for dim in rubric.dimensions:
            k = len(dim.exemplars)
            self.vectors[dim.id] = vectors[at : at + k]
            self.levels[dim.id] = np.array([e.level for e in dim.exemplars], dtype=np.float64)
            at += k
        for pit in rubric.pitfalls:
            k = len(pit.examples)
            self.pitfall_vectors[pit.id] = vectors[at : at + k]
            at += k

    def similarity_features(self, emb: np.ndarray, dimension_id: str) -> np.ndarray:
        """Max similarity to high (2-3), low (1) and absent (0) exemplars: shape (n, 3)."""
        vecs, levels = self.vectors[dimension_id], self.levels[dimension_id]
        sims = emb @ vecs.T
        out = np.zeros((emb.shape[0], 3), dtype=np.float32)
        for j, mask in enumerate((levels >= 2, levels == 1, levels == 0)):
            if mask.any():
                out[:, j] = sims[:, mask].max(axis=1)
        return out

    def predict(self, emb: np.ndarray, dimension_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Exemplar-only rating: similarity-weighted level of the nearest exemplars."""
        vecs, levels = self.vectors[dimension_id], self.levels[dimension_id]
        sims = emb @ vecs.T
        weights = np.exp((sims - sims.max(axis=1, keepdims=True)) * 20.0)
        weights /= weights.sum(axis=1, keepdims=True)
        expected = weights @ levels
        top = sims.max(axis=1)
        # A reply unlike every exemplar is weak evidence either way: pull it towards "absent".
        expected = expected * np.clip((top - 0.2) / 0.3, 0.0, 1.0)
        probability = _sigmoid(4.0 * (expected - 0.75))
        level = np.where(probability >= THRESHOLD, np.clip(np.rint(expected), 1, 3), 0)
        return probability, level.astype(int)


def levels_from_probability(probability: np.ndarray) -> np.ndarray:
    """Map presence probabilities to levels when no level model exists (cue-only fallback)."""
    conditions = [probability >= 0.85, probability >= 0.65, probability >= THRESHOLD]
    return np.asarray(np.select(conditions, [3, 2, 1], 0), dtype=int)


# Hand-set cue weights, per dimension role: the cue-only scorer used when no fitted model is
# available (a dimension without a role is rated from its exemplars).
_CUE_WEIGHTS: dict[str, dict[str, float]] = {
    "attending": {
        "open_question": 3.0,
        "closed_question": 1.2,
        "feeling_question": 2.0,
        "invitation": 2.5,
        "task_question": -2.5,
        "suggestion": -0.8,
        "_bias": -1.6,
    },
    "understanding": {
        "reflection_stem": 3.0,
        "check": 2.0,
        "context_overlap": 1.5,
        "open_question": 0.6,
        "understand_claim": 0.4,
        "_bias": -1.8,
    },
    "empathising": {
        "feeling_word": 1.4,
        "sympathy": 2.6,
        "affirmation": 2.0,
        "you_feel": 1.5,
        "understand_claim": 1.0,
        "dismissing": -1.5,
        "blaming": -2.0,
        "_bias": -1.8,
    },
    "helping": {
        "offer": 2.4,
        "suggestion": 2.4,
        "information": 1.6,
        "resource": 0.6,
        "_bias": -1.8,
    },
}


def cue_predict(role: str, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate a dimension with a known role from cue features alone (no fitted model)."""
    weights = _CUE_WEIGHTS[role]
    index = {name: i for i, name in enumerate(cue_module.FEATURE_NAMES)}
    logit = np.full(features.shape[0], weights.get("_bias", 0.0))
    for name, weight in weights.items():
        if name in index:
            logit += weight * (features[:, index[name]] > 0)
    probability = _sigmoid(logit)
    level = np.select(
        [probability >= 0.85, probability >= 0.65, probability >= THRESHOLD], [3, 2, 1], 0
    )
    return probability, level.astype(int)


class RubricScorer:
    """Rates learner replies on every dimension of a rubric (implements ``Scorer``).

    Args:
        rubric: The rubric to score against.
        embedder: Sentence embedder; defaults to the process-wide MiniLM tuned on our labelled
            replies (``get_scorer_embedder()``).
        use_model: Use the model fitted on the labelled set for the dimensions it covers; when
            False (or when fitting is impossible), known dimensions are rated from cues and
            exemplar similarity only.
    """

    def __init__(
        self, rubric: Rubric, embedder: Embedder | None = None, use_model: bool = True
    ) -> None:
        self.rubric = rubric
        self.embedder = embedder if embedder is not None else get_scorer_embedder()
        self.exemplars = ExemplarIndex(rubric, self.embedder)
        self._helping = frozenset(d.id for d in rubric.dimensions if d.role == "helping")
        # Cues are written for the roles ("attending" ...): a dimension reads the cues of its role,
        # whatever its id; one without a role reads cues named after its id (usually none).
        self._cue_key = {d.id: d.role or d.id for d in rubric.dimensions}
        known = {c.name for c in cue_module.ALL_CUES}
        for dim in rubric.dimensions:
            unknown = sorted(set(dim.floors) - known)
            if unknown:
                raise ValueError(
                    f"dimension {dim.id!r} of rubric {rubric.id!r} has floors for unknown cue(s) "
                    f"{', '.join(unknown)}; known cues: {', '.join(sorted(known))}"
                )
        self.model: Any = None
        if use_model:
            from simulator.scoring.model import load_or_fit

            self.model = load_or_fit(rubric, self.embedder, self.exemplars)

    # -- public API -------------------------------------------------------------------------
    def score(self, reply: str, context: str = "") -> ReplyScore:
        """Rate one reply; ``context`` is what the other person said just before."""
        return self.score_batch([reply], [context])[0]

    def score_in_conversation(self, reply: str, colleague_lines: Sequence[str]) -> ReplyScore:
        """Rate one reply given everything the colleague has said so far (oldest first): the
        last line is the context the regressions read; all of them are what a paraphrase is
        checked against (a trainee may restate something said three turns ago)."""
        lines = [line for line in colleague_lines if line.strip()]
        context = lines[-1] if lines else ""
        return self.score_batch([reply], [context], ["\n".join(lines)])[0]

    def score_batch(
        self,
        replies: Sequence[Any],
        contexts: Sequence[Any] | None = None,
        conversations: Sequence[str] | None = None,
    ) -> list[ReplyScore]:
        """Rate many replies at once (embeddings are computed in one batch).

        Args:
            replies: Learner replies; anything that is not rateable text is marked unscored.
            contexts: What the other person said before each reply (same length), or None.
            conversations: Everything the other person said before each reply, or None for
                just the context; what a paraphrase is checked against.

        Returns:
            One ReplyScore per reply, in order.
        """
        contexts = paired_contexts(replies, contexts)
        said = paired_contexts(replies, conversations) if conversations is not None else contexts
        results: list[ReplyScore | None] = [None] * len(replies)
        todo: list[int] = []
        for i, reply in enumerate(replies):
            reason = unscored_reason(reply)
            if reason is not None:
                results[i] = ReplyScore.unscored(
                    self.rubric, reply, reason, SCORER_NAME, SCORER_VERSION
                )
            else:
                todo.append(i)
        if todo:
            texts = [str(replies[i]) for i in todo]
            ctxs = [c if isinstance(c, str) else "" for c in (contexts[i] for i in todo)]
            heard = [c if isinstance(c, str) else "" for c in (said[i] for i in todo)]
            for i, scored in zip(todo, self._score_texts(texts, ctxs, heard), strict=True):
                results[i] = scored
        return [r for r in results if r is not None]

    # -- internals --------------------------------------------------------------------------
    def predict(
        self, texts: list[str], contexts: list[str]
    ) -> tuple[Predictions, list[Any], np.ndarray]:
        """Raw predictions for rateable texts: probabilities and levels before pitfalls."""
        cue_results = [cue_module.extract(t, c) for t, c in zip(texts, contexts, strict=True)]
        features = np.stack([r.features for r in cue_results])
        # ``emb`` (the shipped MiniLM) is compared with exemplars; ``tuned`` feeds the regressions.
        emb, tuned = self.embedder.encode_for_scoring(texts)
        n, d = len(texts), len(self.rubric.dimensions)
        probability = np.zeros((n, d))
        level = np.zeros((n, d), dtype=int)
        views = self.model.views(texts, tuned, features) if self.model is not None else None
        for j, dim in enumerate(self.rubric.dimensions):
            if self.model is not None and self.model.covers(dim.id):
                p, lv = self.model.predict(dim.id, views)
            elif dim.role in _CUE_WEIGHTS:
                p_cue, _ = cue_predict(dim.role, features)
                p_ex, _ = self.exemplars.predict(emb, dim.id)
                p = 0.6 * p_cue + 0.4 * p_ex
                lv = levels_from_probability(p)
            else:
                p, lv = self.exemplars.predict(emb, dim.id)
            probability[:, j] = p
            level[:, j] = lv
        return Predictions(probability, level), cue_results, emb

    def _rank_units(
        self, units: list[dict[str, list[str]]], contexts: list[str]
    ) -> dict[str, list[list[evidence.Candidate]]]:
        """Per dimension and reply, the sentences that may be quoted, best first.

        Best means at the highest level the sentence shows on its own, then the surest: a
        paraphrase (understanding at level 2) comes before a named feeling that only touches on
        what was said (level 1), even when the feeling is the surer sign of something.
        """
        ids = self.rubric.dimension_ids
        ranked = {
            d: [[evidence.Candidate(u, 0, 0.0) for u in reply[d]] for reply in units] for d in ids
        }
        # Every sentence of a reply is ranked once, for all dimensions; a reply whose dimensions
        # have one candidate each needs no ranking.
        pools = [list(dict.fromkeys(u for d in ids for u in reply[d])) for reply in units]
        multi = [i for i, reply in enumerate(units) if any(len(reply[d]) > 1 for d in ids)]
        if not multi:
            return ranked
        sentences = [s for i in multi for s in pools[i]]
        owner = [i for i in multi for _ in pools[i]]
        pairs = zip(sentences, owner, strict=True)
        sentence_cues = np.stack([cue_module.extract(s, contexts[o]).features for s, o in pairs])
        vectors, tuned = (
            self.embedder.encode_for_scoring(sentences)
            if len(units) <= SENTENCE_EVIDENCE_BATCH
            else (None, None)
        )
        views = (
            self.model.views(sentences, tuned, sentence_cues) if self.model is not None else None
        )
        row = {(o, s): k for k, (s, o) in enumerate(zip(sentences, owner, strict=True))}
        for d in ids:
            fit = self._sentence_fit(d, views, sentence_cues, vectors)
            for i in multi:
                if fit is None:
                    # No cheap way to rank: evidence falls back to cue matches or the whole reply.
                    ranked[d][i] = []
                    continue
                rank, level = fit
                found = [
                    evidence.Candidate(u, int(level[row[i, u]]), float(rank[row[i, u]]))
                    for u in units[i][d]
                ]
                ranked[d][i] = sorted(found, key=lambda c: (c.level, c.rank), reverse=True)
        return ranked

    def _sentence_fit(
        self, dimension_id: str, views: Any, cues: np.ndarray, vectors: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """How surely (a score comparable within the dimension) and at what level each sentence
        shows a dimension on its own; None when there is no cheap way to tell (an exemplar-only
        dimension in a large batch, whose sentences are not embedded)."""
        if self.model is not None and self.model.covers(dimension_id):
            level = self.model.predict(dimension_id, views)[1]
            return self.model.ranking(dimension_id, views), level
        role = self.rubric.dimension(dimension_id).role
        if role in _CUE_WEIGHTS:
            return cue_predict(role, cues)
        if vectors is not None:
            rank = self.exemplars.similarity_features(vectors, dimension_id)[:, 0]
            return rank, self.exemplars.predict(vectors, dimension_id)[1]
        return None

    def _pitfalls(
        self, emb: np.ndarray, cue_results: list[Any], preds: Predictions, contexts: list[str]
    ) -> list[list[Pitfall]]:
        found: list[list[Pitfall]] = [[] for _ in cue_results]
        for pit in self.rubric.pitfalls:
            vecs = self.exemplars.pitfall_vectors.get(pit.id)
            sims = (emb @ vecs.T).max(axis=1) if vecs is not None and len(vecs) else None
            for i, result in enumerate(cue_results):
                hit = bool(result.evidence_for(pit.id))
                if sims is not None and sims[i] >= PITFALL_SIMILARITY:
                    hit = True
                if pit.timing and not hit:
                    hit = _fixing_before_listening(self.rubric, preds, i, contexts[i])
                if hit:
                    found[i].append(pit)
        return found

    def _rate_outside(
        self,
        preds: Predictions,
        texts: list[str],
        contexts: list[str],
        cue_results: list[Any],
        flagged: list[dict[str, list[evidence.Region]]],
        units: list[dict[str, list[str]]],
    ) -> dict[tuple[int, str], tuple[float, int]]:
        """Probability and level of each dimension on what a reply says outside the words its
        pitfalls flagged, keyed by (reply, dimension); only where the behaviour was seen at all
        (otherwise there is nothing to lower). Nothing left outside means not shown."""
        ids = self.rubric.dimension_ids
        todo = [
            (i, d)
            for i, regions in enumerate(flagged)
            for d in regions
            if d in ids and preds.level[i, ids.index(d)] > 0
        ]
        out: dict[tuple[int, str], tuple[float, int]] = {}
        rerate: list[tuple[int, str]] = []
        for i, d in todo:
            j = ids.index(d)
            if any(
                not evidence.covered(texts[i], span, flagged[i][d])
                for span in cue_results[i].evidence_for(self._cue_key[d])
            ):
                # A cue of the behaviour outside the flagged clauses shows it there: rating the
                # rest again would cost an embedding and only confirm it (measured on our
                # labelled replies: 37 of the 62 rated again were such).
                out[i, d] = (float(preds.probability[i, j]), int(preds.level[i, j]))
            else:
                rerate.append((i, d))
        rest = {(i, d): " ".join(units[i][d]) for i, d in rerate}
        # Nothing left outside the flagged clauses shows nothing.
        out.update(dict.fromkeys(rerate, (0.0, 0)))
        pairs = list(dict.fromkeys((text, contexts[i]) for (i, _), text in rest.items() if text))
        if not pairs:
            return out
        rated, _, _ = self.predict([t for t, _ in pairs], [c for _, c in pairs])
        row = {pair: k for k, pair in enumerate(pairs)}
        for (i, d), text in rest.items():
            if text:
                k, j = row[text, contexts[i]], ids.index(d)
                out[i, d] = (float(rated.probability[k, j]), int(rated.level[k, j]))
        return out

    def _score_texts(
        self, texts: list[str], contexts: list[str], heard: list[str] | None = None
    ) -> list[ReplyScore]:
        preds, cue_results, emb = self.predict(texts, contexts)
        pitfalls = self._pitfalls(emb, cue_results, preds, contexts)
        ids = self.rubric.dimension_ids
        flagged = [
            evidence.flagged_regions(text, found, self._helping)
            for text, found in zip(texts, pitfalls, strict=True)
        ]
        units = [
            {d: evidence.quotable_units(text, regions.get(d, [])) for d in ids}
            for text, regions in zip(texts, flagged, strict=True)
        ]
        outside = self._rate_outside(preds, texts, contexts, cue_results, flagged, units)
        ranked = self._rank_units(units, contexts)
        gated = [self._gating(text, found) for text, found in zip(texts, pitfalls, strict=True)]
        unsupported = self._unsupported_paraphrases(
            texts, heard if heard is not None else contexts, emb, cue_results, preds
        )
        out: list[ReplyScore] = []
        for i, text in enumerate(texts):
            rated: dict[str, tuple[int, float, list[Pitfall]]] = {}
            for j, dim in enumerate(self.rubric.dimensions):
                p = float(np.clip(preds.probability[i, j], 0.0, 1.0))
                lv = int(preds.level[i, j])
                if gated[i]:
                    # Mainly a dismissal, blame, order or injection: no behaviour shows, whatever
                    # words of care it borrows ("You're fine", "I'm afraid"). The probability is
                    # what the words suggest, lowered as before where a pitfall lowers this
                    # dimension (capping every gated probability cost 0.004 mean AUROC on the
                    # development set); the level is what counts.
                    if lv > 0 and any(dim.id in pit.lowers for pit in pitfalls[i]):
                        p = _lower(lv, p, outside.get((i, dim.id)))[1]
                    rated[dim.id] = (0, p, gated[i])
                    continue
                lowered = [pit for pit in pitfalls[i] if dim.id in pit.lowers]
                if lowered and lv > 0:
                    lv, p = _lower(lv, p, outside.get((i, dim.id)))
                else:
                    lowered = []  # nothing to lower: don't claim the pitfall changed the level
                if (i, dim.id) in unsupported:
                    lv = 0
                elif not lowered:
                    lv, p = self._floor(dim, lv, p, cue_results[i])
                rated[dim.id] = (lv, p, lowered)
            shown = [d for d in ids if rated[d][0] > 0]
            best = evidence.choose({d: ranked[d][i] for d in ids}, shown)
            dims: dict[str, DimensionScore] = {}
            for dim in self.rubric.dimensions:
                lv, p, lowered = rated[dim.id]
                regions, quotable = flagged[i].get(dim.id, []), units[i][dim.id]
                best_sentence = best.get(dim.id, "")
                spans = (
                    evidence.evidence_spans(
                        text,
                        self._cue_key[dim.id],
                        cue_results[i],
                        best_sentence,
                        regions,
                        quotable,
                    )
                    if lv > 0
                    else []
                )
                note = (
                    "it restates what the colleague never said"
                    if (i, dim.id) in unsupported
                    else "the reply is mainly " + ", ".join(g.name.lower() for g in gated[i])
                    if gated[i]
                    else ""
                )
                dims[dim.id] = DimensionScore(
                    level=lv,
                    probability=round(p, 4),
                    evidence=spans,
                    explanation=feedback.explanation(self.rubric, dim, lv, p, lowered, note),
                    tip=feedback.tip(
                        dim,
                        lv,
                        lowered,
                        text,
                        [
                            n
                            for n in cue_module.supporting(self._cue_key[dim.id])
                            if cue_results[i].spans.get(n)
                        ],
                    ),
                )
            out.append(
                ReplyScore(
                    text=text,
                    rubric_id=self.rubric.id,
                    rubric_version=self.rubric.version,
                    dimensions=dims,
                    pitfalls=[p.id for p in pitfalls[i]],
                    scorer=SCORER_NAME,
                    scorer_version=SCORER_VERSION,
                )
            )
        return out

    def _gating(self, text: str, found: list[Pitfall]) -> list[Pitfall]:
        """The gating pitfalls a reply mainly consists of (none when it is mostly something else).

        Mainly means the clauses their cues flagged hold at least ``MAINLY`` of the reply's
        letters, or the rest of the reply shows no cue of any behaviour ("Take some paracetamol
        and get back on the phones": the first clause is no kind suggestion beside the order).
        A gating pitfall found by similarity to its examples alone is the whole reply.
        """
        gates = [pit for pit in found if pit.gate]
        if not gates:
            return []
        regions = evidence.pitfall_regions(text, gates)
        if not regions or evidence.share_covered(text, regions) >= MAINLY:
            return gates
        rest = cue_module.extract(evidence.outside(text, regions))
        if any(rest.evidence_for(key) for key in self._cue_key.values()):
            return []
        return gates

    def _floor(self, dim: Dimension, level: int, p: float, cues: Any) -> tuple[int, float]:
        """At least the level the rubric's ``floors`` give a cue the reply shows."""
        floor = max((lv for name, lv in dim.floors.items() if cues.spans.get(name)), default=0)
        if floor > level:
            return floor, max(p, THRESHOLD)
        return level, p

    def _unsupported_paraphrases(
        self,
        texts: list[str],
        contexts: list[str],
        emb: np.ndarray,
        cue_results: list[Any],
        preds: Predictions,
    ) -> set[tuple[int, str]]:
        """(reply, dimension) pairs where a paraphrase restates what the colleague never said.

        A reply read as understanding that restates ("So you ...", "It sounds like ...") shares
        no content word (by its first five letters) with what the colleague said, and its sentence
        vector is far from theirs (shipped MiniLM cosine below ``PARAPHRASE_SIMILARITY``).
        """
        ids = self.rubric.dimension_ids
        targets = [d.id for d in self.rubric.dimensions if d.role == "understanding"]
        todo = [
            i
            for i, (text, context) in enumerate(zip(texts, contexts, strict=True))
            if context.strip()
            and any(preds.level[i, ids.index(d)] > 0 for d in targets)
            and any(cue_results[i].spans.get(name) for name in _RESTATING)
            and not (_stems(text) & _stems(context))
        ]
        if not todo or self.embedder is None:
            return set()
        context_emb = self.embedder.encode_for_scoring([contexts[i] for i in todo])[0]
        similarity = np.sum(emb[todo] * context_emb, axis=1)
        return {
            (i, d)
            for i, sim in zip(todo, similarity, strict=True)
            if sim < PARAPHRASE_SIMILARITY
            for d in targets
        }


_RESTATING = ("reflection_stem", "declarative_check")
"""Cues of a reply that restates what it heard (checked against what was said)."""


def _stems(text: str) -> set[str]:
    return {word[:5] for word in cue_module.content_words(text)}


def _lower(level: int, p: float, outside: tuple[float, int] | None) -> tuple[int, float]:
    """Level and probability of a dimension that a pitfall lowers.

    Args:
        level: The level given to the whole reply (at least 1).
        p: The probability that the behaviour is present, from the whole reply.
        outside: Probability and level on the reply without the pitfall's words, or None when
            the pitfall's words are not known (found by similarity to its examples only).

    Returns:
        One level lower, never below "emerging" while the behaviour is present. Where the words
        are known, the behaviour must also show outside them (a dismissal is no sign of empathy):
        if it does not, it is not observed, with the probability it has outside them; if it does,
        the probability stands (a pitfall lowers the level, as it always has) and the level is
        no higher than what shows there.
    """
    if outside is None:
        return max(level - 1, 1 if p >= THRESHOLD else 0), p
    p_outside, level_outside = outside
    if p_outside < THRESHOLD:
        return 0, min(p, p_outside)
    return max(min(level, level_outside) - 1, 1), p


def _fixing_before_listening(rubric: Rubric, preds: Predictions, i: int, context: str) -> bool:
    """Help offered to someone who has just voiced a feeling, with no listening in the reply."""
    prob = dict(zip(rubric.dimension_ids, preds.probability[i], strict=True))
    helping = [prob[d.id] for d in rubric.dimensions if d.role == "helping"]
    listening = [
        prob[d.id]
        for d in rubric.dimensions
        if d.role in ("attending", "understanding", "empathising")
    ]
    if not helping:
        return False
    return bool(
        max(helping) >= 0.7
        and max(listening, default=0.0) < 0.3
        and cue_module.extract(context).features[cue_module.FEATURE_NAMES.index("feeling_word")] > 0
    )
