"""Character Card V2 JSON -> a starting scenario YAML for the authoring editor.

Spec: ``{"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name", "description",
"personality", "scenario", "first_mes", "mes_example", "creator_notes", "alternate_greetings",
...}}``. A card describes a character, not a workplace conversation, so the result is a draft:
the persona comes from the card, the moods and the rubric from a template the facilitator then
edits. The creator's notes open ``facilitator_notes`` (they are for whoever runs the character,
never for the model); the alternate greetings are more lines in the character's voice, so they
join the guarded mood's example lines and the notes list them as other possible openings.
``{{char}}`` and ``{{user}}`` macros are replaced; nothing in the card is executed or fetched.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from simulator.content.schema import DEFAULT_RUBRIC_ID
from simulator.files.inputfiles import InputRefused, loads_json

MAX_CARD_BYTES = 1024 * 1024
LINE_MAX = 400
SHORT_MAX = 2000
MAX_EXAMPLES = 5
GREETING_SEPARATOR = "\n\u241e\n"  # a record separator symbol on its own line


class CardError(ValueError):
    """The JSON is not a usable Character Card V2; the message says what is wrong."""


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # End on a sentence or word boundary so the draft reads naturally.
    stop = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: stop + 1] if stop > limit // 2 else cut.rsplit(" ", 1)[0] + "…"


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")
    return f"{slug or 'imported'}-card"


def _field(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CardError(f"data.{key} should be text, found {type(value).__name__}")
    return value


def parse_card(text: str) -> dict[str, str]:
    """Check a card's JSON and return its text fields with macros replaced.

    Raises:
        CardError: Not JSON, not a V2 card, or a required field missing or of the wrong type.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_CARD_BYTES:
        raise CardError("the file is larger than 1 MiB; a character card is a few KB")
    try:
        card = loads_json(text)
    except json.JSONDecodeError as exc:
        raise CardError(f"this is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except InputRefused as exc:
        raise CardError(str(exc)) from None
    if not isinstance(card, dict):
        raise CardError("a character card is a JSON object ({...}), not a list or a value")
    if card.get("spec") != "chara_card_v2":
        if "name" in card and "first_mes" in card:
            raise CardError(
                "this looks like a version 1 card; export it as Character Card V2 "
                '("spec": "chara_card_v2") and import that'
            )
        found = card.get("spec")
        raise CardError(
            f'"spec" should be "chara_card_v2" (found {json.dumps(found)}); this does not look '
            "like a Character Card V2"
        )
    data = card.get("data")
    if not isinstance(data, dict):
        raise CardError('a V2 card keeps its fields in "data": {...}, which is missing')
    # One line: the name goes into a YAML comment and the title.
    name = " ".join(_field(data, "name").split())
    if not name:
        raise CardError("data.name is empty; the character needs a name")
    fields = {
        key: _field(data, key)
        for key in (
            "description",
            "personality",
            "scenario",
            "first_mes",
            "mes_example",
            "creator_notes",
        )
    }
    greetings = data.get("alternate_greetings") or []
    if not isinstance(greetings, list) or not all(isinstance(g, str) for g in greetings):
        raise CardError("data.alternate_greetings should be a list of texts")
    # One text per greeting, kept apart by a line no greeting can hold (macros replaced below).
    fields["alternate_greetings"] = GREETING_SEPARATOR.join(g for g in greetings if g.strip())
    first = name.split()[0]
    for key, value in fields.items():
        value = re.sub(r"\{\{\s*char\s*\}\}|<BOT>", first, value, flags=re.IGNORECASE)
        fields[key] = re.sub(r"\{\{\s*user\s*\}\}|<USER>", "you", value, flags=re.IGNORECASE)
    fields["name"] = name[:80]
    return fields


def _greetings(fields: dict[str, str]) -> list[str]:
    """The card's alternate greetings, each cut to its first paragraph and a line's length."""
    texts = fields.get("alternate_greetings", "").split(GREETING_SEPARATOR)
    return [_clip(t.strip().split("\n\n")[0], LINE_MAX) for t in texts if t.strip()]


def _example_lines(mes_example: str, first: str) -> list[str]:
    lines = []
    for raw in mes_example.splitlines():
        match = re.match(rf"\s*{re.escape(first)}\s*:\s*(.+)", raw)
        if match:
            lines.append(_clip(match.group(1).strip().strip('"'), LINE_MAX))
    return [line for line in lines if line][:3]


def _notes(fields: dict[str, str], name: str, greetings: list[str]) -> str:
    """Facilitator notes: the creator's own notes first, then what the draft still needs."""
    parts = []
    if fields["creator_notes"].strip():
        parts.append(f"From the card's creator: {fields['creator_notes'].strip()}")
    if greetings:
        listed = " | ".join(greetings)
        parts.append(f"Other openings in the card (one could replace opening_line): {listed}")
    parts.append(
        f"Draft imported from the Character Card V2 for {name}. Check every field: give the "
        "brief a workplace situation, add hidden concerns with revealed_at and keywords, and "
        "write example lines and beats for each mood in the character's voice."
    )
    # The draft's own advice must survive the clip: the card's notes give way first.
    advice = parts.pop()
    head = _clip("\n\n".join(parts), SHORT_MAX - len(advice) - 2) if parts else ""
    return f"{head}\n\n{advice}" if head else advice


def card_to_yaml(text: str) -> str:
    """A draft scenario YAML built from a Character Card V2 JSON text.

    Raises:
        CardError: See :func:`parse_card`.
    """
    fields = parse_card(text)
    name = fields["name"]
    first = name.split()[0]
    opening = fields["first_mes"].strip().split("\n\n")[0] or "Hi. You wanted a word?"
    greetings = _greetings(fields)
    examples = _example_lines(fields["mes_example"], first) + greetings
    examples = list(dict.fromkeys(examples))[:MAX_EXAMPLES] or [_clip(opening, LINE_MAX)]
    background = fields["description"] or f"{name} works with you."
    style = fields["personality"] or "Plain, everyday speech. Short replies."

    def state(trust: float, description: str, lines: list[str]) -> dict[str, Any]:
        return {"min_trust": trust, "description": description, "example_lines": lines}

    scenario = {
        "id": _slug(name),
        "version": 1,
        "title": _clip(f"A conversation with {name}", 120),
        "brief": _clip(
            fields["scenario"] or f"You have asked {first} for a quick word about how things are.",
            SHORT_MAX,
        ),
        "learner_role": "Manager",
        "setting": "workplace",
        "difficulty": "medium",
        "rubric": DEFAULT_RUBRIC_ID,
        "max_turns": 10,
        "persona": {
            "name": name,
            "role": "Colleague",
            "background": _clip(background, SHORT_MAX),
            "speaking_style": _clip(style, SHORT_MAX),
            "opening_line": _clip(opening, LINE_MAX),
            "hidden_concerns": [],
            "mood": {
                "start": "guarded",
                "states": {
                    "escalated": state(
                        0.0,
                        f"{first} is upset and on edge; short, sharp replies.",
                        ["I haven't got time for this right now."],
                    ),
                    "guarded": state(0.25, f"{first} is wary and gives little away.", examples),
                    "opening-up": state(
                        0.5,
                        f"{first} feels heard and starts to say what is really going on.",
                        ["Honestly? It's been harder than I've let on."],
                    ),
                    "collaborative": state(
                        0.75,
                        f"{first} trusts you enough to work on it together.",
                        ["Okay. What could we actually try?"],
                    ),
                },
            },
        },
        "facilitator_notes": _notes(fields, name, greetings),
    }
    header = (
        f"# Draft imported from a Character Card V2 ({name}).\n"
        "# Edit it, check the messages below the editor, then save.\n"
    )
    body = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=100)
    return header + body
