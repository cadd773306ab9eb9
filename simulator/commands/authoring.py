"""Facilitator commands: ``rapport validate`` and ``rapport schema``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

VALIDATE_HELP = """\
Check scenario and rubric files. Each PATH is a YAML file or a folder (searched recursively).
A file in a folder named rubrics/ (or with a top-level 'dimensions:' key) is checked as a rubric;
anything else as a scenario. Every file found is reported, valid or not; a folder, FIFO or device
named where a file is expected is refused unread. Exit status: 0 all valid, 1 some invalid, 2 a
path does not exist or a folder cannot be listed."""


def register(subparsers: Any) -> None:
    """Add the ``validate`` and ``schema`` sub-commands."""
    validate = subparsers.add_parser(
        "validate",
        help="check scenario and rubric YAML files",
        description=VALIDATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    validate.set_defaults(handler=validate_command)

    schema = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of scenario or rubric files",
        description=(
            "Print the JSON Schema of a scenario or rubric file, for editors with a YAML "
            "language server: save it and add '# yaml-language-server: $schema=<file>' as the "
            "first line of your YAML file to get completion and checking as you type."
        ),
    )
    schema.add_argument("kind", choices=["scenario", "rubric"])
    schema.set_defaults(handler=schema_command)


def _yaml_files(folder: Path) -> list[Path]:
    files = [*folder.rglob("*.yaml"), *folder.rglob("*.yml")]
    hidden = [p for p in files if any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(set(files) - set(hidden))


def validate_command(args: argparse.Namespace) -> int:
    """Validate every file named or found; print one line per file.

    Valid files print ``ok <file> (<id> v<version>)`` to stdout; problems go to stderr.

    Returns:
        0 if all are valid, 1 if any is invalid, 2 if a path does not exist or a folder cannot
        be listed.
    """
    from simulator.content.loading import (
        LoadError,
        available_rubrics,
        load_file,
        scenario_problems,
        unexpected_problem,
    )
    from simulator.content.schema import Rubric, Scenario

    missing = False
    files: list[Path] = []
    for name in args.paths:
        path = Path(name)
        if not path.exists():
            print(f"{path}: no such file or folder", file=sys.stderr)
            missing = True
        elif path.is_dir():
            try:
                found = _yaml_files(path)
            except OSError as error:
                print(f"{path}: could not list the folder: {error}", file=sys.stderr)
                missing = True
                continue
            if not found:
                print(f"{path}: no .yaml files in this folder", file=sys.stderr)
            files.extend(found)
        else:
            files.append(path)

    loaded: list[tuple[Path, Scenario | Rubric]] = []
    invalid = 0
    for file in dict.fromkeys(files):  # keeps order, drops a file named twice
        try:
            loaded.append((file, load_file(file)))
        except LoadError as error:
            print(error, file=sys.stderr)
            invalid += 1
        except Exception as error:
            # A bug of ours must not abandon the other files or print a traceback: say which
            # file and what, and go on.
            print(unexpected_problem(file, error), file=sys.stderr)
            invalid += 1

    # Checks across files: ids match file names, no id twice, each scenario's rubric exists.
    rubrics = set(available_rubrics()) | {m.id for _, m in loaded if isinstance(m, Rubric)}
    first_file: dict[tuple[str, str], Path] = {}
    for file, model in loaded:
        kind = "rubric" if isinstance(model, Rubric) else "scenario"
        problems = []
        if model.id != file.stem:
            problems.append(
                f"id {model.id!r} does not match the file name {file.name!r}; rename the file to "
                f"{model.id}{file.suffix} or change the id to {file.stem!r}"
            )
        earlier = first_file.setdefault((kind, model.id), file)
        if earlier != file:
            problems.append(f"id {model.id!r} is already used by {earlier}")
        if isinstance(model, Scenario):
            try:
                problems.extend(scenario_problems(model, rubrics))
            except Exception as error:
                print(unexpected_problem(file, error), file=sys.stderr)
                invalid += 1
                continue
        if problems:
            print(LoadError(file, problems), file=sys.stderr)
            invalid += 1
        else:
            print(f"ok {file} ({model.id} v{model.version})")
    if missing:
        return 2
    return 1 if invalid else 0


def schema_command(args: argparse.Namespace) -> int:
    """Print the JSON Schema of a scenario or rubric file.

    Returns:
        0.
    """
    from simulator.content.schema import Rubric, Scenario

    model = Scenario if args.kind == "scenario" else Rubric
    try:
        print(json.dumps(model.model_json_schema(), indent=2), flush=True)
    except BrokenPipeError:
        # Piped into `head` or similar that stopped reading: not an error worth a traceback.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python's exit flush quiet
    return 0
