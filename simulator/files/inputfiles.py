"""Reading what users hand us: regular files of bounded size, and JSON of bounded depth.

A path given on the command line may name a FIFO or a device, where a plain ``read()`` would
wait forever (or never end); a JSON text may nest deeper than Python's recursion limit. Both are
turned into :class:`InputRefused` with a message that says what to give instead.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any


class InputRefused(ValueError):
    """A file or text that is not read; the message (without the path) says what to do."""


def non_regular_kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is, in words, when it is not a regular file (else None).

    Args:
        mode: ``os.stat(...).st_mode``.
    """
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refusal(kind: str, wanted: str) -> str:
    if kind == "a folder":
        return f"this is a folder, not a file; give the path of {wanted}"
    return f"this is {kind}, not a regular file, so it was not read; give the path of {wanted}"


def check_regular_file(path: str | Path, wanted: str = "a file") -> os.stat_result:
    """Stat ``path`` (following links) and refuse anything but a regular file.

    Args:
        path: The file.
        wanted: What the user should give instead, for the message ("one .yaml file").

    Returns:
        The file's stat result.

    Raises:
        FileNotFoundError: Nothing is there (or a link points nowhere).
        InputRefused: It is a folder, a FIFO, a device or a socket.
        OSError: It cannot be looked at (permissions).
    """
    info = os.stat(path)
    kind = non_regular_kind(info.st_mode)
    if kind is not None:
        raise InputRefused(_refusal(kind, wanted))
    return info


def read_bytes(path: str | Path, limit: int, too_big: str, wanted: str = "a file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, checked before reading.

    The file is opened without blocking and checked again on the open descriptor, so a FIFO
    swapped in after the first check is refused rather than waited on; at most ``limit + 1``
    bytes are read, so a file that grows meanwhile is refused too.

    Args:
        path: The file.
        limit: Largest size accepted, in bytes.
        too_big: The message of the InputRefused raised for a larger file.
        wanted: What the user should give instead of a folder or a FIFO, for the message.

    Raises:
        FileNotFoundError: Nothing is there.
        InputRefused: Not a regular file, or larger than ``limit``.
        OSError: It cannot be opened or read.
    """
    if check_regular_file(path, wanted).st_size > limit:
        raise InputRefused(too_big)
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        kind = non_regular_kind(os.fstat(handle.fileno()).st_mode)
        if kind is not None:
            raise InputRefused(_refusal(kind, wanted))
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise InputRefused(too_big)
    return raw


def decode_utf8(raw: bytes, fix: str = 'save it as UTF-8 ("CSV UTF-8" in a spreadsheet)') -> str:
    """``raw`` as UTF-8 text (a leading byte-order mark dropped); ``fix`` says what to do.

    Raises:
        InputRefused: Not UTF-8, with the line and the first bad byte.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        byte = raw[error.start : error.start + 1].hex()
        raise InputRefused(
            f"line {line}: the file is not UTF-8 text (byte 0x{byte}); {fix}"
        ) from None


def read_utf8(path: str | Path, limit: int, too_big: str, wanted: str = "a file") -> str:
    """A regular file's text, read as in :func:`read_bytes` and decoded by :func:`decode_utf8`.

    Raises:
        FileNotFoundError: Nothing is there.
        InputRefused: Not a regular file, larger than ``limit``, or not UTF-8.
        OSError: It cannot be opened or read.
    """
    return decode_utf8(read_bytes(path, limit, too_big, wanted))


_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(value: Any) -> str | None:
    """The first text in a parsed JSON or YAML value (keys included) holding half of a
    character: a ``\\ud83d`` escape without its pair. Such text cannot be written as UTF-8 (a
    report, the database), so readers refuse it up front.

    Returns:
        The half character as ``U+D83D``, or None when every text is whole.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return f"U+{ord(found.group()):04X}"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def half_character_message(code: str) -> str:
    """What to say about a lone surrogate found by :func:`lone_surrogate`."""
    return (
        f"a \\u escape makes half of a character ({code}, e.g. half an emoji); write the "
        "character itself, or both halves of its escape"
    )


TOO_DEEP = (
    "the JSON is nested too deeply to read (lists or objects inside each other hundreds of "
    "levels down); no transcript or card looks like that, so check you chose the right file"
)


def loads_json(text: str) -> Any:
    """``json.loads`` that refuses deep nesting instead of raising RecursionError.

    Raises:
        json.JSONDecodeError: Not valid JSON.
        InputRefused: Nested deeper than Python's recursion limit allows, a number too long
            to convert, or half a character (see :func:`lone_surrogate`).
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise InputRefused(TOO_DEEP) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # a number of more than 4300 digits (int conversion limit)
        raise InputRefused(_value_problem(error)) from None
    half = lone_surrogate(value)
    if half:
        raise InputRefused(half_character_message(half))
    return value


def raw_decode_json(decoder: json.JSONDecoder, text: str, index: int) -> tuple[Any, int]:
    """``decoder.raw_decode`` with deep nesting refused as in :func:`loads_json`."""
    try:
        value, end = decoder.raw_decode(text, index)
    except RecursionError:
        raise InputRefused(TOO_DEEP) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:
        raise InputRefused(_value_problem(error)) from None
    half = lone_surrogate(value)
    if half:
        raise InputRefused(half_character_message(half))
    return value, end


def _value_problem(error: ValueError) -> str:
    if "digits" in str(error):
        return "a number in the JSON has thousands of digits and was not read; check the file"
    return f"the JSON cannot be read ({error})"
