"""Batch evaluation: score every learner reply of many transcripts and write the reports.

Reading is :mod:`simulator.evaluation.inputs`; the CSV and JSON files are rendered by
:mod:`simulator.evaluation.results` and the HTML by :mod:`simulator.evaluation.report`. Output:
per-reply CSV and JSON, per-transcript and per-dimension summaries, and an HTML report with plots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from simulator.content.schema import Rubric
from simulator.evaluation.inputs import EvaluationError, nothing_to_score, read_replies
from simulator.evaluation.report import render_html
from simulator.evaluation.results import (
    EvaluationResult,
    dimension_summary,
    dimensions_csv,
    replies_csv,
    replies_json,
    transcripts_csv,
)
from simulator.files.outputfiles import OutputFolder, OutputRefused
from simulator.scoring.types import ReplyScore

ProgressFn = Callable[[int, int], None]
BATCH = 256


REPORT_FILES = (
    "replies.csv",
    "replies.json",
    "transcripts.csv",
    "dimensions.csv",
    "report.html",
    "summary.json",
)
"""What :func:`evaluate_file` writes into its folder."""


def prepare_out_dir(
    out_dir: str | Path,
    label: str = "the output folder",
    inputs: Iterable[str | Path] = (),
    force: bool = False,
) -> OutputFolder:
    """Create the report folder, or say why it cannot be used: checked before scoring, so a
    long run is not lost at the end. ``label`` names it in the message (``--out`` on the CLI).

    Args:
        out_dir: The folder (created if missing).
        label: How the folder is named in messages.
        inputs: The files being evaluated: never written over, even with ``force``.
        force: Replace report files already in the folder.

    Raises:
        EvaluationError: It is a file or a symbolic link, it cannot be created or written to, a
            report file would replace an input or a link, or (without ``force``) report files
            are already there.
    """
    try:
        return OutputFolder(out_dir, REPORT_FILES, inputs, force, label)
    except OutputRefused as exc:
        raise EvaluationError(str(exc)) from None


def evaluate_file(
    path: str | Path,
    rubric: Rubric,
    out_dir: str | Path,
    progress: ProgressFn | None = None,
    scorer: Any = None,
    force: bool = False,
) -> EvaluationResult:
    """Score every learner reply in a transcripts file and write the reports.

    Args:
        path: Transcripts as JSON (one, a list, or JSONL: one per line) or CSV of replies.
        rubric: The rubric to score with.
        out_dir: Folder for replies.csv, replies.json, transcripts.csv, dimensions.csv,
            summary.json and report.html (created if needed).
        progress: Called with (done, total) after each batch.
        scorer: A ``RubricScorer`` for the rubric; built when None.
        force: Replace report files already in ``out_dir`` (never the input, never a link).

    Returns:
        Counts, skipped lines, written files and the per-dimension summary.

    Raises:
        EvaluationError: The file cannot be read or holds no replies, or ``out_dir`` cannot
            be written to safely (see :func:`prepare_out_dir`).
    """
    from simulator.scoring.scorer import RubricScorer

    records, bad = read_replies(Path(path))
    if not records:
        raise EvaluationError(nothing_to_score(path, bad))
    out = prepare_out_dir(out_dir, inputs=[path], force=force)
    scorer = scorer or RubricScorer(rubric)
    scores: list[ReplyScore] = []
    # Slow scorers (the LLM judge) ask for small batches so progress keeps moving.
    batch = int(getattr(scorer, "batch_size", BATCH))
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        scores.extend(scorer.score_batch([r.text for r in chunk], [r.context for r in chunk]))
        if progress is not None:
            progress(len(scores), len(records))
    dims = rubric.dimension_ids
    files = {
        "replies_csv": out.write_text("replies.csv", replies_csv(records, scores, dims)),
        "replies_json": out.write_text("replies.json", replies_json(records, scores)),
        "transcripts_csv": out.write_text(
            "transcripts.csv", transcripts_csv(records, scores, dims)
        ),
    }
    summary = dimension_summary(scores, dims)
    files["dimensions_csv"] = out.write_text("dimensions.csv", dimensions_csv(summary))
    result = EvaluationResult(
        out_dir=str(out.path),
        n_replies=len(records),
        n_scored=sum(s.scored for s in scores),
        n_transcripts=len({r.transcript_id for r in records}),
        malformed=bad,
        files=files,
        dimensions=summary,
    )
    # pydantic copied ``files``: record the last two on the result itself.
    result.files["report_html"] = out.write_text(
        "report.html", render_html(rubric, records, scores, result)
    )
    result.files["summary_json"] = str(out.path / "summary.json")
    out.write_text("summary.json", result.model_dump_json(indent=2))
    return result
