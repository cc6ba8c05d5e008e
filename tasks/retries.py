"""Which failures a step retries: only the database's passing troubles.

Every step is idempotent: ingest, score, plan and escalate each commit in one
transaction (a failure rolls it all back), and sending goes through the
outbox, where a reminder is claimed before it is sent and marked right after.
Retrying is therefore safe, but only worth it when the cause may be gone a
few seconds later: a dropped connection, a deadlock or a busy SQLite file.
A bad export, an unknown debtor or a bug fails the step at once.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

RETRIES = 2
RETRY_DELAYS = [2, 15]  # seconds


def transient(task, task_run, state) -> bool:
    """A `retry_condition_fn`: retry on a lost connection, a deadlock or a lock timeout."""
    error = state.data if isinstance(state.data, BaseException) else None
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


SAFE_RETRIES = {"retries": RETRIES, "retry_delay_seconds": RETRY_DELAYS,
                "retry_condition_fn": transient}
