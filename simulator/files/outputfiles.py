"""Writing report files into a folder the user names, without surprises.

:class:`OutputFolder` refuses, before anything is computed or written:

- a folder that is a symbolic link, and a file to be written that is one (even with ``force``):
  writing through a link would change a file somewhere else;
- a file to be written that is one of the command's inputs (even with ``force``);
- files that already exist, unless ``force`` is given.

Each file is then written to a temporary name inside the folder and renamed over the target,
both relative to a descriptor of the folder opened without following links: a link put in place
after the checks is replaced, never followed, and a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path


class OutputRefused(ValueError):
    """The folder or a file in it cannot be written safely; the message says what to do."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class OutputFolder:
    """A checked output folder; write files into it with :meth:`write_text`.

    Args:
        path: The folder (created, with its parents, if missing).
        names: The file names that will be written in it.
        inputs: Files the command reads: none of them may be overwritten.
        force: Replace files that already exist.
        label: How the folder is named in messages (``--out`` on the command line).
        force_hint: How to ask for replacing, in messages.

    Raises:
        OutputRefused: See the module docstring; also a folder that is a file, or that cannot
            be created or written to.
    """

    def __init__(
        self,
        path: str | Path,
        names: Iterable[str],
        inputs: Iterable[str | Path] = (),
        force: bool = False,
        label: str = "the output folder",
        force_hint: str = "add --force to replace them",
    ) -> None:
        self.path = Path(path)
        self.names = list(names)
        out = self.path
        if out.is_symlink():
            raise OutputRefused(
                f"{label} {out} is a symbolic link; give the folder it points to, or another "
                "folder (reports are never written through a link)"
            )
        if out.exists() and not out.is_dir():
            raise OutputRefused(
                f"{label} {out} is a file; give a folder (it is created if missing)"
            )
        existing = []
        for name in self.names:
            target = out / name
            for source in inputs:
                if _same_file(Path(source), target) or (
                    Path(os.path.abspath(source)) == Path(os.path.abspath(target))
                ):
                    raise OutputRefused(
                        f"{source} is an input, and {label} {out} would write {name} over it; "
                        "choose another folder for the reports"
                    )
            if target.is_symlink():
                raise OutputRefused(
                    f"{target} is a symbolic link; remove it or choose another folder (reports "
                    "are never written through a link)"
                )
            if target.exists() and not target.is_file():
                raise OutputRefused(
                    f"{target} exists and is not a file; remove it or choose another folder"
                )
            if target.exists():
                existing.append(name)
        if existing and not force:
            raise OutputRefused(
                f"{label} {out} already holds {', '.join(existing)}; {force_hint}, or choose "
                "another folder"
            )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            raise OutputRefused(
                f"cannot create the output folder {out}: {reason}; choose a folder you can write to"
            ) from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise OutputRefused(
                f"cannot write to the output folder {out}; choose a folder you can write to"
            )

    def write_text(self, name: str, text: str) -> str:
        """Write ``text`` as ``name`` in the folder (atomically, never through a link).

        Returns:
            The path written, as text.

        Raises:
            OutputRefused: The folder became a link since it was checked.
            OSError: The disk is full or the folder was removed.
        """
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            folder = os.open(self.path, flags)
        except OSError:
            if self.path.is_symlink():
                raise OutputRefused(
                    f"{self.path} became a symbolic link while the reports were made; nothing "
                    "was written through it"
                ) from None
            raise
        partial = f".{name}.{secrets.token_hex(4)}.partial"
        try:
            descriptor = os.open(
                partial,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                0o644,
                dir_fd=folder,
            )
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                    handle.write(text)
                os.replace(partial, name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(partial, dir_fd=folder)
                raise
        finally:
            os.close(folder)
        return str(self.path / name)
