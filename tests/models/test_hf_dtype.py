"""Which weights dtype the transformers backend loads with (no model is loaded here)."""

from __future__ import annotations

import pytest

from simulator.models import hf
from simulator.models.base import ModelError


def test_embedded_model_uses_bfloat16_only_where_the_cpu_has_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RAPPORT_HF_DTYPE", raising=False)
    monkeypatch.setattr(hf, "cpu_has_fast_bf16", lambda: True)
    assert hf.choose_dtype(None, embedded=True) == "bfloat16"
    assert hf.choose_dtype(None, embedded=False) is None
    monkeypatch.setattr(hf, "cpu_has_fast_bf16", lambda: False)
    assert hf.choose_dtype(None, embedded=True) == "float32"


def test_the_environment_or_the_argument_overrides_the_choice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAPPORT_HF_DTYPE", "Float32")
    assert hf.choose_dtype(None, embedded=True) == "float32"
    assert hf.choose_dtype("bfloat16", embedded=False) == "bfloat16"
    monkeypatch.setenv("RAPPORT_HF_DTYPE", "fp8")
    with pytest.raises(ModelError, match=r"RAPPORT_HF_DTYPE.*float32, bfloat16"):
        hf.choose_dtype(None, embedded=True)
