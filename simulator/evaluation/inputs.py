"""Reading transcripts to evaluate: JSON (one transcript, a list, or JSONL) or CSV of replies.

Input is transcripts as JSON: one ``Transcript`` per line (JSONL, as ``rapport run --json``
writes), one pretty-printed transcript (the app's "Download transcript (JSON)") or a list of
them; or CSV (one reply per row: ``text``, optional ``context``, ``transcript_id``/``conv_id``,
``turn``; comma-, semicolon- or tab-separated). Malformed lines are reported with their line
number and skipped.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simulator.evaluation.csvfiles import CsvError, read_table
from simulator.files.inputfiles import (
    InputRefused,
    check_regular_file,
    loads_json,
    raw_decode_json,
    read_utf8,
)


class EvaluationError(ValueError):
    """The input cannot be evaluated at all; the message says what to fix."""


@dataclass
class ReplyRecord:
    """One learner reply to score, with where it came from."""

    transcript_id: str
    turn: int
    text: str
    context: str


class Malformed(BaseModel):
    """A skipped input line."""

    line: int
    reason: str


MAX_INPUT_BYTES = 1024**3
"""Largest transcripts file read (1 GiB), checked before reading; a larger one is split."""

SKIPPED_SHOWN = 3
"""How many skip reasons an error message quotes before saying how many more there are."""

_JSON_KINDS = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}


def _kind(value: Any) -> str:
    """What a JSON value is, in words ("a number", "a list", ...)."""
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``('turns', 0, 'mood')`` as ``turns[0].mood``: the way it reads in the JSON."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _validation_reason(error: ValidationError) -> str:
    """Pydantic's errors in plain words, missing fields grouped: "missing field 'turns'"."""
    missing: dict[str, list[str]] = {}
    others: list[str] = []
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        if item.get("type") == "missing" and loc:
            missing.setdefault(_field_path(loc[:-1]), []).append(repr(str(loc[-1])))
        elif not loc:
            others.append(f"not a transcript object (it is {_kind(item.get('input'))})")
        else:
            message = str(item.get("msg", "is invalid"))
            others.append(f"field '{_field_path(loc)}': {message[:1].lower()}{message[1:]}")
    parts = [
        f"missing field{'s' if len(names) > 1 else ''} {', '.join(names)}"
        + (f" in {parent}" if parent else "")
        for parent, names in missing.items()
    ] + others
    shown = "; ".join(parts[:SKIPPED_SHOWN])
    more = len(parts) - SKIPPED_SHOWN
    return shown + (f" (and {more} more problems)" if more > 0 else "")


def _json_reason(error: json.JSONDecodeError, text: str, unit: str) -> str:
    """A JSON syntax error in plain words, without the parser's line and column (``unit`` is
    "line" or "file": what was being parsed)."""
    what = "object" if unit == "line" else "JSON"
    if error.pos >= len(text.rstrip()):
        return f"not valid JSON (the {unit} ends before the {what} does)"
    if error.msg.startswith("Extra data"):
        if unit == "file":
            return (
                "not valid JSON (there is more after the first transcript; put one transcript "
                "per line, or wrap them in a list [ ..., ... ])"
            )
        return "not valid JSON (there is more text after the object ends)"
    if error.msg.startswith("Unterminated string"):
        # The parser only says this when no closing quote follows before the end.
        return f'not valid JSON (the {unit} ends inside a quoted text: a closing " is missing)'
    if error.msg.startswith("Invalid control character"):
        return "not valid JSON (a quoted text holds a raw line break or tab; write \\n or \\t)"
    if error.msg.startswith("Expecting property name"):
        return "not valid JSON (a field name is not in double quotes, or a comma is left over)"
    if error.msg.startswith("Expecting value") and error.pos == len(text) - len(text.lstrip()):
        return "not JSON (a transcript starts with '{')"
    where = f"character {error.colno}" if unit == "line" else f"column {error.colno}"
    return f"not valid JSON ({error.msg[:1].lower()}{error.msg[1:]} at {where})"


def _transcript_replies(data: Any) -> list[ReplyRecord]:
    """The replies of one transcript; the context of a reply is the persona's previous line
    (the opening line for the first turn). Raises ValidationError when it is no transcript."""
    from simulator.conversation.transcript import Transcript

    transcript = Transcript.model_validate(data)
    records: list[ReplyRecord] = []
    previous = transcript.opening_line
    for turn in transcript.turns:
        records.append(ReplyRecord(transcript.session_id, turn.index, turn.learner, previous))
        previous = turn.persona
    return records


def _array_items(text: str) -> list[tuple[int, Any]]:
    """Each element of a JSON list (``text`` already parsed as one) with the line it starts
    on, so a bad transcript in a pretty-printed list can be found in an editor."""
    decoder = json.JSONDecoder()
    items: list[tuple[int, Any]] = []
    index = text.index("[") + 1
    line, counted = 1, 0
    while True:
        while text[index] in " \t\r\n,":
            index += 1
        if text[index] == "]":
            return items
        line += text.count("\n", counted, index)
        counted = index
        value, index = raw_decode_json(decoder, text, index)
        items.append((line, value))


def _looks_like_one_document(text: str) -> bool:
    """A list, or an object pretty-printed over many lines (its first line is only "{"):
    no JSONL file starts like that, so a syntax error is reported once, not on every line."""
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return first.startswith("[") or first == "{"


def parse_json(text: str) -> tuple[list[ReplyRecord], list[Malformed]]:
    """Read transcripts from JSON text, deciding by content: one transcript object
    (pretty-printed, as the app downloads it), a list of them, or JSONL (one per line)."""
    try:
        document = loads_json(text)
    except json.JSONDecodeError as exc:
        if not _looks_like_one_document(text):
            return _read_lines(text)
        return [], [Malformed(line=exc.lineno, reason=_json_reason(exc, text, "file"))]
    except InputRefused as exc:
        if not _looks_like_one_document(text):
            return _read_lines(text)
        return [], [Malformed(line=1, reason=str(exc))]
    if isinstance(document, list):
        entries = [
            (line, value, f"item {number}: ")
            for number, (line, value) in enumerate(_array_items(text), start=1)
        ]
    else:
        start = len(text) - len(text.lstrip())
        entries = [(text.count("\n", 0, start) + 1, document, "")]
    records: list[ReplyRecord] = []
    bad: list[Malformed] = []
    for line, value, label in entries:
        try:
            records.extend(_transcript_replies(value))
        except ValidationError as exc:
            bad.append(Malformed(line=line, reason=label + _validation_reason(exc)))
    return records, bad


def _read_lines(text: str) -> tuple[list[ReplyRecord], list[Malformed]]:
    """JSONL: one transcript per line; a bad line is reported and skipped, the rest is read."""
    records: list[ReplyRecord] = []
    bad: list[Malformed] = []
    # Only "\n" ends a line: splitlines() would also split at U+2028 and the like, which
    # json.dumps(ensure_ascii=False) leaves raw inside a transcript's text.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.extend(_transcript_replies(loads_json(line)))
        except json.JSONDecodeError as exc:
            bad.append(Malformed(line=number, reason=_json_reason(exc, line, "line")))
        except InputRefused as exc:
            bad.append(Malformed(line=number, reason=str(exc)))
        except ValidationError as exc:
            bad.append(Malformed(line=number, reason=_validation_reason(exc)))
    return records, bad


def parse_csv(content: str, path: str | Path) -> tuple[list[ReplyRecord], list[Malformed]]:
    """Read one reply per row: ``text``, optional ``context``, ``transcript_id``/``conv_id``,
    ``turn``. A row whose quoting is broken is reported with its lines and skipped.

    Raises:
        EvaluationError: No ``text`` column, or the file cannot be read on (a field over
            128 KiB, usually a quote left open).
    """
    records: list[ReplyRecord] = []
    bad: list[Malformed] = []
    try:
        reader = read_table(io.StringIO(content, newline=""))
        header = {h.strip().lower(): h for h in reader.fieldnames if h}
        if "text" not in header:
            found = ", ".join(repr(h) for h in header) or "nothing"
            raise EvaluationError(
                f"{path} has no 'text' column (its header row has {found}); expected text, "
                "optional context, transcript_id (or conv_id) and turn"
            )
        id_col = header.get("transcript_id") or header.get("conv_id")
        seen: dict[str, int] = {}
        for record in reader:
            line, row = record.line, record.values
            if row is None:
                bad.append(Malformed(line=line, reason=record.problem or "unreadable"))
                continue
            text = row.get(header["text"]) or ""
            if not text.strip():
                bad.append(Malformed(line=line, reason="missing text"))
                continue
            tid = ((row.get(id_col) or "").strip() if id_col else "") or "all"
            turn_raw = (row.get(header["turn"]) or "").strip() if "turn" in header else ""
            try:
                turn = int(turn_raw) if turn_raw else seen.get(tid, 0)
            except ValueError:
                bad.append(Malformed(line=line, reason=f"turn {turn_raw[:40]!r} is not a number"))
                continue
            seen[tid] = turn + 1
            context = (row.get(header["context"]) or "") if "context" in header else ""
            records.append(ReplyRecord(tid, turn, text, context))
    except CsvError as exc:
        raise EvaluationError(f"{path}: {exc}") from None
    return records, bad


_WANTED = "a .json, .jsonl or .csv transcripts file"


def check_input_file(path: Path) -> None:
    """Raise EvaluationError unless ``path`` is a regular file (checked before anything is
    written, and before a FIFO or a device could be waited on)."""
    try:
        check_regular_file(path, _WANTED)
    except FileNotFoundError:
        raise EvaluationError(f"{path} is not a file; give {_WANTED}") from None
    except InputRefused as exc:
        raise EvaluationError(f"{path}: {exc}") from None


def read_input_text(path: Path) -> str:
    """A transcripts file's text: a regular UTF-8 file of at most :data:`MAX_INPUT_BYTES`.

    Raises:
        EvaluationError: Missing, not a regular file, too large or not UTF-8.
        OSError: It cannot be read (permissions).
    """
    too_big = (
        f"the file is larger than {MAX_INPUT_BYTES // 1024**3} GiB and was not read; split it "
        "and evaluate the parts"
    )
    try:
        return read_utf8(path, MAX_INPUT_BYTES, too_big, _WANTED)
    except FileNotFoundError:
        raise EvaluationError(f"{path} is not a file; give {_WANTED}") from None
    except InputRefused as exc:
        raise EvaluationError(f"{path}: {exc}") from None


def read_replies(path: Path) -> tuple[list[ReplyRecord], list[Malformed]]:
    """Read a transcripts file: CSV by extension, JSON or JSONL by extension or by content
    (a file of unknown type starting with "{" or "[").

    Raises:
        EvaluationError: The file cannot be read (see :func:`read_input_text`), or as CSV has
            no ``text`` column or cannot be read on.
    """
    text = read_input_text(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_csv(text, path)
    if suffix in {".jsonl", ".json", ".ndjson"} or text.lstrip()[:1] in {"{", "["}:
        return parse_json(text)
    return parse_csv(text, path)


def nothing_to_score(path: str | Path, bad: list[Malformed]) -> str:
    """Why a file yielded no reply: the skip reasons themselves, not only how many."""
    if not bad:
        return (
            f"{path} holds no learner replies; give transcripts with at least one turn, or a "
            "CSV with a text column and one row per reply"
        )
    shown = "; ".join(f"line {m.line}: {m.reason}" for m in bad[:SKIPPED_SHOWN])
    more = len(bad) - SKIPPED_SHOWN
    return f"{path} holds no learner replies; every entry was skipped: {shown}" + (
        f" (and {more} more)" if more > 0 else ""
    )
