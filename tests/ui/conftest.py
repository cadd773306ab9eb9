"""UI tests: an isolated RAPPORT_HOME, the scripted persona model and the real scorer."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.store.database import Store
from simulator.ui.context import AppContext


@pytest.fixture(autouse=True)
def rapport_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "rapport-home"
    monkeypatch.setenv("RAPPORT_HOME", str(home))
    monkeypatch.setenv("RAPPORT_MODEL", "scripted")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in ("RAPPORT_ADMIN_USER", "RAPPORT_ADMIN_PASSWORD", "RAPPORT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    store = Store(tmp_path / "sessions.sqlite3")
    yield AppContext(store=store, downloads=tmp_path / "downloads")
    store.close()


@pytest.fixture(autouse=True)
def _downloads(tmp_path: Path) -> None:
    (tmp_path / "downloads").mkdir(exist_ok=True)


@pytest.fixture
def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
