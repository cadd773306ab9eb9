"""Safe YAML parsing and plain-words error messages, for simulator.content.loading.

The safe loader is used throughout. Before any Python object is built, the node tree is checked
for alias bombs ("billion laughs": aliases that expand to more than :data:`MAX_NODES` values),
recursive aliases and duplicate keys (which PyYAML would silently collapse). Pydantic errors are
mapped back onto the node tree so each message carries the line of the field it is about.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulator.files.inputfiles import half_character_message, lone_surrogate

MAX_NODES = 100_000
"""Most YAML values a document may expand to once aliases (``*name``) are followed."""


class _SafeLoader(yaml.SafeLoader):
    """The safe loader; a subclass so nothing we do leaks into yaml.SafeLoader globally."""


# libyaml's safe loader is about 20 times faster (the catalogue is re-read on every lookup);
# the pure-Python one gives better error texts, so a file that fails is read again with it.
_FastLoader: type[Any] = getattr(yaml, "CSafeLoader", _SafeLoader)
_RETRY_SLOW_BELOW = 200_000
"""Characters under which a failing text is re-read by the slower loader for its message."""


# What YAML 1.1 accepts in a stream (PyYAML's Reader.NON_PRINTABLE is its complement): tab, line
# feed, carriage return, printable ASCII, NEL and the printable Unicode planes.
_NOT_ALLOWED = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_CONTROL_NAMES = {
    0x00: "NUL (null)",
    0x07: "BEL (bell)",
    0x08: "BS (backspace)",
    0x0B: "VT (vertical tab)",
    0x0C: "FF (form feed, a page break)",
    0x1B: "ESC (escape)",
    0x7F: "DEL (delete)",
}
CONTROL_SHOWN = 3
"""How many lines with a forbidden character are named before saying how many more there are."""


def _character_name(char: str) -> str:
    code = ord(char)
    name = _CONTROL_NAMES.get(code)
    if name:
        return f"U+{code:04X} {name}"
    if 0xD800 <= code <= 0xDFFF:
        return f"U+{code:04X} (half of a broken emoji or symbol)"
    return f"U+{code:04X} (a control character)"


def control_characters(text: str) -> list[str]:
    """Where ``text`` holds a character YAML forbids (NUL, bell, form feed, ...), one message per
    line, so the facilitator can find and delete it: such characters are invisible in most
    editors and usually come from copying text out of another program.

    Returns:
        Messages like ``"line 5, column 12: the character U+0007 BEL (bell) is not allowed ..."``;
        empty when there is none.
    """
    problems: list[str] = []
    lines_seen: set[int] = set()
    for match in _NOT_ALLOWED.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if line in lines_seen:
            continue
        lines_seen.add(line)
        if len(problems) == CONTROL_SHOWN:
            problems.append("more lines hold such characters; fix those above and check again")
            break
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        problems.append(
            f"line {line}, column {column}: the character {_character_name(match.group())} is "
            "not allowed in YAML; it is usually invisible and comes from copied text: delete it "
            "(retype that part of the line), or save the file again as plain UTF-8 text"
        )
    return problems


def _yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML syntax error as 'line N, column M: what; hint'."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return f"not valid YAML: {error}"
    problem = error.problem or "not valid YAML"
    context = error.context or ""
    if "'\\t'" in problem or "\t" in problem:
        problem, context = "a tab is used for indentation; YAML needs spaces (replace tabs)", ""
    elif "mapping values are not allowed" in problem:
        problem += (
            "; check the indentation, or put quotes around text that contains a colon and a space"
        )
    elif "could not find expected ':'" in problem:
        problem += "; each line needs 'key: value', or the previous line's indentation is off"
    elif "expected <block end>" in problem or "expected <block mapping start>" in problem:
        # The parser's own words name tokens ('<block end>', '?') nobody writing a scenario
        # knows; what happened is a line indented differently from the block it belongs to.
        problem, context = (
            (
                "the indentation is off: this line does not line up with the lines above it. "
                "Give keys of the same block the same number of spaces, and start every list item "
                "('- ') of one list in the same column"
            ),
            "",
        )
    elif "single document" in context:
        problem, context = "a second YAML document ('---'); put one scenario or rubric per file", ""
    context = f"{context}; " if context else ""
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"{where}YAML syntax: {context}{problem}"


def _check_expansion(root: yaml.Node) -> str | None:
    """Refuse alias bombs and recursive aliases before any Python objects are built."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # The walk is iterative so deeply nested (but small) documents do not hit Python's recursion
    # limit; each node's expanded size is memoised, so a DAG of aliases is counted in linear time.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            active.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = total
            if total > MAX_NODES:
                return (
                    f"the document expands to more than {MAX_NODES} values, probably through "
                    "aliases (*name); Rapport files never need that many, so it was refused"
                )
            continue
        if key in sizes:
            continue
        if key in active:
            line = node.start_mark.line + 1
            return f"line {line}: an alias refers to a value that contains itself; remove it"
        active.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _duplicate_keys(root: yaml.Node) -> list[str]:
    """PyYAML silently keeps the last of two equal keys; a facilitator should hear about it."""
    problems: list[str] = []
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    seen_nodes: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                    continue
                name = key_node.value
                line = key_node.start_mark.line + 1
                if name in first_line:
                    problems.append(
                        f"line {line}: {_join(path, name)}: duplicate key (first on line "
                        f"{first_line[name]}); only one value is kept, so remove one of them"
                    )
                else:
                    first_line[name] = line
                stack.append((value_node, _join(path, name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    return problems


def _join(path: str, name: object) -> str:
    return f"{path}.{name}" if path else str(name)


def parse_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML safely, keeping the node tree for line numbers.

    Returns:
        ``(data, root)``; both None for an empty document.

    Raises:
        YamlProblems: Syntax errors, duplicate keys, alias bombs, excessive nesting.
    """
    # Checked first: PyYAML raises a ReaderError for these from the loader's constructor, with
    # an offset instead of a line, and the pure-Python loader's retry would raise it again.
    forbidden = control_characters(text)
    if forbidden:
        raise YamlProblems(forbidden)
    try:
        loader = _FastLoader(text)
    except yaml.YAMLError as error:
        raise YamlProblems([_yaml_problem(error)]) from None
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as error:
            raise YamlProblems([_better_syntax_message(text, error)]) from None
        if root is None:
            return None, None
        bomb = _check_expansion(root)
        if bomb:
            raise YamlProblems([bomb])
        duplicates = _duplicate_keys(root)
        if duplicates:
            raise YamlProblems(duplicates)
        try:
            data = loader.construct_document(root)
        except yaml.YAMLError as error:
            raise YamlProblems([_yaml_problem(error)]) from None
        half = lone_surrogate(data)
        if half:
            raise YamlProblems([half_character_message(half)])
        return data, root
    except RecursionError:
        raise YamlProblems(["the YAML is nested too deeply to read; flatten it"]) from None
    finally:
        loader.dispose()


def _better_syntax_message(text: str, error: yaml.YAMLError) -> str:
    if _FastLoader is _SafeLoader or len(text) >= _RETRY_SLOW_BELOW:
        return _yaml_problem(error)
    try:
        slow = _SafeLoader(text)
    except yaml.YAMLError:
        return _yaml_problem(error)
    try:
        slow.get_single_node()
    except yaml.YAMLError as slow_error:
        return _yaml_problem(slow_error)
    except RecursionError:
        return "the YAML is nested too deeply to read; flatten it"
    finally:
        slow.dispose()
    return _yaml_problem(error)


class YamlProblems(Exception):
    """Problems found in a text; the caller attaches the source name (see LoadError)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(messages)
        self.messages = messages


def _locate(root: yaml.Node | None, loc: tuple[int | str, ...]) -> tuple[int | None, int]:
    """Line of the deepest node on ``loc`` that exists in the file, and how many parts matched."""
    if root is None:
        return None, 0
    node: yaml.Node = root
    line = root.start_mark.line + 1
    matched = 0
    for part in loc:
        if part == "[key]":
            matched += 1
            break
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    found = key_node, value_node  # keep the last, as the constructor does
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
        matched += 1
    return line, matched


def _format_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, part)
    return path or "(top level)"


def unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``| None`` so the structural type is left."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            arms = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = arms[0] if len(arms) == 1 else annotation
            if len(arms) != 1:
                return annotation
        else:
            return annotation


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class found by following ``loc`` from ``model`` (None if it is not a model)."""
    current: Any = model
    for part in loc:
        current = unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_LEADING_PATH = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*) (.*)$", re.DOTALL)
_PITFALL = re.compile(r"^pitfall '([^']+)' lowers unknown")
_REPEATED = re.compile(r"^dimension ids must be unique; repeated: ([a-z0-9-]+)")


def _refine(loc: tuple[int | str, ...], text: str, data: Any) -> tuple[tuple[int | str, ...], str]:
    """Point a model-level check at the field it is about (so the line number is useful).

    The schema's validators name the field at the start of their message ("mood.start 'calm'
    is not ..."); when that path exists under ``loc`` the error is moved onto it.
    """
    pitfall = _PITFALL.match(text)
    if pitfall and isinstance(data, dict):
        for index, item in enumerate(data.get("pitfalls") or []):
            if isinstance(item, dict) and item.get("id") == pitfall.group(1):
                return (*loc, "pitfalls", index, "lowers"), text
    repeated = _REPEATED.match(text)
    if repeated and isinstance(data, dict):
        dimensions = data.get("dimensions") or []
        indexes = [
            i
            for i, d in enumerate(dimensions)
            if isinstance(d, dict) and d.get("id") == repeated[1]
        ]
        if len(indexes) > 1:
            return (*loc, "dimensions", indexes[1], "id"), text
    match = _LEADING_PATH.match(text)
    if not match:
        return loc, text
    parts: list[int | str] = []
    for piece in match.group(1).split("."):
        name, _, position = piece.partition("[")
        parts.append(name)
        if position:
            parts.append(int(position.rstrip("]")))
    # "mood.start" inside loc (..., "mood") overlaps by one part: drop the overlap.
    if loc and parts and parts[0] == loc[-1]:
        parts = parts[1:]
    return (*loc, *parts), match.group(2)


def _describe(error: Any, model: type[BaseModel]) -> str:
    """One pydantic error as plain words: what is wrong and what was expected."""
    kind, message, value = error["type"], error["msg"], error.get("input")
    loc: tuple[int | str, ...] = tuple(error["loc"])
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        names = list(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
        if close:
            return f"unknown field; did you mean {close[0]}?"
        allowed = f"; allowed here: {', '.join(names)}" if names else ""
        return f"unknown field{allowed}"
    if kind == "missing":
        parent = _model_at(model, loc[:-1])
        info = parent.model_fields.get(str(loc[-1])) if parent else None
        about = f" ({info.description.rstrip('.')})" if info and info.description else ""
        return f"required field is missing; add it{about}"
    if kind == "string_pattern_mismatch" and "a-z0-9" in str(error.get("ctx", {}).get("pattern")):
        what = "name" if loc and loc[-1] == "[key]" else "id"
        return (
            f"{value!r} is not a valid {what}: use lower-case letters, digits and hyphens only "
            "(e.g. workload-conflict)"
        )
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if value is None:
        return "the value is empty; write it after the colon"
    text = message.replace("Input should be", "expected", 1)
    text = re.sub(r"a valid dictionary( or instance of \w+)?", _MAPPING_WORDS, text)
    text = text.replace("a valid string", "text")
    text = text[0].lower() + text[1:] if text else text
    if isinstance(value, bool) and kind == "string_type":
        return (
            f"{text}, got {str(value).lower()}: YAML reads yes/no/on/off as true/false; "
            "put the text in quotes"
        )
    if isinstance(value, (int, float)) and kind == "string_type":
        return f"{text}, got the number {value}; put it in quotes to make it text"
    if isinstance(value, (str, int, float, bool)):
        shown = repr(value) if not isinstance(value, str) or len(value) < 60 else "(long text)"
        text += f" (got {shown})"
    elif isinstance(value, (list, dict)):
        text += f" (got {'a list' if isinstance(value, list) else 'a mapping'})"
    return text


_MAPPING_WORDS = "a mapping (indented 'key: value' lines)"


def validation_messages(
    error: ValidationError, model: type[BaseModel], root: yaml.Node | None, data: Any
) -> list[str]:
    """Pydantic errors as 'line N: field.path: what is wrong', sorted by line."""
    details = error.errors()
    # "personna: unknown field; did you mean persona?" already says persona is missing.
    suggested = set()
    for detail in details:
        if detail["type"] == "extra_forbidden":
            text = _describe(detail, model)
            if "did you mean" in text:
                suggested.add((*detail["loc"][:-1], text.rsplit(" ", 1)[-1].rstrip("?")))
    found: list[tuple[int, str]] = []
    for detail in details:
        loc: tuple[int | str, ...] = tuple(detail["loc"])
        if detail["type"] == "missing" and loc in suggested:
            continue
        text = _describe(detail, model)
        if detail["type"] == "value_error":
            refined, refined_text = _refine(loc, text, data)
            if _locate(root, refined)[1] == len(refined):
                loc, text = refined, refined_text
        line, _ = _locate(root, loc)
        if (detail["type"] == "missing" and len(loc) == 1) or not loc:
            line = None  # "line 1" would point at the first field, not at anything missing
        where = f"line {line}: " if line is not None else ""
        found.append((line or 0, f"{where}{_format_path(loc)}: {text}"))
    return [text for _, text in sorted(found, key=lambda pair: pair[0])]
