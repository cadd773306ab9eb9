"""YAML files -> Scenario and Rubric models, with errors a facilitator can act on.

Every failure raises :class:`LoadError`. Its messages name the line (where YAML gives one or a
field can be found in the file), the field path (``persona.mood.states.guarded.example_lines``)
and what was expected; an unknown key comes with a "did you mean ...?" suggestion.

Files are parsed with PyYAML's safe loader only. Files over :data:`MAX_FILE_BYTES` are refused
before parsing, and documents whose aliases expand to too many values ("billion laughs") are
refused before they are turned into Python objects (see :mod:`simulator.content.yamlcheck`).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from simulator.content.schema import Rubric, Scenario
from simulator.content.yamlcheck import YamlProblems, parse_yaml, validation_messages
from simulator.files import paths
from simulator.files.inputfiles import InputRefused, decode_utf8, read_bytes

MAX_FILE_BYTES = 1024 * 1024
"""Scenario and rubric files are a few KB; anything over 1 MiB is refused unread."""

ModelT = TypeVar("ModelT", Scenario, Rubric)
Kind = Literal["scenario", "rubric"]

_MODELS: dict[str, type[BaseModel]] = {"scenario": Scenario, "rubric": Rubric}

logger = logging.getLogger(__name__)


class LoadError(Exception):
    """A file (or editor text) that could not be loaded.

    Attributes:
        source: The file path or a label such as ``<editor>``.
        messages: One entry per problem, e.g.
            ``"line 3: personna: unknown field; did you mean persona?"``.
    """

    def __init__(self, source: str | Path, messages: list[str]) -> None:
        self.source = str(source)
        self.messages = list(messages) or ["could not be loaded"]
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {message}" for message in self.messages)


class UnknownNameError(LookupError):
    """An id that names no loaded scenario or rubric; the message lists what is available."""

    def __str__(self) -> str:
        # LookupError would show the repr of the argument (quotes and escapes): show the text.
        return str(self.args[0]) if self.args else ""


@dataclass
class LoadResult(Generic[ModelT]):
    """What a folder held: the valid models by id, and one error per invalid file.

    Attributes:
        items: Valid models by id.
        errors: One LoadError per file that could not be loaded.
        sources: The file each id came from.
    """

    items: dict[str, ModelT] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    sources: dict[str, Path] = field(default_factory=dict)

    @property
    def broken(self) -> dict[str, list[str]]:
        """The files left out, by path, each with why (what the Scenarios tab lists as broken).

        Returns:
            ``{path: messages}`` in the order the files were read.
        """
        found: dict[str, list[str]] = {}
        for error in self.errors:
            found.setdefault(error.source, []).extend(error.messages)
        return found


def unexpected_problem(path: str | Path, error: BaseException) -> LoadError:
    """A LoadError for a failure no check foresaw, so one file never stops the others (and no
    traceback is shown); the message asks for a report, as it is a bug of ours.

    Args:
        path: The file being read.
        error: What was raised.
    """
    # The traceback only with --verbose (INFO): a bug report needs it, a facilitator does not.
    logger.info("unexpected error reading %s", path, exc_info=error)
    return LoadError(
        path,
        [
            f"could not be read ({type(error).__name__}: {error}); this is a bug in Rapport: "
            "please report it with the file"
        ],
    )


# --------------------------------------------------------------------------- public parsing


def _parse(text: str, source: str, kind: Kind) -> Any:
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise LoadError(source, [_too_big_message()])
    model = _MODELS[kind]
    try:
        data, root = parse_yaml(text)
    except YamlProblems as problems:
        raise LoadError(source, problems.messages) from None
    example = "id: my-scenario" if kind == "scenario" else "id: my-rubric"
    if root is None or data is None:
        raise LoadError(
            source, [f"the file is empty; a {kind} starts with fields like '{example}'"]
        )
    if not isinstance(data, dict):
        shape = "a list" if isinstance(data, list) else f"a single value ({data!r:.40})"
        raise LoadError(
            source,
            [
                f"line 1: the top level must be a mapping of 'field: value' lines ('{example}'), "
                f"not {shape}"
            ],
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise LoadError(source, validation_messages(error, model, root, data)) from None
    except RecursionError:
        raise LoadError(source, ["the YAML is nested too deeply to read; flatten it"]) from None


def _too_big_message() -> str:
    return (
        f"the file is larger than {MAX_FILE_BYTES // 1024} KiB and was not read; a scenario or "
        "rubric is a few KB, so check you chose the right file"
    )


def parse_scenario_text(text: str, source: str = "<editor>") -> Scenario:
    """Parse and validate scenario YAML held in memory (e.g. the app's editor).

    Args:
        text: The YAML text.
        source: Name shown in error messages.

    Returns:
        The validated scenario.

    Raises:
        LoadError: If the text is not valid YAML or not a valid scenario.
    """
    result: Scenario = _parse(text, source, "scenario")
    return result


def parse_rubric_text(text: str, source: str = "<editor>") -> Rubric:
    """Parse and validate rubric YAML held in memory.

    Args:
        text: The YAML text.
        source: Name shown in error messages.

    Returns:
        The validated rubric.

    Raises:
        LoadError: If the text is not valid YAML or not a valid rubric.
    """
    result: Rubric = _parse(text, source, "rubric")
    return result


def read_text(path: str | Path) -> str:
    """Read a YAML file as UTF-8 after checking it exists, is a regular file (not a folder, a
    FIFO or a device, which would be waited on forever) and is not too large: all before
    reading a byte.

    Raises:
        LoadError: With a message saying what is wrong with the path or its bytes.
    """
    path = Path(path)
    try:
        raw = read_bytes(path, MAX_FILE_BYTES, _too_big_message(), "one .yaml file")
    except FileNotFoundError:
        raise LoadError(path, ["file not found; check the path"]) from None
    except InputRefused as error:
        raise LoadError(path, [str(error)]) from None
    except OSError as error:
        raise LoadError(path, [f"could not read the file: {error.strerror or error}"]) from None
    try:
        return decode_utf8(raw, "save it as UTF-8 in your editor")
    except InputRefused as error:
        raise LoadError(path, [str(error)]) from None


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate one scenario file.

    Raises:
        LoadError: If the file cannot be read or is not a valid scenario.
    """
    return parse_scenario_text(read_text(path), str(path))


def load_rubric(path: str | Path) -> Rubric:
    """Load and validate one rubric file.

    Raises:
        LoadError: If the file cannot be read or is not a valid rubric.
    """
    return parse_rubric_text(read_text(path), str(path))


def guess_kind(path: str | Path, text: str | None = None) -> Kind:
    """Tell a rubric file from a scenario file: by folder name, else by a top-level key.

    A file in a folder called ``rubrics`` (or with a top-level ``dimensions:`` key) is a rubric;
    anything else is treated as a scenario.
    """
    path = Path(path)
    folders = {part.lower() for part in path.parent.parts}
    if "rubrics" in folders and "scenarios" not in folders:
        return "rubric"
    if "scenarios" in folders and "rubrics" not in folders:
        return "scenario"
    if text is not None and re.search(r"^dimensions\s*:", text, re.MULTILINE):
        return "rubric"
    return "scenario"


def load_file(path: str | Path, kind: Kind | None = None) -> Scenario | Rubric:
    """Load a scenario or a rubric, guessing which (see :func:`guess_kind`) unless told.

    Raises:
        LoadError: If the file cannot be read or is not valid.
    """
    text = read_text(path)
    kind = kind or guess_kind(path, text)
    result: Scenario | Rubric = _parse(text, str(path), kind)
    return result


# --------------------------------------------------------------------------- folders and ids


def load_directory(path: str | Path, kind: Kind) -> LoadResult[Any]:
    """Load every ``*.yaml``/``*.yml`` file in a folder; invalid files never stop valid ones.

    A file whose ``id`` differs from its file name, or an id already loaded from another file,
    is reported as an error and left out.

    Args:
        path: The folder.
        kind: ``"scenario"`` or ``"rubric"``.

    Returns:
        The valid models by id, and one LoadError per file that failed.
    """
    folder = Path(path)
    result: LoadResult[Any] = LoadResult()
    if not folder.is_dir():
        result.errors.append(LoadError(folder, ["folder not found"]))
        return result
    try:
        # Every *.yaml entry, not only regular files: a folder or FIFO given that name is listed
        # as broken (read_text refuses it unread) rather than silently missing. Hidden names
        # (editors' lock and backup files) are not scenarios.
        files = sorted(
            p
            for p in folder.iterdir()
            if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
        )
    except OSError as error:
        result.errors.append(LoadError(folder, [f"could not list the folder: {error}"]))
        return result
    for file in files:
        try:
            item = _parse(read_text(file), str(file), kind)
        except LoadError as error:
            result.errors.append(error)
            continue
        except Exception as error:
            # Whatever one file holds, the others still load: Start, the scenario list and
            # History read this catalogue for every trainee.
            result.errors.append(unexpected_problem(file, error))
            continue
        if item.id != file.stem:
            result.errors.append(
                LoadError(
                    file,
                    [
                        f"id {item.id!r} does not match the file name {file.name!r}; rename the "
                        f"file to {item.id}{file.suffix} or change the id to {file.stem!r}"
                    ],
                )
            )
        elif item.id in result.items:
            result.errors.append(
                LoadError(
                    file,
                    [
                        f"id {item.id!r} is already used by {result.sources[item.id]}; "
                        "keep one of the two files"
                    ],
                )
            )
        else:
            result.items[item.id] = item
            result.sources[item.id] = file
    return result


def _catalog(kind: Kind) -> LoadResult[Any]:
    # Read on every call (a few ms) so files saved or fixed meanwhile are seen without restart.
    shipped_dir = paths.SHIPPED_SCENARIOS_DIR if kind == "scenario" else paths.SHIPPED_RUBRICS_DIR
    result = load_directory(shipped_dir, kind)
    try:
        user_dir = paths.user_scenarios_dir() if kind == "scenario" else paths.user_rubrics_dir()
    except OSError as error:
        # An unwritable data folder leaves the shipped files usable.
        result.errors.append(LoadError("<data folder>", [f"cannot be used: {error}"]))
        return result
    user = load_directory(user_dir, kind)
    result.errors.extend(user.errors)
    for item_id, item in user.items.items():
        if item_id in result.items:
            result.errors.append(
                LoadError(
                    user.sources[item_id],
                    [
                        f"id {item_id!r} is already used by the shipped {kind} "
                        f"{result.sources[item_id]}; give yours a different id and file name"
                    ],
                )
            )
            continue
        result.items[item_id] = item
        result.sources[item_id] = user.sources[item_id]
    return result


def scenario_catalog() -> LoadResult[Scenario]:
    """Shipped scenarios plus the facilitators' own (``paths.user_scenarios_dir()``).

    A user scenario may not replace a shipped one: it is left out and reported in ``errors``.
    """
    return _catalog("scenario")


def rubric_catalog() -> LoadResult[Rubric]:
    """Shipped rubrics plus the facilitators' own (``paths.user_rubrics_dir()``)."""
    return _catalog("rubric")


def available_scenarios() -> dict[str, Scenario]:
    """Every scenario that loads, by id (see :func:`scenario_errors` for those that do not)."""
    return scenario_catalog().items


def available_rubrics() -> dict[str, Rubric]:
    """Every rubric that loads, by id (see :func:`rubric_errors` for those that do not)."""
    return rubric_catalog().items


def scenario_errors() -> list[LoadError]:
    """Why each scenario file that failed to load was left out."""
    return scenario_catalog().errors


def rubric_errors() -> list[LoadError]:
    """Why each rubric file that failed to load was left out."""
    return rubric_catalog().errors


def _looks_like_path(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name


def _lookup(name: str, kind: Kind) -> Any:
    if _looks_like_path(name):
        return load_file(name, kind)
    catalog = _catalog(kind)
    if name in catalog.items:
        return catalog.items[name]
    failed = [e for e in catalog.errors if Path(e.source).stem == name]
    if failed:
        raise UnknownNameError(f"{kind} {name!r} could not be loaded:\n{failed[0]}")
    available = sorted(catalog.items)
    close = difflib.get_close_matches(name, available, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    listed = ", ".join(available) if available else "none"
    raise UnknownNameError(f"unknown {kind} {name!r}; {hint}available: {listed}")


def get_scenario(name: str) -> Scenario:
    """A scenario by id, or by path to a YAML file.

    Raises:
        UnknownNameError: No scenario has that id ("did you mean ...? available: ...").
        LoadError: ``name`` is a path and the file is not a valid scenario.
    """
    result: Scenario = _lookup(name, "scenario")
    return result


def get_rubric(name: str) -> Rubric:
    """A rubric by id, or by path to a YAML file.

    Raises:
        UnknownNameError: No rubric has that id ("did you mean ...? available: ...").
        LoadError: ``name`` is a path and the file is not a valid rubric.
    """
    result: Rubric = _lookup(name, "rubric")
    return result


def save_user_scenario(text: str) -> Path:
    """Validate scenario YAML and save it as ``<id>.yaml`` in ``paths.user_scenarios_dir()``.

    Used by the app's authoring tab. The text is written as given, so comments survive.

    Returns:
        The file written.

    Raises:
        LoadError: The text is not a valid scenario, or its id belongs to a shipped scenario.
    """
    scenario = parse_scenario_text(text)
    shipped = paths.SHIPPED_SCENARIOS_DIR
    if (shipped / f"{scenario.id}.yaml").exists() or (shipped / f"{scenario.id}.yml").exists():
        raise LoadError(
            "<editor>",
            [f"id: {scenario.id!r} is a shipped scenario; choose a new id for your own version"],
        )
    target = paths.user_scenarios_dir() / f"{scenario.id}.yaml"
    partial = target.with_suffix(".yaml.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)  # atomic: a crash never leaves half a file that fails to load
    return target


def scenario_problems(scenario: Scenario, known_rubrics: Iterable[str]) -> list[str]:
    """Everything ``rapport validate`` reports about a scenario that parsed: its rubric must
    exist, and :func:`lint_scenario`'s content checks must pass.

    Returns:
        One message per problem, naming the field path.
    """
    rubrics = set(known_rubrics)
    problems = []
    if scenario.rubric not in rubrics:
        available = ", ".join(sorted(rubrics)) or "none"
        problems.append(
            f"rubric: {scenario.rubric!r} is not a known rubric; available: {available}"
        )
    return problems + lint_scenario(scenario)


def lint_scenario(scenario: Scenario) -> list[str]:
    """Content problems a valid scenario can still have (``rapport validate`` reports them).

    A hidden concern's keyword in the opening line, or in a line of a mood below the concern's
    ``revealed_at``, would let the persona give the concern away before it is earned (authored
    lines are used verbatim as fallbacks, and the guard does not check them).

    Returns:
        One message per problem, naming the field path.
    """
    persona = scenario.persona
    ranks = {name: rank for rank, (name, _) in enumerate(persona.mood.ordered_states())}
    problems = []
    for index, concern in enumerate(persona.hidden_concerns):
        keywords = [k.lower() for k in concern.keywords]
        if not keywords:
            continue

        def leaks(line: str, keywords: list[str] = keywords) -> list[str]:
            return [k for k in keywords if re.search(rf"\b{re.escape(k)}", line.lower())]

        where = f"hidden_concerns[{index}] (revealed_at: {concern.revealed_at})"
        found = leaks(persona.opening_line)
        if found:
            problems.append(
                f"persona.opening_line: uses {', '.join(found)}, a keyword of {where}; "
                "the concern would be given away at once"
            )
        if ranks[concern.revealed_at] > 0:
            # persona.example_lines are said in every mood, the lowest included.
            for i, text in enumerate(persona.example_lines):
                found = leaks(text)
                if found:
                    problems.append(
                        f"persona.example_lines[{i}]: uses {', '.join(found)}, a keyword of "
                        f"{where}; these lines are said in every mood, before it is earned"
                    )
        for name, state in persona.mood.states.items():
            if ranks[name] >= ranks[concern.revealed_at]:
                continue
            lines = [
                (f"example_lines[{i}]", text)
                for i, text in enumerate(state.example_lines)
                if text not in persona.example_lines  # reported once, above
            ]
            for move, beat_lines in state.beats.items():
                lines += [(f"beats.{move.value}[{i}]", text) for i, text in enumerate(beat_lines)]
            for field_path, text in lines:
                found = leaks(text)
                if found:
                    problems.append(
                        f"persona.mood.states.{name}.{field_path}: uses {', '.join(found)}, a "
                        f"keyword of {where}, in a mood before the concern is earned"
                    )
    return problems
