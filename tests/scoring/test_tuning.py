"""The scorer's tuned encoder: what tuning changes, the cache, the shared pass, the fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from simulator.content.schema import Rubric
from simulator.scoring import RubricScorer, get_embedder, get_scorer_embedder, tuning
from simulator.scoring.embeddings import MODEL_NAME, Embedder, shipped_model_path
from simulator.scoring.model import read_labelled
from simulator.scoring.twin import TwinEmbedder
from simulator.services import Services

TEXTS = [
    "What's been happening on your shifts this week?",
    "So nobody asked you before the extra patients landed on you?",
    "That sounds exhausting. No wonder you're fed up.",
    "I'll cover your last two meds rounds so you can get away on time.",
    "",
    # Longer than the model's 256-token limit: both paths must cut it the same way.
    "I hear you, and I want to understand the whole week before we decide anything. " * 30,
]


@pytest.mark.slow
def test_tuning_moves_only_the_top_layers(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModel

    rows = read_labelled()[:48]
    out = tuning.tune_encoder(
        shipped_model_path(),
        [r.text for r in rows],
        [r.levels for r in rows],
        tmp_path / "encoder",
        recipe=tuning.Recipe(epochs=1),
    )
    base = AutoModel.from_pretrained(shipped_model_path())
    tuned = AutoModel.from_pretrained(str(out))
    shared = tuning.RECIPE.frozen_layers

    def same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
        return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))

    assert same(base.embeddings, tuned.embeddings)
    for i in range(shared):
        assert same(base.encoder.layer[i], tuned.encoder.layer[i]), f"layer {i} changed"
    for i in range(shared, len(base.encoder.layer)):
        assert not same(base.encoder.layer[i], tuned.encoder.layer[i]), f"layer {i} not tuned"


@pytest.mark.slow
def test_the_scorer_gets_the_shipped_vectors_and_tuned_ones_in_one_pass() -> None:
    from sentence_transformers import SentenceTransformer

    scorer_embedder = get_scorer_embedder()
    shipped, tuned = scorer_embedder.encode_for_scoring(TEXTS)
    assert shipped.shape == tuned.shape == (len(TEXTS), 384)
    # Each path gives exactly what sentence-transformers gives for its model: the shared
    # bottom layers plus the shipped top, and plus the tuned top.
    np.testing.assert_allclose(shipped, get_embedder().encode(TEXTS), atol=1e-5)
    folder, name = tuning.ensure_tuned_encoder(MODEL_NAME, shipped_model_path())
    reference = SentenceTransformer(str(folder), device="cpu")
    np.testing.assert_allclose(tuned, reference.encode(TEXTS, normalize_embeddings=True), atol=1e-5)
    assert reference.max_seq_length == 256  # tuned on 128 tokens, scored like the base
    np.testing.assert_array_equal(scorer_embedder.encode(TEXTS), shipped)
    assert scorer_embedder.resolved_name() == name
    empty = scorer_embedder.encode_for_scoring([])
    assert empty[0].shape == empty[1].shape == (0, 384)


class _NegatedTuned(Embedder):
    """Shipped vectors for similarity, the same vectors negated as the "tuned" ones."""

    def __init__(self) -> None:
        super().__init__()
        self.name = "negated-for-test"  # its own cache of training vectors

    def encode_for_scoring(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        vectors = self.encode(texts)
        return vectors, -vectors


@pytest.mark.slow
def test_regressions_read_the_tuned_vectors_and_similarity_the_shipped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_CACHE", str(tmp_path))
    data = Services().rubric().model_dump()
    # A dimension the labelled set lacks is rated by similarity to its exemplars alone.
    data["dimensions"].append(
        {
            "id": "gratitude",
            "name": "Gratitude",
            "description": "Thanking the person for something specific they did.",
            "levels": {1: "Thanks.", 2: "Specific thanks.", 3: "Specific thanks and its effect."},
            "exemplars": [
                {"text": "Thank you for staying late to finish the handover.", "level": 3},
                {"text": "Thanks so much for covering the ward on Sunday.", "level": 2},
                {"text": "Did you finish the meds round?", "level": 0},
            ],
            "tip": "Thank them for something specific they did.",
        }
    )
    rubric = Rubric.model_validate(data)
    plain = RubricScorer(rubric, embedder=Embedder())
    negated = RubricScorer(rubric, embedder=_NegatedTuned())
    replies = [
        "Thank you for covering the late shift for Priya, it made a real difference.",
        "It's a big deal, and it matters.",
        "So you were given two extra patients and nobody asked? That sounds exhausting.",
    ]
    # Regressions are blind to the sign of their inputs, similarity is not: the same scores
    # mean each part read the vectors it should.
    for a, b in zip(plain.score_batch(replies), negated.score_batch(replies), strict=True):
        assert a.pitfalls == b.pitfalls
        assert a.level("gratitude") == b.level("gratitude")
        for dim in rubric.dimension_ids:
            assert a.dimensions[dim].probability == pytest.approx(
                b.dimensions[dim].probability, abs=0.02
            ), dim
    assert plain.score(replies[0]).level("gratitude") >= 1  # similarity found the thanks


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


@pytest.mark.slow
@pytest.mark.parametrize(
    "failure",
    [
        tuning.TuningError("could not tune the scorer's encoder: disk full"),
        RuntimeError("disk full while saving"),  # anything else must not stop scoring either
    ],
)
def test_scores_stay_available_when_tuning_fails(
    failure: Exception,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(*_: object, **__: object) -> tuple[Path, str]:
        raise failure

    monkeypatch.setenv("RAPPORT_CACHE", str(tmp_path))
    monkeypatch.setattr(tuning, "ensure_tuned_encoder", refuse)
    embedder = TwinEmbedder()
    with caplog.at_level(logging.WARNING):
        shipped, tuned = embedder.encode_for_scoring(TEXTS[:2])
    np.testing.assert_array_equal(shipped, tuned)
    assert embedder.resolved_name() == MODEL_NAME
    assert "disk full" in caplog.text and "untuned" in caplog.text
    score = RubricScorer(Services().rubric(), embedder=embedder).score(TEXTS[0])
    assert score.unscored_reason is None and score.level("attending") >= 2


def test_an_unwritable_cache_fails_before_any_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("RAPPORT_CACHE", str(blocker / "cache"))

    def must_not_train(*_: object, **__: object) -> Path:
        raise AssertionError("trained although the result could not be saved")

    monkeypatch.setattr(tuning, "tune_encoder", must_not_train)
    with pytest.raises(tuning.TuningError, match="RAPPORT_CACHE"):
        tuning.ensure_tuned_encoder(MODEL_NAME, shipped_model_path(), progress=lambda line: None)
