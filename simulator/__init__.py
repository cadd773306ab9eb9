"""Rapport: practise hard conversations at work with a simulated colleague and a rubric scorer.

Public names are imported lazily so ``import simulator`` stays cheap (no torch, no gradio).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# Torch's OpenMP worker threads spin while they wait for work. When anything else wants the
# cores (the scorer in another session's thread, the UI, other programs on a 2-core laptop),
# the spinning threads starve the one doing the work: measured here under load, a decoding
# step took 0.9-3.7 s spinning and 0.08 s passive. It is read when torch loads, so it is set
# here, before any of our modules imports torch; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

_EXPORTS = {
    "Scenario": "simulator.content.schema",
    "Rubric": "simulator.content.schema",
    "Persona": "simulator.content.schema",
    "Move": "simulator.content.schema",
    "Session": "simulator.conversation.session",
    "InputError": "simulator.conversation.session",
    "Transcript": "simulator.conversation.transcript",
    "Turn": "simulator.conversation.transcript",
    "Debrief": "simulator.conversation.transcript",
    "ReplyScore": "simulator.scoring.types",
    "DimensionScore": "simulator.scoring.types",
    "ChatModel": "simulator.models.base",
    "GenerationRequest": "simulator.models.base",
    "ModelError": "simulator.models.base",
    "ScriptedModel": "simulator.models.fake",
    "load_model": "simulator.models",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
