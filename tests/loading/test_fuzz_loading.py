"""Fuzz: the scenario loader (YAML text) and Character Card import (JSON) raise only their own
user-facing errors, whatever they are given. About 3,000 generated inputs, the same every run."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from simulator.content.cards import CardError, card_to_yaml
from simulator.content.loading import (
    LoadError,
    load_file,
    parse_rubric_text,
    parse_scenario_text,
    scenario_problems,
)
from simulator.files.paths import SHIPPED_RUBRICS_DIR, SHIPPED_SCENARIOS_DIR
from tests.fuzz import fuzz, json_values, mutate, noisy_text, words

SCENARIO = (SHIPPED_SCENARIOS_DIR / "workload-conflict.yaml").read_text(encoding="utf-8")
RUBRIC = (SHIPPED_RUBRICS_DIR / "compassionate-leadership.yaml").read_text(encoding="utf-8")
SCENARIO_DATA = yaml.safe_load(SCENARIO)
RUBRICS = ["compassionate-leadership"]
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Aisha Khan",
        "description": "{{char}} runs the night shift.",
        "personality": "Dry, tired, kind underneath.",
        "scenario": "{{user}} asked {{char}} for a word.",
        "first_mes": "You wanted me?",
        "mes_example": "<START>\n{{char}}: It's fine.\n{{user}}: Is it?",
    },
}


def scenario_loads_or_says_why(text: str) -> None:
    try:
        scenario = parse_scenario_text(text, "fuzz.yaml")
    except LoadError as error:
        assert error.messages and all(m.strip() for m in error.messages)
        assert "Traceback" not in str(error)
        return
    # What `rapport validate` and the editor check next must not fail either.
    assert all(isinstance(p, str) for p in scenario_problems(scenario, RUBRICS))


@fuzz(1200)
@given(mutate(SCENARIO))
def test_mutated_scenarios(text: str) -> None:
    scenario_loads_or_says_why(text)


@fuzz(300)
@given(mutate(RUBRIC))
def test_mutated_rubrics(text: str) -> None:
    try:
        parse_rubric_text(text, "fuzz.yaml")
    except LoadError as error:
        assert error.messages


@fuzz(500)
@given(st.text(st.sampled_from(list(":-[]{}#&*!|>'\" \n\tab1")), max_size=120) | noisy_text)
def test_raw_text(text: str) -> None:
    scenario_loads_or_says_why(text)


@fuzz(600)
@given(st.data())
def test_fields_with_values_of_any_type(data: st.DataObject) -> None:
    # A valid scenario with one field (at any depth) replaced by any YAML value: reaches the
    # schema's checks and the line-finding of its messages.
    document = copy.deepcopy(SCENARIO_DATA)
    node = document
    while True:
        keys = sorted(node, key=str) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if not isinstance(child, dict | list) or not child or data.draw(st.booleans()):
            node[key] = data.draw(json_values)
            break
        node = child
    text = yaml.dump(document, Dumper=Dumper, allow_unicode=True, sort_keys=False)
    scenario_loads_or_says_why(text)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@fuzz(200)
@given(raw=st.binary(max_size=300))
def test_files_of_any_bytes(folder: Path, raw: bytes) -> None:
    path = folder / "any.yaml"
    path.write_bytes(raw)
    try:
        load_file(path)
    except LoadError as error:
        assert error.messages


def card_imports_or_says_why(text: str) -> None:
    try:
        draft = card_to_yaml(text)
    except CardError as error:
        assert str(error)
        return
    # The draft goes into the editor: it must load, or fail with the loader's own messages.
    scenario_loads_or_says_why(draft)


@fuzz(400)
@given(st.dictionaries(st.sampled_from(sorted(CARD["data"])), json_values | words))
def test_cards_with_fields_of_any_type(fields: dict[str, object]) -> None:
    card = {**CARD, "data": {**CARD["data"], **fields}}
    card_imports_or_says_why(json.dumps(card))


@fuzz(400)
@given(mutate(json.dumps(CARD, indent=1)))
def test_mutated_cards(text: str) -> None:
    card_imports_or_says_why(text)


@fuzz(300)
@given(json_values | noisy_text | st.integers(1, 3000).map(lambda n: "[" * n + "]" * n))
def test_any_json_as_a_card(value: object) -> None:
    card_imports_or_says_why(value if isinstance(value, str) else json.dumps(value))
