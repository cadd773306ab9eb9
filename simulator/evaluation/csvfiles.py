"""CSV in and out: reading that reports what it cannot read, writing that spreadsheets cannot run.

Reading (:func:`read_table`) parses strictly, so a quote left open is found instead of silently
swallowing the rows after it: a record whose quoting is broken is reported with the lines it
spans and skipped; a problem that leaves the rest of the file unreadable (a field over
:data:`FIELD_LIMIT`, bytes that are not UTF-8) raises :class:`CsvError` naming the line.

Writing (:func:`safe_writer`) neutralises cells a spreadsheet would run as a formula, following
the OWASP rule for CSV injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return gets a leading single quote. Every CSV file Rapport writes goes through it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

FIELD_LIMIT = csv.field_size_limit()
"""Longest field read (Python's default, 128 KiB); a reply is a few hundred characters."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula."""


class CsvError(ValueError):
    """The file cannot be read on as CSV; the message names the line and what to do (the
    caller adds the file name)."""


@dataclass
class CsvRecord:
    """One record of a CSV file: its values by header name, or why it was skipped.

    Attributes:
        line: The line the record starts on (1 is the header).
        values: Header name -> value; a short row lacks the missing names. None when skipped.
        problem: Why the record was skipped, in plain words; None when it was read.
    """

    line: int
    values: dict[str, str] | None = None
    problem: str | None = None


def csv_delimiter(header: str) -> str:
    """The separator of a CSV file from its header row: a comma, or the semicolon or tab that
    spreadsheets in many locales write ("Save as CSV" in a comma-decimal language)."""
    if "," in header:
        return ","
    for separator in (";", "\t"):
        if separator in header:
            return separator
    return ","


def _span(start: int, end: int) -> str:
    return f"line {start}" if end <= start else f"lines {start}-{end}"


def _broken_quote(error: csv.Error, start: int, end: int) -> str | None:
    """A record-level quoting problem in words (None for an error that stops the file)."""
    text = str(error)
    if text == "unexpected end of data":
        return (
            f'a quoted field opened on line {start} is never closed (a closing " is missing), '
            f"so everything from there to the end of the file (line {end}) was read as one "
            "field; add the missing quote"
        )
    if "expected after" in text:
        merged = (
            f"; a quote opened on line {start} was probably never closed, which joined "
            f"{_span(start, end)} into one field"
            if end > start
            else ""
        )
        return (
            f"text follows a closing quote on line {end}: put the whole field in quotes and "
            f'double each quote inside it ("")' + merged
        )
    return None


def _fatal(error: csv.Error, start: int) -> CsvError:
    text = str(error)
    if text.startswith("field larger than field limit"):
        return CsvError(
            f"line {start}: a field is longer than {FIELD_LIMIT // 1024} KiB; a reply is a few "
            "hundred characters, so a quote is probably left open on this line or just "
            "before it: close it, or shorten the text"
        )
    return CsvError(f"line {start}: not readable as CSV ({text}); save the file as CSV UTF-8")


class CsvTable:
    """A CSV file's header and records, read as the caller iterates (see :func:`read_table`)."""

    def __init__(self, handle: TextIO) -> None:
        try:
            delimiter = csv_delimiter(handle.readline())
            handle.seek(0)
        except UnicodeDecodeError as error:
            raise CsvError(_not_utf8(error, 1)) from None
        self._reader = csv.reader(handle, delimiter=delimiter, strict=True)
        self.fieldnames: list[str] = []
        header = self._next(1)
        if header is not None and header.problem is not None:
            raise CsvError(f"line 1: the header row cannot be read: {header.problem}")
        if header is not None:
            self.fieldnames = self._row

    def _next(self, start: int) -> CsvRecord | None:
        """The next record (values not mapped yet: in ``self._row``), None at the end."""
        try:
            self._row = next(self._reader)
        except StopIteration:
            return None
        except csv.Error as error:
            problem = _broken_quote(error, start, self._reader.line_num)
            if problem is None:
                raise _fatal(error, start) from None
            return CsvRecord(line=start, problem=problem)
        except UnicodeDecodeError as error:
            raise CsvError(_not_utf8(error, start)) from None
        return CsvRecord(line=start)

    def __iter__(self) -> Iterator[CsvRecord]:
        """Every record after the header; blank lines are passed over.

        Raises:
            CsvError: The rest of the file cannot be read (see the module docstring).
        """
        while True:
            record = self._next(self._reader.line_num + 1)
            if record is None:
                return
            if record.problem is None:
                if not self._row:
                    continue
                record.values = dict(zip(self.fieldnames, self._row, strict=False))
            yield record


def _not_utf8(error: UnicodeDecodeError, line: int) -> str:
    byte = error.object[error.start : error.start + 1].hex()
    return (
        f"near line {line}: the file is not UTF-8 text (byte 0x{byte}); save it as "
        '"CSV UTF-8" in your spreadsheet'
    )


def read_table(handle: TextIO) -> CsvTable:
    """Read an open CSV file (opened with ``newline=""``), its separator taken from the header.

    Raises:
        CsvError: The header row cannot be read.
    """
    return CsvTable(handle)


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with a single quote in front when it is text a spreadsheet would run as a
    formula (OWASP's rule); numbers and other text are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`spreadsheet_safe`."""

    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row, neutralising formula-like text cells."""
        self._writer.writerow([spreadsheet_safe(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many rows, neutralising formula-like text cells."""
        for row in rows:
            self.writerow(row)


def safe_writer(handle: TextIO) -> SafeWriter:
    """A CSV writer for files people open in a spreadsheet (every export of Rapport)."""
    return SafeWriter(handle)
