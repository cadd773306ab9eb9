"""``rapport agreement --judge`` and ``rapport evaluate --judge`` with the scripted model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.models import load_model
from simulator.models.fake import ScriptedModel

DIMS = ("attending", "understanding", "empathising", "helping")


def answer(**levels: int) -> str:
    return json.dumps(
        {"dimensions": {d: {"level": levels.get(d, 0)} for d in DIMS}, "pitfalls": []}
    )


@pytest.fixture
def scripted() -> Iterator[ScriptedModel]:
    """The process-wide model that ``--judge scripted`` loads, emptied after the test."""
    model = load_model("scripted")
    assert isinstance(model, ScriptedModel)
    yield model
    model._queue.clear()
    model.fail_with = None


def _labelled(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.csv"
    path.write_text(
        "text,context,conv_id,attending,helping\n"
        "What's been going on for you?,I'm fine.,a,1,0\n"
        "I'll cover your bay for an hour.,I'm exhausted.,a,0,1\n"
        "Did you finish the report?,Hi.,b,0,0\n"
        "How has the week been?,Long.,b,1,0\n"
        "Shall I call the agency?,We're short.,c,0,1\n",
        encoding="utf-8",
    )
    return path


def test_agreement_with_a_judge_counts_unscored_rows(
    scripted: ScriptedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scripted.enqueue(
        answer(attending=2),
        answer(helping=2),
        "I think this reply is quite good.",  # not JSON: that row is unscored
        answer(attending=1),
        answer(helping=1),
    )
    code = main(["agreement", str(_labelled(tmp_path)), "--judge", "scripted", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    summary = json.loads(captured.out)
    assert set(summary) == {"n", "dimensions", "mean_auroc"}
    assert summary["n"] == 5
    for dim in ("attending", "helping"):
        assert summary["dimensions"][dim]["n"] == 4
        assert summary["dimensions"][dim]["unscored"] == 1
        assert summary["dimensions"][dim]["auroc"] == 1.0
    assert "unscored line 4: the judge's answer is not JSON" in captured.err
    assert "1 of 5 replies unscored" in captured.err


def test_agreement_table_names_the_judge(
    scripted: ScriptedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scripted.enqueue(answer(attending=2), answer(helping=2), answer(), answer(attending=1))
    assert main(["agreement", str(_labelled(tmp_path)), "--judge", "scripted"]) == 0
    out = capsys.readouterr().out
    assert "5 rows, 4 scored, 1 unscored" in out  # the fifth answer is the scripted default
    assert "(LLM judge scripted)" in out


def test_every_reply_unscored_is_reported_not_crashed(
    scripted: ScriptedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agreement", str(_labelled(tmp_path)), "--judge", "scripted", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["mean_auroc"] is None
    assert summary["dimensions"]["attending"]["reason"] == (
        "no labelled reply was scored; AUROC is undefined"
    )


def test_judge_errors_are_one_line_and_exit_non_zero(
    scripted: ScriptedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = str(_labelled(tmp_path))
    assert main(["agreement", labelled, "--judge", "nosuch:model"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rapport agreement: Unknown model backend 'nosuch'")
    assert "Traceback" not in err
    scripted.fail_with = "cannot connect to the server"
    assert main(["agreement", labelled, "--judge", "scripted"]) == 2
    err = capsys.readouterr().err
    assert "failed on 5 replies in a row; last error: cannot connect" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_evaluate_with_a_judge(
    scripted: ScriptedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replies = tmp_path / "replies.csv"
    replies.write_text(
        "transcript_id,turn,text,context\n"
        "t1,0,What's been going on for you?,I'm fine.\n"
        "t1,1,I'll cover your bay for an hour.,I'm exhausted.\n"
        "t2,0,...,Hello.\n",
        encoding="utf-8",
    )
    scripted.enqueue(answer(attending=3), "{broken")
    out = tmp_path / "out"
    assert main(["evaluate", str(replies), "--judge", "scripted", "--out", str(out)]) == 0
    assert "3 replies (1 scored)" in capsys.readouterr().out
    rows = json.loads((out / "replies.json").read_text(encoding="utf-8"))
    reasons = [r["score"]["unscored_reason"] for r in rows]
    assert reasons[0] is None
    assert "not valid JSON" in reasons[1] and reasons[2] == "the reply has no words"
    assert rows[0]["score"]["dimensions"]["attending"]["level"] == 3
    assert (out / "report.html").is_file()
