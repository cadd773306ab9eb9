"""Fuzz: what ``rapport evaluate`` and ``rapport agreement`` read (JSONL, JSON, CSV) raises only
their own user-facing errors, and what evaluate writes back out never fails on what it read.
About 2,100 generated inputs, the same every run; a dictated scorer stands in for the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.content.loading import get_rubric
from simulator.evaluation.agreement import AgreementError, run_agreement
from simulator.evaluation.inputs import EvaluationError, read_replies
from simulator.evaluation.results import replies_csv, replies_json, transcripts_csv
from tests.fakes import DictatedScorer, transcript_record
from tests.fuzz import characters, fuzz, json_values, mutate, noisy_text

RUBRIC = get_rubric("compassionate-leadership")
DIMENSIONS = RUBRIC.dimension_ids
TURN = {"index": 0, "learner": "How are you?", "persona": "Fine.", "mood": "guarded", "trust": 0.3}
TRANSCRIPT = json.dumps(transcript_record([TURN, {**TURN, "index": 1, "learner": "Go on."}]))
REPLIES_CSV = 'transcript_id,turn,text,context\nt1,0,How are you?,Hi\nt1,1,"Go on, then.",Hm\n'
LABELLED_CSV = (
    "text,context,conv_id,attending,helping\n"
    "How are you?,Hi,c1,1,0\nLet me help.,,c1,0,1\nGo on.,Hm,c2,1,\n"
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def evaluate_reads_or_says_why(path: Path) -> None:
    try:
        records, bad = read_replies(path)
    except EvaluationError as error:
        assert str(error)
        return
    assert all(m.line >= 1 and m.reason for m in bad)
    # Everything read must also be writable as reports.
    scores = DictatedScorer().score_batch([r.text for r in records], [r.context for r in records])
    replies_csv(records, scores, DIMENSIONS)
    replies_json(records, scores).encode("utf-8")
    transcripts_csv(records, scores, DIMENSIONS).encode("utf-8")


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


transcripts = st.builds(
    lambda turns, extra: json.dumps(
        {**json.loads(TRANSCRIPT), "turns": turns, **extra}, ensure_ascii=False
    ),
    st.lists(st.dictionaries(st.sampled_from(sorted(TURN)), json_values) | json_values, max_size=3),
    st.dictionaries(st.sampled_from(["session_id", "opening_line", "model"]), json_values),
)
jsonl = st.lists(transcripts | mutate(TRANSCRIPT) | noisy_text, min_size=1, max_size=4).map(
    "\n".join
)
json_documents = (
    st.lists(transcripts, max_size=3).map(lambda items: "[\n" + ",\n".join(items) + "\n]")
    | mutate(json.dumps(json.loads(TRANSCRIPT), indent=2))
    | st.integers(1, 5000).map(lambda n: "[" * n + "]" * n)
    | json_values.map(json.dumps)
)


@fuzz(800)
@given(text=jsonl | json_documents, suffix=st.sampled_from([".jsonl", ".json", ".txt"]))
def test_transcripts_as_json(folder: Path, text: str, suffix: str) -> None:
    evaluate_reads_or_says_why(write(folder, f"in{suffix}", text))


cells = st.text(st.sampled_from(list(',;\t"\r\n =+-@x1')) | characters, max_size=12)
csv_tables = st.lists(st.lists(cells, max_size=5), min_size=1, max_size=6).map(
    lambda rows: "\n".join(",".join(row) for row in rows)
)


@fuzz(800)
@given(
    text=mutate(REPLIES_CSV)
    | csv_tables.map(lambda body: "transcript_id,turn,text\n" + body)
    | csv_tables
    | st.integers(131_000, 140_000).map(lambda n: 'text\n"' + "a" * n + '"\n'),
    raw=st.none() | st.binary(max_size=100),
)
def test_replies_as_csv(folder: Path, text: str, raw: bytes | None) -> None:
    evaluate_reads_or_says_why(write(folder, "in.csv", raw if raw is not None else text))


@fuzz(500)
@given(
    text=mutate(LABELLED_CSV)
    | csv_tables.map(lambda body: "text,attending,empathising\n" + body)
    | csv_tables
)
def test_labelled_csv(folder: Path, text: str) -> None:
    path = write(folder, "labelled.csv", text)
    try:
        report = run_agreement(path, RUBRIC, DictatedScorer(), bootstrap=4)
    except AgreementError as error:
        assert str(error)
        return
    assert report.n >= 1
    json.dumps(report.summary_json())
