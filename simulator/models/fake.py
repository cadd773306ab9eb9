"""A scripted model for fast unit tests: it answers what was enqueued and records every request."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from simulator.models.base import GenerationRequest, ModelError


class ScriptedModel:
    """Returns enqueued replies in order; ``history`` holds every request it was sent.

    Each ``enqueue`` call supplies the candidates for one ``generate`` call (one reply string
    is repeated ``n`` times; a list is returned as the candidates). With nothing enqueued it
    answers ``default``.
    """

    def __init__(self, default: str = "Right.", name: str = "scripted") -> None:
        self._queue: deque[list[str]] = deque()
        self.default = default
        self.history: list[GenerationRequest] = []
        self._name = name
        self.fail_with: str | None = None

    @property
    def name(self) -> str:
        return self._name

    def enqueue(self, *replies: str | list[str]) -> None:
        """Queue the answers for the next ``generate`` calls, one argument per call."""
        for reply in replies:
            self._queue.append([reply] if isinstance(reply, str) else list(reply))

    def clear(self) -> None:
        """Forget what was enqueued and requested (the model is shared by tests in a process)."""
        self._queue.clear()
        self.history.clear()
        self.fail_with = None

    def generate(self, request: GenerationRequest) -> list[str]:
        self.history.append(request)
        if self.fail_with is not None:
            raise ModelError(self.fail_with)
        candidates = self._queue.popleft() if self._queue else [self.default]
        candidates = [f"{request.prefill} {c}".strip() for c in candidates]
        if len(candidates) == 1:
            return candidates * request.n
        return candidates[: request.n] if len(candidates) >= request.n else candidates

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        reply = self.generate(request)[0]
        words = reply.split(" ")
        for end in range(1, len(words) + 1):
            yield " ".join(words[:end])
