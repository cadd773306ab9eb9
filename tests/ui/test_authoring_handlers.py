"""Scenarios tab: live validation, preview without storing, save rules, upload, card import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.content.loading import LoadError, lint_scenario, parse_scenario_text, read_text
from simulator.files.paths import SHIPPED_SCENARIOS_DIR
from simulator.ui import authoring, practice
from simulator.ui.context import AppContext
from tests.ui.helpers import plain

SHIPPED = read_text(SHIPPED_SCENARIOS_DIR / "workload-conflict.yaml")


def own_copy(new_id: str = "my-ward") -> str:
    return SHIPPED.replace("id: workload-conflict", f"id: {new_id}", 1)


def test_the_template_is_a_valid_scenario() -> None:
    scenario, problems = authoring.check(authoring.TEMPLATE)
    assert scenario is not None and problems == []
    assert authoring.validation_markdown(authoring.TEMPLATE).startswith(
        "✔ **Valid:** `my-scenario` v1"
    )


def test_validation_gives_the_load_error_text() -> None:
    broken = SHIPPED.replace("persona:", "personna:", 1)
    with pytest.raises(LoadError) as error:
        parse_scenario_text(broken)
    scenario, problems = authoring.check(broken)
    # The loader's words, without its "<editor>:" source name (meaningless under the editor).
    assert scenario is None
    assert [f"<editor>: {p}" for p in problems] == str(error.value).splitlines()
    shown = authoring.validation_markdown(broken)
    assert shown.startswith("✖") and "did you mean persona?" in plain(shown)
    for problem in problems:
        assert f"- {problem}" in plain(shown)


def test_validation_reports_lint_and_unknown_rubric() -> None:
    leaky = own_copy().replace(
        'opening_line: "Do you actually need me for something?',
        'opening_line: "My childminder quit. Do you actually need me for something?',
    )
    scenario, problems = authoring.check(
        leaky.replace("rubric: compassionate-leadership", "rubric: kindness")
    )
    assert scenario is not None
    assert any("'kindness' is not a known rubric" in p for p in problems)
    assert any("childminder" in p for p in problems)
    assert lint_scenario(scenario) == problems[1:]  # no "<editor>:" in front


def test_a_shipped_id_is_flagged_and_never_overwritten(rapport_home: Path) -> None:
    assert "is a shipped scenario" in authoring.validation_markdown(SHIPPED)
    before = (SHIPPED_SCENARIOS_DIR / "workload-conflict.yaml").read_bytes()
    message = authoring.save(True, SHIPPED)
    assert message.startswith("✖ Not saved") and "shipped scenario" in message
    assert (SHIPPED_SCENARIOS_DIR / "workload-conflict.yaml").read_bytes() == before


def test_save_writes_the_users_folder_and_the_picker_sees_it(rapport_home: Path) -> None:
    message = authoring.save(True, own_copy())
    assert message.startswith("✔ Saved **Extra patients, again** as a new scenario, `my-ward.yaml`")
    assert (rapport_home / "scenarios" / "my-ward.yaml").read_text() == own_copy()
    assert "my-ward" in dict((sid, t) for t, sid in practice.scenario_choices())
    assert "my-ward" in authoring.template_choices()
    assert authoring.load_template("my-ward") == own_copy()
    assert authoring.load_template(authoring.BLANK) == authoring.TEMPLATE


TEMPLATE_FIELDS = (
    "`id`, `title`, `brief`, `persona.background`, `persona.hidden_concerns[0].text`, "
    "`facilitator_notes`"
)


def test_the_untouched_template_is_never_saved(rapport_home: Path) -> None:
    message = authoring.save(True, authoring.TEMPLATE)
    assert message == (
        "✖ Not saved: these fields still hold the template's example text: "
        f"{TEMPLATE_FIELDS}. Write your own first."
    )
    assert not any((rapport_home / "scenarios").glob("*"))
    assert "A short title the trainee sees" not in str(practice.scenario_choices())
    # The editor says so before anyone presses Save.
    shown = authoring.validation_markdown(authoring.TEMPLATE)
    assert shown.startswith("✔ **Valid:**")
    assert "ℹ Before saving, these fields still hold the template's example text: " in shown
    assert TEMPLATE_FIELDS in shown


def test_a_half_edited_template_names_only_the_fields_left(rapport_home: Path) -> None:
    edited = authoring.TEMPLATE.replace("id: my-scenario", "id: night-shift", 1).replace(
        "title: A short title the trainee sees", "title: The night shift", 1
    )
    message = authoring.save(True, edited)
    assert message.startswith("✖ Not saved") and "`brief`" in message
    assert "`id`" not in message and "`title`" not in message
    rewritten = edited
    for old, new in (
        ("What the trainee reads before starting: who they are, who", "You lead nights;"),
        ("Who they are and what has been happening to them lately.", "A night nurse, tired."),
        ("Something they only share once they trust you.", "Their mother is ill."),
        ("What a good conversation looks like, and the common traps.", "Listen first."),
    ):
        rewritten = rewritten.replace(old, new, 1)
    scenario, problems = authoring.check(rewritten)
    assert scenario is not None and problems == []
    assert authoring.template_leftovers(scenario) == []
    assert authoring.save(True, rewritten).startswith("✔ Saved **The night shift** as a new")
    assert "night-shift" in dict((sid, t) for t, sid in practice.scenario_choices())


def test_saving_over_a_saved_scenario_says_it_was_updated(rapport_home: Path) -> None:
    assert authoring.save(True, own_copy()).startswith("✔ Saved")
    assert authoring.save(True, own_copy()) == (
        "✔ Nothing to save: `my-ward.yaml` already holds exactly this text."
    )
    changed = own_copy().replace("title: Extra patients, again", "title: Extra patients", 1)
    message = authoring.save(True, changed)
    assert message.startswith(
        "✔ Updated `my-ward.yaml`: **Extra patients** replaced the version saved before, which "
        "was titled **Extra patients, again**."
    )
    assert (rapport_home / "scenarios" / "my-ward.yaml").read_text() == changed
    same_title = changed.replace("max_turns: 10", "max_turns: 8", 1)
    assert same_title != changed
    message = authoring.save(True, same_title)
    assert message.startswith("✔ Updated `my-ward.yaml`: **Extra patients** replaced the version")
    assert "titled" not in message


def test_save_refuses_invalid_text_and_unsigned_users(rapport_home: Path) -> None:
    assert authoring.save(True, "id: [").startswith("✖ Not saved")
    assert authoring.save(False, own_copy()) == authoring.NOT_SIGNED_IN
    assert not (rapport_home / "scenarios" / "my-ward.yaml").exists()


@pytest.mark.slow
def test_preview_plays_a_session_that_is_never_stored(ctx: AppContext) -> None:
    out = authoring.preview(ctx, True, own_copy(), "What's been happening this week?")
    assert out.startswith("**Sam:** Do you actually need me for something?")
    assert "**You:** What" in out and "Scores: Attending" in out
    assert ctx.store.list_sessions() == []
    assert "Type a test line" in authoring.preview(ctx, True, own_copy(), "")
    assert authoring.preview(ctx, False, own_copy(), "hi") == authoring.NOT_SIGNED_IN
    assert "Fix the problems" in authoring.preview(ctx, True, "id: [", "hi")


def test_upload_yaml_reads_text_and_refuses_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "mine.yaml"
    good.write_text(own_copy(), encoding="utf-8")
    text, message = authoring.upload_yaml(True, str(good))
    assert text == own_copy() and "Loaded mine.yaml" in message
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" * 300_000)
    text, message = authoring.upload_yaml(True, str(big))
    assert text is None and "larger than" in message
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert "not UTF-8" in plain(authoring.upload_yaml(True, str(binary))[1])
    assert authoring.upload_yaml(False, str(good)) == (None, authoring.NOT_SIGNED_IN)


def test_import_card_fills_the_editor_with_a_valid_draft(tmp_path: Path) -> None:
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": "Priya Shah",
            "description": "A night-shift pharmacist who covers two wards.",
            "personality": "Dry, precise, tired.",
            "scenario": "You asked {{char}} for a word after {{user}} saw her snap at a porter.",
            "first_mes": "*looks up* Is this going to take long?\n\nI have a queue.",
            "mes_example": "<START>\n{{user}}: How are you?\n{{char}}: Busy. Always busy.",
        },
    }
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card), encoding="utf-8")
    text, message = authoring.import_card(True, str(path))
    assert text is not None and "Imported" in message
    scenario, problems = authoring.check(text)
    assert scenario is not None and problems == []
    assert scenario.id == "priya-shah-card" and scenario.persona.name == "Priya Shah"
    assert scenario.brief.startswith("You asked Priya for a word after you saw her")
    assert scenario.persona.opening_line == "*looks up* Is this going to take long?"
    assert scenario.persona.mood.states["guarded"].example_lines == ["Busy. Always busy."]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"spec": "something"}', '"spec" should be "chara_card_v2"'),
        ('{"name": "A", "first_mes": "hi"}', "version 1 card"),
        ('{"spec": "chara_card_v2"}', '"data"'),
        ('{"spec": "chara_card_v2", "data": {"name": ""}}', "data.name is empty"),
        (
            '{"spec": "chara_card_v2", "data": {"name": "A", "first_mes": 3}}',
            "data.first_mes should be text",
        ),
        # Once a RecursionError traceback: nesting deeper than Python's recursion limit.
        (
            '{"spec": "chara_card_v2", "data": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "the JSON is nested too deeply to read",
        ),
        ('{"spec": "chara_card_v2", "data": {"name": "\\ud83d"}}', "half of a character"),
    ],
)
def test_a_bad_card_gets_a_clear_message(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "card.json"
    path.write_text(content, encoding="utf-8")
    text, message = authoring.import_card(True, str(path))
    assert text is None
    assert message.startswith("✖ Could not import this character card")
    assert expected in plain(message)


def test_oversized_editor_text_is_refused_before_parsing() -> None:
    import time

    huge = own_copy() + "# padding\n" * (authoring.MAX_EDITOR_CHARS // 10)
    began = time.perf_counter()
    scenario, problems = authoring.check(huge)
    assert time.perf_counter() - began < 0.1  # no YAML parse of the whole text
    assert scenario is None and "editor checks at most 128 KiB" in problems[0]
    assert "not signed in" not in authoring.save(True, huge).lower()
    assert authoring.save(True, huge).startswith("✖ Not saved")


def test_a_card_name_on_many_lines_gives_a_draft_that_loads(tmp_path: Path) -> None:
    card = {"spec": "chara_card_v2", "data": {"name": "Priya\nid: hacked\n  Shah"}}
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card), encoding="utf-8")
    text, _ = authoring.import_card(True, str(path))
    assert text is not None
    scenario = parse_scenario_text(text)
    assert (
        scenario.persona.name == "Priya id: hacked Shah"
        and scenario.id == "priya-id-hacked-shah-card"
    )


def test_broken_saved_scenarios_are_listed_for_facilitators_only(rapport_home: Path) -> None:
    from simulator.files.paths import user_scenarios_dir

    folder = user_scenarios_dir()
    (folder / "my-ward.yaml").write_text(own_copy(), encoding="utf-8")
    (folder / "bell.yaml").write_text(own_copy("bell").replace("Sam", "Sa\x07m", 1))
    assert authoring.broken_markdown(False) == ""
    shown = plain(authoring.broken_markdown(True))
    assert shown.startswith("⚠ **1 saved scenario file could not be loaded** (trainees do not")
    assert f"fix or remove it in {folder}:\n- bell.yaml: line " in shown
    assert "U+0007 BEL (bell) is not allowed in YAML" in shown
    assert "my-ward" not in shown
    assert "my-ward" in dict(practice.scenario_choices()).values()
    (folder / "bell.yaml").unlink()
    assert authoring.broken_markdown(True) == ""


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("      revealed_at: opening-up", "     revealed_at: opening-up", 22),
        ("      keywords: [secret worry]", "      keywords: [secret worry]\n   - text: Two", 24),
    ],
)
def test_a_mis_indented_list_gets_plain_words(old: str, new: str, line: int) -> None:
    _, problems = authoring.check(authoring.TEMPLATE.replace(old, new))
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.startswith(f"line {line}, column ")
    assert "the indentation is off" in problem and "same column" in problem
    for parser_words in (
        "<block end>",
        "<block mapping start>",
        "'?'",
        "while parsing",
        "<editor>",
    ):
        assert parser_words not in problem


def test_no_message_starts_with_the_editors_source_name() -> None:
    shown = authoring.validation_markdown("id: x\npersonna: {}\n")
    assert "editor&gt;" not in shown and "<editor>" not in shown
    assert "did you mean persona?" in plain(shown)
    assert authoring.check("")[1] == ["the editor is empty; start from a template or upload a file"]


def test_a_stale_not_saved_goes_once_the_text_changes() -> None:
    assert (
        authoring.after_edit("✖ Not saved: fix the problems listed under the editor first.") == ""
    )
    assert authoring.after_edit(None) == ""
    saved = "✔ Saved **Mine** as a new scenario, `mine.yaml`."
    assert authoring.after_edit(saved) == saved


def test_card_import_keeps_creator_notes_and_greetings_and_warns_of_no_concerns(
    tmp_path: Path,
) -> None:
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": "Priya Shah",
            "description": "A night-shift pharmacist who covers two wards.",
            "personality": "Dry, precise, tired.",
            "scenario": "You asked {{char}} for a word.",
            "first_mes": "Is this going to take long?",
            "mes_example": "{{user}}: How are you?\n{{char}}: Busy. Always busy.",
            "creator_notes": "Play her as competent but stretched; she softens if {{user}} asks.",
            "alternate_greetings": ["Oh. It's you.\n\nWhat now?", "I've got five minutes."],
        },
    }
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card), encoding="utf-8")
    text, message = authoring.import_card(True, str(path))
    assert text is not None
    scenario, problems = authoring.check(text)
    assert scenario is not None and problems == []
    notes = scenario.facilitator_notes
    assert notes.startswith(
        "From the card's creator: Play her as competent but stretched; she softens if you asks."
    )
    assert "Other openings in the card" in notes and "Oh. It's you." in notes
    assert "I've got five minutes." in notes and "Check every field" in notes
    assert scenario.persona.mood.states["guarded"].example_lines == [
        "Busy. Always busy.",
        "Oh. It's you.",
        "I've got five minutes.",
    ]
    assert scenario.persona.hidden_concerns == []
    assert "No hidden concerns" in message
    shown = authoring.validation_markdown(text)
    assert shown.startswith("✔ **Valid:**") and "⚠ No hidden concerns" in shown


def test_card_with_bad_alternate_greetings_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text(
        json.dumps({"spec": "chara_card_v2", "data": {"name": "A", "alternate_greetings": "hello"}})
    )
    text, message = authoring.import_card(True, str(path))
    assert text is None and "alternate_greetings should be a list of texts" in plain(message)
