"""Signed checkpoints of the audit chain's head, in the database and in a file outside it.

A checkpoint says: on this date the log held `entries` entries and ended with
entry `entry_id` of hash `entry_hash`; it is signed with the audit key and
chained to the checkpoint before it (`prev_mac`). One is written after every
unit of work that appended to the log (the end of every command and of every
step of a run), and when the process ends. Its line in the checkpoint file
(JSON, one per line, opened for appending only, owner-only) survives whatever
is done to the database: entries cut from the end of the log, or a chain
re-hashed up to its head, no longer match the latest checkpoint.

    mac = HMAC-SHA256(key, "checkpoint" NUL canonical({"at", "entry_id", "entry_hash",
                      "entries", "first_hash", "key_id", "prev_mac"}))
"""

from __future__ import annotations

import atexit
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from recouvrement.adapters.audit_key import AuditKey, AuditKeyError, create_key, load_key
from recouvrement.adapters.db.models import AuditEntry

_LOG = AuditEntry.__table__
# The log's newest entry: what `audit.record` chains to and a checkpoint signs.
LOG_HEAD = select(_LOG.c.id, _LOG.c.hash, _LOG.c.mac).order_by(_LOG.c.id.desc()).limit(1)

log = logging.getLogger(__name__)

FIELDS = ("at", "entry_id", "entry_hash", "entries", "first_hash", "key_id", "prev_mac")


@dataclass
class Keyring:
    """Where an installation keeps its audit key and its checkpoint file."""

    key_file: Path
    checkpoint_file: Path
    _key: AuditKey | None = field(default=None, repr=False)

    def key(self) -> AuditKey | None:
        if self._key is None:
            self._key = load_key(self.key_file)
        return self._key

    def create_key(self) -> AuditKey:
        self._key = create_key(self.key_file)
        return self._key


_RINGS: dict[Engine, Keyring] = {}
_PENDING: set[Engine] = set()


def keyring_from_settings(settings=None) -> Keyring:
    """The keyring of these settings (by default, of the ledger being worked on)."""
    if settings is None:
        from recouvrement.config.settings import load_settings

        settings = load_settings()
    return Keyring(Path(settings.audit_key_file), Path(settings.audit_checkpoint_file))


def register(engine: Engine, ring: Keyring) -> None:
    """The keyring of the installation this engine's database belongs to."""
    _RINGS[engine] = ring


def forget(engine: Engine) -> None:
    _RINGS.pop(engine, None)
    _PENDING.discard(engine)


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def keyring_for(session: Session) -> Keyring:
    engine = _engine(session)
    ring = _RINGS.get(engine)
    if ring is None:
        ring = _RINGS[engine] = keyring_from_settings()
    return ring


def note_appended(session: Session) -> None:
    """The log grew: the next checkpoint of this database is due."""
    _PENDING.add(_engine(session))


def checkpoint_if_due(engine: Engine) -> dict[str, Any] | None:
    if engine not in _PENDING:
        return None
    _PENDING.discard(engine)
    try:
        return write_checkpoint(engine)
    except Exception:  # a checkpoint missed is caught up by the next one
        log.warning("audit checkpoint not written", exc_info=True)
        return None


@atexit.register
def _checkpoint_on_exit() -> None:
    for engine in list(_PENDING):
        checkpoint_if_due(engine)


def body_of(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return {k: get(k) for k in FIELDS}


def sign(key: AuditKey, body: dict[str, Any]) -> str:
    return key.mac("checkpoint", _canonical(body))


def signed_with(key: AuditKey, body: dict[str, Any], mac: str | None) -> bool:
    """Whether `mac` is this key's signature of the checkpoint `body` (`sign`'s check)."""
    return key.matches("checkpoint", _canonical(body), mac)


def write_checkpoint(engine: Engine, ring: Keyring | None = None) -> dict[str, Any] | None:
    """Sign the log's head now (nothing when it has not moved since the last checkpoint)."""
    from sqlalchemy import text

    from recouvrement.adapters.db import _lock_key
    from recouvrement.adapters.db.models import AuditCheckpoint

    ring = ring or _RINGS.get(engine) or keyring_from_settings()
    with Session(engine) as session, session.begin():
        # SQLite: the transaction holds the file's write lock already. PostgreSQL: the
        # log's lock, unless a transaction still open (this process's, maybe) holds it:
        # then the next unit of work writes the checkpoint.
        if engine.dialect.name == "postgresql" and not session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _lock_key("audit-log")}):
            _PENDING.add(engine)
            return None
        head = session.execute(LOG_HEAD).first()
        if head is None:
            return None
        last = session.scalars(select(AuditCheckpoint)
                               .order_by(AuditCheckpoint.id.desc()).limit(1)).first()
        if last is not None and (last.entry_id, last.entry_hash) == (head.id, head.hash):
            return None
        key = ring.key()
        if key is None:
            return None  # nothing was ever signed here
        body = {
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "entry_id": int(head.id), "entry_hash": head.hash,
            "entries": _entries_up_to(session, int(head.id), last, key),
            "first_hash": session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id)
                                         .limit(1)),
            "key_id": key.key_id, "prev_mac": last.mac if last is not None else "",
        }
        mac = sign(key, body)
        session.add(AuditCheckpoint(**body, mac=mac))
    append_line(ring.checkpoint_file, {**body, "mac": mac})
    return {**body, "mac": mac}


def _entries_up_to(session: Session, head_id: int, last: Any, key: AuditKey) -> int:
    """How many entries the log holds up to its head. The log only grows: from a previous
    checkpoint this key signed, only the entries after it are counted (a count of the whole
    log takes seconds once it holds millions, and a checkpoint follows every step). An
    entry deleted before that checkpoint is not counted away, so `check` still sees it
    missing; a previous checkpoint not signed with this key is not trusted for its count."""
    count = select(func.count()).select_from(AuditEntry).where(AuditEntry.id <= head_id)
    if last is not None and signed_with(key, body_of(last), last.mac):
        return int(last.entries) + int(session.scalar(count.where(AuditEntry.id > last.entry_id)))
    return int(session.scalar(count))


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def append_line(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_file(path: Path) -> list[dict[str, Any]] | None:
    """The checkpoints of the file, oldest first (None: no such file). A line that is
    not a checkpoint is returned as {"line": n, "bad": text}."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    found = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not all(k in record for k in (*FIELDS, "mac")):
                raise ValueError
            found.append({**record, "line": n})
        except ValueError:
            found.append({"line": n, "bad": line[:80]})
    return found


@dataclass(frozen=True)
class CheckpointProblem:
    kind: str
    problem: str


def check(session: Session, ring: Keyring, key: AuditKey | None
          ) -> tuple[dict[str, Any] | None, list[CheckpointProblem]]:
    """The latest valid checkpoint, and what is wrong with the log against the checkpoints."""
    from recouvrement.adapters.db.models import AuditCheckpoint

    problems: list[CheckpointProblem] = []
    stored = [{**body_of(c), "mac": c.mac, "where": f"the database (checkpoint #{c.id})"}
              for c in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))]
    in_file = read_file(ring.checkpoint_file)
    if in_file is None:
        if stored:
            problems.append(CheckpointProblem("deleted", f"the checkpoint file {ring.checkpoint_file}"
                                              " is missing, though checkpoints were written"))
        in_file = []
    for c in in_file:
        c.setdefault("where", f"{ring.checkpoint_file} line {c['line']}")
    if key is None:
        if stored or in_file:
            problems.append(CheckpointProblem("forged", f"the audit key {ring.key_file} is "
                                              "missing: the checkpoints cannot be checked"))
        return None, problems
    def signed(c: dict[str, Any]) -> bool:
        if "bad" not in c and signed_with(key, body_of(c), c.get("mac")):
            return True
        problems.append(CheckpointProblem("forged", f"{c['where']}: not a checkpoint signed "
                                          "with the audit key"))
        return False

    sources = [[c for c in stored if signed(c)], [c for c in in_file if signed(c)]]
    latest_of_each = [max(group, key=lambda c: c["entry_id"]) for group in sources if group]
    if not latest_of_each:
        return None, problems
    first = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id).limit(1))
    for c in latest_of_each:
        head = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == c["entry_id"]))
        count = session.scalar(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.id <= c["entry_id"]))
        said = (f"the checkpoint of {c['at']} in {c['where']} signed entry #{c['entry_id']} "
                f"as the head ({c['entry_hash'][:16]}…, {c['entries']} entries)")
        if head is None:
            problems.append(CheckpointProblem("deleted", f"{said}: that entry is no longer in "
                                              "the log (entries cut from its end)"))
        elif head != c["entry_hash"]:
            problems.append(CheckpointProblem("edited", f"{said}: that entry's hash is now "
                                              f"{head[:16]}… (the chain was re-hashed)"))
        elif count != c["entries"]:
            problems.append(CheckpointProblem("deleted", f"{said}: the log now holds {count} "
                                              "entries up to it"))
        elif first != c["first_hash"]:
            problems.append(CheckpointProblem("edited", f"{said}: the first entry of the log "
                                              "is not the one it signed (another log, or "
                                              "rewritten from its start)"))
    return max(latest_of_each, key=lambda c: c["entry_id"]), problems


__all__ = ["AuditKeyError", "Keyring", "check", "checkpoint_if_due", "keyring_for",
           "note_appended", "register", "write_checkpoint"]
