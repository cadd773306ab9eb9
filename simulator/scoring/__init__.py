"""Rating learner replies against a rubric.

Public names are imported lazily so ``import simulator.scoring`` stays cheap: torch and
sentence-transformers load only when the first reply is scored.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from simulator.scoring.types import DimensionScore, ReplyScore, Scorer

if TYPE_CHECKING:
    from simulator.scoring.embeddings import Embedder, get_embedder
    from simulator.scoring.judge import LLMJudgeScorer
    from simulator.scoring.scorer import RubricScorer
    from simulator.scoring.twin import get_scorer_embedder

__all__ = [
    "DimensionScore",
    "Embedder",
    "LLMJudgeScorer",
    "ReplyScore",
    "RubricScorer",
    "Scorer",
    "get_embedder",
    "get_scorer_embedder",
]

_LAZY = {
    "Embedder": "simulator.scoring.embeddings",
    "get_embedder": "simulator.scoring.embeddings",
    "get_scorer_embedder": "simulator.scoring.twin",
    "LLMJudgeScorer": "simulator.scoring.judge",
    "RubricScorer": "simulator.scoring.scorer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'simulator.scoring' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
