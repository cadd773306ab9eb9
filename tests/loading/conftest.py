"""Keep every loading test away from the real per-user data folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def rapport_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "rapport-home"
    monkeypatch.setenv("RAPPORT_HOME", str(home))
    monkeypatch.setenv("RAPPORT_CACHE", str(tmp_path / "rapport-cache"))
    return home
