"""The real CLI (`python -m simulator`) driven with scripted input, on the scripted model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def rapport(*args: str, stdin: str = "", home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RAPPORT_MODEL": "scripted",
        "RAPPORT_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "lines.txt"
    path.write_text("How are you doing, Sam?\n\nThat sounds exhausting.\n", encoding="utf-8")
    return path


def break_saved_scenarios(home: Path) -> None:
    """Saved scenarios that cannot load: a bell character, a NUL, a FIFO named like one."""
    folder = home / "scenarios"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bell.yaml").write_text("id: bell\x07\nversion: 1\n", encoding="utf-8")
    (folder / "nul.yaml").write_bytes(b"id: nul\x00\n")
    os.mkfifo(folder / "pipe.yaml")


@pytest.mark.slow
def test_run_json_prints_one_object_in_the_fixed_shape(script: Path, tmp_path: Path) -> None:
    break_saved_scenarios(tmp_path)  # one broken saved scenario never stops the others
    result = rapport(
        "run",
        "--scenario",
        "workload-conflict",
        "--script",
        str(script),
        "--seed",
        "4",
        "--json",
        home=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert {"scenario", "model", "start_trust", "turns", "debrief"} <= set(payload)
    assert payload["scenario"] == "workload-conflict" and payload["model"] == "scripted"
    assert [t["learner"] for t in payload["turns"]] == [
        "How are you doing, Sam?",
        "That sounds exhausting.",
    ]
    turn = payload["turns"][0]
    assert set(turn["scores"]) == {"attending", "understanding", "empathising", "helping"}
    assert {"level", "evidence", "tip"} <= set(turn["scores"]["attending"])
    assert turn["source"] in ("model", "fallback") and turn["mood"]
    assert "turn 1" in result.stderr
    assert (tmp_path / "rapport.sqlite3").is_file()


@pytest.mark.slow
def test_run_plain_prints_the_transcript_and_debrief(script: Path, tmp_path: Path) -> None:
    result = rapport(
        "run", "--scenario", "workload-conflict", "--script", str(script), home=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Sam: Do you actually need me for something?")
    assert "You: That sounds exhausting." in result.stdout
    assert "Debrief" in result.stdout and "trust" in result.stdout


@pytest.mark.slow
def test_chat_reads_replies_until_end(tmp_path: Path) -> None:
    result = rapport(
        "chat",
        "--scenario",
        "workload-conflict",
        stdin="\nWhat's been going on this week?\n/end\n",
        home=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Extra patients, again" in result.stdout
    assert "Type what you would say to Sam before sending." in result.stdout
    assert "attending" in result.stdout and "Debrief" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "--scenario", "workload-conflikt", "--script", "README.md"],
            "did you mean workload-conflict",
        ),
        (
            ["run", "--scenario", "workload-conflict", "--script", "missing.txt"],
            "cannot read the script",
        ),
        (
            ["persona-check", "--scenario", "workload-conflict", "--scripts", "nowhere"],
            "is not a folder",
        ),
    ],
)
def test_user_errors_are_one_clear_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = rapport(*args, home=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_missing_embedded_model_says_what_to_run(script: Path, tmp_path: Path) -> None:
    env = {**os.environ, "RAPPORT_HOME": str(tmp_path), "RAPPORT_EMBEDDED_GGUF": "/nowhere.gguf"}
    env.pop("RAPPORT_MODEL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "run",
            "--scenario",
            "workload-conflict",
            "--script",
            str(script),
        ],
        text=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 1
    assert "python -m simulator.models.embedded" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_names_why_a_broken_saved_scenario_cannot_start(script: Path, tmp_path: Path) -> None:
    break_saved_scenarios(tmp_path)
    result = rapport("run", "--scenario", "bell", "--script", str(script), home=tmp_path)
    assert result.returncode != 0
    assert "scenario 'bell' could not be loaded" in result.stderr
    assert "line 1, column 9: the character U+0007 BEL (bell) is not allowed in YAML" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
