"""What ``rapport evaluate`` reads: the app's download, JSON lists, JSONL, CSV in any separator,
and the plain-words reasons it gives for what it cannot read."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from simulator.commands import evaluation as commands
from simulator.content.schema import Rubric, Scenario
from simulator.conversation.session import Session
from simulator.evaluation.agreement import read_labelled_csv
from simulator.evaluation.batch import evaluate_file
from simulator.evaluation.inputs import EvaluationError, read_replies
from simulator.models.fake import ScriptedModel
from tests.fakes import DictatedScorer, transcript_record


def turn(index: int, learner: str, persona: str) -> dict[str, object]:
    return {"index": index, "learner": learner, "persona": persona, "mood": "guarded", "trust": 0.3}


TRANSCRIPT = transcript_record(
    [turn(0, "What's happening?", "A lot."), turn(1, "That sounds hard.", "It is.")]
)
NO_LEARNER = {**TRANSCRIPT, "turns": [{"index": 0, "persona": "x", "mood": "m", "trust": 1}]}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="rapport")
    commands.register(root.add_subparsers())
    return root


def test_the_apps_transcript_download_can_be_evaluated(
    workload: Scenario, rubric: Rubric, scripted: ScriptedModel, tmp_path: Path
) -> None:
    # Exactly what "Download transcript (JSON)" writes: one transcript, pretty-printed.
    from simulator.ui.practice import write_downloads

    session = Session(workload, rubric, DictatedScorer(), scripted, seed=1, n_candidates=2)
    first = session.respond("What's been happening for you this week?")
    session.respond("That sounds exhausting.")
    session.end()
    download, _ = write_downloads(session, tmp_path)
    assert download.suffix == ".json" and download.read_text(encoding="utf-8").count("\n") > 20
    scorer = DictatedScorer()
    result = evaluate_file(download, rubric, tmp_path / "out", scorer=scorer)
    assert result.malformed == []
    assert (result.n_replies, result.n_scored, result.n_transcripts) == (2, 2, 1)
    assert scorer.contexts == [workload.persona.opening_line, first.persona]


def test_a_json_list_and_a_pretty_object_in_a_jsonl_file(tmp_path: Path) -> None:
    listed = write(tmp_path / "many.json", json.dumps([TRANSCRIPT, {"session_id": "x"}], indent=2))
    records, bad = read_replies(listed)
    assert len(records) == 2
    # The bad transcript is found by the line it starts on and its place in the list.
    assert [m.line for m in bad] == [29]
    assert bad[0].reason.startswith("item 2: missing fields 'scenario_id', 'scenario_version'")
    pretty = write(tmp_path / "one.jsonl", json.dumps(TRANSCRIPT, indent=2))
    assert [r.text for r in read_replies(pretty)[0]] == ["What's happening?", "That sounds hard."]
    unnamed = write(tmp_path / "export", json.dumps([TRANSCRIPT]))
    assert len(read_replies(unnamed)[0]) == 2


def test_jsonl_lines_end_only_at_newlines(tmp_path: Path) -> None:
    # A raw line separator inside a reply (json.dumps(ensure_ascii=False) keeps it) and Windows
    # line ends must not split a transcript.
    odd = {**TRANSCRIPT, "turns": [turn(0, "Line one\u2028line two", "Ok.")]}
    text = "\r\n".join(json.dumps(t, ensure_ascii=False) for t in (TRANSCRIPT, odd)) + "\r\n"
    records, bad = read_replies(write(tmp_path / "t.jsonl", text))
    assert bad == [] and records[-1].text == "Line one\u2028line two"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"session_id": "s2"', "not valid JSON (the line ends before the object does)"),
        ("this line is not json", "not JSON (a transcript starts with '{')"),
        ("{broken", "a field name is not in double quotes"),
        ('{"a": "abc}', 'the line ends inside a quoted text: a closing " is missing'),
        ('{"session_id": "s"} and more', "there is more text after the object ends"),
        ("[1, 2]", "not a transcript object (it is a list)"),
        (
            json.dumps({k: v for k, v in TRANSCRIPT.items() if k != "opening_line"}),
            "missing field 'opening_line'",
        ),
        (json.dumps(NO_LEARNER), "missing field 'learner' in turns[0]"),
    ],
)
def test_bad_jsonl_lines_are_skipped_with_a_plain_reason(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = write(tmp_path / "t.jsonl", json.dumps(TRANSCRIPT) + "\n" + line + "\n")
    records, bad = read_replies(path)
    assert len(records) == 2 and [m.line for m in bad] == [2]
    assert reason in bad[0].reason
    # Neither pydantic's location prefix nor the parser's own position within the line.
    assert not bad[0].reason.startswith("record") and "column" not in bad[0].reason


def test_a_file_with_nothing_usable_says_why(tmp_path: Path, rubric: Rubric) -> None:
    numbers = write(tmp_path / "numbers.json", "[1,2,3]")
    with pytest.raises(EvaluationError) as caught:
        evaluate_file(numbers, rubric, tmp_path / "out", scorer=DictatedScorer())
    assert "line 1: item 1: not a transcript object (it is a number)" in str(caught.value)
    # A cut-off download is one problem at the line where it stops, not one per line.
    cut = json.dumps(TRANSCRIPT, indent=2)[:300]
    records, bad = read_replies(write(tmp_path / "cut.json", cut))
    assert records == [] and len(bad) == 1 and "file ends" in bad[0].reason
    empty = write(tmp_path / "empty.json", "[]")
    with pytest.raises(EvaluationError, match="at least one turn"):
        evaluate_file(empty, rubric, tmp_path / "out", scorer=DictatedScorer())
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("separator", [";", "\t"])
def test_semicolon_and_tab_separated_csv_are_read(
    tmp_path: Path, rubric: Rubric, separator: str
) -> None:
    rows = [["transcript_id", "turn", "text"], ["a", "0", "Hi, how are you?"], ["a", "1", "Ok."]]
    path = write(tmp_path / "r.csv", "\n".join(separator.join(r) for r in rows) + "\n")
    records, bad = read_replies(path)
    assert bad == [] and [(r.turn, r.text) for r in records] == [
        (0, "Hi, how are you?"),
        (1, "Ok."),
    ]
    labelled = write(tmp_path / "l.csv", f"text{separator}helping\nTry this, then.{separator}1\n")
    data = read_labelled_csv(labelled, rubric)
    assert data.texts == ["Try this, then."] and data.labels["helping"] == [1]


def test_a_csv_without_a_text_column_names_the_columns_it_has(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "reply,turn\nHello,0\n")
    with pytest.raises(EvaluationError, match=r"no 'text' column \(its header row has 'reply'"):
        read_replies(path)


def test_an_unusable_out_folder_is_refused_before_scoring(
    tmp_path: Path, rubric: Rubric, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(tmp_path / "t.jsonl", json.dumps(TRANSCRIPT) + "\n")
    a_file = write(tmp_path / "taken", "")
    scorer = DictatedScorer()
    with pytest.raises(EvaluationError, match="is a file; give a folder"):
        evaluate_file(source, rubric, a_file, scorer=scorer)
    assert scorer.contexts == []  # nothing was scored, so nothing was lost
    cli = parser()
    args = cli.parse_args(["evaluate", str(source), "--out", str(a_file)])
    assert args.handler(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"rapport evaluate: --out {a_file} is a file; give a folder (it is created if missing)"
    )
    args = cli.parse_args(["evaluate", str(source), "--out", str(a_file / "sub")])
    assert args.handler(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"rapport evaluate: cannot create the output folder {a_file / 'sub'}: ")
    assert err.endswith("choose a folder you can write to") and "Errno" not in err


def test_help_texts_show_a_plain_percent_sign(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["agreement", "--help"])
    out = capsys.readouterr().out
    assert "95% interval" in out and "%%" not in out
    with pytest.raises(SystemExit):
        parser().parse_args(["evaluate", "--help"])
    assert "%%" not in capsys.readouterr().out


def test_a_mistyped_input_leaves_no_out_folder_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    args = parser().parse_args(["evaluate", str(tmp_path / "typo.jsonl"), "--out", str(out)])
    assert args.handler(args) == 2
    assert "typo.jsonl is not a file" in capsys.readouterr().err
    assert not out.exists()
