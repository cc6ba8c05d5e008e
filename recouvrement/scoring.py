"""Score every debtor with open invoices from what the ledger knows, in bulk."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recouvrement.audit import Event, record
from recouvrement.domain.events import EventKind
from recouvrement.db.models import Debtor, Invoice, Reminder
from recouvrement.domain.risk import score_debtors
from recouvrement.shards import Shard, narrow

CHUNK = 10_000


def score_ledger(session: Session, *, today: date, actor: str,
                 account: str | None = None, shard: Shard | None = None) -> Counter:
    """Store each debtor's score, class and factors; audit the changes of class.

    Only the debtors whose score, class or factors changed are written: a quiet
    day rewrites no debtor row (and, on PostgreSQL, leaves no dead row behind).
    """
    rows = session.execute(narrow(select(Debtor.id, Debtor.account, Debtor.risk_score,
                                         Debtor.risk_class, Debtor.risk_factors),
                                  account, shard)).all()
    if not rows:
        return Counter()
    ids = {r.account: r.id for r in rows}
    before = {r.account: r.risk_class for r in rows}
    stored = {r.account: (r.risk_score, r.risk_class, r.risk_factors) for r in rows}
    invoices = pd.DataFrame(session.execute(narrow(
        select(Debtor.account, Invoice.due_date, Invoice.open_amount)
        .join(Debtor, Debtor.id == Invoice.debtor_id).where(Invoice.status == "open"),
        account, shard)).all(),
        columns=["account", "due_date", "open_amount"])
    invoices["open_amount"] = invoices["open_amount"].astype(float)
    reminders = pd.DataFrame(session.execute(narrow(
        select(Debtor.account, Reminder.level, Reminder.sent_on)
        .join(Debtor, Debtor.id == Reminder.debtor_id).where(Reminder.status == "sent"),
        account, shard)).all(),
        columns=["account", "level", "sent_on"])
    scores = score_debtors(invoices, reminders, list(ids), today)

    updates, events, classes = [], [], Counter()
    for s in scores:
        classes[s.risk_class] += 1
        if stored[s.account] == (s.score, s.risk_class, s.factors):
            continue
        updates.append({"id": ids[s.account], "risk_score": s.score, "risk_class": s.risk_class,
                        "risk_factors": s.factors})
        if before.get(s.account) != s.risk_class:
            events.append(Event(EventKind.RISK_CLASS_CHANGED, s.account,
                                details={"from": before.get(s.account), "to": s.risk_class,
                                         "score": s.score}))
    updates.sort(key=lambda u: u["id"])  # row locks in id order, as planning takes them
    for start in range(0, len(updates), CHUNK):
        session.execute(update(Debtor), updates[start:start + CHUNK])
    record(session, events, actor)
    return classes
