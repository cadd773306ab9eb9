"""Persona model backends behind one protocol; heavy backends are imported only when chosen."""

from __future__ import annotations

import os

from simulator.models.base import ChatModel, GenerationRequest, Message, ModelError
from simulator.models.fake import ScriptedModel

__all__ = ["ChatModel", "GenerationRequest", "Message", "ModelError", "ScriptedModel", "load_model"]

_cache: dict[str, ChatModel] = {}


def load_model(spec: str | None = None) -> ChatModel:
    """Load a persona model by spec, once per process.

    Args:
        spec: ``None`` or ``"embedded"`` for the embedded SmolLM2-135M-Instruct (or the
            ``RAPPORT_MODEL`` environment variable when set); ``"scripted"`` for the fake model;
            otherwise a Hugging Face model id, a local folder or a ``.gguf`` file.

    Raises:
        ModelError: with a message that says what to install or which path to fix.
    """
    chosen = spec or os.environ.get("RAPPORT_MODEL") or "embedded"
    if chosen not in _cache:
        if chosen == "scripted":
            _cache[chosen] = ScriptedModel()
        else:
            from simulator.models.hf import HFModel

            _cache[chosen] = HFModel(None if chosen == "embedded" else chosen)
    return _cache[chosen]
