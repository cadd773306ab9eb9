"""Persona model backends behind one protocol; heavy backends are imported only when chosen.

Backends live in one registry, :data:`BACKENDS`: a spec prefix (``openai`` in
``openai:<model>``) maps to a :class:`Backend` that builds the model and says how to cache it.
Adding a backend is one entry here and one module beside this one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from simulator.models.base import ChatModel, GenerationRequest, Message, ModelError
from simulator.models.fake import ScriptedModel

__all__ = [
    "BACKENDS",
    "Backend",
    "ChatModel",
    "GenerationRequest",
    "Message",
    "ModelError",
    "ScriptedModel",
    "load_model",
]


def _cache_by_spec(rest: str) -> tuple[str, ...]:
    return (rest,)


@dataclass(frozen=True)
class Backend:
    """One way of running the persona model.

    Attributes:
        usage: The spec as shown in help and error messages, e.g. ``openai:<model name>``.
        build: Builds the model from what follows the prefix (imports heavy packages lazily).
        cache_key: What identifies one loaded model: two specs with the same key share it.
    """

    usage: str
    build: Callable[[str], ChatModel]
    cache_key: Callable[[str], tuple[str, ...]] = _cache_by_spec


def _scripted(_rest: str) -> ChatModel:
    return ScriptedModel()


def _transformers(rest: str) -> ChatModel:
    from simulator.models.hf import HFModel

    return HFModel(None if rest in ("", "embedded") else rest)


def _transformers_key(rest: str) -> tuple[str, ...]:
    return ("" if rest == "embedded" else rest,)


def _llama_cpp(rest: str) -> ChatModel:
    from simulator.models.llama_cpp import LlamaCppModel

    return LlamaCppModel(rest or None)


def _openai(rest: str) -> ChatModel:
    from simulator.models.openai import OpenAIModel

    return OpenAIModel(rest)


def _openai_key(rest: str) -> tuple[str, ...]:
    from simulator.models.openai import api_key_from_env, base_url_from_env

    # The server and key come from the environment: a different one is a different model.
    return (rest, base_url_from_env(), api_key_from_env() or "")


BACKENDS: dict[str, Backend] = {
    "embedded": Backend("embedded", _transformers, _transformers_key),
    "scripted": Backend("scripted", _scripted),
    "hf": Backend("hf:<model id | folder | file.gguf>", _transformers, _transformers_key),
    "llama-cpp": Backend("llama-cpp:<file.gguf | embedded>", _llama_cpp),
    "openai": Backend("openai:<model name>", _openai, _openai_key),
}
"""Spec prefix -> backend. A spec with no known prefix is a Hugging Face id, folder or file."""

SPECS = tuple(backend.usage for backend in BACKENDS.values())

_cache: dict[tuple[str, ...], ChatModel] = {}
_lock = threading.Lock()


def _resolve(chosen: str) -> tuple[str, str]:
    """The registry entry and the rest of the spec for a model spec.

    Raises:
        ModelError: The spec names a backend that does not exist.
    """
    if chosen in ("", "embedded", "scripted"):
        return chosen or "embedded", ""
    prefix, sep, rest = chosen.partition(":")
    if sep and prefix in BACKENDS:
        return prefix, rest
    # "C:\models\x.gguf" or "org/model" are paths and ids, not backend prefixes.
    if sep and prefix and "/" not in prefix and "\\" not in prefix and len(prefix) > 1:
        raise ModelError(
            f"Unknown model backend {prefix!r} in {chosen!r}. Available: {', '.join(SPECS)}. "
            "Ollama, vLLM, TGI and llama.cpp's server are all reached with openai:<model> "
            "(see docs/deployment.md)."
        )
    return "hf", chosen


def load_model(spec: str | None = None) -> ChatModel:
    """Load a persona model by spec, once per process.

    Args:
        spec: ``None`` or ``"embedded"`` for the embedded SmolLM2-135M-Instruct (or the
            ``RAPPORT_MODEL`` environment variable when set); ``"scripted"`` for the fake model;
            ``"openai:<model>"`` for an OpenAI-compatible server (base URL from
            ``RAPPORT_OPENAI_BASE_URL``, key from ``RAPPORT_OPENAI_API_KEY`` or
            ``OPENAI_API_KEY``); ``"llama-cpp:<file.gguf>"`` or ``"llama-cpp:embedded"`` for
            llama.cpp in-process (optional extra); otherwise (or after ``"hf:"``) a Hugging Face
            model id, a local folder or a ``.gguf`` file run by transformers.

    Raises:
        ModelError: with a message that says what to install or which path to fix.
    """
    chosen = (spec or os.environ.get("RAPPORT_MODEL") or "embedded").strip()
    name, rest = _resolve(chosen)
    backend = BACKENDS[name]
    # The embedded model is one model whether asked for as "embedded" or "hf:embedded".
    family = "hf" if name == "embedded" else name
    with _lock:
        key = (family, *backend.cache_key(rest))
        if key not in _cache:
            _cache[key] = backend.build(rest)
        return _cache[key]
