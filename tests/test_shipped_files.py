"""Every shipped scenario and rubric loads, and the scenarios hold together.

Files are globbed when the tests are collected, so a newly added file is tested without
touching this module.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.content.loading import lint_scenario, load_directory, load_rubric, load_scenario
from simulator.content.schema import Scenario
from simulator.files.paths import SHIPPED_RUBRICS_DIR, SHIPPED_SCENARIOS_DIR


def _yaml(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


SCENARIO_FILES = _yaml(SHIPPED_SCENARIOS_DIR)
RUBRIC_FILES = _yaml(SHIPPED_RUBRICS_DIR)
SHIPPED_RUBRIC_IDS = {path.stem for path in RUBRIC_FILES}


def test_something_is_shipped() -> None:
    assert SCENARIO_FILES, f"no scenarios in {SHIPPED_SCENARIOS_DIR}"
    assert RUBRIC_FILES, f"no rubrics in {SHIPPED_RUBRICS_DIR}"


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.id == path.stem


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.name)
def test_rubric_loads(path: Path) -> None:
    rubric = load_rubric(path)
    assert rubric.id == path.stem


def test_folders_load_without_errors() -> None:
    for folder, kind in [(SHIPPED_SCENARIOS_DIR, "scenario"), (SHIPPED_RUBRICS_DIR, "rubric")]:
        result = load_directory(folder, kind)  # type: ignore[arg-type]
        assert [str(error) for error in result.errors] == []


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
class TestScenarioContent:
    @pytest.fixture
    def scenario(self, path: Path) -> Scenario:
        return load_scenario(path)

    def test_rubric_exists(self, scenario: Scenario) -> None:
        assert scenario.rubric in SHIPPED_RUBRIC_IDS

    def test_has_a_hidden_concern_with_keywords(self, scenario: Scenario) -> None:
        assert scenario.persona.hidden_concerns
        assert all(concern.keywords for concern in scenario.persona.hidden_concerns)

    def test_beats_before_reveal_do_not_use_its_keywords(self, scenario: Scenario) -> None:
        mood = scenario.persona.mood
        for concern in scenario.persona.hidden_concerns:
            for name, state in mood.states.items():
                if mood.rank(name) >= mood.rank(concern.revealed_at):
                    continue
                lines = [line for beat in state.beats.values() for line in beat]
                for line in [*lines, *state.example_lines, scenario.persona.opening_line]:
                    for keyword in concern.keywords:
                        pattern = rf"\b{re.escape(keyword)}"
                        assert not re.search(pattern, line, re.IGNORECASE), (
                            f"{name}: {line!r} gives away {keyword!r} before {concern.revealed_at}"
                        )

    def test_lint_is_clean(self, scenario: Scenario) -> None:
        assert lint_scenario(scenario) == []

    def test_every_mood_has_beats_for_every_move(self, scenario: Scenario) -> None:
        from simulator.content.schema import Move

        for name, state in scenario.persona.mood.states.items():
            missing = [move.value for move in Move if not state.beats.get(move)]
            assert missing == [], f"mood {name} has no beats for {', '.join(missing)}"
