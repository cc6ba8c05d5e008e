"""Files of personal data, created owner-only whatever the process's umask.

Letters, the print queue's manifest, validation reports, dossiers, exports and
the SQLite database hold debtors' names, addresses and debts (GDPR art. 32:
access limited to those who need it). Under the usual umask 022 a plain
`open()` makes them readable by every account of the machine; these helpers
give files 0600 and the folders they create 0700, and never follow a symlink
planted where a file is to be written.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def private_dir(path: Path) -> Path:
    """`path` and its missing parents, each one this creates owner-only; returns `path`."""
    path = Path(path)
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made by another process meanwhile
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode goes through the umask
    return Path(missing[0]) if missing else path


def write_private(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write `data` to `path` atomically (a reader never sees half a file), owner-only.

    The content goes to a new file of a random name beside the target, opened
    with O_EXCL and O_NOFOLLOW (a planted file or symlink is never written
    through), then is renamed over the target.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode(encoding)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def open_private(path: Path, mode: str = "a", **kwargs):
    """`open(path, mode)` for text, creating the file owner-only (an older file is tightened).

    Only appending (`a`) and creating (`x`) are offered: a symlink is never followed.
    """
    flags = {"a": os.O_WRONLY | os.O_APPEND | os.O_CREAT,
             "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL}[mode]
    fd = os.open(path, flags | _NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError:
        pass  # another owner's file: left as it is
    return os.fdopen(fd, mode, **kwargs)


def tighten(path: Path) -> None:
    """Make an existing file of ours owner-only (files from before this rule)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if info.st_uid == os.getuid() and info.st_mode & 0o077 and not os.path.islink(path):
        os.chmod(path, FILE_MODE)
