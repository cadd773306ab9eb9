"""Rate limits on sign-in attempts: per client, per account and for the whole server.

Every wrong password or passphrase counts against the client's address and the account it was
for. The first few are free; after that each further try must wait twice as long as the last
(2 s, 4 s, 8 s ... up to 15 minutes), and failures are forgotten after a quiet quarter of an
hour. Across the whole server, more than 30 failures in a minute pause every sign-in for the
rest of that minute, which caps guessing from many addresses at once. Each refusal is logged at
WARNING on the ``simulator.ui.throttle`` logger (who, from where, why; never the secret).

State is in memory: a restart forgets it, and several server processes each keep their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

FREE_FAILURES = 5
BASE_DELAY_S = 2.0
MAX_DELAY_S = 900.0
FORGET_AFTER_S = 900.0
GLOBAL_FAILURES = 30
GLOBAL_WINDOW_S = 60.0
_MAX_TRACKED = 10_000


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0


class AttemptLimiter:
    """Counts failed sign-ins and says how long a further attempt must wait.

    Thread-safe: Gradio calls handlers from a thread pool.

    Args:
        clock: Seconds from a monotonic clock (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        free_failures: int = FREE_FAILURES,
        base_delay_s: float = BASE_DELAY_S,
        max_delay_s: float = MAX_DELAY_S,
        global_failures: int = GLOBAL_FAILURES,
        global_window_s: float = GLOBAL_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.global_failures = global_failures
        self.global_window_s = global_window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}
        self._recent: deque[float] = deque()

    def _delay(self, record: _Record) -> float:
        extra = record.failures - self.free_failures
        if extra < 0:
            return 0.0
        return min(self.max_delay_s, self.base_delay_s * 2**extra)

    def wait_s(self, keys: Iterable[str]) -> float:
        """Seconds before an attempt for these keys is allowed (0: allowed now)."""
        now = self._clock()
        with self._lock:
            while self._recent and now - self._recent[0] >= self.global_window_s:
                self._recent.popleft()
            wait = 0.0
            if len(self._recent) >= self.global_failures:
                wait = self._recent[0] + self.global_window_s - now
            for key in keys:
                record = self._records.get(key)
                if record is None:
                    continue
                if now - record.last >= FORGET_AFTER_S:
                    del self._records[key]
                    continue
                wait = max(wait, record.last + self._delay(record) - now)
            return max(0.0, wait)

    def failed(self, keys: Iterable[str]) -> None:
        """Count one failed attempt against every key and the server."""
        now = self._clock()
        with self._lock:
            self._recent.append(now)
            if len(self._records) > _MAX_TRACKED:  # many names or addresses: drop the stale
                stale = [k for k, r in self._records.items() if now - r.last >= FORGET_AFTER_S]
                for key in stale:
                    del self._records[key]
            for key in keys:
                record = self._records.setdefault(key, _Record())
                record.failures += 1
                record.last = now

    def succeeded(self, key: str) -> None:
        """Forget the failures of the account that just signed in (not of the client)."""
        with self._lock:
            self._records.pop(key, None)


def client_of(request: Any) -> str:
    """The client's address from a ``gr.Request`` ("unknown" when there is none).

    Behind a reverse proxy this is the proxy's address, so the per-account and server-wide
    limits are what slows guessing there (see docs/security.md).
    """
    client = getattr(request, "client", None)
    host = getattr(client, "host", None)
    return str(host) if host else "unknown"


def refused(what: str, who: str, client: str, reason: str) -> None:
    """Log one refused sign-in at WARNING (names are shown with repr, so no log injection)."""
    log.warning("%s sign-in refused for %r from %s: %s", what, who[:80], client, reason)


def wait_message(seconds: float) -> str:
    """'Too many attempts' in words, with the wait rounded up to whole seconds or minutes."""
    whole = int(seconds) + (seconds > int(seconds))
    span = f"{whole} seconds" if whole < 120 else f"{(whole + 59) // 60} minutes"
    return f"Too many wrong attempts. Wait {span}, then try again."
