"""The fitted part of the scorer: regressions on embeddings, cues and words, learnt from our data.

Training data is only what we write and own: ``data/labelled-replies.csv`` (leader and supporter
replies with a level 0-3 per behaviour) and the rubric's own exemplars. For every rubric
dimension that has a column in the labelled set, three cumulative models are fitted, each the sum
of three logistic regressions on one view of the reply (its sentence vector from the scorer's
tuned MiniLM, ``tuning.py``; its cue features; and its word uni- and bigrams): P(level >= 1) is
the reported probability that the behaviour is present, and P(level >= 2), P(level >= 3) give
the level. The word view catches phrasings that the embedding blurs and no hand-written cue
names (measured on the development set: +0.004 mean AUROC over embedding + cues). Replies are
embedded whole: on our set and on the development set this rates as well as pooling sentence
vectors, at about two thirds of the cost (sentence vectors are only computed to pick evidence).
Embeddings of the training texts are cached on disk, keyed by a hash of the data, the rubric and
the embedding model, so start-up only refits the (sub-second) regressions.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from simulator.content.schema import Rubric
from simulator.scoring import cues as cue_module
from simulator.scoring.embeddings import Embedder

log = logging.getLogger(__name__)

LABELLED_FILE = "labelled-replies.csv"
REGULARISATION_C = 0.01
"""Inverse regularisation strength, chosen by 5-fold cross-validation on our labelled set."""
FOLDS = 5

CACHE_VERSION = "4"


@dataclass
class LabelledRow:
    """One training example: reply, context, level per dimension (None = unlabelled)."""

    text: str
    context: str
    levels: dict[str, int | None]
    pitfalls: list[str]


def labelled_path() -> Path:
    """Path of the shipped labelled set."""
    return Path(str(resources.files("simulator.scoring") / "data" / LABELLED_FILE))


def read_labelled(path: Path | None = None) -> list[LabelledRow]:
    """Read a labelled CSV: ``text``, ``context`` and one 0-3 column per dimension.

    Args:
        path: CSV file; defaults to the shipped labelled set.

    Returns:
        The rows, with levels keyed by lower-cased column name.
    """
    path = path or labelled_path()
    rows: list[LabelledRow] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        skip = {"id", "setting", "text", "context", "pitfalls", "conv_id"}
        for record in reader:
            levels: dict[str, int | None] = {}
            for key, value in record.items():
                if key is None or key.lower() in skip:
                    continue
                value = (value or "").strip()
                levels[key.lower()] = int(value) if value in {"0", "1", "2", "3"} else None
            rows.append(
                LabelledRow(
                    text=record.get("text") or "",
                    context=record.get("context") or "",
                    levels=levels,
                    pitfalls=[p for p in (record.get("pitfalls") or "").split(";") if p],
                )
            )
    return rows


def _training_set(rubric: Rubric, rows: list[LabelledRow]) -> tuple[list[str], list[str], dict]:
    """Texts, contexts and per-dimension (indices, levels) for every coverable dimension."""
    texts = [r.text for r in rows]
    contexts = [r.context for r in rows]
    targets: dict[str, tuple[list[int], list[int]]] = {}
    for dim in rubric.dimensions:
        idx = [i for i, r in enumerate(rows) if r.levels.get(dim.id) is not None]
        if not idx:
            continue
        levels = [int(rows[i].levels[dim.id] or 0) for i in idx]
        # The rubric's exemplars are labelled examples of their own dimension.
        for ex in dim.exemplars:
            idx.append(len(texts))
            levels.append(ex.level)
            texts.append(ex.text)
            contexts.append(ex.context)
        targets[dim.id] = (idx, levels)
    return texts, contexts, targets


LEXICAL_C = 1.0
"""Inverse regularisation of the word view (sparse features need far less shrinkage)."""


@dataclass
class Views:
    """The three views of a batch of replies that the regressions read.

    ``emb`` is None when the replies were not embedded (ranking sentences in large batches):
    the embedding part is then left out of the sum.
    """

    emb: np.ndarray | None
    cues: np.ndarray
    words: Any  # scipy sparse matrix, one row per reply

    def rows(self, index: Any) -> Views:
        """The same views for a subset of the replies."""
        emb = None if self.emb is None else self.emb[index]
        return Views(emb, self.cues[index], self.words[index])


class _Linear:
    """A standardised logistic regression kept as plain arrays (cheap to apply)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, c: float) -> None:
        from sklearn.linear_model import LogisticRegression

        self.mean = x.mean(axis=0)
        self.scale = x.std(axis=0) + 1e-6
        # Newton steps on a few hundred dense columns: the same optimum as lbfgs in a third of
        # the time (the regressions are refitted at every start).
        model = LogisticRegression(C=c, max_iter=3000, solver="newton-cholesky")
        model.fit((x - self.mean) / self.scale, y)
        self.coef = model.coef_[0].astype(np.float64)
        self.intercept = float(model.intercept_[0])

    def logit(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept)


class _Sparse:
    """A logistic regression on sparse tf-idf rows (no standardising: it would densify them)."""

    def __init__(self, x: Any, y: np.ndarray, c: float) -> None:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=3000).fit(x, y)
        self.coef = model.coef_[0].astype(np.float64)
        self.intercept = float(model.intercept_[0])

    def logit(self, x: Any) -> np.ndarray:
        return np.asarray(x @ self.coef + self.intercept).ravel()


class _Stack:
    """One regression per view, whose logits are added.

    Fitting the views separately lets each have its own regularisation path: with a few
    hundred rows, one joint model lets 384 embedding weights drown the few cue weights.
    """

    def __init__(self, views: Views, y: np.ndarray, c: float) -> None:
        assert views.emb is not None
        self.emb = _Linear(views.emb, y, c)
        self.cues = _Linear(views.cues, y, c)
        self.words = _Sparse(views.words, y, LEXICAL_C)

    def logit(self, views: Views) -> np.ndarray:
        total = self.cues.logit(views.cues) + self.words.logit(views.words)
        return total if views.emb is None else total + self.emb.logit(views.emb)


def _out_of_fold(views: Views, y: np.ndarray, c: float) -> np.ndarray:
    """Stacked logits for every row from models that did not see it (for calibration)."""
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(len(y))
    folds = min(FOLDS, int(np.bincount(y).min()))
    if folds < 2:
        return out
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(views.cues, y):
        out[test] = _Stack(views.rows(train), y[train], c).logit(views.rows(test))
    return out


class FittedModel:
    """Per covered dimension: a calibrated P(level >= 1) and cumulative models for the level."""

    def __init__(self) -> None:
        self.models: dict[str, list[_Stack | float]] = {}
        self.calibration: dict[str, tuple[float, float]] = {}
        self.vectoriser: Any = None

    def covers(self, dimension_id: str) -> bool:
        """Whether the labelled set had a column for this dimension."""
        return dimension_id in self.models

    def views(self, texts: list[str], emb: np.ndarray | None, cues: np.ndarray) -> Views:
        """The model's inputs for a batch: embeddings (or None), cue features and word counts."""
        return Views(emb, cues, self.vectoriser.transform(texts))

    def fit(
        self,
        texts: list[str],
        emb: np.ndarray,
        cue: np.ndarray,
        targets: dict[str, tuple[list[int], list[int]]],
    ) -> FittedModel:
        """Fit every regression and the calibration (about a second for a few hundred rows)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        # Word uni- and bigrams seen at least twice: enough to learn "right?" or "if i were you"
        # without memorising single rows.
        self.vectoriser = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        self.vectoriser.fit(texts)
        every = self.views(texts, emb, cue)
        for dim_id, (idx, levels) in targets.items():
            y = np.asarray(levels)
            views = every.rows(idx)
            fitted: list[_Stack | float] = []
            for k in (1, 2, 3):
                yk = (y >= k).astype(int)
                if yk.min() == yk.max():
                    fitted.append(float(yk[0]))  # constant: every example on one side
                    continue
                fitted.append(_Stack(views, yk, REGULARISATION_C))
            self.models[dim_id] = fitted
            y1 = (y >= 1).astype(int)
            if y1.min() != y1.max():
                # Platt scaling on out-of-fold logits: the summed logits are over-confident.
                oof = _out_of_fold(views, y1, REGULARISATION_C).reshape(-1, 1)
                platt = LogisticRegression(C=1.0).fit(oof, y1)
                self.calibration[dim_id] = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
        return self

    def ranking(self, dimension_id: str, views: Views) -> np.ndarray:
        """Uncalibrated presence logits, used to pick the evidence sentence; without embeddings
        (``views.emb`` None) from cues and words alone, which costs no extra embedding."""
        model = self.models[dimension_id][0]
        if isinstance(model, float):
            return np.full(views.cues.shape[0], model)
        return model.logit(views)

    def predict(self, dimension_id: str, views: Views) -> tuple[np.ndarray, np.ndarray]:
        """Probability of presence and level (0-3) for one dimension."""
        n = views.cues.shape[0]
        logits = []
        for model in self.models[dimension_id]:
            if isinstance(model, float):
                logits.append(np.full(n, 50.0 if model else -50.0))
            else:
                logits.append(model.logit(views))
        slope, intercept = self.calibration.get(dimension_id, (1.0, 0.0))
        p1 = 1.0 / (1.0 + np.exp(-(slope * logits[0] + intercept)))
        # Cumulative levels cannot skip: level >= 2 only counts when level >= 1 does.
        present = p1 >= 0.5
        up2 = present & (logits[1] >= 0)
        up3 = up2 & (logits[2] >= 0)
        level = present.astype(int) + up2 + up3
        return p1, level.astype(int)


def _cache_key(rubric: Rubric, data: bytes, embedder: Embedder) -> str:
    digest = hashlib.sha256()
    digest.update(CACHE_VERSION.encode())
    digest.update(data)
    digest.update(rubric.model_dump_json().encode())
    digest.update(embedder.resolved_name().encode())
    return digest.hexdigest()[:24]


def _cached_embeddings(texts: list[str], key: str, embedder: Embedder) -> np.ndarray:
    """Embeddings of the training texts, from the on-disk cache when it matches."""
    try:
        from simulator.files.paths import cache_dir

        path: Path | None = cache_dir() / "scorer" / f"train-{key}.npy"
    except OSError as exc:  # an unwritable cache only costs start-up time
        log.warning("scorer cache unavailable (%s); embedding the training set", exc)
        path = None
    if path is not None and path.exists():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape[0] == len(texts):
                return np.asarray(cached, dtype=np.float32)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable scorer cache %s: %s", path, exc)
    emb = embedder.encode_for_scoring(texts)[1]
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, emb, allow_pickle=False)
            tmp.replace(path)
        except OSError as exc:
            log.warning("could not write scorer cache %s: %s", path, exc)
    return emb


def load_or_fit(rubric: Rubric, embedder: Embedder, exemplars: Any = None) -> FittedModel | None:
    """Fit the model for a rubric on the shipped labelled set (embeddings cached on disk).

    Args:
        rubric: The rubric being scored; only its dimensions with a labelled column are fitted.
        embedder: The embedder used for training and scoring texts.
        exemplars: Unused; kept so callers can pass the scorer's exemplar index.

    Returns:
        The fitted model, or None when the labelled set covers none of the rubric's dimensions.
    """
    path = labelled_path()
    rows = read_labelled(path)
    texts, contexts, targets = _training_set(rubric, rows)
    if not targets:
        return None
    key = _cache_key(rubric, path.read_bytes(), embedder)
    emb = _cached_embeddings(texts, key, embedder)
    pairs = zip(texts, contexts, strict=True)
    cue_x = np.stack([cue_module.extract(t, c).features for t, c in pairs])
    return FittedModel().fit(texts, emb, cue_x, targets)
