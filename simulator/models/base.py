"""The ChatModel protocol: the one thing every persona backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class ModelError(RuntimeError):
    """A model could not be loaded or could not answer; the message says what to do."""


@dataclass(frozen=True)
class GenerationRequest:
    """Plain-text completion request.

    The persona engine builds a script-style prompt ("Manager: ...\\nSam:") and asks for short
    continuations; ``stop`` ends a candidate at the next speaker label.
    """

    prompt: str
    max_new_tokens: int = 40
    n: int = 1
    temperature: float = 0.8
    top_p: float = 0.95
    seed: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)


@runtime_checkable
class ChatModel(Protocol):
    """A persona backend: turns a prompt into ``n`` candidate continuations."""

    name: str

    def generate(self, request: GenerationRequest) -> list[str]:
        """Return ``request.n`` continuations of ``request.prompt`` (text only, prompt excluded)."""
        ...

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the text of one continuation as it is produced (for the UI)."""
        ...
