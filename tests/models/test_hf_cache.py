"""Where converted GGUF models are cached (no model is loaded here)."""

from __future__ import annotations

import os
import time
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


def test_a_new_conversion_removes_only_the_ones_it_replaces(tmp_path: Path, cache: Path) -> None:
    gguf = _gguf(tmp_path / "venv", b"new weights", 1_000)
    models = cache / "models"
    folders = {
        "Tiny.Q4_1-0123456789ab": None,  # the new conversion
        "Tiny.Q4_1-0123456789ab-bfloat16": None,  # and its dtype copy
        "Tiny.Q4_1-111111111111": str(gguf.resolve()),  # this path before the file changed
        "Tiny.Q4_1-111111111111-bfloat16": None,  # its dtype copy
        "Tiny.Q4_1-222222222222": str(tmp_path / "elsewhere" / "Tiny.Q4_1.gguf"),  # another file
        "Tiny.Q4_1-333333333333": None,  # an earlier version's path-keyed folder, old
        "Tiny.Q4_1-444444444444": None,  # one just made by an earlier version: may be loading
        "Other.Q8_0-aaaaaaaaaaaa": None,  # another model
        "Tiny.Q4_1-bbbbbbbbbbbb.partial": None,  # another process still converting
    }
    for name, source in folders.items():
        (models / name).mkdir(parents=True)
        (models / name / "config.json").write_text("{}")
        if source is not None:
            (models / name / hf.SOURCE_FILE).write_text(source)
        if name != "Tiny.Q4_1-444444444444":
            old = time.time() - 2 * hf.STALE_AFTER_S
            os.utime(models / name, (old, old))

    hf._remove_older_conversions(models / "Tiny.Q4_1-0123456789ab", gguf)

    removed = {
        "Tiny.Q4_1-111111111111",
        "Tiny.Q4_1-111111111111-bfloat16",
        "Tiny.Q4_1-333333333333",
    }
    assert {p.name for p in models.iterdir()} == set(folders) - removed
