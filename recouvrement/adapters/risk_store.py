"""The ledger's history as risk frames, and the learned models kept in the ledger.

Reads in bulk (one statement per table); a model is stored as JSON numbers and
read back as such: nothing is ever unpickled from the database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from recouvrement.adapters.db.models import (AuditEntry, Debtor, Invoice, LitigationDossier, PaymentPlan,
                                    Promise, Reminder, ReminderItem, RiskModelRow)
from recouvrement.adapters.shards import Shard, narrow

if TYPE_CHECKING:  # numpy and pandas come only with the work that needs them
    import pandas as pd

    from recouvrement.domain.risk_features import RiskLedger
    from recouvrement.domain.risk_model import RiskModel

KIND = "logistic_regression"
TRAINING_CUTS = 6  # past days whose outcomes are learned, 30 days apart


def load_risk_ledger(session: Session, *, account: str | None = None,
                     shard: Shard | None = None, timezone_name: str = "Europe/Paris") -> RiskLedger:
    """Every fact the risk features read, for all debtors, one account or one shard."""
    from recouvrement.adapters.db.frames import frame_of
    from recouvrement.domain.risk_features import RiskLedger

    def frame(query, columns, floats=()):
        # Read by chunks: a million invoices' row objects never all held at once.
        return frame_of(session, narrow(query, account, shard), columns, floats=floats)

    debtors = frame(select(Debtor.account, Debtor.kind, Debtor.collective_proceedings_since),
                    ["account", "kind", "collective_proceedings_since"])
    invoices = frame(
        select(Debtor.account, Invoice.number, Invoice.issue_date, Invoice.due_date, Invoice.amount,
               Invoice.open_amount, Invoice.status, Invoice.settled_on, Invoice.last_payment_on)
        .join(Debtor, Debtor.id == Invoice.debtor_id)
        .where(Invoice.document_type == "invoice", Invoice.status != "credit"),
        ["account", "number", "issue_date", "due_date", "amount", "open_amount", "status",
         "settled_on", "last_payment_on"], floats=("amount", "open_amount"))
    invoices["settled_on"] = invoices["settled_on"].where(invoices["status"] == "settled")
    reminders = frame(
        select(Debtor.account, Invoice.number, ReminderItem.level, Reminder.sent_on)
        .join(Reminder, Reminder.id == ReminderItem.reminder_id)
        .join(Invoice, Invoice.id == ReminderItem.invoice_id)
        .join(Debtor, Debtor.id == Reminder.debtor_id)
        .where(Reminder.status == "sent", ReminderItem.level.is_not(None),
               Reminder.sent_on.is_not(None)),
        ["account", "number", "level", "sent_on"])
    dossiers = frame(select(Debtor.account, LitigationDossier.invoice_numbers,
                            LitigationDossier.queued_on)
                     .join(Debtor, Debtor.id == LitigationDossier.debtor_id),
                     ["account", "number", "queued_on"]).explode("number").dropna()
    promises = frame(select(Debtor.account, Promise.created_at, Promise.until)
                     .join(Debtor, Debtor.id == Promise.debtor_id),
                     ["account", "created_on", "until"])
    plans = frame(select(Debtor.account, PaymentPlan.created_at, PaymentPlan.status,
                         PaymentPlan.status_on).join(Debtor, Debtor.id == PaymentPlan.debtor_id),
                  ["account", "created_on", "status", "status_on"])
    disputes = frame(select(AuditEntry.account, AuditEntry.at)
                     .join(Debtor, Debtor.account == AuditEntry.account)
                     .where(AuditEntry.event == "invoice.dispute_opened"),
                     ["account", "opened_on"])
    for table, column in ((promises, "created_on"), (plans, "created_on"), (disputes, "opened_on")):
        table[column] = _local_day(table[column], timezone_name)
    return RiskLedger.of(debtors=debtors, invoices=invoices, reminders=reminders,
                         dossiers=dossiers, promises=promises, plans=plans, disputes=disputes)


def _local_day(moments: pd.Series, timezone_name: str) -> pd.Series:
    """Timestamps as the creditor's calendar days (naive ones are taken as UTC)."""
    import pandas as pd

    if moments.empty:
        return moments
    stamps = pd.to_datetime(moments, utc=True)
    return stamps.dt.tz_convert(timezone_name).dt.tz_localize(None).dt.normalize()


def latest_model(session: Session, today: date) -> tuple[int, RiskModel] | None:
    """The newest model trained on or before `today`, read from its JSON numbers."""
    row = session.scalars(select(RiskModelRow).where(RiskModelRow.trained_on <= today,
                                                     RiskModelRow.kind == KIND)
                          .order_by(RiskModelRow.trained_on.desc(), RiskModelRow.id.desc())
                          .limit(1)).first()
    if row is None:
        return None
    from recouvrement.domain.risk_model import RiskModel

    return row.id, RiskModel.from_json(row.parameters, row.trained_on, row.metrics)


def train_and_store(session: Session, *, today: date, min_examples: int,
                    timezone_name: str = "Europe/Paris") -> dict:
    """Learn the risk model from the ledger's history if it holds enough, once a day.

    Returns what was done: `trained` (with the model's metrics), `kept` (a model was
    already trained today) or `not_enough_history` (with the count of examples).
    """
    done = session.scalar(select(RiskModelRow.id).where(RiskModelRow.trained_on == today,
                                                        RiskModelRow.kind == KIND))
    if done is not None:
        return {"status": "kept", "model_id": done}
    from recouvrement.domain.risk_features import known_on
    from recouvrement.domain.risk_model import HORIZON_DAYS, examples, fit, training_cuts

    ledger = known_on(load_risk_ledger(session, timezone_name=timezone_name), today)
    cuts = training_cuts(today - timedelta(days=HORIZON_DAYS), TRAINING_CUTS)
    train = examples(ledger, cuts)
    positives = int(train["pays_30"].sum()) if len(train) else 0
    if len(train) < min_examples or positives in (0, len(train)):
        return {"status": "not_enough_history", "examples": len(train),
                "min_examples": min_examples}
    model = fit(train, today)
    metrics = {**model.metrics, "cuts": [c.isoformat() for c in cuts],
               **_holdout(train, today)}
    import sklearn

    row = RiskModelRow(trained_on=today, trained_at=datetime.now(timezone.utc),
                       library=f"scikit-learn {sklearn.__version__}", kind=KIND,
                       parameters=model.to_json(), metrics=metrics)
    session.add(row)
    session.flush()
    return {"status": "trained", "model_id": row.id, "metrics": metrics}


def _holdout(train: pd.DataFrame, today: date) -> dict:
    """AUC on the latest cut of a model fitted on the earlier ones (when there are two)."""
    from recouvrement.domain.risk_model import TARGETS, auc, fit

    last = train["cut"].max()
    early, late = train[train["cut"] < last], train[train["cut"] == last]
    if early.empty or late.empty:
        return {}
    p = fit(early, today).predict(late)
    return {f"holdout_auc_{t}": round(auc(late[t].to_numpy(), p[t].to_numpy()), 4)
            for t in TARGETS}
