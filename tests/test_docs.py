"""docs/authoring.md carries a field reference generated from the schema; it must not drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.content.docs import AUTHORING_DOC, END, START, field_reference, main, render


def test_authoring_guide_reference_is_up_to_date() -> None:
    current = AUTHORING_DOC.read_text(encoding="utf-8")
    assert render(current) == current, "run: python -m simulator.content.docs"


def test_reference_covers_every_model() -> None:
    reference = field_reference()
    for model in ["Scenario", "Persona", "HiddenConcern", "Mood", "MoodState", "TrustRules",
                  "Rubric", "Dimension", "Pitfall", "Exemplar"]:  # fmt: skip
        assert f"### {model}\n" in reference
    assert "| `revealed_at` | text | **required** | Mood state from which" in reference
    assert "| `max_turns` | whole number (1 to 50) | `10` |" in reference
    assert "[MoodState](#moodstate)" in reference


def test_main_rewrites_and_checks(tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text(f"# Guide\n\n{START}\nstale\n{END}\ntail\n")
    assert main(["--check", "--path", str(doc)]) == 1
    assert main(["--path", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith(f"# Guide\n\n{START}\n## Field reference")
    assert text.endswith(f"{END}\ntail\n") and "stale" not in text
    assert main(["--check", "--path", str(doc)]) == 0


def test_missing_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text("# no markers\n")
    assert main(["--path", str(doc)]) == 2
    assert "needs <!-- reference:start -->" in capsys.readouterr().err
