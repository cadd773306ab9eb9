"""UI tests: an isolated RAPPORT_HOME, the scripted persona model and the real scorer."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(autouse=True)
def _fresh_scripted_model() -> None:
    """The scripted persona model is cached per process: start each test with nothing queued."""
    from simulator.models import ScriptedModel, load_model

    model = load_model("scripted")
    assert isinstance(model, ScriptedModel)
    model.clear()


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


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    # Without these, Chromium keeps trying hosts a closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (its own browser download cannot work
    offline)."""
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing at /usr/bin/chromium: install it with "
            "`apt-get update && apt-get install -y chromium` (Playwright's own download cannot "
            "work offline)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
