"""Folders, the shipped + user catalogue, and lookups by id."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simulator import paths
from simulator.loading import (
    LoadError,
    UnknownNameError,
    available_scenarios,
    get_rubric,
    get_scenario,
    load_directory,
    save_user_scenario,
    scenario_catalog,
    scenario_errors,
)

GOOD = Path(__file__).parent / "good"
SCENARIO_TEXT = (GOOD / "extra-patients.yaml").read_text()
RUBRIC_TEXT = (GOOD / "mini-rubric.yaml").read_text()


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A fake shipped scenarios/ and rubrics/ pair holding the good fixtures."""
    scenarios, rubrics = tmp_path / "scenarios", tmp_path / "rubrics"
    scenarios.mkdir()
    rubrics.mkdir()
    shutil.copy(GOOD / "extra-patients.yaml", scenarios)
    shutil.copy(GOOD / "mini-rubric.yaml", rubrics)
    monkeypatch.setattr(paths, "SHIPPED_SCENARIOS_DIR", scenarios)
    monkeypatch.setattr(paths, "SHIPPED_RUBRICS_DIR", rubrics)
    return scenarios, rubrics


def test_paths_honour_environment(rapport_home: Path) -> None:
    assert paths.data_dir() == rapport_home
    assert paths.user_scenarios_dir() == rapport_home / "scenarios"
    assert paths.user_scenarios_dir().is_dir()
    assert paths.default_db_path() == rapport_home / "rapport.sqlite3"
    assert paths.cache_dir().name == "rapport-cache"
    assert paths.SHIPPED_SCENARIOS_DIR.parent == Path(paths.__file__).resolve().parent.parent


def test_invalid_files_do_not_stop_valid_ones(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "extra-patients.yaml").write_text(SCENARIO_TEXT)
    (folder / "broken.yaml").write_text("personna: {}\n")
    (folder / "notes.txt").write_text("not yaml, ignored")
    result = load_directory(folder, "scenario")
    assert list(result.items) == ["extra-patients"]
    assert result.sources["extra-patients"] == folder / "extra-patients.yaml"
    assert len(result.errors) == 1
    assert "broken.yaml: line 1: personna: unknown field; did you mean persona?" in str(
        result.errors[0]
    )


def test_id_must_match_file_name(tmp_path: Path) -> None:
    (tmp_path / "other-name.yaml").write_text(SCENARIO_TEXT)
    result = load_directory(tmp_path, "scenario")
    assert result.items == {}
    message = str(result.errors[0])
    assert "id 'extra-patients' does not match the file name 'other-name.yaml'" in message
    assert "rename the file to extra-patients.yaml" in message


def test_duplicate_ids_in_one_folder(tmp_path: Path) -> None:
    (tmp_path / "extra-patients.yaml").write_text(SCENARIO_TEXT)
    (tmp_path / "extra-patients.yml").write_text(SCENARIO_TEXT)
    result = load_directory(tmp_path, "scenario")
    assert list(result.items) == ["extra-patients"]
    assert "extra-patients.yml: id 'extra-patients' is already used by" in str(result.errors[0])


def test_missing_folder_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = load_directory(tmp_path / "nowhere", "rubric")
    assert result.items == {}
    assert "folder not found" in str(result.errors[0])


def test_user_scenarios_join_shipped_ones(shipped: tuple[Path, Path]) -> None:
    own = SCENARIO_TEXT.replace("id: extra-patients", "id: my-own")
    (paths.user_scenarios_dir() / "my-own.yaml").write_text(own)
    assert sorted(available_scenarios()) == ["extra-patients", "my-own"]
    assert scenario_errors() == []


def test_user_scenario_may_not_shadow_shipped(shipped: tuple[Path, Path]) -> None:
    shadow = SCENARIO_TEXT.replace("title: Extra patients, again", "title: Mine")
    (paths.user_scenarios_dir() / "extra-patients.yaml").write_text(shadow)
    catalog = scenario_catalog()
    assert catalog.items["extra-patients"].title == "Extra patients, again"
    assert catalog.sources["extra-patients"] == shipped[0] / "extra-patients.yaml"
    (error,) = catalog.errors
    assert "already used by the shipped scenario" in str(error)
    assert "give yours a different id" in str(error)


def test_get_scenario_and_rubric(shipped: tuple[Path, Path]) -> None:
    assert get_scenario("extra-patients").version == 1
    assert get_rubric("mini-rubric").version == 2


def test_get_scenario_by_path() -> None:
    assert get_scenario(str(GOOD / "extra-patients.yaml")).id == "extra-patients"


def test_unknown_name_suggests_and_lists(shipped: tuple[Path, Path]) -> None:
    with pytest.raises(UnknownNameError) as caught:
        get_scenario("extra-patient")
    assert str(caught.value) == (
        "unknown scenario 'extra-patient'; did you mean extra-patients? available: extra-patients"
    )
    assert isinstance(caught.value, LookupError)
    with pytest.raises(
        LookupError, match="unknown rubric 'nothing-like-it'; available: mini-rubric"
    ):
        get_rubric("nothing-like-it")


def test_unknown_name_explains_a_file_that_failed(shipped: tuple[Path, Path]) -> None:
    (shipped[0] / "half-done.yaml").write_text("id: half-done\n")
    with pytest.raises(UnknownNameError) as caught:
        get_scenario("half-done")
    assert "scenario 'half-done' could not be loaded" in str(caught.value)
    assert "version: required field is missing" in str(caught.value)


def test_save_user_scenario(shipped: tuple[Path, Path]) -> None:
    own = SCENARIO_TEXT.replace("id: extra-patients", "id: saved-one")
    target = save_user_scenario(own)
    assert target == paths.user_scenarios_dir() / "saved-one.yaml"
    assert target.read_text() == own  # comments kept
    assert get_scenario("saved-one").id == "saved-one"


def test_save_user_scenario_refuses_shipped_id_and_invalid_text(
    shipped: tuple[Path, Path],
) -> None:
    with pytest.raises(LoadError, match="is a shipped scenario"):
        save_user_scenario(SCENARIO_TEXT)
    with pytest.raises(LoadError, match="did you mean persona"):
        save_user_scenario("personna: {}\n")
    assert list(paths.user_scenarios_dir().iterdir()) == []
