"""Where Rapport finds its shipped files and keeps its own data.

Shipped scenarios and rubrics live next to the ``simulator`` package (the repository root).
Everything Rapport writes (facilitators' scenarios, the session database, caches) goes under a
per-user folder that ``RAPPORT_HOME`` / ``RAPPORT_CACHE`` can redirect, e.g. for tests or a
shared training laptop. Folders are created only when asked for, never at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

_REPO_ROOT = Path(__file__).resolve().parents[2]

SHIPPED_SCENARIOS_DIR = _REPO_ROOT / "scenarios"
"""Scenarios that come with Rapport (read-only for users)."""

SHIPPED_RUBRICS_DIR = _REPO_ROOT / "rubrics"
"""Rubrics that come with Rapport (read-only for users)."""

APP_NAME = "rapport"


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The per-user data folder: ``$RAPPORT_HOME`` or the platform's user data folder.

    Returns:
        The folder, created if it did not exist.
    """
    override = os.environ.get("RAPPORT_HOME")
    base = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    return _ensure(base)


def cache_dir() -> Path:
    """The per-user cache folder: ``$RAPPORT_CACHE`` or the platform's user cache folder.

    Returns:
        The folder, created if it did not exist.
    """
    override = os.environ.get("RAPPORT_CACHE")
    base = Path(override).expanduser() if override else Path(platformdirs.user_cache_dir(APP_NAME))
    return _ensure(base)


def user_scenarios_dir() -> Path:
    """Where the app saves scenarios written by facilitators (``data_dir()/scenarios``).

    Returns:
        The folder, created if it did not exist.
    """
    return _ensure(data_dir() / "scenarios")


def default_db_path() -> Path:
    """The session database, ``data_dir()/rapport.sqlite3`` (the file itself is not created)."""
    return data_dir() / "rapport.sqlite3"


def user_rubrics_dir() -> Path:
    """Where facilitators' own rubrics live (``data_dir()/rubrics``).

    Returns:
        The folder, created if it did not exist.
    """
    return _ensure(data_dir() / "rubrics")
