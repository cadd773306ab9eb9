"""Folders, the shipped + user catalogue, and lookups by id."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from simulator.content.loading import (
    LoadError,
    UnknownNameError,
    available_scenarios,
    get_rubric,
    get_scenario,
    load_directory,
    read_text,
    save_user_scenario,
    scenario_catalog,
    scenario_errors,
)
from simulator.files import paths

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
    assert paths.SHIPPED_SCENARIOS_DIR.parent == Path(paths.__file__).resolve().parents[2]


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


def _break_user_folder(folder: Path) -> None:
    """A user scenarios folder holding one good scenario and every kind of broken entry."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.yaml").write_text(SCENARIO_TEXT.replace("id: extra-patients", "id: mine"))
    (folder / "bell.yaml").write_text(
        SCENARIO_TEXT.replace("id: extra-patients", "id: bell").replace("Sam Patel", "Sam\x07")
    )
    (folder / "nul.yaml").write_bytes(b"id: nul\x00\n")
    (folder / "latin1.yaml").write_bytes(b"id: caf\xe9\n")
    (folder / "folder.yaml").mkdir()
    os.mkfifo(folder / "pipe.yaml")
    (folder / ".#mine.yaml").symlink_to("nowhere")  # an editor's lock file: not a scenario


def test_broken_saved_scenarios_are_listed_apart_and_never_stop_the_others(
    shipped: tuple[Path, Path],
) -> None:
    folder = paths.user_scenarios_dir()
    _break_user_folder(folder)
    catalog = scenario_catalog()
    assert sorted(catalog.items) == ["extra-patients", "mine"]
    broken = catalog.broken
    assert sorted(Path(p).name for p in broken) == [
        "bell.yaml",
        "folder.yaml",
        "latin1.yaml",
        "nul.yaml",
        "pipe.yaml",
    ]
    assert broken[str(folder / "bell.yaml")] == [
        "line 14, column 12: the character U+0007 BEL (bell) is not allowed in YAML; it is "
        "usually invisible and comes from copied text: delete it (retype that part of the "
        "line), or save the file again as plain UTF-8 text"
    ]
    assert "U+0000 NUL" in broken[str(folder / "nul.yaml")][0]
    assert "not UTF-8 text (byte 0xe9)" in broken[str(folder / "latin1.yaml")][0]
    assert "this is a folder" in broken[str(folder / "folder.yaml")][0]
    assert "named pipe (FIFO)" in broken[str(folder / "pipe.yaml")][0]
    # Lookups of good ids work; a broken id says why it cannot be used.
    assert get_scenario("mine").id == "mine"
    with pytest.raises(UnknownNameError, match=r"scenario 'bell' could not be loaded:\n.*U\+0007"):
        get_scenario("bell")


def test_what_trainees_see_still_works_beside_a_broken_saved_scenario(
    shipped: tuple[Path, Path],
) -> None:
    # Start's scenario list, the scenario card and History's titles all read the catalogue.
    from simulator.ui.history import available_scenarios as history_scenarios
    from simulator.ui.practice import describe, scenario_choices

    _break_user_folder(paths.user_scenarios_dir())
    assert [sid for _, sid in scenario_choices()] == ["extra-patients", "mine"]
    assert "Sam Patel" in describe("mine")
    assert sorted(history_scenarios()) == ["extra-patients", "mine"]


def test_an_unforeseen_failure_in_one_file_is_listed_not_raised(
    shipped: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulator.content.loading as loading

    (paths.user_scenarios_dir() / "mine.yaml").write_text(
        SCENARIO_TEXT.replace("id: extra-patients", "id: mine")
    )
    real_parse = loading._parse

    def parse(text: str, source: str, kind: loading.Kind) -> object:
        if source.endswith("mine.yaml"):
            raise KeyError("surprise")
        return real_parse(text, source, kind)

    monkeypatch.setattr(loading, "_parse", parse)
    catalog = scenario_catalog()
    assert list(catalog.items) == ["extra-patients"]
    (messages,) = catalog.broken.values()
    assert messages == [
        "could not be read (KeyError: 'surprise'); this is a bug in Rapport: please report it "
        "with the file"
    ]


def test_an_oversized_file_is_refused_before_it_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulator.files.inputfiles as inputfiles

    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(4 * 1024**3)  # sparse: 4 GiB that were never read
    opened: list[object] = []
    monkeypatch.setattr(inputfiles.os, "open", lambda *a, **k: opened.append(a))
    with pytest.raises(LoadError, match="larger than 1024 KiB and was not read"):
        read_text(huge)
    assert opened == []


def test_a_device_is_refused_unread() -> None:
    with pytest.raises(LoadError) as caught:
        read_text(Path("/dev/zero"))
    assert caught.value.messages == [
        "this is a device, not a regular file, so it was not read; give the path of one .yaml file"
    ]


def test_what_held_still_holds_for_saved_scenarios(shipped: tuple[Path, Path]) -> None:
    # Alias bombs, !!python tags, ids that try to leave the folder and files over 1 MiB: each
    # is refused and listed, and the others still load.
    broken_dir = Path(__file__).parent / "broken"
    folder = paths.user_scenarios_dir()
    (folder / "mine.yaml").write_text(SCENARIO_TEXT.replace("id: extra-patients", "id: mine"))
    shutil.copy(broken_dir / "alias-bomb.yaml", folder)
    shutil.copy(broken_dir / "path-traversal-id.yaml", folder)
    (folder / "tagged.yaml").write_text("id: !!python/object/apply:os.system ['echo hi']\n")
    (folder / "huge.yaml").write_text("#" * (1024 * 1024 + 1))
    catalog = scenario_catalog()
    assert sorted(catalog.items) == ["extra-patients", "mine"]
    broken = {Path(p).name: " ".join(m) for p, m in catalog.broken.items()}
    assert "expands to more than 100000 values" in broken["alias-bomb.yaml"]
    assert "'../etc' is not a valid id" in broken["path-traversal-id.yaml"]
    assert "YAML syntax" in broken["tagged.yaml"]
    assert "larger than 1024 KiB and was not read" in broken["huge.yaml"]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["scenarios"]  # nothing escaped
