"""The ChatModel protocol: the one thing every persona backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict, runtime_checkable


class ModelError(RuntimeError):
    """A model could not be loaded or could not answer; the message says what to do."""


class Message(TypedDict):
    """One chat message, as chat templates and OpenAI-compatible servers expect it."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationRequest:
    """Ask for ``n`` short candidate replies to a chat.

    The persona engine asks for several candidates and keeps the best one that passes its
    guards, so backends should make ``n`` cheap (one batch) where they can.
    """

    messages: tuple[Message, ...]
    max_new_tokens: int = 40
    n: int = 1
    temperature: float = 0.7
    top_p: float = 0.9
    seed: int | None = None
    prefill: str = ""
    """Words the reply must start with; returned replies include them. Backends that cannot
    continue a started reply generate from scratch and prepend it."""
    enough_finished: int = 0
    """Stop generating once this many candidates have ended (0: wait for all): the rest are
    returned as far as they got. Candidates that run on are rarely the ones worth keeping, and
    waiting for them is most of a reply's time. Backends that cannot stop early ignore it."""


@runtime_checkable
class ChatModel(Protocol):
    """A persona backend."""

    @property
    def name(self) -> str:
        """What is recorded with every session (model id or file)."""
        ...

    def generate(self, request: GenerationRequest) -> list[str]:
        """Return ``request.n`` candidate replies (text only, no prompt, no special tokens)."""
        ...

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield growing prefixes of one reply as it is produced (for the UI)."""
        ...
