"""``rapport evaluate --out``: never overwrites without --force, never writes through a symbolic
link, never writes over its own input. Refusals come before the scorer loads, so the real CLI is
driven for them; the runs that do score use a dictated scorer in-process."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from simulator.commands import evaluation as commands
from simulator.content.schema import Rubric
from simulator.evaluation.batch import REPORT_FILES, evaluate_file
from simulator.evaluation.inputs import EvaluationError
from simulator.files.outputfiles import OutputFolder, OutputRefused
from tests.cli import run_rapport
from tests.fakes import DictatedScorer

ROOT = Path(__file__).resolve().parents[2]
REPLIES = "transcript_id,turn,text\nt1,0,How are you doing?\nt1,1,That sounds hard.\n"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "replies-in.csv"
    path.write_text(REPLIES, encoding="utf-8")
    return path


@pytest.fixture
def fake_scorer(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.services import Services

    # The commands get their scorer from the composition root: replace it there (its cache is
    # process-wide, so building a fake through it would leak into later tests).
    monkeypatch.setattr(Services, "scorer", lambda self, rubric=None: DictatedScorer())


def run_handler(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return int(args.handler(args))


def fill(folder: Path) -> dict[str, str]:
    """Earlier reports in ``folder``; returns what each holds."""
    folder.mkdir(exist_ok=True)
    held = {}
    for name in REPORT_FILES:
        held[name] = f"earlier {name}"
        (folder / name).write_text(held[name], encoding="utf-8")
    return held


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def test_existing_reports_are_kept_without_force(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    held = fill(out)
    done = run_rapport("evaluate", str(source), "--out", str(out), home=tmp_path / "home")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"rapport evaluate: --out {out} already holds replies.csv, replies.json, "
        "transcripts.csv, dimensions.csv, report.html, summary.json; add --force to replace "
        "them, or choose another folder"
    )
    assert contents(out) == held


def test_force_replaces_the_reports(
    source: Path, tmp_path: Path, fake_scorer: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    fill(out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert run_handler("evaluate", str(source), "--out", str(out), "--force") == 0
    assert "2 replies (2 scored) from 1 transcript" in capsys.readouterr().out
    after = contents(out)
    assert after["notes.txt"] == "mine"  # only the report files are touched
    assert json.loads(after["summary.json"])["n_replies"] == 2
    assert set(after) == {*REPORT_FILES, "notes.txt"}  # no partial files left behind


def test_an_out_folder_that_is_a_link_is_refused_even_with_force(
    source: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    held = fill(elsewhere)
    link = tmp_path / "out"
    link.symlink_to(elsewhere, target_is_directory=True)
    done = run_rapport("evaluate", str(source), "--out", str(link), "--force", home=tmp_path / "h")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"rapport evaluate: --out {link} is a symbolic link; give the folder it points to, or "
        "another folder (reports are never written through a link)"
    )
    assert contents(elsewhere) == held


def test_a_report_file_that_is_a_link_is_refused_even_with_force(
    source: Path, tmp_path: Path
) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").symlink_to(precious)
    done = run_rapport("evaluate", str(source), "--out", str(out), "--force", home=tmp_path / "h")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"rapport evaluate: {out / 'report.html'} is a symbolic link; remove it or choose "
        "another folder (reports are never written through a link)"
    )
    assert precious.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("how", ["same path", "hard link", "symbolic link"])
def test_the_input_is_never_written_over(tmp_path: Path, how: str) -> None:
    out = tmp_path / "d"
    out.mkdir()
    inside = out / "replies.csv"
    inside.write_text(REPLIES, encoding="utf-8")
    given = inside
    if how == "hard link":
        given = tmp_path / "alias.csv"
        os.link(inside, given)
    elif how == "symbolic link":
        given = tmp_path / "alias.csv"
        given.symlink_to(inside)
    done = run_rapport("evaluate", str(given), "--out", str(out), "--force", home=tmp_path / "h")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"rapport evaluate: {given} is an input, and --out {out} would write replies.csv over "
        "it; choose another folder for the reports"
    )
    assert inside.read_text(encoding="utf-8") == REPLIES
    assert sorted(p.name for p in out.iterdir()) == ["replies.csv"]


def test_the_library_refuses_too(source: Path, tmp_path: Path, rubric: Rubric) -> None:
    out = tmp_path / "out"
    fill(out)
    with pytest.raises(EvaluationError, match=r"already holds replies\.csv"):
        evaluate_file(source, rubric, out, scorer=DictatedScorer())
    result = evaluate_file(source, rubric, out, scorer=DictatedScorer(), force=True)
    assert result.n_replies == 2


def test_a_link_swapped_in_after_the_checks_is_replaced_not_followed(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", encoding="utf-8")
    out = tmp_path / "out"
    folder = OutputFolder(out, ["a.csv"])
    (out / "a.csv").symlink_to(precious)  # after the checks
    folder.write_text("a.csv", "new")
    assert precious.read_text(encoding="utf-8") == "keep me"
    assert not (out / "a.csv").is_symlink()
    assert (out / "a.csv").read_text(encoding="utf-8") == "new"


def test_a_folder_swapped_for_a_link_after_the_checks_gets_nothing(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    folder = OutputFolder(out, ["a.csv"])
    out.rmdir()
    out.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputRefused, match="became a symbolic link"):
        folder.write_text("a.csv", "new")
    assert list(elsewhere.iterdir()) == []
