"""The audit log: append-only, every entry chained to the one before by SHA-256.

Everything that changes the ledger or decides about a debtor calls `record`;
nothing else writes the table.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from recouvrement.db import lock
from recouvrement.db.models import AuditEntry

GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    event: str
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


def entry_hash(prev_hash: str, at: datetime, actor: str, event: str,
               account: str | None, subject: str | None, details: dict) -> str:
    canonical = json.dumps(
        {"prev": prev_hash, "at": _utc_text(at), "actor": actor, "event": event,
         "account": account, "subject": subject, "details": details},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def current_actor(run_id: str | None = None) -> str:
    if run_id:
        return f"flow-run:{run_id}"
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):
        return "user:unknown"


def record(session: Session, events: Iterable[Event], actor: str) -> int:
    """Append events to the chain inside the caller's transaction."""
    events = list(events)
    if not events:
        return 0
    lock(session, "audit-log")
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    at = datetime.now(timezone.utc)
    rows = []
    for e in events:
        details = _plain(e.details)
        digest = entry_hash(prev, at, actor, e.event, e.account, e.subject, details)
        rows.append({"at": at, "actor": actor, "event": e.event, "account": e.account,
                     "subject": e.subject, "details": details, "prev_hash": prev, "hash": digest})
        prev = digest
    for start in range(0, len(rows), 5000):
        session.execute(insert(AuditEntry), rows[start:start + 5000])
    return len(rows)


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    problem: str


def verify(session: Session) -> list[ChainProblem]:
    """Recompute the chain; name every entry that was edited, removed, moved or inserted."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)
                           .execution_options(yield_per=5000)).scalars()
    for row in rows:
        if row.prev_hash != prev:
            problems.append(ChainProblem(row.id, "does not follow the entry before it "
                                                 "(an entry was deleted, moved or inserted)"))
        expected = entry_hash(row.prev_hash, row.at, row.actor, row.event, row.account,
                              row.subject, row.details)
        if expected != row.hash:
            problems.append(ChainProblem(row.id, "content does not match its hash (edited)"))
        prev = row.hash
    return problems
