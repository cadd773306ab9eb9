"""Inputs that once broke evaluate and agreement (deep JSON, huge or broken CSV fields, missing
labels), and exports that a spreadsheet would have run as formulas."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
from pathlib import Path

import pytest

from simulator.commands import evaluation as commands
from simulator.content.schema import Rubric
from simulator.evaluation.agreement import AgreementError, read_labelled_csv, run_agreement
from simulator.evaluation.batch import evaluate_file
from simulator.evaluation.csvfiles import FORMULA_STARTS, safe_writer, spreadsheet_safe
from simulator.evaluation.inputs import EvaluationError, read_replies
from simulator.scoring.types import DimensionScore, ReplyScore
from tests.cli import run_rapport
from tests.fakes import DictatedScorer, transcript_record

ROOT = Path(__file__).resolve().parents[2]
DIMENSIONS = ("attending", "understanding", "empathising", "helping")


class EchoScorer:
    """Quotes every reply back as its evidence, as a scorer quoting the reply would."""

    def score_batch(
        self, replies: list[str], contexts: list[str] | None = None
    ) -> list[ReplyScore]:
        return [
            ReplyScore(
                text=reply,
                rubric_id="compassionate-leadership",
                rubric_version=1,
                dimensions={
                    d: DimensionScore(level=1, probability=0.5, evidence=[reply])
                    for d in DIMENSIONS
                },
                pitfalls=["=pitfall"],
            )
            for reply in replies
        ]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def turn(index: int, learner: str) -> dict[str, object]:
    return {"index": index, "learner": learner, "persona": "Hm.", "mood": "guarded", "trust": 0.3}


# --------------------------------------------------------------------------- deep JSON


def test_deeply_nested_json_is_refused_with_a_message(tmp_path: Path, rubric: Rubric) -> None:
    deep = write(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(EvaluationError) as caught:
        evaluate_file(deep, rubric, tmp_path / "out", scorer=DictatedScorer())
    assert "line 1: the JSON is nested too deeply to read" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_a_deep_jsonl_line_is_skipped_and_the_others_read(tmp_path: Path) -> None:
    good = json.dumps(transcript_record([turn(0, "How are things?")]))
    deep = '{"a": ' + "[" * 50_000 + "]" * 50_000 + "}"
    path = write(tmp_path / "t.jsonl", f"{deep}\n{good}\n{'1' * 5000}\n")
    records, bad = read_replies(path)
    assert [r.text for r in records] == ["How are things?"]
    assert [(m.line, m.reason[:38]) for m in bad] == [
        (1, "the JSON is nested too deeply to read "),
        (3, "a number in the JSON has thousands of "),
    ]


def test_half_a_character_is_refused_not_written(tmp_path: Path) -> None:
    # A lone \ud83d escape decodes to text that cannot be written back as UTF-8.
    good = json.dumps(transcript_record([turn(0, "Fine?")]))
    half = json.dumps(transcript_record([turn(0, "Oops \ud83d")]))
    records, bad = read_replies(write(tmp_path / "t.jsonl", f"{half}\n{good}\n"))
    assert [r.text for r in records] == ["Fine?"]
    assert [(m.line, m.reason) for m in bad] == [
        (
            1,
            "a \\u escape makes half of a character (U+D83D, e.g. half an emoji); write the "
            "character itself, or both halves of its escape",
        )
    ]


# --------------------------------------------------------------------------- CSV fields


def test_a_csv_field_over_128_kib_is_a_clear_error(tmp_path: Path, rubric: Rubric) -> None:
    path = write(tmp_path / "r.csv", 'text,turn\nHello,0\n"' + "a" * 200_000 + '",1\n')
    with pytest.raises(EvaluationError) as caught:
        read_replies(path)
    assert str(caught.value) == (
        f"{path}: line 3: a field is longer than 128 KiB; a reply is a few hundred characters, "
        "so a quote is probably left open on this line or just before it: close it, or "
        "shorten the text"
    )
    labelled = write(tmp_path / "l.csv", 'text,attending\n"' + "a" * 200_000 + '",1\n')
    with pytest.raises(AgreementError, match=r"l\.csv: line 2: a field is longer than 128 KiB"):
        read_labelled_csv(labelled, rubric)


def test_an_unterminated_quote_is_reported_not_merged(tmp_path: Path, rubric: Rubric) -> None:
    path = write(tmp_path / "r.csv", 'text,turn\nFirst,0\n"Second,1\nThird,2\nFourth,3\n')
    records, bad = read_replies(path)
    assert [r.text for r in records] == ["First"]
    assert [(m.line, m.reason) for m in bad] == [
        (
            3,
            'a quoted field opened on line 3 is never closed (a closing " is missing), so '
            "everything from there to the end of the file (line 5) was read as one field; add "
            "the missing quote",
        )
    ]
    labelled = write(tmp_path / "l.csv", 'text,attending\nHow are you?,1\n"Go on,0\nOk,1\n')
    data = read_labelled_csv(labelled, rubric)
    assert data.texts == ["How are you?"]
    assert [(b.line, b.reason[:32]) for b in data.bad] == [(3, "a quoted field opened on line 3 ")]


def test_a_quote_closed_rows_later_is_reported_and_later_rows_kept(tmp_path: Path) -> None:
    text = 'text,turn\n"Open,0\nJoined,1\n"Closed" late,2\nAfter,3\n'
    records, bad = read_replies(write(tmp_path / "r.csv", text))
    assert [r.text for r in records] == ["After"]
    (skipped,) = bad
    assert skipped.line == 2
    assert skipped.reason.startswith("text follows a closing quote on line 4")
    assert "a quote opened on line 2 was probably never closed, which joined lines 2-4" in (
        skipped.reason
    )


def test_non_utf8_csv_names_the_line(tmp_path: Path, rubric: Rubric) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"text,attending\nok,1\ncaf\xe9,0\n")
    with pytest.raises(EvaluationError, match=r"r\.csv: line 3: the file is not UTF-8 text"):
        read_replies(path)
    with pytest.raises(AgreementError, match=r"r\.csv: line 3: the file is not UTF-8 text"):
        read_labelled_csv(path, rubric)


# --------------------------------------------------------------------------- missing labels


def test_rows_without_labels_are_counted_and_reported(tmp_path: Path, rubric: Rubric) -> None:
    path = write(
        tmp_path / "l.csv",
        "text,attending,helping\nHow are you?,1,0\nWhat happened?,,\nTell me more.,1,\n"
        "Let me help.,0,1\n",
    )
    report = run_agreement(path, rubric, DictatedScorer(), bootstrap=20)
    assert [(b.line, b.reason) for b in report.bad_rows] == [
        (3, "no label: attending, helping are all empty")
    ]
    assert report.n == 3
    assert report.dimensions["attending"].unlabelled == 0
    assert report.dimensions["helping"].unlabelled == 1
    assert report.dimensions["helping"].n == 2


def test_labels_that_are_no_level_are_reported(tmp_path: Path, rubric: Rubric) -> None:
    # "inf" once raised OverflowError (found by the fuzz test).
    path = write(tmp_path / "l.csv", "text,attending\nA,inf\nB,NaN\nC,1e400\nD,-1\nE,2.0\n")
    data = read_labelled_csv(path, rubric)
    assert data.texts == ["E"] and data.labels["attending"] == [2]
    assert [(b.line, b.reason) for b in data.bad] == [
        (2, "attending='inf' is not 0/1 or a level 0-3"),
        (3, "attending='NaN' is not 0/1 or a level 0-3"),
        (4, "attending='1e400' is not 0/1 or a level 0-3"),
        (5, "attending='-1' is not 0/1 or a level 0-3"),
    ]


def test_no_usable_row_is_refused_with_the_reasons(tmp_path: Path, rubric: Rubric) -> None:
    path = write(tmp_path / "l.csv", "text,attending\nHow are you?,\n,1\nFine,\n")
    scorer = DictatedScorer()
    with pytest.raises(AgreementError) as caught:
        run_agreement(path, rubric, scorer)
    assert str(caught.value) == (
        f"{path} has no usable rows: each needs a text and at least one label; every row was "
        "skipped: line 2: no label: attending is empty; line 3: missing text; line 4: no "
        "label: attending is empty"
    )
    assert scorer.contexts == []  # refused before anything was scored


def test_cli_agreement_prints_unlabelled_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from simulator.services import Services

    # The commands get their scorer from the composition root: replace it there (its cache is
    # process-wide, so building a fake through it would leak into later tests).
    monkeypatch.setattr(Services, "scorer", lambda self, rubric=None: DictatedScorer())
    path = write(
        tmp_path / "l.csv", "text,attending,helping\nHi?,1,0\nSo?,0,\nNo,,\nYes,1,1\nOk,0,1\n"
    )
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    args = parser.parse_args(["agreement", str(path)])
    assert args.handler(args) == 0
    err = capsys.readouterr().err
    assert "skipped line 4: no label: attending, helping are all empty" in err
    assert "helping: 1 of 4 rows have no label for it (left out of this dimension only)" in err


@pytest.mark.slow
def test_real_cli_agreement_refuses_an_unusable_file_without_a_traceback(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "l.csv", 'text,attending\nHow are you?,\n"Open quote,1\nOk,0\n')
    done = run_rapport("agreement", str(path), home=tmp_path / "home")
    assert done.returncode == 2
    assert done.stderr.startswith(f"rapport agreement: {path} has no usable rows")
    assert "line 3: a quoted field opened on line 3 is never closed" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_real_cli_refuses_a_fifo_input_without_waiting(tmp_path: Path) -> None:
    pipe = tmp_path / "in.csv"
    os.mkfifo(pipe)
    done = run_rapport(
        "evaluate", str(pipe), "--out", str(tmp_path / "out"), home=tmp_path / "home"
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"rapport evaluate: {pipe}: this is a named pipe (FIFO), not a regular file, so it was "
        "not read; give the path of a .json, .jsonl or .csv transcripts file"
    )
    done = run_rapport("agreement", str(pipe), home=tmp_path / "home")
    assert done.returncode == 2
    assert "named pipe (FIFO), not a regular file" in done.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- formula injection


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_formula_starts_get_a_quote(start: str) -> None:
    assert spreadsheet_safe(f"{start}1+2") == f"'{start}1+2"


def test_other_cells_are_unchanged() -> None:
    for value in ["Hello", " =1", "'=1", "", "1-2", "a=b"]:
        assert spreadsheet_safe(value) == value
    assert spreadsheet_safe(-0.5) == -0.5 and spreadsheet_safe(-3) == -3
    buffer = io.StringIO(newline="")
    safe_writer(buffer).writerows([["=A1", -1, "ok"], ["@x", 2.5, "\tTab"]])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["'=A1", "-1", "ok"],
        ["'@x", "2.5", "'\tTab"],
    ]


HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


def test_evaluate_csv_exports_are_safe_and_json_keeps_raw_text(
    tmp_path: Path, rubric: Rubric
) -> None:
    rows = "".join(
        f'"{tid}",{turn},"{text.replace(chr(34), chr(34) * 2)}","{ctx}"\n'
        for turn, (tid, text, ctx) in enumerate(
            zip(["=id", "+id", "-id", "@id"], HOSTILE, ["=c", "+c", "\tc", "\rc"], strict=True)
        )
    )
    source = write(tmp_path / "in.csv", "transcript_id,turn,text,context\n" + rows)
    out = tmp_path / "out"
    evaluate_file(source, rubric, out, scorer=EchoScorer())
    for name in ("replies.csv", "transcripts.csv", "dimensions.csv"):
        with (out / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not cell.startswith(FORMULA_STARTS), (name, cell)
    with (out / "replies.csv").open(encoding="utf-8", newline="") as handle:
        replies = list(csv.DictReader(handle))
    assert [r["text"] for r in replies] == [f"'{text}" for text in HOSTILE]
    assert [r["transcript_id"] for r in replies] == ["'=id", "'+id", "'-id", "'@id"]
    assert [r["context"] for r in replies] == ["'=c", "'+c", "'\tc", "'\rc"]
    assert replies[0]["attending_evidence"] == f"'{HOSTILE[0]}"
    assert replies[0]["pitfalls"] == "'=pitfall"
    assert replies[0]["attending_probability"] == "0.5"
    exported = json.loads((out / "replies.json").read_text(encoding="utf-8"))
    assert [r["score"]["text"] for r in exported] == HOSTILE
    assert exported[0]["transcript_id"] == "=id"


def test_every_csv_writer_goes_through_the_safe_writer() -> None:
    # One shared helper: a new csv.writer elsewhere would bypass the neutralising.
    offenders = []
    for path in (ROOT / "simulator").rglob("*.py"):
        if path.name == "csvfiles.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"csv\.(writer|DictWriter)\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
