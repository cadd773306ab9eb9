"""Evaluate tab: the same library functions as the CLI, progress reported, report files shown."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from simulator.ui import evaluate
from simulator.ui.context import AppContext
from tests.fakes import transcript_record
from tests.ui.helpers import plain

LABELLED = """\
conv_id,text,context,attending,understanding,empathising,helping
a,What's been happening for you this week?,I'm tired.,1,0,0,0
a,That sounds really hard.,Nobody asked me.,0,0,1,0
b,Just get on with it.,I'm swamped.,0,0,0,0
b,So you feel nobody noticed. Is that right?,They dumped it on me.,0,1,0,0
c,Shall I cover your bay for an hour so you can catch up?,I'm behind.,0,0,0,1
c,How are things going for you?,Fine.,1,0,0,0
d,Everyone is busy.,I'm drowning.,0,0,0,0
d,I'm sorry it's been so tough.,Rough week.,0,0,1,0
"""

TRANSCRIPT = transcript_record(
    [
        {
            "index": 0,
            "learner": "What's been happening on your shift?",
            "persona": "A lot.",
            "mood": "guarded",
            "trust": 0.35,
        },
        {
            "index": 1,
            "learner": "That sounds exhausting.",
            "persona": "It is.",
            "mood": "guarded",
            "trust": 0.4,
        },
    ]
)


def progress_log() -> tuple[list[tuple[float, str]], evaluate.Progress]:
    log: list[tuple[float, str]] = []
    return log, lambda fraction, note: log.append((fraction, note))


@pytest.mark.slow
def test_agreement_shows_a_table_plot_and_files(ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(LABELLED, encoding="utf-8")
    log, tick = progress_log()
    view = evaluate.run(ctx, True, str(path), evaluate.AGREEMENT, tick)
    assert view.message.startswith("✔ 8 rated replies; mean AUROC")
    name, headers, rows = view.tables[0]
    assert name == "agreement.csv" and headers[:4] == ["behaviour", "n", "positives", "AUROC"]
    assert [row[0] for row in rows] == ["attending", "understanding", "empathising", "helping"]
    assert any(p.endswith("agreement.png") for p in view.images)
    saved = json.loads(Path(next(f for f in view.files if f.endswith(".json"))).read_text())
    assert saved["n"] == 8
    assert log[0] == (0.0, "Loading the scorer") and log[-1] == (1.0, "Done")
    assert any("8/8" in note for _, note in log)


@pytest.mark.slow
def test_batch_evaluation_of_transcripts(ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "transcripts.jsonl"
    path.write_text(json.dumps(TRANSCRIPT) + "\n{broken\n", encoding="utf-8")
    log, tick = progress_log()
    view = evaluate.run(ctx, True, str(path), evaluate.BATCH, tick)
    assert view.message.startswith("✔ Scored 2 of 2 replies from 1 transcript(s).")
    assert "1 line(s) skipped: line 2" in plain(view.message)
    assert [t[0] for t in view.tables[:2]] == ["dimensions.csv", "replies-shown.csv"]
    names = {Path(f).name for f in view.files}
    assert {"report.html", "summary.json", "replies.csv", "levels.png"} <= names
    assert view.images and log[-1] == (1.0, "Done")


@pytest.mark.slow
def test_the_apps_json_download_is_evaluated_and_errors_name_the_file(
    ctx: AppContext, tmp_path: Path
) -> None:
    # Gradio hands the handler its own temp copy; the user only knows the file's name.
    upload = tmp_path / "gradio" / "a2e0b75c"
    upload.mkdir(parents=True)
    download = upload / "download.json"
    # As practice.py's "Download transcript (JSON)" writes it: one pretty-printed transcript.
    download.write_text(json.dumps(TRANSCRIPT, indent=2, ensure_ascii=False) + "\n")
    _, tick = progress_log()
    view = evaluate.run(ctx, True, str(download), evaluate.BATCH, tick)
    assert view.message == "✔ Scored 2 of 2 replies from 1 transcript(s)."
    numbers = upload / "numbers.json"
    numbers.write_text("[1, 2, 3]")
    message = plain(evaluate.run(ctx, True, str(numbers), evaluate.BATCH, tick).message)
    assert message.startswith("✖ This file could not be evaluated: numbers.json holds no")
    assert "not a transcript object" in message and str(upload) not in message


@pytest.mark.slow
def test_problems_get_a_clear_message(ctx: AppContext, tmp_path: Path) -> None:
    _, tick = progress_log()
    assert evaluate.run(ctx, False, "x.csv", evaluate.BATCH, tick).message == (
        evaluate.NOT_SIGNED_IN
    )
    assert "Upload a file first" in evaluate.run(ctx, True, None, evaluate.BATCH, tick).message
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert evaluate.run(ctx, True, str(text), evaluate.BATCH, tick).message == (
        "Upload a .json, .jsonl or .csv file."
    )
    no_text = tmp_path / "bad.csv"
    no_text.write_text("a,b\n1,2\n")
    message = evaluate.run(ctx, True, str(no_text), evaluate.AGREEMENT, tick).message
    assert message.startswith("✖ This file could not be evaluated") and "'text' column" in plain(
        message
    )
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text(json.dumps(TRANSCRIPT) + "\n")
    assert (
        "needs a labelled .csv"
        in evaluate.run(ctx, True, str(jsonl), evaluate.AGREEMENT, tick).message
    )


@pytest.mark.slow
def test_agreement_with_0_1_labels_says_why_kappa_is_missing_and_lists_disagreements(
    ctx: AppContext, tmp_path: Path
) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(LABELLED, encoding="utf-8")
    _, tick = progress_log()
    view = evaluate.run(ctx, True, str(path), evaluate.AGREEMENT, tick)
    _, headers, _ = view.tables[0]
    assert "kappa" not in headers and "note" not in headers  # no empty columns
    assert evaluate.KAPPA_NOTE in view.notes
    name, headers, misses = view.tables[1]
    assert name == "disagreements.csv"
    assert headers == ["line", "behaviour", "human label", "scorer", "reply"]
    labels = {
        (str(line), dim): int(row[dim])
        for line, row in enumerate(csv.DictReader(LABELLED.splitlines()), start=2)
        for dim in ("attending", "understanding", "empathising", "helping")
    }
    for line, dim, human, scorer, reply in misses:
        # Every listed row really disagrees: the label says present iff the scorer says absent.
        present = labels[(line, dim)] >= 1
        assert human.startswith(str(labels[(line, dim)]))
        probability = float(scorer.split("p=")[1].rstrip(")"))
        assert present != (probability >= 0.5), (line, dim, scorer)
        assert reply
    count = f"{len(misses)} label(s) the scorer disagrees with" if misses else "agrees with every"
    assert count in view.notes


@pytest.mark.slow
def test_agreement_with_levels_keeps_the_kappa_column(ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "levels.csv"
    path.write_text(LABELLED.replace(",1,0,0,0", ",3,0,0,0").replace("0,0,1,0", "0,0,2,0"))
    _, tick = progress_log()
    view = evaluate.run(ctx, True, str(path), evaluate.AGREEMENT, tick)
    _, headers, rows = view.tables[0]
    assert "kappa" in headers
    assert evaluate.KAPPA_NOTE not in view.notes
    kappa = headers.index("kappa")
    assert rows[0][kappa] != ""  # attending has levels 0 and 3: kappa is measured


@pytest.mark.slow
def test_replies_table_is_compact_and_plots_show_at_their_drawn_size(
    ctx: AppContext, tmp_path: Path
) -> None:
    path = tmp_path / "transcripts.jsonl"
    path.write_text(json.dumps(TRANSCRIPT) + "\n", encoding="utf-8")
    _, tick = progress_log()
    view = evaluate.run(ctx, True, str(path), evaluate.BATCH, tick)
    name, headers, rows = view.tables[1]
    assert name == "replies-shown.csv"
    assert headers[:3] == ["conversation", "turn", "reply"]
    assert headers[3:] == ["attending", "understanding", "empathising", "helping", "pitfalls"]
    assert all(len(h) <= 13 for h in headers)  # short names: a one-line header
    assert rows[0][2] == "What's been happening on your shift?"
    assert rows[0][3].split(" ")[0] in {"0", "1", "2", "3"} and "(" in rows[0][3]
    assert "replies.csv" in {Path(f).name for f in view.files}  # the full table still there
    html = evaluate.plots_html(view.images)
    assert html.count("<img") == 1 and 'width="750"' in html  # 7.5 in at 100 px per inch
    assert "max-width:100%" in html and "data:image/png;base64," in html


@pytest.mark.slow
def test_runs_reuse_the_apps_scorer_instead_of_refitting_one(
    ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulator.content.loading import get_rubric
    from simulator.scoring import scorer as scorer_module
    from simulator.services import Services

    Services().scorer(get_rubric("compassionate-leadership"))  # what the app's warm-up builds

    def refit(*args: object, **kwargs: object) -> None:
        raise AssertionError("a new RubricScorer was built for one evaluation")

    monkeypatch.setattr(scorer_module.RubricScorer, "__init__", refit)
    path = tmp_path / "labelled.csv"
    path.write_text(LABELLED, encoding="utf-8")
    _, tick = progress_log()
    assert evaluate.run(ctx, True, str(path), evaluate.AGREEMENT, tick).message.startswith("✔")
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text(json.dumps(TRANSCRIPT) + "\n")
    assert evaluate.run(ctx, True, str(jsonl), evaluate.BATCH, tick).message.startswith("✔")


def test_level_colours_match_between_the_apps_chart_and_the_html_report() -> None:
    from matplotlib.colors import to_hex

    from simulator.content.loading import get_rubric
    from simulator.evaluation.palette import LEVEL_COLOURS
    from simulator.evaluation.report import distribution_figure
    from simulator.ui.charts import levels_figure

    app = levels_figure({"attending": {"levels": {"0": 1, "1": 1, "2": 1, "3": 1}}})
    app_colours = [to_hex(bars.patches[0].get_facecolor()) for bars in app.axes[0].containers]
    rubric = get_rubric("compassionate-leadership")
    report = distribution_figure(rubric, [])
    report_colours = [to_hex(bars.patches[0].get_facecolor()) for bars in report.axes[0].containers]
    assert app_colours == report_colours == list(LEVEL_COLOURS)
