"""Split the debtors of a run into shards that run side by side.

A debtor belongs to shard `id % count`: every debtor is in exactly one
shard whatever the count, and a shard's steps (score, plan, send, escalate)
touch only its own debtors, so shards run in parallel on several workers
without ever deciding or sending for the same debtor twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Select

from recouvrement.adapters.db.models import Debtor

Q = TypeVar("Q", bound=Select)


@dataclass(frozen=True)
class Shard:
    index: int  # from 0
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}: want 0 <= shard < shards")

    def __str__(self) -> str:
        return f"{self.index + 1}/{self.count}"

    @property
    def slug(self) -> str:
        """For run names: `2-of-3`."""
        return f"{self.index + 1}-of-{self.count}"


def narrow(query: Q, account: str | None = None, shard: Shard | None = None) -> Q:
    """Keep the rows of one account or of one shard; the query must involve `Debtor`."""
    if account is not None:
        query = query.where(Debtor.account == account)
    if shard is not None and shard.count > 1:
        query = query.where(Debtor.id % shard.count == shard.index)
    return query


def hand_back(session, *, parent_run_id: str, shard: Shard, run_id: str, summary: dict) -> None:
    """Keep a shard's summary for the run that started it (again on a retry: replaced)."""
    import json
    from datetime import datetime, timezone

    from recouvrement.adapters.db.models import ShardResult

    session.merge(ShardResult(
        parent_run_id=parent_run_id, shard=shard.index, shards=shard.count, run_id=run_id,
        summary=json.loads(json.dumps(summary, default=str)),  # dates and amounts as text
        finished_at=datetime.now(timezone.utc)))


def handed_back(session, *, parent_run_id: str, shard: Shard) -> dict | None:
    """The summary a shard of that run handed back, if it did."""
    from recouvrement.adapters.db.models import ShardResult

    row = session.get(ShardResult, (parent_run_id, shard.index))
    return None if row is None else row.summary
