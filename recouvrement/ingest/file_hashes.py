"""The SHA-256 of the inbox's files, kept between commands in the home.

An export already loaded is recognised by its SHA-256. Hashing every file of
the inbox again on every command costs a second per 170 MB (a day's exports
at a million invoices), and the inbox keeps every day's exports: a rerun for
one debtor would read them all. A file whose device, inode, size, modification
and change times are those it had when it was hashed has not been written
since (the change time is the kernel's, which no program can set back), so
its hash is taken from the file `cache/inbox-sha256.json` of the home.

A file written during the second before it was hashed, or while it was read,
is hashed again next time: it may still have been in the middle of being
copied. The cache holds only the files the inbox held at the last command; a
cache that cannot be read is ignored, one that cannot be written is left as
it was (the files are hashed, as without it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from recouvrement.ingest.inbox import read_regular

log = logging.getLogger(__name__)

QUIET_NS = 1_000_000_000  # a file unchanged for this long before it is read is at rest


def _identity(path: Path) -> list[int]:
    s = os.stat(path, follow_symlinks=False)
    return [s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns]


class FileHashes:
    """The inbox's hashes known from earlier commands (none when `file` is None)."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self._known: dict[str, list] = {}
        self._seen: dict[str, list] = {}
        if file is not None:
            try:
                known = json.loads(file.read_text(encoding="utf-8"))
                if isinstance(known, dict):
                    self._known = {k: v for k, v in known.items()
                                   if isinstance(v, list) and len(v) == 6}
            except (OSError, ValueError):
                pass

    @classmethod
    def of_home(cls, home: Path | None) -> "FileHashes":
        return cls(Path(home) / "cache" / "inbox-sha256.json" if home is not None else None)

    def sha256(self, path: Path) -> str:
        """The file's SHA-256: from the cache when the file is as it was, else read and hashed
        (and refused as `read_regular` refuses it)."""
        key = str(path.absolute())
        try:
            before = _identity(path)
        except OSError:
            before = None
        entry = self._known.get(key)
        if before is not None and entry is not None and entry[:5] == before:
            self._seen[key] = entry
            return entry[5]
        started = time.time_ns()
        digest = hashlib.sha256(read_regular(path)).hexdigest()
        try:
            after = _identity(path)
        except OSError:
            after = None
        if before is not None and after == before and before[4] < started - QUIET_NS:
            self._seen[key] = [*before, digest]
        return digest

    def save(self) -> None:
        """Keep the hashes of the files seen by this command, and only those."""
        if self.file is None or self._seen == self._known:
            return
        try:
            self.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            partial = self.file.with_name(f".{self.file.name}.{os.getpid()}")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._seen, handle)
            os.replace(partial, self.file)
        except OSError as exc:
            log.warning("the inbox's hashes could not be kept in %s (%s): the next command "
                        "hashes the files again", self.file, exc.strerror)
