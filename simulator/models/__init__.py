"""Persona model backends behind one protocol; heavy backends are imported only when chosen."""

from __future__ import annotations

import os
import threading

from simulator.models.base import ChatModel, GenerationRequest, Message, ModelError
from simulator.models.fake import ScriptedModel

__all__ = ["ChatModel", "GenerationRequest", "Message", "ModelError", "ScriptedModel", "load_model"]

_cache: dict[tuple[str, ...], ChatModel] = {}
_lock = threading.Lock()

SPECS = (
    "embedded",
    "scripted",
    "hf:<model id | folder | file.gguf>",
    "llama-cpp:<file.gguf | embedded>",
    "openai:<model name>",
)


def _build(chosen: str) -> tuple[tuple[str, ...], ChatModel | None]:
    """The cache key for a spec and, for cheap backends, the model itself."""
    prefix, _, rest = chosen.partition(":")
    if prefix == "openai":
        from simulator.models.openai import OpenAIModel, api_key_from_env, base_url_from_env

        # The server and key come from the environment: a different one is a different model.
        key = ("openai", rest, base_url_from_env(), api_key_from_env() or "")
        return key, (None if key in _cache else OpenAIModel(rest))
    return (chosen,), None


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
    with _lock:
        key, built = _build(chosen)
        if key in _cache:
            return _cache[key]
        if built is None:
            built = _load(chosen)
        _cache[key] = built
        return built


def _load(chosen: str) -> ChatModel:
    if chosen == "scripted":
        return ScriptedModel()
    prefix, sep, rest = chosen.partition(":")
    if sep and prefix == "llama-cpp":
        from simulator.models.llama_cpp import LlamaCppModel

        return LlamaCppModel(rest or None)
    if sep and prefix == "hf":
        chosen = rest
    elif sep and prefix and "/" not in prefix and "\\" not in prefix and len(prefix) > 1:
        raise ModelError(
            f"Unknown model backend {prefix!r} in {chosen!r}. Available: {', '.join(SPECS)}. "
            "Ollama, vLLM, TGI and llama.cpp's server are all reached with openai:<model> "
            "(see docs/deployment.md)."
        )
    from simulator.models.hf import HFModel

    return HFModel(None if chosen in ("", "embedded") else chosen)
