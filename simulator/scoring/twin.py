"""One forward pass, two sentence vectors: the shipped MiniLM's and the scorer's tuned one.

The scorer needs both. Its regressions read the tuned vector (``tuning.py``: it separates replies
by the behaviour they show), while everything that compares a reply with a text by meaning, the
rubric's exemplars, the pitfall examples, a course designer's own dimensions and the persona's
re-ranking, needs the general-purpose geometry of the MiniLM as shipped (tuned vectors put every
reply that shows no behaviour close together, so "It's a big deal, and it matters." would look
like dismissing).

Tuning leaves the embeddings and the bottom layers as they were, so the two models share them:
the shared layers run once and only the top layers run twice (8 layer passes instead of 12 for
two separate encoders).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.scoring.embeddings import (
    DIMENSION,
    MODEL_NAME,
    Embedder,
    EmbedderError,
    load_failure,
    shipped_model_path,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 256


@dataclass
class _Parts:
    tokenizer: Any
    base: Any  # the shipped BertModel
    shared: int  # how many bottom layers the tuned model shares with it
    top: Any  # the tuned model's layers above those, or None when untuned
    max_tokens: int  # longer texts are cut, as sentence-transformers cuts them


class TwinEmbedder(Embedder):
    """The scorer's encoder: ``encode`` gives the shipped MiniLM's vectors, ``encode_for_scoring``
    gives them together with the tuned vectors (tuned once per cache folder when not cached).

    When tuning or loading the tuned layers fails, a warning says why and what to do, and the
    tuned vectors are the shipped ones: scores stay available, somewhat less accurate.

    Args:
        batch_size: Texts per forward pass.
    """

    def __init__(self, batch_size: int = 64) -> None:
        super().__init__(batch_size=batch_size)
        self._parts: _Parts | None = None

    def resolved_name(self) -> str:
        self._load_twin()
        return self.name

    def _load_twin(self) -> _Parts:
        with self._lock:
            if self._parts is None:
                self._parts = self._build()
            return self._parts

    def _build(self) -> _Parts:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        base_path = shipped_model_path()
        try:
            tokenizer = AutoTokenizer.from_pretrained(base_path)
            base = AutoModel.from_pretrained(base_path).eval()
        except Exception as exc:  # any load failure gets one actionable message
            raise EmbedderError(load_failure(base_path, exc)) from exc
        shared, top = self._tuned_top(base_path)
        return _Parts(tokenizer, base, shared, top, _max_tokens(base_path))

    def _tuned_top(self, base_path: str) -> tuple[int, Any]:
        """(shared layer count, the tuned top layers) or (all layers, None) when untuned."""
        import torch
        from transformers import AutoModel

        from simulator.scoring import tuning

        try:
            folder, name = tuning.ensure_tuned_encoder(MODEL_NAME, base_path)
        except Exception as exc:  # whatever went wrong, scoring must go on
            log.warning("%s; the scorer reads the untuned %s instead", exc, MODEL_NAME)
            return 0, None
        shared = tuning.RECIPE.frozen_layers
        try:
            tuned = AutoModel.from_pretrained(str(folder)).eval()
            top = torch.nn.ModuleList(list(tuned.encoder.layer[shared:]))
        except Exception as exc:
            log.warning(
                "could not load the scorer's tuned encoder from %s (%s); the scorer reads the "
                "untuned %s instead. Delete that folder and run `rapport warmup` to tune it again.",
                folder,
                exc,
                MODEL_NAME,
            )
            return 0, None
        self.name = name
        return shared, top

    def encode(self, texts: list[str]) -> np.ndarray:
        """The shipped MiniLM's L2-normalised vectors (what similarity to exemplars reads)."""
        return self._encode(texts, tuned=False)[0]

    def encode_for_scoring(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Shipped and tuned vectors of the same texts, each ``(len(texts), 384)``, normalised."""
        return self._encode(texts, tuned=True)

    def _encode(self, texts: list[str], tuned: bool) -> tuple[np.ndarray, np.ndarray]:
        base_out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return base_out, base_out
        import torch

        parts = self._load_twin()
        tuned = tuned and parts.top is not None
        tuned_out = np.zeros_like(base_out) if tuned else base_out
        # Similar lengths together: less padding to compute.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                index = order[start : start + self.batch_size]
                base_vec, tuned_vec = _forward(parts, [texts[i] for i in index], tuned)
                base_out[index] = base_vec
                if tuned_vec is not None:
                    tuned_out[index] = tuned_vec
        return base_out, tuned_out


def _max_tokens(model_path: str) -> int:
    """The token limit the sentence-transformers model was saved with."""
    try:
        config = json.loads((Path(model_path) / "sentence_bert_config.json").read_text())
        return int(config.get("max_seq_length") or DEFAULT_MAX_TOKENS)
    except (OSError, ValueError, TypeError):
        return DEFAULT_MAX_TOKENS


def _forward(parts: _Parts, texts: list[str], tuned: bool) -> tuple[np.ndarray, np.ndarray | None]:
    import torch

    batch = parts.tokenizer(
        texts, padding=True, truncation=True, max_length=parts.max_tokens, return_tensors="pt"
    )
    model = parts.base
    hidden = model.embeddings(
        input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids")
    )
    mask = batch["attention_mask"]
    # The additive 4-D mask that BERT's layers take (what BertModel builds from the 0/1 mask):
    # padding positions get the lowest value. A test checks the result against
    # sentence-transformers on short and over-long texts.
    additive = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
    for layer in model.encoder.layer[: parts.shared]:
        hidden = _layer(layer, hidden, additive)
    base_hidden = hidden
    for layer in model.encoder.layer[parts.shared :]:
        base_hidden = _layer(layer, base_hidden, additive)
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    if not tuned:
        return _mean_unit(base_hidden, weights), None
    tuned_hidden = hidden
    for layer in parts.top:
        tuned_hidden = _layer(layer, tuned_hidden, additive)
    return _mean_unit(base_hidden, weights), _mean_unit(tuned_hidden, weights)


def _layer(layer: Any, hidden: Any, additive_mask: Any) -> Any:
    out = layer(hidden, attention_mask=additive_mask)
    return out[0] if isinstance(out, tuple) else out


def _mean_unit(hidden: Any, weights: Any) -> np.ndarray:
    import torch

    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
    return np.asarray(torch.nn.functional.normalize(pooled, dim=-1).numpy(), dtype=np.float32)


_SCORER_SHARED: TwinEmbedder | None = None
_SCORER_LOCK = threading.Lock()


def get_scorer_embedder() -> TwinEmbedder:
    """The process-wide scorer's embedder: shipped and tuned MiniLM vectors in one pass (the
    tuned layers are trained on first use when not cached; ``rapport warmup`` does it)."""
    global _SCORER_SHARED
    with _SCORER_LOCK:
        if _SCORER_SHARED is None:
            _SCORER_SHARED = TwinEmbedder()
        return _SCORER_SHARED
