"""Agreement between the scorer and human labels: AUROC with bootstrap intervals, F1, kappa.

The input is a CSV (comma-, semicolon- or tab-separated) with ``text``, optional ``context`` and
``conv_id``, and one column per rubric dimension (matched case-insensitively) holding 0/1 or an
ordinal level 0-3. Each dimension is reported next to a plain baseline, so a number can be read
against something obvious.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from simulator.content.schema import Rubric
from simulator.evaluation.csvfiles import CsvError, read_table
from simulator.files.inputfiles import InputRefused, read_utf8

BOOTSTRAP_SAMPLES = 1000
MAX_INPUT_BYTES = 1024**3
"""Largest labelled CSV read (1 GiB), checked before reading."""
SKIPPED_SHOWN = 3
"""How many skip reasons the no-usable-rows error quotes before saying how many more."""
ProgressFn = Callable[[int, int], None]

# Keyed by a dimension's role in the rubric (``Dimension.role``), not by its id.
_BASELINE_WORDS: dict[str, tuple[str, list[str]]] = {
    "understanding": (
        "reflection phrases (sounds like, so you, you feel, ...)",
        [
            "sounds like",
            "so you",
            "you feel",
            "it seems",
            "you mean",
            "what i hear",
            "you said",
            "you mentioned",
            "you're saying",
        ],
    ),
    "empathising": (
        "feeling and sympathy words (sorry, must be, hard, feel, ...)",
        ["sorry", "must be", "hard", "feel", "understand", "glad", "proud", "difficult", "great"],
    ),
    "helping": (
        "advice words (should, try, could, maybe, suggest, help, ...)",
        ["should", "try", "could", "maybe", "suggest", "recommend", "help", "perhaps", "might"],
    ),
}


class AgreementError(ValueError):
    """The labelled file cannot be used at all; the message says what to fix."""


class DimensionAgreement(BaseModel):
    """Agreement on one dimension; metrics are None, with ``reason``, when unmeasurable."""

    n: int
    positives: int
    auroc: float | None = None
    auroc_ci: list[float] | None = None
    f1: float | None = None
    threshold: float | None = None
    baseline: str | None = None
    baseline_auroc: float | None = None
    baseline_auroc_ci: list[float] | None = None
    ordinal: bool = False
    kappa: float | None = None
    spearman: float | None = None
    unscored: int = 0
    """Labelled rows whose reply the scorer left unscored (not counted in ``n``)."""
    unlabelled: int = 0
    """Rows used for other dimensions whose cell for this one is empty (not counted in ``n``)."""
    reason: str | None = None


class BadRow(BaseModel):
    """A row that was skipped or partly skipped, with its line number in the file."""

    line: int
    reason: str


class AgreementReport(BaseModel):
    """Per-dimension agreement plus the mean AUROC over measurable dimensions."""

    n: int
    rubric_id: str
    rubric_version: int
    dimensions: dict[str, DimensionAgreement]
    mean_auroc: float | None
    bad_rows: list[BadRow] = Field(default_factory=list)
    unscored: list[BadRow] = Field(
        default_factory=list,
        description="Rows read but left unscored by the scorer, with its reason; they are left "
        "out of every dimension, as a reply without a rating cannot be compared.",
    )

    def summary_json(self) -> dict[str, Any]:
        """The machine-readable summary printed by ``rapport agreement --json``."""
        return {
            "n": self.n,
            "dimensions": {k: v.model_dump() for k, v in self.dimensions.items()},
            "mean_auroc": self.mean_auroc,
        }


@dataclass
class _Labelled:
    texts: list[str]
    contexts: list[str]
    groups: list[str]
    labels: dict[str, list[int | None]]
    bad: list[BadRow]
    lines: list[int]


def auroc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count half); None with one class only."""
    from scipy.stats import rankdata

    labels = np.asarray(labels).astype(bool)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def bootstrap_auroc_ci(
    labels: np.ndarray, scores: np.ndarray, groups: list[str], samples: int = BOOTSTRAP_SAMPLES
) -> list[float] | None:
    """95% interval of AUROC from resampling whole groups (conversations) with replacement."""
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    members = [np.asarray(v) for v in by_group.values()]
    rng = np.random.default_rng(0)
    values = []
    for _ in range(samples):
        pick = rng.integers(0, len(members), len(members))
        idx = np.concatenate([members[k] for k in pick])
        value = auroc(labels[idx], scores[idx])
        if value is not None:
            values.append(value)
    if len(values) < samples // 2:
        return None
    return [
        round(float(np.percentile(values, 2.5)), 4),
        round(float(np.percentile(values, 97.5)), 4),
    ]


def baseline_scores(role: str, texts: list[str]) -> tuple[str, np.ndarray]:
    """A plain baseline for a dimension, by its rubric ``role`` (or its id when it has none):
    what the baseline is called and its score per text."""
    if role == "attending":
        return "contains a question mark", np.array([float("?" in t) for t in texts])
    if role in _BASELINE_WORDS:
        name, words = _BASELINE_WORDS[role]
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.I)
        return name, np.array([float(len(pattern.findall(t))) for t in texts])
    return "reply length in words", np.array([float(len(t.split())) for t in texts])


def _parse_level(value: str) -> int | None:
    value = value.strip().lower()
    if value in {"true", "yes"}:
        return 1
    if value in {"false", "no"}:
        return 0
    number = float(value)  # ValueError for words: the caller reports the row
    if not 0 <= number <= 3 or number != int(number):  # range first: int() fails on inf/nan
        raise ValueError(value)
    return int(number)


def read_labelled_csv(path: Path, rubric: Rubric) -> _Labelled:
    """Read the labelled CSV, matching label columns to rubric dimensions case-insensitively.

    A row whose quoting is broken, whose text is empty, whose labels are all empty or one of
    whose labels is not a level is listed in ``bad`` with its line and left out.

    Raises:
        AgreementError: The file cannot be read, has no text or label column, or cannot be
            read on (a field over 128 KiB, usually a quote left open).
    """
    content = _read_text(path)
    try:
        reader = read_table(io.StringIO(content, newline=""))
        header = {h.strip().lower(): h for h in reader.fieldnames if h}
        if "text" not in header:
            found = ", ".join(repr(h) for h in header) or "nothing"
            raise AgreementError(
                f"{path} has no 'text' column (its header row has {found}); the header must "
                "name text, optional context and conv_id, and one column per dimension "
                f"({', '.join(rubric.dimension_ids)})"
            )
        columns = {d: header[d.lower()] for d in rubric.dimension_ids if d.lower() in header}
        if not columns:
            raise AgreementError(
                f"{path} has no label column for any dimension of rubric {rubric.id!r}; "
                f"add one of: {', '.join(rubric.dimension_ids)} (any case)"
            )
        out = _Labelled([], [], [], {d: [] for d in columns}, [], [])
        for row in reader:
            line, record = row.line, row.values
            if record is None:
                out.bad.append(BadRow(line=line, reason=row.problem or "unreadable"))
                continue
            text = (record.get(header["text"]) or "").strip()
            if not text:
                out.bad.append(BadRow(line=line, reason="missing text"))
                continue
            levels: dict[str, int | None] = {}
            problems = []
            for dim, col in columns.items():
                raw = (record.get(col) or "").strip()
                if not raw:
                    levels[dim] = None
                    continue
                try:
                    levels[dim] = _parse_level(raw)
                except ValueError:
                    problems.append(f"{col}={raw[:40]!r} is not 0/1 or a level 0-3")
            if problems:
                out.bad.append(BadRow(line=line, reason="; ".join(problems)))
                continue
            if all(level is None for level in levels.values()):
                # Scoring it would cost time and measure nothing: say so instead of dropping it.
                empty = "are all empty" if len(columns) > 1 else "is empty"
                out.bad.append(
                    BadRow(line=line, reason=f"no label: {', '.join(columns.values())} {empty}")
                )
                continue
            out.texts.append(text)
            out.lines.append(line)
            context_col = header.get("context")
            out.contexts.append((record.get(context_col) or "") if context_col else "")
            group_col = header.get("conv_id")
            group = (record.get(group_col) or "").strip() if group_col else ""
            out.groups.append(group or f"row-{line}")
            for dim in columns:
                out.labels[dim].append(levels[dim])
    except CsvError as exc:
        raise AgreementError(f"{path}: {exc}") from None
    return out


def _read_text(path: Path) -> str:
    """The labelled file's text: a regular UTF-8 file of at most :data:`MAX_INPUT_BYTES`."""
    too_big = f"the file is larger than {MAX_INPUT_BYTES // 1024**3} GiB and was not read"
    try:
        return read_utf8(path, MAX_INPUT_BYTES, too_big, "a labelled .csv file")
    except FileNotFoundError:
        raise AgreementError(f"cannot read {path}: no such file; check the path") from None
    except InputRefused as exc:
        raise AgreementError(f"{path}: {exc}") from None
    except OSError as exc:
        raise AgreementError(f"cannot read {path}: {exc.strerror or exc}") from None


def _no_usable_rows(path: str | Path, bad: list[BadRow]) -> str:
    """Why a labelled file gave nothing to measure: the skip reasons themselves."""
    if not bad:
        return f"{path} has no rows under its header; add one row per rated reply"
    shown = "; ".join(f"line {b.line}: {b.reason}" for b in bad[:SKIPPED_SHOWN])
    more = len(bad) - SKIPPED_SHOWN
    return (
        f"{path} has no usable rows: each needs a text and at least one label; every row was "
        f"skipped: {shown}" + (f" (and {more} more)" if more > 0 else "")
    )


def _f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    tp = float((labels & predicted).sum())
    denominator = float(labels.sum() + predicted.sum())
    return 2 * tp / denominator if denominator else 0.0


def run_agreement(
    path: str | Path,
    rubric: Rubric,
    scorer: Any = None,
    progress: ProgressFn | None = None,
    bootstrap: int = BOOTSTRAP_SAMPLES,
) -> AgreementReport:
    """Score every row of a labelled CSV and measure agreement per dimension.

    Args:
        path: CSV with ``text``, optional ``context``/``conv_id`` and label columns.
        rubric: The rubric whose dimensions are matched to label columns.
        scorer: A ``RubricScorer`` for that rubric; built when None.
        progress: Called with (done, total) as batches are scored.
        bootstrap: Resamples for the confidence intervals.

    Returns:
        The report; rows that could not be used are listed in ``bad_rows``.

    Raises:
        AgreementError: The file cannot be read or has no usable columns.
    """
    from simulator.scoring.scorer import RubricScorer
    from simulator.scoring.types import THRESHOLD

    data = read_labelled_csv(Path(path), rubric)
    if not data.texts:
        raise AgreementError(_no_usable_rows(path, data.bad))
    scorer = scorer or RubricScorer(rubric)
    scores = []
    # Slow scorers (the LLM judge) ask for small batches so progress keeps moving.
    batch = int(getattr(scorer, "batch_size", 256))
    for start in range(0, len(data.texts), batch):
        scores.extend(
            scorer.score_batch(
                data.texts[start : start + batch], data.contexts[start : start + batch]
            )
        )
        if progress is not None:
            progress(min(start + batch, len(data.texts)), len(data.texts))
    dims: dict[str, DimensionAgreement] = {}
    roles = {d.id: d.role for d in rubric.dimensions}
    for dim_id, raw_labels in data.labels.items():
        dims[dim_id] = _measure(
            dim_id, raw_labels, scores, data, THRESHOLD, bootstrap, roles.get(dim_id)
        )
    measured = [d.auroc for d in dims.values() if d.auroc is not None]
    return AgreementReport(
        n=len(data.texts),
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        dimensions=dims,
        mean_auroc=round(float(np.mean(measured)), 4) if measured else None,
        bad_rows=data.bad,
        unscored=[
            BadRow(line=line, reason=score.unscored_reason or "")
            for line, score in zip(data.lines, scores, strict=True)
            if not score.scored
        ],
    )


def _measure(
    dim_id: str,
    raw_labels: list[int | None],
    scores: list[Any],
    data: _Labelled,
    threshold: float,
    bootstrap: int,
    role: str | None = None,
) -> DimensionAgreement:
    keep = [
        i
        for i, (y, s) in enumerate(zip(raw_labels, scores, strict=True))
        if y is not None and s.scored
    ]
    levels = np.array([raw_labels[i] for i in keep], dtype=int)
    present = levels >= 1
    positives = int(present.sum())
    labelled = sum(y is not None for y in raw_labels)
    result = DimensionAgreement(
        n=len(keep),
        positives=positives,
        unscored=labelled - len(keep),
        unlabelled=len(raw_labels) - labelled,
    )
    if labelled == 0:
        result.reason = "no row has a label for it; AUROC is undefined"
        return result
    if len(keep) == 0:
        result.reason = "no labelled reply was scored; AUROC is undefined"
        return result
    if len(keep) == 0 or positives in (0, len(keep)):
        result.reason = "labels are all one class; AUROC is undefined"
        return result
    prob = np.array([scores[i].dimensions[dim_id].probability for i in keep], dtype=float)
    predicted_level = np.array([scores[i].dimensions[dim_id].level for i in keep], dtype=int)
    groups = [data.groups[i] for i in keep]
    name, base = baseline_scores(role or dim_id, [data.texts[i] for i in keep])
    result.auroc = _round(auroc(present, prob))
    result.auroc_ci = bootstrap_auroc_ci(present, prob, groups, bootstrap)
    result.f1 = round(_f1(present, prob >= threshold), 4)
    result.threshold = threshold
    result.baseline = name
    result.baseline_auroc = _round(auroc(present, base))
    result.baseline_auroc_ci = bootstrap_auroc_ci(present, base, groups, bootstrap)
    result.ordinal = bool(levels.max() > 1)
    if result.ordinal:
        from scipy.stats import spearmanr
        from sklearn.metrics import cohen_kappa_score

        result.kappa = _round(cohen_kappa_score(levels, predicted_level, weights="quadratic"))
        rho = spearmanr(levels, predicted_level).statistic
        result.spearman = None if np.isnan(rho) else _round(float(rho))
    return result


def _round(value: float | None) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 4)
