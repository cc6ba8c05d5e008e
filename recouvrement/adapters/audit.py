"""The audit log: append-only, every entry chained to the one before by SHA-256.

Everything that changes the ledger or decides about a debtor calls `record`;
nothing else writes the table. Three layers keep it honest:

- the application: a session hook refuses any UPDATE or DELETE of an entry;
- the database: triggers refuse UPDATE, DELETE and TRUNCATE (migration 0003),
  but for the one update a GDPR purge makes (`redact`);
- the chain: each entry's hash covers the previous hash, its date, actor and
  event, and a salted digest of its account, subject and details, so `verify`
  names any entry edited, deleted, reordered or inserted, even by someone who
  got past the other two. Erasing an entry's personal data (and its salt)
  leaves its digest, so the chain still verifies after a purge.

Hash of an entry (version 2, every entry written since migration 0003):

    payload = sha256(canonical({"account", "subject", "details", "salt"}))
    hash    = sha256(canonical({"prev", "at", "actor", "event", "payload"}))

with canonical = JSON, keys sorted, no spaces, UTF-8; `at` in UTC,
ISO 8601 with microseconds and no offset. Entries written before migration
0003 have no payload digest and were hashed over their content directly
(`entry_hash`); they verify the same way but cannot be redacted.

Signed (migration 0007, see `audit_key.py` and `db/checkpoints.py`): every entry
carries `mac = HMAC-SHA256(key, "entry" NUL hash)` under a key kept in a file
outside the database, so an entry written, or a chain re-hashed, by someone who
holds only the database no longer verifies; signed checkpoints of the head,
kept in the database and in a file outside it, catch entries cut from the end.
An erasure goes through `redact`, which leaves a record of what it erased
(`audit_erasures`; on PostgreSQL the SECURITY DEFINER function `audit_erase`
writes it), and `verify` checks that every erased entry is covered by such a
record and by a signed `retention.purged` entry of a debtor really purged.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator

from sqlalchemy import (
    Delete,
    TextClause,
    Update,
    event,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, aliased

from recouvrement.adapters.audit_key import AuditKey, AuditKeyError
from recouvrement.adapters.db import lock
from recouvrement.adapters.db.models import AuditEntry, AuditErasure, Debtor
from recouvrement.domain.events import EventKind, event_kind, event_label

GENESIS = "0" * 64
PURGE_EVENT = EventKind.PURGED.value
PURGED_NAME = "(erased)"  # the name a debtor erased by a retention purge keeps
_REDACTION = "recouvrement_audit_redaction"
_WRITES_TO_LOG = re.compile(r"\b(update\s+audit_log|delete\s+from\s+audit_log|truncate\b[^;]*"
                            r"\baudit_log)\b", re.IGNORECASE)


# `record` runs once per reminder sent: its two statements are built once, on
# the table itself, which costs about half as much to execute as ORM ones.
_LOG = AuditEntry.__table__


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or remove an entry of the audit log."""


@dataclass(frozen=True)
class Event:
    event: str | EventKind  # a kind of the catalogue (domain/events.py), or its code
    account: str | None = None
    subject: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


def _utc_text(at: datetime) -> str:
    # SQLite hands back naive datetimes and PostgreSQL aware ones: hash the
    # same UTC wall time either way.
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def _canonical(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def entry_hash(prev_hash: str, at: datetime, actor: str, event: str,
               account: str | None, subject: str | None, details: dict) -> str:
    """Version 1: the hash of entries written before migration 0003."""
    return hashlib.sha256(_canonical(
        {"prev": prev_hash, "at": _utc_text(at), "actor": actor, "event": event,
         "account": account, "subject": subject, "details": details})).hexdigest()


def payload_digest(account: str | None, subject: str | None, details: dict,
                   salt: str) -> str:
    """What the chain keeps of an entry's account, subject and details.

    The random salt makes the digest of an erased entry impossible to match
    against a guessed account or name once the salt is erased with them.
    """
    return hashlib.sha256(_canonical({"account": account, "subject": subject,
                                      "details": details, "salt": salt})).hexdigest()


def chain_hash(prev_hash: str, at: datetime, actor: str, event: str, digest: str) -> str:
    """Version 2: the hash of an entry, over its payload's digest."""
    return hashlib.sha256(_canonical(
        {"prev": prev_hash, "at": _utc_text(at), "actor": actor, "event": event,
         "payload": digest})).hexdigest()


def current_actor(run_id: str | None = None) -> str:
    """Who acts: the flow run, or the user who typed a command."""
    if run_id:
        return f"flow-run:{run_id}"
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):
        return "user:unknown"


def record(session: Session, events: Iterable[Event], actor: str) -> int:
    """Append events to the chain inside the caller's transaction.

    Ids are given here, one after the other under the log's lock, so that a
    gap in them means an entry was deleted. Only the kinds of the catalogue
    (`domain/events.py`) are written: any other raises `UnknownEventKind`
    before anything is.
    """
    events = list(events)
    if not events:
        return 0
    kinds = [event_kind(e.event).value for e in events]  # the stored code, a plain str
    from recouvrement.adapters.db.checkpoints import LOG_HEAD, keyring_for, note_appended

    lock(session, "audit-log")
    head = session.execute(LOG_HEAD).first()
    key = signing_key(session, keyring_for(session))
    last_id, prev = (head.id, head.hash) if head else (0, GENESIS)
    at = datetime.now(timezone.utc)
    rows = []
    for offset, (e, kind) in enumerate(zip(events, kinds), start=1):
        details = _plain(e.details)
        salt = secrets.token_hex(16)
        digest = payload_digest(e.account, e.subject, details, salt)
        entry = chain_hash(prev, at, actor, kind, digest)
        rows.append({"id": last_id + offset, "at": at, "actor": actor, "event": kind,
                     "account": e.account, "subject": e.subject, "details": details,
                     "prev_hash": prev, "hash": entry, "payload_digest": digest, "salt": salt,
                     "mac": key.mac("entry", entry)})
        prev = entry
    for start in range(0, len(rows), 5000):
        session.execute(insert(_LOG), rows[start:start + 5000])
    note_appended(session)
    return len(rows)


def signing_key(session: Session, ring) -> AuditKey:
    """The key to sign with: made on first use, never anew once entries are signed."""
    key = ring.key()
    if key is not None:
        return key
    signed = session.scalar(select(AuditEntry.id).where(AuditEntry.mac.is_not(None)).limit(1))
    if signed is not None:
        raise AuditKeyError(
            f"the audit log is signed, but its key {ring.key_file} is missing: put the key file "
            "back (RECOUVREMENT_AUDIT_KEY_FILE); a new key would make every signature look forged")
    return ring.create_key()


def redact(session: Session, entry_ids: list[int], *, pseudonym: str,
           reason: str = "retention purge") -> list[int]:
    """Erase account, subject, details and salt of these entries (GDPR purge).

    Hashed columns stay as they were, so the chain still verifies. The erasure
    leaves its record (`audit_erasures`: id ranges, pseudonym, reason, who),
    and the database refuses it for an entry whose account is not a debtor in
    the GDPR archive. The caller records a signed `retention.purged` entry
    naming the ids (see `id_ranges`), or `verify` reports the erasure as an
    edit. Entries without a payload digest (written before migration 0003)
    cannot be erased: returned ids are those actually erased.
    """
    done: list[int] = []
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(entry_ids), 1000):
        chunk = [int(i) for i in entry_ids[start:start + 1000]]
        if postgres:  # the SECURITY DEFINER function records and erases
            ids = session.scalar(text("SELECT audit_erase(CAST(:ids AS bigint[]), :pseudonym, "
                                      ":reason)"),
                                 {"ids": chunk, "pseudonym": pseudonym, "reason": reason})
            done += [int(i) for i in ids or []]
            continue
        ids = sorted(session.scalars(select(AuditEntry.id).where(
            AuditEntry.id.in_(chunk), AuditEntry.redacted_at.is_(None),
            AuditEntry.payload_digest.is_not(None))))
        if ids:
            now = datetime.now(timezone.utc)
            session.execute(insert(AuditErasure), [
                {"at": now, "db_user": None, "pseudonym": pseudonym, "reason": reason,
                 "first_id": a, "last_id": b} for a, b in id_ranges(ids)])
            session.execute(
                update(AuditEntry).where(AuditEntry.id.in_(ids))
                .values(account=None, subject=None, details={}, salt=None, redacted_at=now)
                .execution_options(**{_REDACTION: True, "synchronize_session": False}))
        done += ids
    return sorted(done)


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """[1, 2, 3, 7] -> [[1, 3], [7, 7]]: a short way to name many entries."""
    ranges: list[list[int]] = []
    for i in sorted(ids):
        if ranges and ranges[-1][1] + 1 == i:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return ranges


# --- append-only in the application ---------------------------------------------


@event.listens_for(Session, "before_flush")
def _refuse_changed_entries(session: Session, _context, _instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditLogIsAppendOnly(f"audit entry {obj.id} cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AuditLogIsAppendOnly(f"audit entry {obj.id} cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state) -> None:
    statement = state.statement
    if state.execution_options.get(_REDACTION):
        return
    if isinstance(statement, (Update, Delete)) and statement.table.name == AuditEntry.__tablename__:
        raise AuditLogIsAppendOnly("the audit log is append-only: UPDATE and DELETE refused")
    if isinstance(statement, TextClause) and _WRITES_TO_LOG.search(statement.text):
        raise AuditLogIsAppendOnly("the audit log is append-only: UPDATE and DELETE refused")


# --- verification ----------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int | None  # None: about the log as a whole
    kind: str  # edited | deleted | reordered | inserted
    problem: str


@dataclass
class ChainReport:
    entries: int = 0
    redacted: int = 0
    head_id: int | None = None
    head_hash: str | None = None
    checkpoint: dict[str, Any] | None = None  # the latest signed checkpoint
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Link:
    id: int
    prev_hash: str
    hash: str


def verify(session: Session, *, expected_head: str | None = None) -> list[ChainProblem]:
    """Recompute the chain; name every entry that was edited, removed, moved or inserted."""
    return check_chain(session, expected_head=expected_head).problems


def check_chain(session: Session, *, expected_head: str | None = None) -> ChainReport:
    """Stream the log once, then look closer at the few places the chain breaks.

    `expected_head`: a head hash noted earlier (e.g. printed by a previous
    verify); if it is no longer in the log, entries at the end were removed.
    """
    from recouvrement.adapters.db import checkpoints

    report = ChainReport()
    ring = checkpoints.keyring_for(session)
    try:
        key, key_problem = ring.key(), None
    except AuditKeyError as exc:
        key, key_problem = None, str(exc)
    edited: dict[int, str] = {}
    breaks: list[tuple[_Link, _Link | None]] = []
    redacted: list[int] = []
    covered: list[tuple[int, int]] = []
    purged_as: dict[int, str] = {}  # signed purge entry -> the pseudonym it names
    unsigned: dict[int, str] = {}
    signed_seen = False
    before: _Link | None = None
    for row in _stream(session):
        report.entries += 1
        problem = _content_problem(row)
        if problem:
            edited[row.id] = problem
        if row.mac is not None:
            signed_seen = True
        trusted = True
        if row.mac is None and signed_seen:
            unsigned[row.id] = ("not signed with the audit key: written behind the "
                                "application's back")
            trusted = False
        elif row.mac is not None and key is not None and not key.matches("entry", row.hash,
                                                                          row.mac):
            unsigned[row.id] = ("its signature does not match: written, or re-hashed, without "
                                "the audit key")
            trusted = False
        if row.redacted_at is not None:
            redacted.append(row.id)
        if (trusted and row.event == PURGE_EVENT and row.redacted_at is None
                and isinstance(row.details, dict)):
            covered += [(int(a), int(b)) for a, b in row.details.get("redacted", [])]
            purged_as[row.id] = row.subject
        link = _Link(row.id, row.prev_hash, row.hash)
        if row.prev_hash != (before.hash if before else GENESIS):
            breaks.append((link, before))
        before = link
    report.redacted = len(redacted)
    if before is not None:
        report.head_id, report.head_hash = before.id, before.hash

    inserted, explained = _inserted(session, breaks)
    problems = [ChainProblem(i, "inserted", why) for i, why in inserted.items()]
    for link, previous in breaks:
        if link.id in inserted or link.id in explained:
            continue
        found = _classify_break(session, link, previous, edited, inserted)
        if found is not None:
            problems.append(found)
    problems += [ChainProblem(i, "edited", why) for i, why in edited.items() if i not in inserted]
    problems += [ChainProblem(i, "edited", "its account, subject and details were erased "
                              "outside a retention purge")
                 for i in redacted if not any(a <= i <= b for a, b in covered)]
    flagged = {p.entry_id for p in problems}
    problems += [ChainProblem(i, "forged", why) for i, why in unsigned.items()
                 if i not in flagged]
    if signed_seen and key is None:
        problems.append(ChainProblem(None, "forged", key_problem or (
            f"the log is signed, but the audit key {ring.key_file} is missing: its signatures "
            "cannot be checked (RECOUVREMENT_AUDIT_KEY_FILE)")))
    problems += _erasure_problems(session, redacted, purged_as)
    if key_problem is None:
        report.checkpoint, found = checkpoints.check(session, ring, key)
        problems += [ChainProblem(None, p.kind, p.problem) for p in found]
    if expected_head and session.scalar(
            select(AuditEntry.id).where(AuditEntry.hash == expected_head)) is None:
        problems.append(ChainProblem(None, "deleted", f"the head noted earlier ({expected_head}) "
                                     "is no longer in the log: entries at its end were deleted"))
    report.problems = sorted(problems, key=lambda p: (p.entry_id is None, p.entry_id or 0,
                                                      p.kind))
    return report


def _erasure_problems(session: Session, redacted: list[int],
                      purged_as: dict[int, str]) -> list[ChainProblem]:
    """Every erased entry has its erasure record, every erasure names a purged debtor."""
    ranges = session.execute(select(AuditErasure.first_id, AuditErasure.last_id,
                                    AuditErasure.pseudonym)).all()
    problems = [ChainProblem(i, "edited", "erased without a record of the erasure "
                             "(audit_erasures): not by a retention purge")
                for i in redacted if not any(a <= i <= b for a, b, _ in ranges)]
    named = {p for _a, _b, p in ranges} | set(purged_as.values())
    purged = set(session.scalars(select(Debtor.account).where(
        Debtor.account.in_([n for n in named if n]), Debtor.name == PURGED_NAME))) if named else set()
    for entry_id, pseudonym in purged_as.items():
        if pseudonym not in purged:
            problems.append(ChainProblem(entry_id, "edited", f"records the erasure of "
                                         f"{pseudonym!r}, but no debtor of that pseudonym was "
                                         "purged (debtors table)"))
    for first, last, pseudonym in ranges:
        if pseudonym not in purged:
            problems.append(ChainProblem(first, "edited", f"entries #{first} to #{last} were "
                                         f"erased as {pseudonym!r}, but no debtor of that "
                                         "pseudonym was purged (debtors table)"))
    return problems


def _stream(session: Session) -> Iterator[AuditEntry]:
    return session.execute(select(AuditEntry).order_by(AuditEntry.id)
                           .execution_options(yield_per=5000)).scalars()


def _content_problem(row: AuditEntry) -> str | None:
    if row.payload_digest is None:
        if row.redacted_at is not None:
            return "marked as erased, but it was written before erasure was possible"
        expected = entry_hash(row.prev_hash, row.at, row.actor, row.event, row.account,
                              row.subject, row.details)
        return None if expected == row.hash else "content does not match its hash (edited)"
    if row.redacted_at is not None:
        if row.account is not None or row.subject is not None or row.salt is not None or (
                row.details not in ({}, None)):
            return "erased by a retention purge, yet holds content again"
    elif payload_digest(row.account, row.subject, row.details,
                        row.salt or "") != row.payload_digest:
        return "its account, subject or details do not match its hash (edited)"
    if chain_hash(row.prev_hash, row.at, row.actor, row.event, row.payload_digest) != row.hash:
        return "its date, actor or event do not match its hash (edited)"
    return None


def _row_by_hash(session: Session, digest: str) -> _Link | None:
    row = session.execute(select(AuditEntry.id, AuditEntry.prev_hash, AuditEntry.hash)
                          .where(AuditEntry.hash == digest)).first()
    return _Link(*row) if row else None


def _chained_to_between(session: Session, low: int, high: int) -> int:
    """How many entries with low < id < high have an entry chained to them."""
    successor = aliased(AuditEntry)
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.id > low, AuditEntry.id < high,
        exists().where(successor.prev_hash == AuditEntry.hash)))


def _inserted(session: Session, breaks) -> tuple[dict[int, str], set[int]]:
    """Entries the chain skips: the next entry is chained to the one before them.

    Also returns the ids of the entries whose broken link those insertions explain.
    """
    found: dict[int, str] = {}
    explained: set[int] = set()
    for link, previous in breaks:
        if previous is None:
            continue
        target = _row_by_hash(session, link.prev_hash)
        if link.prev_hash == GENESIS:
            low = 0
        elif target is not None and target.id < previous.id:
            low = target.id
        else:
            continue
        if _chained_to_between(session, low, link.id) == 0:
            explained.add(link.id)
            for entry_id in session.scalars(select(AuditEntry.id).where(
                    AuditEntry.id > low, AuditEntry.id < link.id)):
                where = f"#{low}" if low else "the start of the log"
                found[entry_id] = (f"not part of the chain: entry #{link.id} is chained "
                                   f"directly to {where}")
    return found, explained


def _classify_break(session: Session, link: _Link, previous: _Link | None,
                    edited: dict[int, str], inserted: dict[int, str]) -> ChainProblem | None:
    target = None if link.prev_hash == GENESIS else _row_by_hash(session, link.prev_hash)
    if link.prev_hash == GENESIS or target is not None:
        where = f"#{target.id}" if target else "the start of the log"
        if target is not None and target.id == link.id:
            return ChainProblem(link.id, "edited", "chained to itself (edited)")
        after = f"#{previous.id}" if previous else "the start of the log"
        return ChainProblem(link.id, "reordered", f"out of order: it is chained after {where}, "
                            f"but stands after {after}")
    first_missing = previous.id + 1 if previous else 1
    if link.id > first_missing:
        last_missing = link.id - 1
        span = (f"entry #{first_missing}" if first_missing == last_missing
                else f"entries #{first_missing} to #{last_missing}")
        return ChainProblem(link.id, "deleted", f"{span} deleted: entry #{link.id} is chained "
                            "to an entry that is no longer in the log")
    if previous is None:
        return ChainProblem(link.id, "edited", "the first entry does not start the chain "
                            "(edited and re-hashed, or earlier entries deleted)")
    if link.id in edited and not _has_successor(session, link):
        inserted[link.id] = ("written by hand: chained to no entry of the log, and its hash "
                             "does not match its content")
        return ChainProblem(link.id, "inserted", inserted[link.id])
    if previous.id in inserted:
        return None
    return ChainProblem(previous.id, "edited", "edited and its hash recomputed: "
                        f"entry #{link.id} was chained to its original hash")


def _has_successor(session: Session, link: _Link) -> bool:
    successor = select(AuditEntry.id).where(AuditEntry.prev_hash == link.hash)
    return session.scalar(successor) is not None


# --- reading ----------------------------------------------------------------------


def read_log(session: Session, *, account: str | None = None, subject: str | None = None,
             limit: int | None = 200) -> list[dict[str, Any]]:
    """Entries, oldest first (the newest `limit` of them), as plain rows."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if account:
        query = query.where(AuditEntry.account == account)
    if subject:
        query = query.where(AuditEntry.subject == subject)
    if limit:
        query = query.limit(limit)
    return [entry_row(e) for e in list(session.scalars(query))[::-1]]


def entry_row(e: AuditEntry, language: str = "fr") -> dict[str, Any]:
    return {"id": e.id, "at": _utc_text(e.at)[:19] + "Z", "actor": e.actor, "event": e.event,
            "label": event_label(e.event, language),
            "account": e.account, "subject": e.subject, "details": e.details,
            "prev_hash": e.prev_hash, "hash": e.hash, "payload_digest": e.payload_digest,
            "salt": e.salt, "mac": e.mac, "redacted": e.redacted_at is not None}
