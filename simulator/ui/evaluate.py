"""Evaluate tab: batch evaluation of transcripts and the rubric-agreement harness.

The same library functions as ``rapport evaluate`` / ``rapport agreement``
(:mod:`simulator.evaluation`); the tab only uploads, reports progress and shows what the report
wrote (its CSV tables, PNG plots, HTML/JSON files for download).
"""

from __future__ import annotations

import base64
import csv
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from simulator.evaluation.csvfiles import safe_writer
from simulator.ui.auth import NOT_SIGNED_IN
from simulator.ui.context import AppContext
from simulator.ui.text import as_text

BATCH = "Score transcripts (batch evaluation)"
AGREEMENT = "Check agreement with human ratings (labelled CSV)"
MAX_TABLE_ROWS = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PLOT_DPI = 200
"""Plots are saved at twice the screen's 100 pixels per inch and shown at half their pixel
width: sharp on high-density screens, and as large as the figure was drawn (7.5 inches, about
750 CSS pixels), so they read without clicking."""
KAPPA_NOTE = (
    "Weighted kappa and Spearman's rho compare levels, so they need labels on the 0-3 scale; "
    "with 0/1 labels (present or not) only AUROC and F1 are measured."
)

Progress = Callable[[float, str], None]


@dataclass
class EvaluationView:
    """What the tab shows after a run."""

    message: str
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notes: str = ""


def plots_html(images: Sequence[str]) -> str:
    """The report's PNG plots inline at their drawn size (``max-width`` keeps phones in)."""
    from PIL import Image

    parts = []
    for path in images:
        with Image.open(path) as image:
            # Shown at 100 pixels per inch of the figure, whatever resolution it was saved at.
            width = round(image.width * 100 / float(image.info.get("dpi", (100, 100))[0]))
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        name = Path(path).name
        parts.append(
            f'<figure class="eval-plot"><img src="data:image/png;base64,{data}" '
            f'alt="{name}" width="{width}" style="max-width:100%;height:auto">'
            f"<figcaption>{name}</figcaption></figure>"
        )
    return "\n".join(parts)


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return [], []
    return rows[0], rows[1 : MAX_TABLE_ROWS + 1]


def collect(out_dir: Path, message: str, shown: Sequence[str] = ()) -> EvaluationView:
    """Gather a report folder's plots and files into a view, with the ``shown`` CSVs as tables.

    Every file is offered for download; only the named tables are shown, in that order.
    """
    files = sorted(p for p in out_dir.rglob("*") if p.is_file())
    view = EvaluationView(message=message)
    for name in shown:
        headers, rows = _read_table(out_dir / name)
        if headers:
            view.tables.append((name, headers, rows))
    view.images = [str(p) for p in files if p.suffix == ".png"]
    view.files = [str(p) for p in files]
    return view


REPLY_COLUMNS = {"transcript_id": "conversation", "turn": "turn", "text": "reply"}


def compact_replies(out_dir: Path) -> None:
    """Write ``replies-shown.csv``: the reply table with one short column per behaviour.

    ``replies.csv`` has 18 columns (level, probability and evidence per behaviour); shown as
    they are, their long names wrap into a header taller than the rows. Here each behaviour is
    one column, ``level (probability)``; the full table stays in the downloads.
    """
    headers, rows = _read_table(out_dir / "replies.csv")
    if not headers:
        return
    index = {name: i for i, name in enumerate(headers)}
    dims = [h.removesuffix("_level") for h in headers if h.endswith("_level")]
    shown = [*REPLY_COLUMNS.values(), *dims, "pitfalls"]
    unscored = any(row[index["unscored_reason"]] for row in rows if "unscored_reason" in index)
    if unscored:
        shown.append("not scored because")
    out = []
    for row in rows:
        cells = [row[index[c]] for c in REPLY_COLUMNS if c in index]
        for dim in dims:
            level, prob = row[index[f"{dim}_level"]], row[index.get(f"{dim}_probability", -1)]
            cells.append(f"{level} ({float(prob):.2f})" if level and prob else level)
        cells.append(row[index["pitfalls"]] if "pitfalls" in index else "")
        if unscored:
            cells.append(row[index["unscored_reason"]])
        out.append(cells)
    with (out_dir / "replies-shown.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = safe_writer(handle)
        writer.writerow(shown)
        writer.writerows(out)


def _progress_adapter(progress: Progress) -> Callable[[int, int], None]:
    """The library reports ``(done, total)``; Gradio's bar wants a fraction and a note."""

    def report(done: int, total: int) -> None:
        progress(done / total if total else 1.0, f"Scoring replies {done}/{total}")

    return report


def batch_view(result: Any, out_dir: Path) -> EvaluationView:
    """Tables, a plot and files for a batch evaluation (the library's numbers, formatted)."""
    from simulator.ui.charts import levels_figure

    figure = levels_figure(result.dimensions)
    figure.savefig(out_dir / "levels.png", dpi=PLOT_DPI)
    message = (
        f"✔ Scored {result.n_scored} of {result.n_replies} replies from "
        f"{result.n_transcripts} transcript(s)."
    )
    if result.malformed:
        skipped = "; ".join(f"line {m.line}: {m.reason}" for m in result.malformed[:5])
        message += f"\n\n{len(result.malformed)} line(s) skipped: {as_text(skipped)}"
    compact_replies(out_dir)
    # The per-behaviour summary first, then every reply; other tables are in the downloads.
    view = collect(out_dir, message, ["dimensions.csv", "replies-shown.csv"])
    view.notes = "Each behaviour's column: level 0-3 (the probability it is present)."
    return view


class RecordingScorer:
    """Wraps the app's scorer and keeps every score, to list the rows that disagree."""

    def __init__(self, scorer: Any) -> None:
        self._scorer = scorer
        self.batch_size = int(getattr(scorer, "batch_size", 256))
        self.scores: list[Any] = []

    def score_batch(self, texts: list[str], contexts: list[str]) -> list[Any]:
        """Score as the wrapped scorer does, remembering the results in order."""
        scores = list(self._scorer.score_batch(texts, contexts))
        self.scores.extend(scores)
        return scores


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def disagreements(labelled: Any, scores: Sequence[Any], threshold: float) -> list[list[str]]:
    """Rows where the human label and the scorer disagree on whether a behaviour is present.

    Args:
        labelled: What ``read_labelled_csv`` read (texts, labels per behaviour, CSV lines).
        scores: The scorer's results, one per labelled row, in order.
        threshold: The probability from which the scorer counts a behaviour as present.

    Returns:
        ``[line, behaviour, human, scorer, reply]`` rows, the most confident misses first.
    """
    found: list[tuple[float, list[str]]] = []
    for dim_id, labels in labelled.labels.items():
        for i, label in enumerate(labels):
            score = scores[i]
            if label is None or not score.scored or dim_id not in score.dimensions:
                continue
            rated = score.dimensions[dim_id]
            human = label >= 1
            if human == (rated.probability >= threshold):
                continue
            text = labelled.texts[i]
            short = text if len(text) <= 100 else text[:97] + "..."
            found.append(
                (
                    abs(rated.probability - float(human)),
                    [
                        str(labelled.lines[i]),
                        dim_id,
                        f"{label} ({'present' if human else 'absent'})",
                        f"level {rated.level} (p={rated.probability:.2f})",
                        short,
                    ],
                )
            )
    found.sort(key=lambda item: -item[0])
    return [row for _, row in found]


def agreement_view(
    report: Any, out_dir: Path, misses: Sequence[Sequence[str]] = ()
) -> EvaluationView:
    """Tables, a plot and files for an agreement report (formatting the library's numbers).

    Kappa and the note are columns only when some behaviour has one: an empty column says
    nothing, so when kappa is undefined the notes under the table say why.
    """
    import json

    from simulator.ui.charts import agreement_figure

    dims = report.dimensions
    has_kappa = any(d.kappa is not None for d in dims.values())
    has_note = any(d.reason for d in dims.values())
    headers = ["behaviour", "n", "positives", "AUROC", "95% CI", "baseline AUROC", "F1"]
    headers += ["kappa"] * has_kappa + ["note"] * has_note
    rows = []
    for dim_id, dim in dims.items():
        ci = dim.auroc_ci
        row = [
            dim_id,
            str(dim.n),
            str(dim.positives),
            _fmt(dim.auroc),
            "" if not ci else f"{ci[0]:.3f}-{ci[1]:.3f}",
            _fmt(dim.baseline_auroc),
            _fmt(dim.f1),
        ]
        row += [_fmt(dim.kappa)] * has_kappa + [dim.reason or ""] * has_note
        rows.append(row)
    table_path = out_dir / "agreement.csv"
    with table_path.open("w", encoding="utf-8", newline="") as handle:
        writer = safe_writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    with (out_dir / "disagreements.csv").open("w", encoding="utf-8", newline="") as handle:
        # The reply is a trainee's own words: a leading "=" must not become a formula.
        misses_writer = safe_writer(handle)
        misses_writer.writerow(["line", "behaviour", "human label", "scorer", "reply"])
        misses_writer.writerows(misses)
    (out_dir / "agreement.json").write_text(
        json.dumps(report.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
    )
    figure = agreement_figure(report)
    figure.savefig(out_dir / "agreement.png", dpi=PLOT_DPI)
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
    view = collect(out_dir, message, ["agreement.csv", "disagreements.csv"])
    notes = []
    if not has_kappa:
        notes.append(KAPPA_NOTE)
    notes.append(
        f"{len(misses)} label(s) the scorer disagrees with (second table, by line of the CSV; "
        "the scorer counts a behaviour as present from p=0.50)."
        if misses
        else "The scorer agrees with every label on whether each behaviour is present."
    )
    view.notes = " ".join(notes)
    return view


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
    from simulator.content.loading import LoadError

    services = ctx.services
    try:
        if source.stat().st_size > MAX_UPLOAD_BYTES:
            return EvaluationView("The file is larger than 50 MB; split it and evaluate the parts.")
        rubric = services.rubric()
    except (OSError, LookupError, LoadError) as exc:
        # A vanished upload or a broken default rubric: say so instead of Gradio's bare "Error".
        return EvaluationView(f"✖ Cannot evaluate: {as_text(str(exc))}")
    out_dir = Path(tempfile.mkdtemp(prefix="report-", dir=ctx.download_dir()))
    report = _progress_adapter(progress)
    progress(0.0, "Loading the scorer")
    try:
        if task == AGREEMENT:
            if source.suffix.lower() != ".csv":
                return EvaluationView("The agreement check needs a labelled .csv file.")
            from simulator.evaluation.agreement import read_labelled_csv, run_agreement
            from simulator.scoring.types import THRESHOLD

            # The app's scorer, built once per process (and warmed at start): a new
            # RubricScorer refits its regressions, which took most of a run's time.
            recorder = RecordingScorer(services.scorer(rubric))
            agreement = run_agreement(source, rubric, scorer=recorder, progress=report)
            misses = disagreements(read_labelled_csv(source, rubric), recorder.scores, THRESHOLD)
            view = agreement_view(agreement, out_dir, misses)
        else:
            from simulator.evaluation.batch import evaluate_file

            scorer = services.scorer(rubric)
            result = evaluate_file(source, rubric, out_dir, scorer=scorer, progress=report)
            view = batch_view(result, out_dir)
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
    from simulator.ui.gate import login_form

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
        plots = gr.HTML(elem_id="eval-plots")
        first_table = gr.Dataframe(
            visible=False, interactive=False, wrap=True, elem_id="eval-table"
        )
        notes = gr.Markdown(elem_id="eval-notes")
        second_table = gr.Dataframe(
            visible=False, interactive=False, wrap=True, max_height=400, elem_id="eval-table-2"
        )
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
            plots_html(view.images),
            table(view, 0),
            as_text(view.notes),
            table(view, 1),
            gr.update(value=view.files or None, visible=bool(view.files)),
        ]

    # Behind the sign-in (Gate.on), and one run at a time: a batch can take minutes of CPU.
    gate.on(
        go.click,
        on_run,
        [upload, task],
        [message, plots, first_table, notes, second_table, files],
        api_name="evaluate",
        concurrency_limit=1,
        concurrency_id="evaluate",
    )
