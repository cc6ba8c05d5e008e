"""The debtors past their formal notice's deadline whose dossier is held back, and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recouvrement.adapters.db.models import Debtor, LitigationHold
from recouvrement.adapters.shards import Shard, narrow


def count_not_ready(session: Session, *, account: str | None = None,
                    shard: Shard | None = None) -> int:
    """Debtors past the formal notice's deadline whose dossier is not ready yet."""
    return session.scalar(narrow(select(func.count(LitigationHold.debtor_id))
                                 .join(Debtor, Debtor.id == LitigationHold.debtor_id),
                                 account, shard))


def list_not_ready(session: Session) -> list[dict[str, Any]]:
    """Debtors past their formal notice deadline whose dossier is held back, with why."""
    rows = session.execute(select(LitigationHold, Debtor.account)
                           .join(Debtor, Debtor.id == LitigationHold.debtor_id)
                           .order_by(Debtor.account)).all()
    return [{"debtor": account, "since": hold.since.isoformat(),
             "checked_on": hold.checked_on.isoformat(),
             "invoices": [i["invoice"] for i in hold.invoices],
             "reasons": list(hold.reasons) + [f"{i['invoice']}: {r}" for i in hold.invoices
                                              for r in i["reasons"]],
             "held": hold.invoices, "debtor_reasons": hold.reasons}
            for hold, account in rows]
