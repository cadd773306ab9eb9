"""Where converted GGUF models are cached (no model is loaded here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.models import hf


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAPPORT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _gguf(folder: Path, content: bytes, mtime: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Tiny.Q4_1.gguf"
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


def test_the_same_file_unpacked_again_elsewhere_reuses_its_conversion(
    tmp_path: Path, cache: Path
) -> None:
    first = _gguf(tmp_path / "venv-a", b"GGUF weights", 1_000)
    again = _gguf(tmp_path / "venv-b", b"GGUF weights", 2_000)
    changed = _gguf(tmp_path / "venv-c", b"GGUF other weights", 1_000)

    assert hf._converted_dir(first) == hf._converted_dir(again)
    assert hf._converted_dir(first) != hf._converted_dir(changed)
    assert hf._converted_dir(first).parent == cache / "models"
    assert hf._converted_dir(first).name.startswith("Tiny.Q4_1-")


def test_a_new_conversion_removes_older_ones_of_the_same_file_name(cache: Path) -> None:
    models = cache / "models"
    kept = [
        "Tiny.Q4_1-0123456789ab",  # the new conversion
        "Tiny.Q4_1-0123456789ab-bfloat16",  # and its dtype copy
        "Other.Q8_0-aaaaaaaaaaaa",  # another model
        "Tiny.Q4_1-bbbbbbbbbbbb.partial",  # another process still converting
    ]
    removed = ["Tiny.Q4_1-fedcba987654", "Tiny.Q4_1-fedcba987654-bfloat16"]
    for name in kept + removed:
        (models / name).mkdir(parents=True)
        (models / name / "config.json").write_text("{}")

    hf._remove_older_conversions(models / kept[0])

    assert sorted(p.name for p in models.iterdir()) == sorted(kept)
