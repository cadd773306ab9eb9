"""Batch evaluation: score every learner reply of many transcripts and write reports.

Input is JSONL (one ``Transcript`` per line, as ``rapport run --json`` and the app export) or CSV
(one reply per row: ``text``, optional ``context``, ``transcript_id``/``conv_id``, ``turn``).
Malformed lines are reported with their line number and skipped. Output: per-reply CSV and JSON,
per-transcript and per-dimension summaries, and an HTML report with plots.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from simulator.schema import Rubric
from simulator.scoring.types import ReplyScore

ProgressFn = Callable[[int, int], None]
BATCH = 256


class EvaluationError(ValueError):
    """The input cannot be evaluated at all; the message says what to fix."""


@dataclass
class ReplyRecord:
    """One learner reply to score, with where it came from."""

    transcript_id: str
    turn: int
    text: str
    context: str


class Malformed(BaseModel):
    """A skipped input line."""

    line: int
    reason: str


class EvaluationResult(BaseModel):
    """What ``evaluate_file`` did and where it wrote it."""

    out_dir: str
    n_replies: int
    n_scored: int
    n_transcripts: int
    malformed: list[Malformed] = Field(default_factory=list)
    files: dict[str, str] = Field(default_factory=dict)
    dimensions: dict[str, dict[str, Any]] = Field(default_factory=dict)


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "record"
    return f"{where}: {first.get('msg', 'invalid')}"


def read_jsonl(path: Path) -> tuple[list[ReplyRecord], list[Malformed]]:
    """Read transcripts (one JSON object per line); the context of a reply is the persona's
    previous line (the opening line for the first turn)."""
    from simulator.transcript import Transcript

    records: list[ReplyRecord] = []
    bad: list[Malformed] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                transcript = Transcript.model_validate_json(line)
            except ValidationError as exc:
                bad.append(Malformed(line=number, reason=_first_error(exc)))
                continue
            previous = transcript.opening_line
            for turn in transcript.turns:
                records.append(
                    ReplyRecord(transcript.session_id, turn.index, turn.learner, previous)
                )
                previous = turn.persona
    return records, bad


def read_csv(path: Path) -> tuple[list[ReplyRecord], list[Malformed]]:
    """Read one reply per row: ``text``, optional ``context``, ``transcript_id``/``conv_id``,
    ``turn``."""
    records: list[ReplyRecord] = []
    bad: list[Malformed] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = {h.strip().lower(): h for h in (reader.fieldnames or []) if h}
        if "text" not in header:
            raise EvaluationError(
                f"{path} has no 'text' column; expected text, optional context, "
                "transcript_id (or conv_id) and turn"
            )
        id_col = header.get("transcript_id") or header.get("conv_id")
        seen: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            text = row.get(header["text"]) or ""
            if not text.strip():
                bad.append(Malformed(line=line, reason="missing text"))
                continue
            tid = ((row.get(id_col) or "").strip() if id_col else "") or "all"
            turn_raw = (row.get(header["turn"]) or "").strip() if "turn" in header else ""
            try:
                turn = int(turn_raw) if turn_raw else seen.get(tid, 0)
            except ValueError:
                bad.append(Malformed(line=line, reason=f"turn {turn_raw!r} is not a number"))
                continue
            seen[tid] = turn + 1
            context = (row.get(header["context"]) or "") if "context" in header else ""
            records.append(ReplyRecord(tid, turn, text, context))
    return records, bad


def read_replies(path: Path) -> tuple[list[ReplyRecord], list[Malformed]]:
    """Read a transcripts file, choosing JSONL or CSV by extension (or by its first character)."""
    if not path.is_file():
        raise EvaluationError(f"{path} is not a file; give a .jsonl or .csv transcripts file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return read_csv(path)
        if suffix in {".jsonl", ".json", ".ndjson"}:
            return read_jsonl(path)
        with path.open(encoding="utf-8") as handle:
            head = handle.read(1)
        return read_jsonl(path) if head == "{" else read_csv(path)
    except UnicodeDecodeError:
        raise EvaluationError(f"{path} is not UTF-8 text; save it as UTF-8") from None


def evaluate_file(
    path: str | Path,
    rubric: Rubric,
    out_dir: str | Path,
    progress: ProgressFn | None = None,
    scorer: Any = None,
) -> EvaluationResult:
    """Score every learner reply in a transcripts file and write the reports.

    Args:
        path: JSONL of transcripts or CSV of replies.
        rubric: The rubric to score with.
        out_dir: Folder for replies.csv, replies.json, transcripts.csv, dimensions.csv,
            summary.json and report.html (created if needed).
        progress: Called with (done, total) after each batch.
        scorer: A ``RubricScorer`` for the rubric; built when None.

    Returns:
        Counts, skipped lines, written files and the per-dimension summary.

    Raises:
        EvaluationError: The file cannot be read or holds no replies.
    """
    from simulator.evaluation.report import write_html
    from simulator.scoring.scorer import RubricScorer

    records, bad = read_replies(Path(path))
    if not records:
        raise EvaluationError(f"{path} holds no learner replies ({len(bad)} malformed lines)")
    scorer = scorer or RubricScorer(rubric)
    scores: list[ReplyScore] = []
    # Slow scorers (the LLM judge) ask for small batches so progress keeps moving.
    batch = int(getattr(scorer, "batch_size", BATCH))
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        scores.extend(scorer.score_batch([r.text for r in chunk], [r.context for r in chunk]))
        if progress is not None:
            progress(len(scores), len(records))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dims = rubric.dimension_ids
    files = {
        "replies_csv": _write_replies_csv(out / "replies.csv", records, scores, dims),
        "replies_json": _write_replies_json(out / "replies.json", records, scores),
        "transcripts_csv": _write_transcripts(out / "transcripts.csv", records, scores, dims),
    }
    summary = dimension_summary(scores, dims)
    files["dimensions_csv"] = _write_dimensions(out / "dimensions.csv", summary)
    result = EvaluationResult(
        out_dir=str(out),
        n_replies=len(records),
        n_scored=sum(s.scored for s in scores),
        n_transcripts=len({r.transcript_id for r in records}),
        malformed=bad,
        files=files,
        dimensions=summary,
    )
    # pydantic copied ``files``: record the last two on the result itself.
    result.files["report_html"] = write_html(out / "report.html", rubric, records, scores, result)
    result.files["summary_json"] = str(out / "summary.json")
    (out / "summary.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return result


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


def _write_replies_csv(
    path: Path, records: list[ReplyRecord], scores: list[ReplyScore], dims: list[str]
) -> str:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["transcript_id", "turn", "text", "context", "unscored_reason", "pitfalls"]
            + [f"{d}_{k}" for d in dims for k in ("level", "probability", "evidence")]
        )
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
            writer.writerow(row)
    return str(path)


def _write_replies_json(path: Path, records: list[ReplyRecord], scores: list[ReplyScore]) -> str:
    payload = [
        {
            "transcript_id": r.transcript_id,
            "turn": r.turn,
            "context": r.context,
            "score": s.model_dump(),
        }
        for r, s in zip(records, scores, strict=True)
    ]
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(path)


def _write_transcripts(
    path: Path, records: list[ReplyRecord], scores: list[ReplyScore], dims: list[str]
) -> str:
    grouped: dict[str, list[ReplyScore]] = {}
    for record, score in zip(records, scores, strict=True):
        grouped.setdefault(record.transcript_id, []).append(score)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["transcript_id", "replies", "scored", "pitfalls"] + [f"{d}_mean" for d in dims]
        )
        for tid, items in grouped.items():
            scored = [s for s in items if s.scored]
            means = [
                round(float(np.mean([s.level(d) for s in scored])), 3) if scored else ""
                for d in dims
            ]
            pitfalls = sum(len(s.pitfalls) for s in items)
            writer.writerow([tid, len(items), len(scored), pitfalls, *means])
    return str(path)


def _write_dimensions(path: Path, summary: dict[str, dict[str, Any]]) -> str:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dimension", "n", "mean_level", "share_present", "l0", "l1", "l2", "l3"])
        for dim, info in summary.items():
            levels = info["levels"]
            writer.writerow(
                [dim, info["n"], info["mean_level"], info["share_present"]]
                + [levels[str(k)] for k in range(4)]
            )
    return str(path)
