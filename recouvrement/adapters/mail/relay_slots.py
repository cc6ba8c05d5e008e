"""Who may talk to the SMTP relay: a few slots, held by live processes only.

Why not Prefect's global concurrency limit `smtp-relay` (used until now): its
slot is counted in Prefect's database and freed by a lease that the server's
"repossessor" expires. The temporary server that `recouvrement run` starts
runs no repossessor and keeps its leases in memory, so a run killed while
sending (SIGKILL, out of memory, a reboot) left `active_slots = 1` for ever
and every later run waited on it. What the outbox needs is simpler: a lock
that the operating system or the database server drops the moment its
holder dies, on the database every run already shares.

- PostgreSQL: session advisory locks on a connection kept for the batch; the
  server drops them when that connection ends, and TCP keepalives on it
  notice within about a minute a machine that vanished.
- SQLite: `flock` on small files beside the database file (`<db>.relay/`);
  the kernel drops them when the process dies.

Besides its slot, a sending run holds a lock named after its run id, so that
the next run can tell a reminder left in `sending` by a dead run (resent at
once, with the same Message-ID) from one that a live run is sending.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url

from recouvrement.adapters.db import Database

# PostgreSQL advisory lock spaces (two int4 keys): the relay's slots, the runs.
_SLOTS, _RUNS = 0x52454C59, 0x52554E53  # "RELY", "RUNS"
_KEEPALIVE = ("SET tcp_keepalives_idle = 30", "SET tcp_keepalives_interval = 10",
              "SET tcp_keepalives_count = 3")


class RelaySlot:
    """`with RelaySlot(db, slots=1, run_id=...) as slot:` send; `slot.is_dead(run_id)`.

    Waits (polling every `poll_seconds`) while `slots` live runs hold the
    relay; `on_wait(message)` is told once that it is waiting.
    """

    def __init__(self, db: Database, *, slots: int = 1, run_id: str | None = None,
                 poll_seconds: float = 1.0, on_wait: Callable[[str], None] | None = None):
        if slots < 1:
            raise ValueError(f"the relay needs at least one slot, not {slots}")
        self.slots, self.run_id = slots, run_id
        self.poll_seconds, self.on_wait = poll_seconds, on_wait
        backend = make_url(db.url).get_backend_name()
        self._locks = _AdvisoryLocks(db) if backend == "postgresql" else _FileLocks(db.url)
        self.slot: int | None = None

    def __enter__(self) -> "RelaySlot":
        self._locks.open()
        try:
            told = False
            while self.slot is None:
                self.slot = next((n for n in range(self.slots) if self._locks.take(_SLOTS, n)),
                                 None)
                if self.slot is None:
                    if not told and self.on_wait is not None:
                        self.on_wait(f"waiting for the SMTP relay: {self.slots} run(s) are "
                                     f"sending (RECOUVREMENT_SMTP_CONNECTIONS={self.slots})")
                        told = True
                    time.sleep(self.poll_seconds)
            if self.run_id is not None:
                self._locks.take(_RUNS, _run_key(self.run_id))
        except BaseException:
            self._locks.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._locks.close()  # every lock it holds goes with it
        self.slot = None

    def is_dead(self, run_id: str) -> bool:
        """True when the run that claimed a reminder is provably gone (its lock is free)."""
        if run_id == self.run_id:
            return False
        return self._locks.free(_RUNS, _run_key(run_id))


def _run_key(run_id: str) -> int:
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:4], "big", signed=True)


class _AdvisoryLocks:
    def __init__(self, db: Database) -> None:
        self._engine = db.engine
        self._connection = None

    def open(self) -> None:
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        for statement in _KEEPALIVE:
            connection.execute(text(statement))
        self._connection = connection

    def take(self, space: int, key: int) -> bool:
        return bool(self._connection.scalar(text("SELECT pg_try_advisory_lock(:s, :k)"),
                                            {"s": space, "k": key}))

    def free(self, space: int, key: int) -> bool:
        if not self.take(space, key):
            return False
        self._connection.execute(text("SELECT pg_advisory_unlock(:s, :k)"),
                                 {"s": space, "k": key})
        return True

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock_all()"))
        finally:
            connection.close()


class _FileLocks:
    """`flock` on files of a folder beside the SQLite database, one file per lock."""

    def __init__(self, url: str) -> None:
        database = make_url(url).database
        if database and database != ":memory:":
            self.folder = Path(database).with_name(Path(database).name + ".relay")
        else:  # a database of one process: the locks still serialise its threads
            digest = hashlib.sha256(url.encode()).hexdigest()[:16]
            self.folder = Path(tempfile.gettempdir()) / f"recouvrement-relay-{digest}"
        self._held: dict[Path, int] = {}

    def open(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, space: int, key: int) -> Path:
        return self.folder / (f"slot-{key}.lock" if space == _SLOTS else f"run-{key:+d}.lock")

    def take(self, space: int, key: int) -> bool:
        path = self._path(space, key)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if not _flock(fd):
            os.close(fd)
            return False
        self._held[path] = fd
        return True

    def free(self, space: int, key: int) -> bool:
        path = self._path(space, key)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return False  # never held here, or its run ended cleanly: nothing to tell
        try:
            if not _flock(fd):
                return False
            path.unlink(missing_ok=True)  # its run is gone: the file has served
            return True
        finally:
            os.close(fd)

    def close(self) -> None:
        held, self._held = self._held, {}
        for path, fd in held.items():
            if path.name.startswith("run-"):
                path.unlink(missing_ok=True)  # unlinked while still locked: no one takes it over
            os.close(fd)


def _flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
