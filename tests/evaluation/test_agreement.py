"""The agreement harness on a small labelled CSV of our own."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from simulator.commands import evaluation as commands
from simulator.evaluation.agreement import (
    AgreementError,
    auroc,
    bootstrap_auroc_ci,
    run_agreement,
)
from simulator.services import Services

DATA = Path(__file__).parent / "data"


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    return parser.parse_args(list(argv))


def test_auroc_and_bootstrap_on_known_values() -> None:
    labels = np.array([0, 0, 1, 1])
    assert auroc(labels, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auroc(labels, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert auroc(np.array([1, 1]), np.array([0.1, 0.2])) is None
    ci = bootstrap_auroc_ci(labels, np.array([0.1, 0.2, 0.8, 0.9]), ["a", "b", "c", "d"], 200)
    assert ci is not None and ci[0] <= ci[1] <= 1.0


@pytest.mark.slow
def test_harness_reports_every_dimension_and_bad_rows() -> None:
    report = run_agreement(
        DATA / "labelled-small.csv", Services().rubric(), Services().scorer(), bootstrap=200
    )
    assert report.n == 17
    assert sorted(b.line for b in report.bad_rows) == [14, 18]
    assert any("missing text" in b.reason for b in report.bad_rows)
    assert any("'maybe'" in b.reason for b in report.bad_rows)
    assert set(report.dimensions) == {"attending", "understanding", "empathising", "helping"}
    for name, dim in report.dimensions.items():
        assert dim.auroc is not None and dim.auroc >= 0.75, name
        assert dim.auroc_ci is not None and dim.auroc_ci[0] <= dim.auroc_ci[1]
        assert dim.baseline_auroc is not None and dim.baseline
        assert dim.ordinal and dim.kappa is not None and dim.spearman is not None
        assert dim.f1 is not None and dim.threshold == 0.5
    assert report.dimensions["attending"].baseline == "contains a question mark"
    assert report.mean_auroc is not None and report.mean_auroc >= 0.75


@pytest.mark.slow
def test_a_one_class_dimension_is_null_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "one-class.csv"
    path.write_text(
        "text,attending,helping\nWhat's going on?,1,0\nDid you send it?,0,0\nHow are you?,1,0\n",
        encoding="utf-8",
    )
    report = run_agreement(path, Services().rubric(), Services().scorer(), bootstrap=50)
    assert report.dimensions["helping"].auroc is None
    assert "one class" in (report.dimensions["helping"].reason or "")
    assert report.dimensions["attending"].auroc is not None
    assert "understanding" not in report.dimensions


@pytest.mark.slow
def test_unusable_files_raise_clear_errors(tmp_path: Path) -> None:
    no_text = tmp_path / "no-text.csv"
    no_text.write_text("reply,attending\nhi,1\n", encoding="utf-8")
    with pytest.raises(AgreementError, match="no 'text' column"):
        run_agreement(no_text, Services().rubric(), Services().scorer())
    no_labels = tmp_path / "no-labels.csv"
    no_labels.write_text("text,score\nhi,1\n", encoding="utf-8")
    with pytest.raises(AgreementError, match="no label column"):
        run_agreement(no_labels, Services().rubric(), Services().scorer())


@pytest.mark.slow
def test_cli_json_prints_only_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    args = _args("agreement", str(DATA / "labelled-small.csv"), "--json")
    assert args.handler(args) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert set(summary) == {"n", "dimensions", "mean_auroc"}
    assert {"auroc", "auroc_ci", "f1", "baseline_auroc"} <= set(summary["dimensions"]["attending"])
    assert "skipped line 14: missing text" in captured.err


@pytest.mark.slow
def test_cli_table_and_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = _args("agreement", str(DATA / "labelled-small.csv"))
    assert args.handler(args) == 0
    assert "mean AUROC" in capsys.readouterr().out
    missing = _args("agreement", str(tmp_path / "nope.csv"))
    assert missing.handler(missing) == 2
    assert "cannot read" in capsys.readouterr().err
