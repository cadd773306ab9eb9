"""What a batch evaluation produced: the result record and its CSV and JSON renderings.

Every CSV goes through the spreadsheet-safe writer: a reply a trainee typed as ``=HYPERLINK(...)``
must not become a formula in a course designer's spreadsheet.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from simulator.evaluation.csvfiles import safe_writer
from simulator.evaluation.inputs import Malformed, ReplyRecord
from simulator.scoring.types import ReplyScore


class EvaluationResult(BaseModel):
    """What ``evaluate_file`` did and where it wrote it."""

    out_dir: str
    n_replies: int
    n_scored: int
    n_transcripts: int
    malformed: list[Malformed] = Field(default_factory=list)
    files: dict[str, str] = Field(default_factory=dict)
    dimensions: dict[str, dict[str, Any]] = Field(default_factory=dict)


def dimension_summary(scores: list[ReplyScore], dims: list[str]) -> dict[str, dict[str, Any]]:
    """Per dimension: replies scored, mean level, level counts and share present."""
    summary: dict[str, dict[str, Any]] = {}
    for dim in dims:
        levels = [s.dimensions[dim].level for s in scores if s.scored]
        clean = [lv for lv in levels if lv is not None]
        counts = {str(k): clean.count(k) for k in range(4)}
        summary[dim] = {
            "n": len(clean),
            "mean_level": round(float(np.mean(clean)), 3) if clean else None,
            "share_present": round(float(np.mean([lv > 0 for lv in clean])), 3) if clean else None,
            "levels": counts,
        }
    return summary


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as CSV text, formula-like cells neutralised for spreadsheets."""
    buffer = io.StringIO(newline="")
    safe_writer(buffer).writerows(rows)
    return buffer.getvalue()


def replies_csv(records: list[ReplyRecord], scores: list[ReplyScore], dims: list[str]) -> str:
    rows: list[list[Any]] = [
        ["transcript_id", "turn", "text", "context", "unscored_reason", "pitfalls"]
        + [f"{d}_{k}" for d in dims for k in ("level", "probability", "evidence")]
    ]
    for record, score in zip(records, scores, strict=True):
        row: list[Any] = [
            record.transcript_id,
            record.turn,
            record.text,
            record.context,
            score.unscored_reason or "",
            ";".join(score.pitfalls),
        ]
        for d in dims:
            ds = score.dimensions[d]
            row += [
                "" if ds.level is None else ds.level,
                "" if ds.probability is None else ds.probability,
                " | ".join(ds.evidence),
            ]
        rows.append(row)
    return csv_text(rows)


def replies_json(records: list[ReplyRecord], scores: list[ReplyScore]) -> str:
    # JSON keeps the raw text: it is read by programs, not spreadsheets.
    payload = [
        {
            "transcript_id": r.transcript_id,
            "turn": r.turn,
            "context": r.context,
            "score": s.model_dump(),
        }
        for r, s in zip(records, scores, strict=True)
    ]
    return json.dumps(payload, ensure_ascii=False, indent=1)


def transcripts_csv(records: list[ReplyRecord], scores: list[ReplyScore], dims: list[str]) -> str:
    grouped: dict[str, list[ReplyScore]] = {}
    for record, score in zip(records, scores, strict=True):
        grouped.setdefault(record.transcript_id, []).append(score)
    rows: list[list[Any]] = [
        ["transcript_id", "replies", "scored", "pitfalls"] + [f"{d}_mean" for d in dims]
    ]
    for tid, items in grouped.items():
        scored = [s for s in items if s.scored]
        means = [
            round(float(np.mean([s.level(d) for s in scored])), 3) if scored else "" for d in dims
        ]
        pitfalls = sum(len(s.pitfalls) for s in items)
        rows.append([tid, len(items), len(scored), pitfalls, *means])
    return csv_text(rows)


def dimensions_csv(summary: dict[str, dict[str, Any]]) -> str:
    rows: list[list[Any]] = [
        ["dimension", "n", "mean_level", "share_present", "l0", "l1", "l2", "l3"]
    ]
    for dim, info in summary.items():
        levels = info["levels"]
        rows.append(
            [dim, info["n"], info["mean_level"], info["share_present"]]
            + [levels[str(k)] for k in range(4)]
        )
    return csv_text(rows)
