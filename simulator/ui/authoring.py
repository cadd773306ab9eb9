"""Scenarios tab handlers: validate as you type, preview the persona, save, upload, import.

Validation gives the messages ``rapport validate`` gives (the LoadError text, an unknown rubric,
``lint_scenario``). The preview plays a throwaway session that is never stored. Saving goes
through ``save_user_scenario`` (ids checked, shipped scenarios never overwritten, size limit,
``yaml.safe_load`` only); the template's placeholder texts are refused first, and the message
says whether the save added a scenario or replaced one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from simulator.content.cards import CardError, card_to_yaml
from simulator.content.loading import (
    LoadError,
    available_rubrics,
    parse_scenario_text,
    read_text,
    save_user_scenario,
    scenario_catalog,
    scenario_problems,
)
from simulator.content.schema import Scenario
from simulator.conversation.session import InputError
from simulator.files.paths import SHIPPED_SCENARIOS_DIR, user_scenarios_dir
from simulator.models.base import ModelError
from simulator.ui.auth import NOT_SIGNED_IN
from simulator.ui.context import AppContext
from simulator.ui.text import as_text

EDITOR = "<editor>"  # the source name parse_scenario_text gives the editor's text
NO_CONCERNS = (
    "No hidden concerns: this colleague holds nothing back for a good listener to earn, so "
    "the conversation has nowhere to go. Add at least one under `persona.hidden_concerns` "
    "(text, revealed_at, keywords)."
)
MAX_EDITOR_CHARS = 128 * 1024
"""Checked before parsing: validation's cost grows with the text, and a scenario is a few KB."""
BLANK = "New scenario from a template"

TEMPLATE = """\
# A new practice scenario. Lines starting with # are comments.
id: my-scenario            # lower-case letters, digits and hyphens; also the file name
version: 1
title: A short title the trainee sees
brief: >
  What the trainee reads before starting: who they are, who they are talking to, and what
  has just happened.
learner_role: Team leader
setting: workplace
difficulty: medium         # easy, medium or hard
rubric: compassionate-leadership
max_turns: 10
persona:                   # never shown to the trainee
  name: Alex Morgan
  role: Team member
  background: >
    Who they are and what has been happening to them lately.
  speaking_style: Short sentences. Polite but tired.
  opening_line: "You wanted to see me?"
  hidden_concerns:
    - text: Something they only share once they trust you.
      revealed_at: opening-up
      keywords: [secret worry]
  mood:
    start: guarded
    states:
      escalated:
        min_trust: 0.0
        description: Upset and defensive.
        example_lines: ["I don't see the point of this conversation."]
      guarded:
        min_trust: 0.25
        description: Wary; gives little away.
        example_lines: ["It's fine. Everything's fine."]
      opening-up:
        min_trust: 0.5
        description: Feels heard and starts to explain.
        example_lines: ["Honestly, it's been a hard few weeks."]
      collaborative:
        min_trust: 0.75
        description: Ready to work on it together.
        example_lines: ["Okay. What could we try?"]
facilitator_notes: >
  What a good conversation looks like, and the common traps.
"""


def template_choices() -> list[str]:
    """The editor's starting points: a blank template, then every scenario by id."""
    return [BLANK, *sorted(scenario_catalog().items)]


def load_template(choice: str | None) -> str:
    """The YAML text to start from (a scenario's file as written, comments included)."""
    catalog = scenario_catalog()
    source = catalog.sources.get(choice or "")
    if source is None:
        return TEMPLATE
    try:
        return read_text(source)
    except LoadError:
        return TEMPLATE


def check(text: str | None) -> tuple[Scenario | None, list[str]]:
    """The scenario (when it loads) and every problem ``rapport validate`` would report."""
    if not text or not text.strip():
        return None, ["the editor is empty; start from a template or upload a file"]
    if len(text) > MAX_EDITOR_CHARS:
        return None, [
            f"the text is {len(text) // 1024} KiB; a scenario is a few KB and the "
            f"editor checks at most {MAX_EDITOR_CHARS // 1024} KiB. Remove what is not needed."
        ]
    try:
        scenario = parse_scenario_text(text)
    except LoadError as error:
        # The loader names its source ("<editor>: ..."); under the editor that says nothing.
        return None, [line.removeprefix(f"{EDITOR}: ") for line in str(error).splitlines()]
    return scenario, scenario_problems(scenario, available_rubrics())


def after_edit(save_message: str | None) -> str:
    """The save message to keep once the editor's text has changed ('' clears it).

    A "✖ Not saved" refers to the text as it was when Save was pressed; once the editor has
    changed it is stale (and wrong, once the problems are fixed), so it goes. A "✔ Saved"
    stays: it is still true of the file.
    """
    return "" if not save_message or save_message.startswith("✖") else save_message


def is_shipped(scenario_id: str) -> bool:
    """Whether a scenario id is one of the scenarios shipped with Rapport."""
    return any(
        (SHIPPED_SCENARIOS_DIR / f"{scenario_id}{ext}").exists() for ext in (".yaml", ".yml")
    )


def _own_words(scenario: Scenario) -> dict[str, str]:
    """The fields a facilitator must write themselves, by path, whitespace folded."""
    texts = {
        "id": scenario.id,
        "title": scenario.title,
        "brief": scenario.brief,
        "persona.background": scenario.persona.background,
    }
    for index, concern in enumerate(scenario.persona.hidden_concerns):
        texts[f"persona.hidden_concerns[{index}].text"] = concern.text
    texts["facilitator_notes"] = scenario.facilitator_notes  # listed in the file's order
    return {path: " ".join(text.split()) for path, text in texts.items()}


@cache
def _placeholders() -> frozenset[str]:
    return frozenset(_own_words(parse_scenario_text(TEMPLATE)).values())


def template_leftovers(scenario: Scenario) -> list[str]:
    """Paths of the fields that still hold the template's placeholder text.

    The template is valid on purpose (so the editor starts green), but saved as it is it would
    put "A short title the trainee sees" in every trainee's list. The persona's name, opening
    line and moods are usable examples; the texts checked here describe what to write instead.
    """
    placeholders = _placeholders()
    return [path for path, text in _own_words(scenario).items() if text in placeholders]


def _leftovers_line(leftovers: list[str]) -> str:
    fields = ", ".join(f"`{path}`" for path in leftovers)
    return f"these fields still hold the template's example text: {fields}. Write your own first."


def validation_markdown(text: str | None) -> str:
    """The live validation panel under the editor."""
    scenario, problems = check(text)
    lines = []
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines.append(f"✖ **{count} to fix before saving:**")
        lines.extend(f"- {as_text(problem)}" for problem in problems)
    elif scenario is not None:
        # Ids match [a-z0-9-] (schema), so they are safe to show as code.
        lines.append(f"✔ **Valid:** `{scenario.id}` v{scenario.version}")
    if scenario is not None and not scenario.persona.hidden_concerns:
        lines.append(f"\n⚠ {NO_CONCERNS}")
    if scenario is not None and (leftovers := template_leftovers(scenario)):
        lines.append(f"\nℹ Before saving, {_leftovers_line(leftovers)}")
    if scenario is not None and is_shipped(scenario.id):
        lines.append(
            f"\nℹ `{scenario.id}` is a shipped scenario: change `id:` to save your own version."
        )
    return "\n".join(lines)


def broken_markdown(allowed: bool) -> str:
    """The saved scenarios that cannot be loaded, each with why (empty when none, or when the
    user has not signed in: file names and messages are for facilitators)."""
    if not allowed:
        return ""
    broken = scenario_catalog().broken
    if not broken:
        return ""
    plural = len(broken) != 1
    lines = [
        f"⚠ **{len(broken)} saved scenario file{'s' if plural else ''} could not be loaded** "
        f"(trainees do not see {'them' if plural else 'it'}); fix or remove "
        f"{'them' if plural else 'it'} in {as_text(str(user_scenarios_dir()))}:"
    ]
    for source, messages in broken.items():
        lines.append(f"- {as_text(Path(source).name)}: {as_text('; '.join(messages))}")
    return "\n".join(lines)


def preview(ctx: AppContext, allowed: bool, text: str | None, test_line: str | None) -> str:
    """The persona's opening line and its reply to a test line, from a session never stored."""
    if not allowed:
        return NOT_SIGNED_IN
    scenario, _ = check(text)
    if scenario is None:
        return "Fix the problems listed under the editor first, then preview."
    name = as_text(scenario.persona.first_name)
    lines = [f"**{name}:** {as_text(scenario.persona.opening_line)}"]
    if not test_line or not test_line.strip():
        lines.append("\n_Type a test line to hear how the persona replies._")
        return "\n".join(lines)
    ctx.wait_until_warm()
    try:
        # Never stored: a preview must not appear in anyone's history.
        session = ctx.services.preview_session(scenario)
        rubric = session.rubric
        turn = session.respond(test_line)
    except InputError as exc:
        return "\n".join([*lines, f"\n⚠ {as_text(str(exc))}"])
    except ModelError as exc:
        return "\n".join([*lines, f"\n⚠ The persona model could not answer: {as_text(str(exc))}"])
    except LookupError as exc:
        return "\n".join([*lines, f"\n⚠ {as_text(str(exc))}"])
    levels = ", ".join(
        f"{rubric.dimension(d).name} {s.level}"
        for d, s in (turn.scores.dimensions.items() if turn.scores else [])
    )
    lines += [
        f"**You:** {as_text(turn.learner)}",
        f"**{name}:** {as_text(turn.persona)}",
        f"\n_Scores: {as_text(levels)}; mood now: {as_text(turn.mood)} (trust {turn.trust:.2f})._",
    ]
    return "\n\n".join(lines)


def _saved_copy(scenario_id: str) -> Path | None:
    """The file ``save_user_scenario`` would replace for this id, if one was saved before."""
    target = user_scenarios_dir() / f"{scenario_id}.yaml"
    return target if target.exists() else None


def _holds(path: Path, text: str | None) -> bool:
    try:
        return read_text(path) == text
    except LoadError:  # unreadable now: saving replaces it
        return False


def save(allowed: bool, text: str | None) -> str:
    """Save the editor's scenario to the facilitators' folder; say where, or what to fix.

    The message says whether this added a scenario or replaced one saved before under the same
    id, so a facilitator who reused an id by mistake learns it at once.
    """
    if not allowed:
        return NOT_SIGNED_IN
    scenario, problems = check(text)
    if scenario is None or problems:
        return "✖ Not saved: fix the problems listed under the editor first."
    if leftovers := template_leftovers(scenario):
        return f"✖ Not saved: {_leftovers_line(leftovers)}"
    previous = _saved_copy(scenario.id)
    if previous is not None and _holds(previous, text):
        return f"✔ Nothing to save: `{previous.name}` already holds exactly this text."
    earlier = scenario_catalog().items.get(scenario.id)
    try:
        path = save_user_scenario(text or "")
    except LoadError as error:
        return "✖ Not saved:\n" + "\n".join(f"- {as_text(m)}" for m in error.messages)
    except OSError as exc:
        return f"✖ Not saved: the file could not be written ({as_text(str(exc))})."
    title = as_text(scenario.title)
    reload = "trainees with the page already open see it after reloading"
    if previous is None:
        return (
            f"✔ Saved **{title}** as a new scenario, `{path.name}`. It is now in the Practice "
            f"tab's list ({reload})."
        )
    replaced = ""
    if earlier is not None and earlier.title != scenario.title:
        replaced = f", which was titled **{as_text(earlier.title)}**"
    return (
        f"✔ Updated `{path.name}`: **{title}** replaced the version saved before{replaced}. "
        f"The Practice tab's list shows the new text ({reload})."
    )


def upload_yaml(allowed: bool, path: str | None) -> tuple[str | None, str]:
    """Read an uploaded YAML file into the editor (None keeps the editor as it is)."""
    if not allowed:
        return None, NOT_SIGNED_IN
    if not path:
        return None, "No file was uploaded."
    try:
        text = read_text(path)
    except LoadError as error:
        return None, "✖ " + as_text("; ".join(error.messages))
    return text, f"Loaded {as_text(Path(path).name)} into the editor. Check the messages below it."


def import_card(allowed: bool, path: str | None) -> tuple[str | None, str]:
    """Turn an uploaded Character Card V2 JSON into a draft scenario in the editor."""
    if not allowed:
        return None, NOT_SIGNED_IN
    if not path:
        return None, "No file was uploaded."
    try:
        raw = Path(path).read_bytes()
        if len(raw) > 1024 * 1024:
            raise CardError("the file is larger than 1 MiB; a character card is a few KB")
        text = card_to_yaml(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, "✖ This file is not UTF-8 text; a character card is a .json file."
    except OSError as exc:
        return None, f"✖ The file could not be read: {as_text(str(exc))}"
    except CardError as exc:
        return None, f"✖ Could not import this character card: {as_text(str(exc))}."
    message = "Imported the character card as a draft. Read it through, then save it."
    scenario, _ = check(text)
    if scenario is not None and not scenario.persona.hidden_concerns:
        # A card has no hidden concerns: say so here too, not only under the editor.
        message += f"\n\n⚠ {NO_CONCERNS}"
    return text, message
