"""Every broken file in tests/loading/broken/ fails with a message a facilitator can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.content.loading import (
    MAX_FILE_BYTES,
    LoadError,
    load_file,
    load_rubric,
    load_scenario,
    parse_scenario_text,
)

BROKEN = Path(__file__).parent / "broken"
GOOD_SCENARIO = Path(__file__).parent / "good" / "extra-patients.yaml"

# file name -> parts that must all appear in the error text (beyond the file name itself).
EXPECTED: dict[str, list[str]] = {
    "unknown-key-personna.yaml": ["line 13: personna: unknown field; did you mean persona?"],
    "unknown-nested-key.yaml": [
        "line 30: persona.mood.states.guarded.exmaple_lines: unknown field; "
        "did you mean example_lines?"
    ],
    "bad-indentation.yaml": ["line 15, column 9", "YAML syntax", "check the indentation"],
    "tabs.yaml": ["line 15, column 1", "tab", "spaces"],
    "missing-required.yaml": ["learner_role: required field is missing; add it"],
    "wrong-type.yaml": ["line 3: version: expected a valid integer", "(got 'one')"],
    "bad-enum.yaml": ["line 10: difficulty: expected 'easy', 'medium' or 'hard' (got 'extreme')"],
    "bad-mood-start.yaml": [
        "line 25: persona.mood.start: 'calm' is not one of the states: guarded, opening-up"
    ],
    "revealed-at-unknown.yaml": [
        "line 21: persona.hidden_concerns[0].revealed_at: 'trusting' is not one of the mood states"
    ],
    "bad-beat-move.yaml": [
        "line 33: persona.mood.states.guarded.beats.askd: expected 'asked'",
        "(got 'askd')",
    ],
    "empty-example-lines.yaml": [
        "line 40: persona.mood.states.opening-up.example_lines: list should have at least 1 item"
    ],
    "empty.yaml": ["the file is empty", "id: my-scenario"],
    "top-level-list.yaml": ["line 1: the top level must be a mapping", "not a list"],
    "path-traversal-id.yaml": [
        "line 2: id: '../etc' is not a valid id",
        "lower-case letters, digits and hyphens",
    ],
    "duplicate-keys.yaml": ["line 16: persona.role: duplicate key (first on line 15)"],
    "unquoted-colon.yaml": ["line 4, column 22", "put quotes around text"],
    "two-documents.yaml": ["line 52", "one scenario or rubric per file"],
    "alias-bomb.yaml": ["expands to more than 100000 values", "aliases"],
    "recursive-alias.yaml": ["line 2: an alias refers to a value that contains itself"],
    "control-character.yaml": [
        "line 17, column 49: the character U+0007 BEL (bell) is not allowed in YAML",
        "delete it",
    ],
    "non-utf8.yaml": ["line 14: the file is not UTF-8 text (byte 0xe9)", "save it as UTF-8"],
    "rubric-scale-missing-0.yaml": ["line 5: scale: must name exactly 0, 1, 2 and 3"],
    "rubric-levels-missing-2.yaml": [
        "line 14: dimensions[0].levels: must describe exactly 1, 2 and 3 (got [1, 3])"
    ],
    "rubric-pitfall-unknown-dimension.yaml": [
        "line 35: pitfalls[0].lowers: pitfall 'dismissing' lowers unknown dimension(s) empathy"
    ],
    "rubric-duplicate-dimension.yaml": [
        "line 21: dimensions[1].id: dimension ids must be unique; repeated: attending"
    ],
}


def test_every_broken_file_has_an_expectation() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_message(name: str) -> None:
    path = BROKEN / name
    loader = load_rubric if name.startswith("rubric-") else load_scenario
    with pytest.raises(LoadError) as caught:
        loader(path)
    message = str(caught.value)
    assert caught.value.source == str(path)
    assert message.startswith(f"{path}: ")
    for part in EXPECTED[name]:
        assert part in message, f"{part!r} not in:\n{message}"
    assert "Traceback" not in message and "pydantic" not in message


def test_typo_does_not_also_report_the_field_as_missing() -> None:
    with pytest.raises(LoadError) as caught:
        load_scenario(BROKEN / "unknown-key-personna.yaml")
    assert caught.value.messages == ["line 13: personna: unknown field; did you mean persona?"]


def test_several_problems_are_all_reported_in_line_order() -> None:
    text = GOOD_SCENARIO.read_text()
    text = text.replace("version: 1\n", "version: zero\n").replace(
        "difficulty: medium", "difficulty: x"
    )
    with pytest.raises(LoadError) as caught:
        parse_scenario_text(text)
    messages = caught.value.messages
    assert [m.split(":")[0] for m in messages] == ["line 3", "line 10"]
    assert str(caught.value).splitlines()[0].startswith("<editor>: line 3: version:")


def test_unknown_key_without_close_match_lists_allowed_fields() -> None:
    text = GOOD_SCENARIO.read_text().replace("setting: healthcare", "zzzz: healthcare")
    with pytest.raises(LoadError) as caught:
        parse_scenario_text(text, source="mine.yaml")
    assert "line 9: zzzz: unknown field; allowed here: id, version, title" in str(caught.value)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    # Invalid YAML on purpose: if it were parsed, the message would be a syntax error instead.
    path.write_text("id: [\n" + "x" * MAX_FILE_BYTES)
    with pytest.raises(LoadError) as caught:
        load_scenario(path)
    assert "huge.yaml: the file is larger than 1024 KiB and was not read" in str(caught.value)


def test_oversized_editor_text_is_refused() -> None:
    with pytest.raises(LoadError, match="larger than 1024 KiB"):
        parse_scenario_text("#" * (MAX_FILE_BYTES + 1))


def test_directory_passed_as_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as caught:
        load_scenario(tmp_path)
    assert (
        str(caught.value)
        == f"{tmp_path}: this is a folder, not a file; give the path of one .yaml file"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="file not found"):
        load_rubric(tmp_path / "nope.yaml")


def test_scalar_top_level() -> None:
    with pytest.raises(LoadError, match="not a single value"):
        parse_scenario_text("just some words")


def test_deep_nesting_is_refused_cleanly() -> None:
    with pytest.raises(LoadError, match="nested too deeply"):
        parse_scenario_text("a: " + "[" * 5000 + "]" * 5000)


def test_small_alias_use_is_allowed() -> None:
    text = (
        GOOD_SCENARIO.read_text()
        .replace(
            '          - "Honestly? I\'m shattered. Third week running."',
            '          - &tired "Honestly? I\'m shattered. Third week running."',
        )
        .replace(
            '          - "It\'s just been a lot, all right? Same as always."', "          - *tired"
        )
    )
    scenario = parse_scenario_text(text)
    assert scenario.persona.mood.states["guarded"].beats  # loaded, alias resolved


def test_python_tags_are_not_executed() -> None:
    with pytest.raises(LoadError, match="YAML syntax"):
        parse_scenario_text("id: !!python/object/apply:os.system ['echo hi']\n")


def test_load_file_guesses_rubric_by_keys(tmp_path: Path) -> None:
    source = Path(__file__).parent / "good" / "mini-rubric.yaml"
    copy = tmp_path / "mini-rubric.yaml"
    copy.write_text(source.read_text())
    assert load_file(copy).id == "mini-rubric"
    assert load_file(GOOD_SCENARIO).id == "extra-patients"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("title: Extra patients, again", "title:", "line 4: title: the value is empty"),
        (
            "title: Extra patients, again",
            "title: yes",
            "line 4: title: expected text, got true: YAML reads yes/no/on/off as true/false; "
            "put the text in quotes",
        ),
        (
            "learner_role: Ward manager",
            "learner_role: 42",
            "line 8: learner_role: expected text, got the number 42; put it in quotes",
        ),
        (
            "persona:\n  name",
            "persona: Sam\npersona_:\n  name",
            "line 13: persona: expected a mapping (indented 'key: value' lines) (got 'Sam')",
        ),
        (
            "    start: guarded",
            "    start: [guarded]",
            "line 25: persona.mood.start: expected text (got a list)",
        ),
    ],
)
def test_common_value_mistakes(old: str, new: str, expected: str) -> None:
    text = GOOD_SCENARIO.read_text()
    assert old in text
    with pytest.raises(LoadError) as caught:
        parse_scenario_text(text.replace(old, new, 1))
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\x00", "U+0000 NUL"),
        ("\x07", "U+0007 BEL"),
        ("\x0b", "U+000B VT (vertical tab)"),
        ("\x0c", "U+000C FF"),
        ("\x1b", "U+001B ESC"),
        ("\x7f", "U+007F DEL"),
        ("\x01", "U+0001 (a control character)"),
        ("\ud800", "U+D800"),
    ],
)
def test_a_control_character_names_line_column_and_character(char: str, name: str) -> None:
    # PyYAML raised an uncaught ReaderError for these, with an offset instead of a line.
    lines = GOOD_SCENARIO.read_text().split("\n")
    lines[3] = "title: Extra" + char + " patients"
    with pytest.raises(LoadError) as caught:
        parse_scenario_text("\n".join(lines), "mine.yaml")
    (message,) = caught.value.messages
    assert message.startswith(f"line 4, column 13: the character {name}")
    assert "not allowed in YAML" in message and "delete it" in message


def test_control_characters_on_many_lines_are_named_up_to_a_limit() -> None:
    text = "".join(f"key{i}: a\x0cb\n" for i in range(10))
    with pytest.raises(LoadError) as caught:
        parse_scenario_text(text)
    messages = caught.value.messages
    assert [m.split(":")[0] for m in messages[:3]] == [
        "line 1, column 8",
        "line 2, column 8",
        "line 3, column 8",
    ]
    assert messages[3].startswith("more lines hold such characters")
    assert len(messages) == 4


def test_characters_yaml_allows_are_not_refused() -> None:
    # Tab inside text, NEL, non-breaking space, emoji and a BOM are all fine in YAML.
    text = GOOD_SCENARIO.read_text().replace(
        "title: Extra patients, again", 'title: "Extra\tpatients\u0085 \u00a0again 🙂"'
    )
    assert parse_scenario_text("\ufeff" + text).id == "extra-patients"
