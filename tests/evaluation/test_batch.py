"""Batch evaluation of transcript files, including malformed lines."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from simulator.commands import evaluation as commands
from simulator.evaluation.batch import evaluate_file
from simulator.evaluation.inputs import EvaluationError
from simulator.services import Services

DATA = Path(__file__).parent / "data"


@pytest.mark.slow
def test_jsonl_transcripts_with_malformed_lines(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    result = evaluate_file(
        DATA / "transcripts.jsonl",
        Services().rubric(),
        tmp_path / "out",
        progress=lambda done, total: calls.append((done, total)),
        scorer=Services().scorer(),
    )
    assert result.n_replies == 5 and result.n_transcripts == 2
    assert result.n_scored == 4  # the empty reply is unscored, not given a midpoint
    assert [m.line for m in result.malformed] == [2, 3]
    assert calls[-1] == (5, 5)
    for path in result.files.values():
        assert Path(path).is_file()
    with open(result.files["replies_csv"], encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["context"].startswith("Do you actually need me")
    assert rows[1]["context"] == "Two extra patients. Again."
    assert rows[4]["unscored_reason"] == "the reply is empty"
    assert "dismissing" in rows[3]["pitfalls"]
    replies = json.loads(Path(result.files["replies_json"]).read_text(encoding="utf-8"))
    assert replies[0]["score"]["dimensions"]["attending"]["level"] >= 2
    html = Path(result.files["report_html"]).read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert html.count("data:image/png;base64,") == 2
    assert set(result.dimensions) == {"attending", "understanding", "empathising", "helping"}


@pytest.mark.slow
def test_csv_replies(tmp_path: Path) -> None:
    result = evaluate_file(
        DATA / "replies.csv", Services().rubric(), tmp_path, scorer=Services().scorer()
    )
    assert result.n_replies == 3 and result.n_transcripts == 2
    assert [m.line for m in result.malformed] == [4, 5]
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_scored"] == 3


def test_unusable_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="not a file"):
        evaluate_file(tmp_path / "missing.jsonl", Services().rubric(), tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nonsense\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="no learner replies"):
        evaluate_file(bad, Services().rubric(), tmp_path / "out")


@pytest.mark.slow
def test_cli_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    args = parser.parse_args(["evaluate", str(DATA / "transcripts.jsonl"), "--out", str(tmp_path)])
    assert args.handler(args) == 0
    captured = capsys.readouterr()
    assert "5 replies (4 scored) from 2 transcripts" in captured.out
    assert "skipped line 2" in captured.err
    assert (tmp_path / "report.html").is_file()
    args = parser.parse_args(["evaluate", str(tmp_path / "none.csv"), "--out", str(tmp_path)])
    assert args.handler(args) == 2
