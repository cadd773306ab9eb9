"""Shared fixtures (shipped scenario and rubric, a scripted model, a dictated scorer) and the
fast tier.

``pytest --fast`` is the edit-test loop: it leaves out tests marked ``slow``, ``real_model`` or
``browser``, and fails any test that still loads a real model (the persona model or MiniLM), so
a slow test cannot hide in the fast tier unmarked. Plain ``pytest`` (what CI runs) runs all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from simulator.content.loading import get_rubric, get_scenario
from simulator.content.schema import Rubric, Scenario
from simulator.models.fake import ScriptedModel
from tests.fakes import DictatedScorer

SLOW_MARKERS = ("slow", "real_model", "browser")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="the fast tier: no test that loads a real model, tunes or drives a browser",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--fast"):
        return
    kept, left_out = [], []
    for item in items:
        slow = any(item.get_closest_marker(name) for name in SLOW_MARKERS)
        (left_out if slow else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


_LOADS_IN_FAST_TIER: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _no_real_models_in_fast_tier(request: pytest.FixtureRequest) -> Iterator[None]:
    """In the fast tier, reading model weights is refused (session-scoped, so it is in place
    before any module's fixtures run)."""
    if not request.config.getoption("--fast"):
        yield
        return

    def refuse(*_args: object, **_kwargs: object) -> None:
        # An ordinary error for the code under test (a BaseException would kill a server's
        # worker thread and hang the test); the test itself is failed at teardown.
        _LOADS_IN_FAST_TIER.append("a model")
        raise RuntimeError("the fast tier (pytest --fast) loads no model")

    # The places where weights are read: cheap objects may be built, nothing may be loaded.
    from simulator.models import hf, llama_cpp
    from simulator.scoring import embeddings, tuning, twin

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hf.HFModel, "__init__", refuse)
        patch.setattr(llama_cpp.LlamaCppModel, "__init__", refuse)
        patch.setattr(embeddings.Embedder, "_load", refuse)
        patch.setattr(twin.TwinEmbedder, "_build", refuse)
        patch.setattr(tuning, "tune_encoder", refuse)
        yield


@pytest.fixture(autouse=True)
def _fail_a_fast_test_that_loads_a_model() -> Iterator[None]:
    yield
    if _LOADS_IN_FAST_TIER:
        _LOADS_IN_FAST_TIER.clear()
        pytest.fail(
            "this test loads a real model: mark it @pytest.mark.slow (pytest --fast, the fast "
            "tier, loads none)",
            pytrace=False,
        )


@pytest.fixture
def workload() -> Scenario:
    return get_scenario("workload-conflict")


@pytest.fixture
def rubric() -> Rubric:
    return get_rubric("compassionate-leadership")


@pytest.fixture
def scripted() -> ScriptedModel:
    return ScriptedModel(default="Honestly, I've got meds to do.")


@pytest.fixture
def dictated() -> DictatedScorer:
    return DictatedScorer()
