"""Which failures a step retries: only the database's passing troubles.

Every step is idempotent: ingest, score, plan and escalate each commit in one
transaction (a failure rolls it all back), and sending goes through the
outbox, where a reminder is claimed before it is sent and marked right after.
Retrying is therefore safe, but only worth it when the cause may be gone a
few seconds later: a dropped or refused connection, a deadlock, a lock or
serialization conflict, a busy SQLite file. A bad export, an unknown debtor,
a missing table, a wrong password or a bug fails the step at once.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

RETRIES = 2
RETRY_DELAYS = [2, 15]  # seconds

# PostgreSQL's SQLSTATEs of a passing trouble: deadlock, serialization failure,
# lock not available, the server shutting down or restarting, and the
# connection exceptions (class 08).
_PASSING = {"40P01", "40001", "55P03", "57P01", "57P02", "57P03"}


def transient(task, task_run, state) -> bool:
    """A `retry_condition_fn`: retry on a lost connection, a deadlock or a busy database."""
    error = state.data if isinstance(state.data, BaseException) else None
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error.orig, OSError):
        return True
    code = getattr(error.orig, "sqlstate", None)
    if code is not None:
        return code in _PASSING or code.startswith("08")
    if type(error.orig).__module__.startswith("psycopg"):
        # No SQLSTATE: the server could not be reached (refused, timed out) or said
        # no for good at login (FATAL: a wrong password, no such database).
        return "connection" in str(error.orig) and "FATAL" not in str(error.orig)
    return any(word in str(error.orig) for word in ("database is locked", "database is busy"))


SAFE_RETRIES = {"retries": RETRIES, "retry_delay_seconds": RETRY_DELAYS,
                "retry_condition_fn": transient}
