"""What of the inbox may be read: its regular files only, opened without following links.

A symbolic link (to a file anywhere on the machine), a named pipe (a read would
block), a device or a socket dropped in the inbox is never opened: it is
reported by name as skipped. Files are opened with O_NOFOLLOW and checked on
the open descriptor, so an entry swapped for a link between the listing and
the read is refused too.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from recouvrement.ingest.errors import InputFileError

_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
RULE = "only regular files of the inbox are read"


@dataclass(frozen=True)
class Skipped:
    """An entry of the inbox named like an export that is not read, and why."""

    name: str
    reason: str


def entries(inbox: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The regular files directly in the inbox, and the other entries with what they are."""
    regular, others = [], []
    for entry in sorted(inbox.iterdir()):
        try:
            mode = entry.lstat().st_mode  # the entry itself, not what a link points to
        except OSError:
            continue  # gone meanwhile
        if stat.S_ISREG(mode):
            regular.append(entry)
        else:
            others.append((entry, what_is(mode)))
    return regular, others


def what_is(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_regular(path: Path) -> bytes:
    """The file's content, if it is a regular file (a link is not followed, a pipe not waited on)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno is not None and os.path.islink(path):
            raise InputFileError(path, f"a symbolic link: {RULE}") from None
        raise InputFileError(path, f"cannot be opened ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputFileError(path, f"{what_is(mode)}: {RULE}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)
