"""Evaluate tab: batch evaluation of transcripts and the rubric-agreement harness.

The same library functions as ``rapport evaluate`` / ``rapport agreement``
(:mod:`simulator.evaluation`); the tab only uploads, reports progress and shows what the report
wrote (its CSV tables, PNG plots, HTML/JSON files for download).
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from simulator.evaluation.csvfiles import safe_writer
from simulator.ui.context import AppContext
from simulator.ui.text import as_text

NOT_SIGNED_IN = "Sign in as a facilitator first (the form at the top of this tab)."
BATCH = "Score transcripts (batch evaluation)"
AGREEMENT = "Check agreement with human ratings (labelled CSV)"
MAX_TABLE_ROWS = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

Progress = Callable[[float, str], None]


@dataclass
class EvaluationView:
    """What the tab shows after a run."""

    message: str
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return [], []
    return rows[0], rows[1 : MAX_TABLE_ROWS + 1]


def collect(out_dir: Path, message: str) -> EvaluationView:
    """Gather a report folder's tables, plots and files into a view."""
    files = sorted(p for p in out_dir.rglob("*") if p.is_file())
    view = EvaluationView(message=message)
    for path in files:
        if path.suffix == ".csv":
            headers, rows = _read_table(path)
            if headers:
                view.tables.append((path.name, headers, rows))
        elif path.suffix in {".png", ".svg", ".jpg"}:
            view.images.append(str(path))
    view.files = [str(p) for p in files]
    return view


def _progress_adapter(progress: Progress) -> Callable[[int, int], None]:
    """The library reports ``(done, total)``; Gradio's bar wants a fraction and a note."""

    def report(done: int, total: int) -> None:
        progress(done / total if total else 1.0, f"Scoring replies {done}/{total}")

    return report


def batch_view(result: Any, out_dir: Path) -> EvaluationView:
    """Tables, a plot and files for a batch evaluation (the library's numbers, formatted)."""
    from simulator.ui.charts import levels_figure

    figure = levels_figure(result.dimensions)
    figure.savefig(out_dir / "levels.png")
    message = (
        f"✔ Scored {result.n_scored} of {result.n_replies} replies from "
        f"{result.n_transcripts} transcript(s)."
    )
    if result.malformed:
        skipped = "; ".join(f"line {m.line}: {m.reason}" for m in result.malformed[:5])
        message += f"\n\n{len(result.malformed)} line(s) skipped: {as_text(skipped)}"
    view = collect(out_dir, message)
    # The per-behaviour summary first, then every reply; other tables are in the downloads.
    order = {"dimensions.csv": 0, "replies.csv": 1}
    view.tables.sort(key=lambda table: order.get(table[0], 2))
    return view


def agreement_view(report: Any, out_dir: Path) -> EvaluationView:
    """Tables, a plot and files for an agreement report (formatting the library's numbers)."""
    import json

    from simulator.ui.charts import agreement_figure

    headers = [
        "behaviour",
        "n",
        "positives",
        "AUROC",
        "95% CI",
        "baseline AUROC",
        "F1",
        "kappa",
        "note",
    ]
    rows = []
    for dim_id, dim in report.dimensions.items():
        ci = dim.auroc_ci
        rows.append(
            [
                dim_id,
                str(dim.n),
                str(dim.positives),
                "" if dim.auroc is None else f"{dim.auroc:.3f}",
                "" if not ci else f"{ci[0]:.3f}-{ci[1]:.3f}",
                "" if dim.baseline_auroc is None else f"{dim.baseline_auroc:.3f}",
                "" if dim.f1 is None else f"{dim.f1:.3f}",
                "" if dim.kappa is None else f"{dim.kappa:.3f}",
                dim.reason or "",
            ]
        )
    table_path = out_dir / "agreement.csv"
    with table_path.open("w", encoding="utf-8", newline="") as handle:
        writer = safe_writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    (out_dir / "agreement.json").write_text(
        json.dumps(report.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
    )
    figure = agreement_figure(report)
    figure.savefig(out_dir / "agreement.png")
    mean = "n/a" if report.mean_auroc is None else f"{report.mean_auroc:.3f}"
    message = (
        f"✔ {report.n} rated replies; mean AUROC {mean} (rubric {report.rubric_id} "
        f"v{report.rubric_version})."
    )
    if report.bad_rows:
        skipped = "; ".join(f"line {b.line}: {b.reason}" for b in report.bad_rows[:5])
        message += f"\n\n{len(report.bad_rows)} row(s) skipped: {as_text(skipped)}"
    unlabelled = [f"{d}: {m.unlabelled}" for d, m in report.dimensions.items() if m.unlabelled]
    if unlabelled:
        message += (
            "\n\nRows without a label for a behaviour are left out of that behaviour only ("
            f"{as_text(', '.join(unlabelled))})."
        )
    return collect(out_dir, message)


def run(
    ctx: AppContext, allowed: bool, path: str | None, task: str | None, progress: Progress
) -> EvaluationView:
    """Run batch evaluation or the agreement harness on an uploaded file."""
    if not allowed:
        return EvaluationView(NOT_SIGNED_IN)
    if not path:
        return EvaluationView(
            "Upload a file first (JSON, JSONL or CSV transcripts, or a labelled CSV)."
        )
    source = Path(path)
    if source.suffix.lower() not in {".jsonl", ".csv", ".json"}:
        return EvaluationView("Upload a .json, .jsonl or .csv file.")
    if source.stat().st_size > MAX_UPLOAD_BYTES:
        return EvaluationView("The file is larger than 50 MB; split it and evaluate the parts.")
    from simulator.loading import LoadError, get_rubric

    rubric = get_rubric("compassionate-leadership")
    out_dir = Path(tempfile.mkdtemp(prefix="report-", dir=ctx.download_dir()))
    report = _progress_adapter(progress)
    progress(0.0, "Loading the scorer")
    try:
        if task == AGREEMENT:
            if source.suffix.lower() != ".csv":
                return EvaluationView("The agreement check needs a labelled .csv file.")
            from simulator.evaluation.agreement import run_agreement

            view = agreement_view(run_agreement(source, rubric, progress=report), out_dir)
        else:
            from simulator.evaluation.batch import evaluate_file

            view = batch_view(evaluate_file(source, rubric, out_dir, progress=report), out_dir)
    except (ValueError, LoadError, OSError, KeyError, UnicodeDecodeError) as exc:
        # EvaluationError and AgreementError are ValueErrors with a message saying what to fix.
        shutil.rmtree(out_dir, ignore_errors=True)
        # The upload sits in Gradio's temp folder: name the file as the user knows it.
        reason = str(exc).replace(str(source), source.name)
        return EvaluationView(f"✖ This file could not be evaluated: {as_text(reason)}")
    progress(1.0, "Done")
    return view


def build_evaluate_tab(ctx: AppContext, gate: Any) -> None:
    """Lay out the Evaluate tab inside the current ``gr.Tab``."""
    from simulator.ui.admin_tabs import login_form

    content = login_form(ctx, gate, "Evaluation")
    with content:
        gr.Markdown(
            "Score many transcripts with the rubric, or check how well the rubric agrees with "
            "human raters. Upload a file, choose what to do, then press **Run**. This is what "
            "`rapport evaluate` and `rapport agreement` do on the command line.\n\n"
            "- **Transcripts**: the JSON download of a practice conversation, a JSON list of "
            "such transcripts, a JSONL file with one transcript per line, or a CSV with "
            "`transcript_id, turn, text, context`.\n"
            "- **Labelled CSV** (agreement): `text`, optional `context` and `conv_id`, and one "
            "column per behaviour (`attending`, `understanding`, `empathising`, `helping`) "
            "holding 0/1 or a level 0-3 given by a human rater."
        )
        with gr.Row():
            upload = gr.File(
                label="Transcripts (JSON, JSONL or CSV) or a labelled CSV",
                file_types=[".jsonl", ".csv", ".json"],
                elem_id="eval-file",
                scale=2,
            )
            with gr.Column(scale=1):
                task = gr.Radio([BATCH, AGREEMENT], value=BATCH, label="What to do")
                go = gr.Button("Run", variant="primary", elem_id="eval-run")
        message = gr.Markdown(elem_id="eval-message")
        first_table = gr.Dataframe(
            visible=False, interactive=False, wrap=True, elem_id="eval-table"
        )
        second_table = gr.Dataframe(visible=False, interactive=False, wrap=True, max_height=400)
        gallery = gr.Gallery(label="Report plots", visible=False, columns=2, height="auto")
        files = gr.File(label="Download the report", file_count="multiple", visible=False)

    def table(view: EvaluationView, index: int) -> Any:
        if index >= len(view.tables):
            return gr.update(value=None, visible=False)
        name, headers, rows = view.tables[index]
        return gr.update(value={"headers": headers, "data": rows}, visible=True, label=name)

    def on_run(
        allowed: bool,
        path: str | None,
        choice: str | None,
        progress: Any = gr.Progress(),  # noqa: B008 - how Gradio injects a progress bar
    ) -> list[Any]:
        def tick(fraction: float, note: str) -> None:
            progress(fraction, desc=note)

        view = run(ctx, allowed, path, choice, tick)
        if view.message.startswith("✖"):
            gr.Warning(view.message.removeprefix("✖ "))
        return [
            view.message,
            table(view, 0),
            table(view, 1),
            gr.update(value=view.images or None, visible=bool(view.images)),
            gr.update(value=view.files or None, visible=bool(view.files)),
        ]

    # Behind the sign-in (Gate.on), and one run at a time: a batch can take minutes of CPU.
    gate.on(
        go.click,
        on_run,
        [upload, task],
        [message, first_table, second_table, gallery, files],
        api_name="evaluate",
        concurrency_limit=1,
        concurrency_id="evaluate",
    )
