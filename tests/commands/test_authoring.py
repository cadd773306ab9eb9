"""`rapport validate` and `rapport schema`, through their handlers and through the real CLI."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from simulator.commands.authoring import register, schema_command, validate_command
from simulator.content.docs import AUTHORING_DOC
from simulator.content.schema import Scenario
from tests.cli import run_rapport

ROOT = Path(__file__).resolve().parent.parent.parent
GOOD = ROOT / "tests" / "loading" / "good"
BROKEN = ROOT / "tests" / "loading" / "broken"


@pytest.fixture(autouse=True)
def rapport_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("RAPPORT_HOME", str(home))
    return home


def run_validate(*paths: Path | str) -> int:
    return validate_command(argparse.Namespace(paths=[str(p) for p in paths]))


def test_register_adds_both_commands() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["validate", "a.yaml", "b"])
    assert args.handler is validate_command and args.paths == ["a.yaml", "b"]
    assert parser.parse_args(["schema", "rubric"]).handler is schema_command
    with pytest.raises(SystemExit):
        parser.parse_args(["schema", "persona"])


def test_valid_files(capsys: pytest.CaptureFixture[str]) -> None:
    # mini-rubric is passed too, so extra-patients' rubric (compassionate-leadership) must come
    # from the shipped rubrics.
    assert run_validate(GOOD) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"ok {GOOD / 'extra-patients.yaml'} (extra-patients v1)",
        f"ok {GOOD / 'mini-rubric.yaml'} (mini-rubric v2)",
    ]
    assert err == ""


def test_invalid_file_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_validate(GOOD / "extra-patients.yaml", BROKEN / "bad-enum.yaml") == 1
    out, err = capsys.readouterr()
    assert out.startswith("ok ")
    assert f"{BROKEN / 'bad-enum.yaml'}: line 10: difficulty: expected" in err


def test_rubric_told_apart_by_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_validate(BROKEN / "rubric-scale-missing-0.yaml") == 1
    assert "line 5: scale: must name exactly 0, 1, 2 and 3" in capsys.readouterr().err


def test_missing_path_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_validate(GOOD / "extra-patients.yaml", "no/such/file.yaml") == 2
    out, err = capsys.readouterr()
    assert "no/such/file.yaml: no such file or folder" in err
    assert out.startswith("ok ")  # the other files are still checked


def test_id_must_match_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    renamed = tmp_path / "renamed.yaml"
    shutil.copy(GOOD / "extra-patients.yaml", renamed)
    assert run_validate(renamed) == 1
    assert "id 'extra-patients' does not match the file name 'renamed.yaml'" in (
        capsys.readouterr().err
    )


def test_unknown_rubric_and_early_keyword(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (GOOD / "extra-patients.yaml").read_text()
    text = text.replace("rubric: compassionate-leadership", "rubric: kindness")
    text = text.replace("Same as always.", "Same as always. The nursery rang again.")
    file = tmp_path / "extra-patients.yaml"
    file.write_text(text)
    assert run_validate(file) == 1
    err = capsys.readouterr().err
    assert "rubric: 'kindness' is not a known rubric; available: compassionate-leadership" in err
    assert (
        "persona.mood.states.guarded.beats.asked[0]: uses nursery, a keyword of "
        "hidden_concerns[0] (revealed_at: opening-up)" in err
    )


def test_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_validate(tmp_path) == 0
    assert "no .yaml files in this folder" in capsys.readouterr().err


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_command(argparse.Namespace(kind="scenario")) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == Scenario.model_json_schema()
    assert {"persona", "facilitator_notes"} <= set(schema["properties"])
    assert schema_command(argparse.Namespace(kind="rubric")) == 0
    assert "dimensions" in json.loads(capsys.readouterr().out)["properties"]


def test_worked_example_in_the_guide_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = AUTHORING_DOC.read_text()
    block = re.search(r"## A short worked example\s+```yaml\n(.*?)```", guide, re.DOTALL)
    assert block is not None
    example = tmp_path / "late-again.yaml"
    example.write_text(block.group(1))
    assert run_validate(example) == 0, capsys.readouterr().err


def test_real_cli_validate(rapport_home: Path) -> None:
    done = run_rapport(
        "validate", str(GOOD), str(BROKEN / "unknown-key-personna.yaml"), home=rapport_home
    )
    assert done.returncode == 1
    assert "ok " in done.stdout and "(extra-patients v1)" in done.stdout
    assert "line 13: personna: unknown field; did you mean persona?" in done.stderr
    assert "Traceback" not in done.stderr


def test_real_cli_schema(rapport_home: Path) -> None:
    done = run_rapport("schema", "rubric", home=rapport_home)
    assert done.returncode == 0
    assert json.loads(done.stdout)["title"] == "Rubric"


def test_real_cli_validate_reports_every_file_of_a_broken_folder(
    tmp_path: Path, rapport_home: Path
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    good = (GOOD / "extra-patients.yaml").read_text()
    (folder / "extra-patients.yaml").write_text(good)
    (folder / "bell.yaml").write_text(good.replace("Sam Patel", "Sam\x07 Patel"))
    (folder / "form-feed.yaml").write_text(good.replace("version: 1", "version: 1\x0c"))
    (folder / "nul.yaml").write_bytes(b"id: nul\x00\n")
    (folder / "latin1.yaml").write_bytes(b"id: caf\xe9\n")
    (folder / "folder.yaml").mkdir()
    os.mkfifo(folder / "pipe.yaml")
    done = run_rapport("validate", str(folder), home=rapport_home)
    assert done.returncode == 1
    assert done.stdout == f"ok {folder / 'extra-patients.yaml'} (extra-patients v1)\n"
    lines = done.stderr.splitlines()
    assert f"{folder / 'bell.yaml'}: line 14, column 12: the character U+0007 BEL (bell)" in (
        done.stderr
    )
    assert f"{folder / 'form-feed.yaml'}: line 3, column 11: the character U+000C FF" in (
        done.stderr
    )
    assert f"{folder / 'nul.yaml'}: line 1, column 8: the character U+0000 NUL" in done.stderr
    assert f"{folder / 'latin1.yaml'}: line 1: the file is not UTF-8 text" in done.stderr
    assert f"{folder / 'folder.yaml'}: this is a folder, not a file" in done.stderr
    assert f"{folder / 'pipe.yaml'}: this is a named pipe (FIFO), not a regular file" in (
        done.stderr
    )
    assert len(lines) == 6  # one line per broken file, nothing else
    assert "Traceback" not in done.stderr


def test_real_cli_validate_refuses_a_fifo_or_device_unread(
    tmp_path: Path, rapport_home: Path
) -> None:
    pipe = tmp_path / "scenario.yaml"
    os.mkfifo(pipe)
    done = run_rapport("validate", str(pipe), "/dev/zero", home=rapport_home)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{pipe}: this is a named pipe (FIFO), not a regular file, so it was not read; give the "
        "path of one .yaml file",
        "/dev/zero: this is a device, not a regular file, so it was not read; give the path of "
        "one .yaml file",
    ]


def test_validate_goes_on_after_an_unforeseen_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import simulator.content.loading as loading

    real = loading.load_file

    def load_file(path: Path, kind: loading.Kind | None = None) -> object:
        if Path(path).name == "extra-patients.yaml":
            raise MemoryError("simulated")
        return real(path, kind)

    monkeypatch.setattr(loading, "load_file", load_file)
    assert run_validate(GOOD) == 1
    out, err = capsys.readouterr()
    assert out == f"ok {GOOD / 'mini-rubric.yaml'} (mini-rubric v2)\n"
    assert err == (
        f"{GOOD / 'extra-patients.yaml'}: could not be read (MemoryError: simulated); this is a "
        "bug in Rapport: please report it with the file\n"
    )
