"""Shared fixtures: shipped scenario and rubric, a scripted model, a dictated scorer."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from simulator.loading import get_rubric, get_scenario
from simulator.models.fake import ScriptedModel
from simulator.schema import Rubric, Scenario
from tests.fakes import DictatedScorer


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
