"""Generate the field reference of docs/authoring.md from the pydantic models.

The reference is written between ``<!-- reference:start -->`` and ``<!-- reference:end -->`` so
the hand-written guide above it is kept. ``python -m simulator.content.docs`` rewrites the
section; ``python -m simulator.content.docs --check`` exits 1 when it is out of date (a test does
the same), so the reference cannot drift from the schema.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import json
import sys
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from simulator.content import defaults
from simulator.content.schema import ID_PATTERN, Rubric, Scenario, standard_mood

START = "<!-- reference:start -->"
END = "<!-- reference:end -->"
AUTHORING_DOC = Path(__file__).resolve().parents[2] / "docs" / "authoring.md"


def _constraints(metadata: Iterable[Any], is_text: bool) -> list[str]:
    """Words for length, range and pattern constraints."""
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            found.update((k, v) for k, v in _raw(item.metadata).items())
        else:
            found.update(_raw([item]))
    words = []
    if found.get("pattern") == ID_PATTERN:
        words.append("lower-case letters, digits and hyphens")
    elif "pattern" in found:
        words.append(f"matching `{found['pattern']}`")
    low, high = found.get("ge"), found.get("le")
    if low is not None and high is not None:
        words.append(f"{low} to {high}")
    elif low is not None:
        words.append(f"at least {low}")
    elif high is not None:
        words.append(f"at most {high}")
    short, long = found.get("min_length"), found.get("max_length")
    unit = "characters" if is_text else "items"
    if long is not None:
        words.append(f"{short or 0}-{long} {unit}" if short else f"up to {long} {unit}")
    elif short:
        words.append(f"at least {short} {'item' if short == 1 else unit}")
    return words


def _raw(metadata: Iterable[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in metadata:
        for name in ("ge", "le", "min_length", "max_length", "pattern"):
            value = getattr(item, name, None)
            if value is not None:
                values[name] = value
    return values


def describe_type(annotation: Any, metadata: Iterable[Any] = ()) -> str:
    """Plain words for a field's type, e.g. ``list of text (1-400 characters), at least 1 item``.

    Args:
        annotation: The type annotation (as in ``FieldInfo.annotation``).
        metadata: Constraint objects attached to it (``FieldInfo.metadata``).
    """
    metadata = list(metadata)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return describe_type(inner, [*extra, *metadata])
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in args if a is not type(None)]
        text = " or ".join(describe_type(a, metadata) for a in arms)
        return f"{text}, or null" if len(arms) < len(args) else text
    is_text = annotation is str
    if origin is list:
        base = f"list of {describe_type(args[0])}"
    elif origin is dict:
        base = f"mapping of {describe_type(args[0])} to {describe_type(args[1])}"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        base = f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        base = "one of " + ", ".join(f"`{m.value}`" for m in annotation)
    else:
        names = {str: "text", int: "whole number", float: "number", bool: "true/false"}
        base = names.get(annotation, getattr(annotation, "__name__", str(annotation)))
    words = ", ".join(_constraints(metadata, is_text))
    if not words:
        return base
    # "list of text (1-400 characters), at least 1 item" reads better than nested brackets.
    return f"{base}, {words}" if base.endswith(")") else f"{base} ({words})"


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True, validated_data={})
    if info.default_factory is standard_mood:
        return "[standard moods](#standard-moods)"
    if isinstance(value, BaseModel):
        return "all defaults"
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or value is PydanticUndefined:
        return "optional"
    return f"`{json.dumps(value)}`"


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _nested_models(arg)]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def model_section(model: type[BaseModel], level: int = 3) -> str:
    """One Markdown section: the model's docstring and a table of its fields."""
    lines = [f"{'#' * level} {model.__name__}", ""]
    doc = inspect.cleandoc(model.__doc__ or "")
    if doc:
        lines += [doc, ""]
    lines += ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        kind = describe_type(info.annotation, info.metadata)
        lines.append(
            f"| `{name}` | {_cell(kind)} | {_default(info)} | {_cell(info.description or '')} |"
        )
    return "\n".join(lines) + "\n"


def field_reference(roots: Iterable[type[BaseModel]] = (Scenario, Rubric)) -> str:
    """The whole reference: each root model, then every model nested in it, in field order."""
    sections = [
        "## Field reference",
        "",
        "Generated from `simulator/content/schema.py`; do not edit.",
        "",
    ]
    for root in roots:
        seen: list[type[BaseModel]] = []
        queue = [root]
        while queue:
            model = queue.pop(0)
            if model in seen:
                continue
            seen.append(model)
            for info in model.model_fields.values():
                queue.extend(_nested_models(info.annotation))
        for model in seen:
            sections.append(model_section(model))
        if root is Scenario:
            sections.append(standard_moods_section())
    return "\n".join(sections).rstrip() + "\n"


def standard_moods_section(level: int = 3) -> str:
    """The moods a persona gets without ``mood``, read from :mod:`simulator.content.defaults`."""
    mood = standard_mood()
    rules = mood.trust_rules
    lines = [
        f"{'#' * level} Standard moods",
        "",
        "What a persona without `mood` gets (from `simulator/content/defaults.py`). It starts "
        f"`{mood.start}` at trust {mood.start_trust}; help is welcome from "
        f"`{rules.help_welcome_from}`; trust moves by the rubric's weights. Each mood also "
        "answers a line that makes no sense with "
        + " or ".join(f'"{line}"' for line in defaults.STANDARD_OFF_SCRIPT)
        + ", and `persona.example_lines` are added to every mood's example lines.",
        "",
        "| mood | min_trust | description | example lines |",
        "| --- | --- | --- | --- |",
    ]
    for name, state in mood.ordered_states():
        examples = "<br>".join(_cell(f'"{line}"') for line in state.example_lines)
        lines.append(f"| `{name}` | {state.min_trust} | {_cell(state.description)} | {examples} |")
    return "\n".join(lines) + "\n"


def render(document: str) -> str:
    """``document`` with the text between the reference markers replaced by a fresh reference.

    Raises:
        ValueError: The markers are missing or out of order.
    """
    start, end = document.find(START), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the document needs {START} followed by {END}")
    return document[: start + len(START)] + "\n" + field_reference() + document[end:]


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check`` verify) the reference section of docs/authoring.md."""
    parser = argparse.ArgumentParser(prog="python -m simulator.content.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    parser.add_argument("--path", type=Path, default=AUTHORING_DOC)
    args = parser.parse_args(argv)
    try:
        current = args.path.read_text(encoding="utf-8")
        fresh = render(current)
    except (OSError, ValueError) as error:
        print(f"{args.path}: {error}", file=sys.stderr)
        return 2
    if fresh == current:
        print(f"{args.path}: reference is up to date")
        return 0
    if args.check:
        print(
            f"{args.path}: reference is out of date; run python -m simulator.content.docs",
            file=sys.stderr,
        )
        return 1
    args.path.write_text(fresh, encoding="utf-8")
    print(f"{args.path}: reference rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
