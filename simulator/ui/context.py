"""What every tab shares: the session store, the model choice, the admin login, the limits."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from simulator.services import Services
from simulator.store.database import Store
from simulator.ui.auth import AdminGate
from simulator.ui.throttle import AttemptLimiter

DEFAULT_CONCURRENCY = 4
"""Turns that may wait on the persona model at once: the in-process model decodes the ones that
queue up together in one batch, so letting a few in beats making them wait in Gradio's queue."""
MAX_NAME_CHARS = 80
DEFAULT_MAX_UPLOAD_MB = 50
"""Gradio refuses larger uploads before they reach a handler (Evaluate's own limit is 50 MB)."""
ANONYMOUS = "anonymous"


class SettingsError(ValueError):
    """An environment setting the app cannot use; the message says what to fix."""


def _whole_number_setting(name: str, default: int, high: int, meaning: str, note: str = "") -> int:
    """An environment setting that must be a whole number from 1 to ``high``.

    Raises:
        SettingsError: The value is set but is not such a number; the message says what to give.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise SettingsError(
            f"{name}={raw!r}: give {meaning} from 1 to {high} (default {default}){note}"
        )
    return int(raw)


def concurrency_from_env() -> int:
    """``RAPPORT_CONCURRENCY`` (default 4): how many requests run at once.

    Raises:
        SettingsError: The value is not a whole number from 1 to 64.
    """
    return _whole_number_setting(
        "RAPPORT_CONCURRENCY",
        DEFAULT_CONCURRENCY,
        64,
        "a whole number",
        "; turns beyond it wait in the queue",
    )


def max_upload_mb_from_env() -> int:
    """``RAPPORT_MAX_UPLOAD_MB`` (default 50): the largest upload the server accepts.

    Raises:
        SettingsError: The value is not a whole number from 1 to 1024.
    """
    return _whole_number_setting(
        "RAPPORT_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB, 1024, "a whole number of megabytes"
    )


def trusted_header_from_env() -> str | None:
    """``RAPPORT_TRUSTED_USER_HEADER``: the request header a reverse proxy puts the user in.

    Raises:
        SettingsError: The value is not a plain header name.
    """
    raw = os.environ.get("RAPPORT_TRUSTED_USER_HEADER", "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", raw):
        raise SettingsError(
            f"RAPPORT_TRUSTED_USER_HEADER={raw!r}: give a header name such as X-Forwarded-User"
        )
    return raw.lower()


def clean_name(name: object) -> str:
    """A trainee name as stored: trimmed, single-spaced, at most 80 characters ('' if none)."""
    if not isinstance(name, str):
        return ""
    return re.sub(r"\s+", " ", name).strip()[:MAX_NAME_CHARS]


@dataclass
class AppContext:
    """Shared, read-mostly objects for every handler.

    Attributes:
        store: The session database (thread-safe; one per process).
        model: Persona model spec for new sessions (None: ``RAPPORT_MODEL`` or embedded).
        gate: The facilitator login.
        concurrency: Requests that run at once (``queue(default_concurrency_limit=...)``).
        downloads: Folder for transcript and report files offered for download.
        warming: Set once the background warm-up has loaded the model (None: no warm-up).
        limiter: Counts failed sign-ins (facilitators and trainees) to slow guessing down.
        trusted_header: Lower-case name of the header a reverse proxy sets to the signed-in
            user; when set, trainees are who that header says and need no passphrase.
        max_upload_mb: The largest upload the server accepts (``launch(max_file_size=...)``).
    """

    store: Store
    model: str | None = None
    gate: AdminGate = field(default_factory=AdminGate)
    concurrency: int = DEFAULT_CONCURRENCY
    downloads: Path | None = None
    warming: threading.Event | None = None
    limiter: AttemptLimiter = field(default_factory=AttemptLimiter)
    trusted_header: str | None = None
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB

    @property
    def services(self) -> Services:
        """The composition root for this app: its store and persona model spec."""
        return Services(self.store, self.model)

    def wait_until_warm(self, seconds: float = 600) -> None:
        """Block until the warm-up is done, so a model is never loaded twice at once."""
        if self.warming is not None:
            self.warming.wait(seconds)

    @property
    def warm(self) -> bool:
        """Whether the model is loaded (or no warm-up was started)."""
        return self.warming is None or self.warming.is_set()

    def download_dir(self) -> Path:
        """A private temporary folder for files handed to the browser (created on first use)."""
        if self.downloads is None:
            import tempfile

            self.downloads = Path(tempfile.mkdtemp(prefix="rapport-downloads-"))
        return self.downloads
