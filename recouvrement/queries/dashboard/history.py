"""The ledger's history as frames: what each invoice owed on any past day.

The ledger keeps each invoice's current state; its past is in the audit log,
which records every change of an open amount with the export date that showed
it (`invoice.open_amount_changed`, `invoice.settled`, `invoice.reopened`).
An invoice counts from its issue date with the open amount the first export
showed, then changes on the export dates of those entries. Entries erased by
the GDPR purge say nothing any more: those debtors had nothing open for years.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from recouvrement.adapters.db.frames import frame_of
from recouvrement.adapters.db.models import (AuditEntry, Debtor, Invoice, LitigationDossier,
                                    LitigationPayment, PaymentPlan, Promise, Reminder,
                                    ReminderItem)
from recouvrement.domain.model import late_chance

AMOUNT_EVENTS = ("invoice.open_amount_changed", "invoice.settled", "invoice.reopened")
DISPUTE_EVENTS = ("invoice.dispute_opened", "invoice.dispute_closed")
_SEP = "\x1f"


def _key(accounts: pd.Series, numbers: pd.Series) -> pd.Series:
    return accounts.astype(str) + _SEP + numbers.astype(str)


def _money(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


@dataclass
class LedgerHistory:
    invoices: pd.DataFrame  # one row per invoice (document_type invoice, positive amounts)
    changes: pd.DataFrame  # key, on (datetime64), before, after: open amount changes
    reminders: pd.DataFrame  # invoice_key, level, sent_on: each invoice a sent reminder took up
    disputes: pd.DataFrame  # key, at (date), opened (bool)
    promises: pd.DataFrame  # debtor_id, created_on, until
    plans: pd.DataFrame  # debtor_id, created_on, status, status_on
    dossiers: pd.DataFrame  # id, account, queued_on, total, principal, status_changes, paid
    _sorted: pd.DataFrame | None = None  # changes by day, made once for every look-up
    _facts: pd.DataFrame | None = None  # invoices by key, made once for every look-up

    def restricted(self, rows: pd.Series) -> "LedgerHistory":
        """The same history for the invoices where `rows` is true."""
        return replace(self, invoices=self.invoices.loc[rows].reset_index(drop=True), _facts=None)

    def open_on(self, day: date) -> np.ndarray:
        """Each invoice's open amount on `day`, in cents, in the order of `invoices`."""
        return self.open_at(self.invoices["key"], np.full(len(self.invoices), np.datetime64(day, "us")))

    def open_at(self, keys, days) -> np.ndarray:
        """The open amount (cents) of invoice `keys[i]` on day `days[i]`, for each i."""
        asked = pd.DataFrame({
            "key": pd.Series(np.asarray(keys, dtype=object)).astype("str"),
            "on": pd.to_datetime(pd.Series(np.asarray(days, dtype=object))).astype("datetime64[us]")})
        asked["_row"] = np.arange(len(asked))
        found = pd.merge_asof(asked.sort_values("on"), self._changes_by_day, on="on", by="key",
                              direction="backward").sort_values("_row")
        facts = self._by_key.reindex(asked["key"])
        initial, issued = facts["initial_c"].to_numpy(), facts["issue_date"].to_numpy()
        after = found["after_c"].to_numpy()
        values = np.where(np.isnan(after), initial, after)
        return np.where(asked["on"].to_numpy() < issued, 0, values).astype(np.int64)

    @property
    def _by_key(self) -> pd.DataFrame:
        if self._facts is None:
            self._facts = self.invoices.set_index("key")[["initial_c", "issue_date"]]
        return self._facts

    @property
    def _changes_by_day(self) -> pd.DataFrame:
        if self._sorted is None:
            self._sorted = (self.changes.astype({"key": "str"}).sort_values("on", kind="stable")
                            [["key", "on", "after_c"]])
        return self._sorted


def cents(values) -> np.ndarray:
    """Decimal euros (two decimals) as integer cents; None as NaN."""
    return np.array([np.nan if v is None else int(Decimal(v) * 100) for v in values], dtype=float)


def euros(amount_cents) -> Decimal:
    """Integer cents back to Decimal euros, at the edge."""
    return Decimal(int(amount_cents)).scaleb(-2)


def read_history(session: Session) -> LedgerHistory:
    # Read by chunks (`frame_of`): a million invoices' row objects never all held at once.
    debtors = frame_of(session, select(
        Debtor.id, Debtor.account, Debtor.name, Debtor.kind, Debtor.risk_class, Debtor.risk_score,
        Debtor.collective_proceedings_since, Debtor.risk_factors),
        ["debtor_id", "account", "name", "kind", "risk_class", "risk_score",
         "proceedings_since", "risk_factors"])
    # the learned chance of paying late, for the policy's probability bands
    debtors["risk_probability"] = [late_chance(f) for f in debtors.pop("risk_factors")]
    invoices = frame_of(session, select(
        Invoice.id, Invoice.number, Invoice.debtor_id, Invoice.issue_date, Invoice.due_date,
        Invoice.amount, Invoice.open_amount, Invoice.status, Invoice.currency, Invoice.disputed,
        Invoice.settled_on, Invoice.last_payment_on, Invoice.acknowledged_on, Invoice.dossier_id)
        .where(Invoice.document_type == "invoice", Invoice.amount > 0), [
        "invoice_id", "number", "debtor_id", "issue_date", "due_date", "amount", "open_amount",
        "status", "currency", "disputed", "settled_on", "last_payment_on", "acknowledged_on",
        "dossier_id"])
    invoices = invoices.merge(debtors, on="debtor_id", how="left")
    invoices["key"] = _key(invoices["account"], invoices["number"])

    changes = _amount_changes(session)
    changed = set(changes["key"])
    first_before = changes.dropna(subset=["before_c"]).groupby("key")["before_c"].first()
    invoices["amount_c"] = cents(invoices["amount"]).astype(np.int64)
    invoices["current_c"] = cents(invoices["open_amount"]).astype(np.int64)
    # Before its first recorded change an invoice owed what that change started from
    # (its amount when the change does not say); one never changed owes what it owes now.
    start = invoices["key"].map(first_before).to_numpy(dtype=float)
    was_changed = invoices["key"].isin(changed).to_numpy()
    invoices["initial_c"] = np.where(~np.isnan(start), start,
                                     np.where(was_changed, invoices["amount_c"],
                                              invoices["current_c"])).astype(float)
    invoices["issue_date"] = pd.to_datetime(invoices["issue_date"]).astype("datetime64[us]")
    return LedgerHistory(invoices=invoices, changes=changes, reminders=_reminders(session),
                         disputes=_disputes(session), promises=_promises(session),
                         plans=_plans(session), dossiers=_dossiers(session))


def _amount_changes(session: Session) -> pd.DataFrame:
    records = []
    for entry_id, event, account, subject, details in session.execute(
            select(AuditEntry.id, AuditEntry.event, AuditEntry.account, AuditEntry.subject,
                   AuditEntry.details)
            .where(AuditEntry.event.in_(AMOUNT_EVENTS), AuditEntry.redacted_at.is_(None))
            .order_by(AuditEntry.id)):
        details = details or {}
        on = details.get("export_date")
        if not on or account is None or subject is None:
            continue
        if event == "invoice.open_amount_changed":
            before, after = _money(details.get("from")), _money(details.get("to"))
        elif event == "invoice.settled":
            before, after = _money(details.get("open_amount_before")), Decimal(0)
        else:
            before, after = None, _money(details.get("open_amount"))
        if after is None:
            continue
        records.append((entry_id, account + _SEP + subject, date.fromisoformat(on), before, after))
    frame = pd.DataFrame(records, columns=["entry", "key", "on", "before", "after"])
    frame["before_c"], frame["after_c"] = cents(frame["before"]), cents(frame["after"])
    frame["on"] = pd.to_datetime(frame["on"]).astype("datetime64[us]")
    # Several entries of one export (changed, then settled) keep their order.
    return frame.sort_values(["on", "entry"], kind="stable").reset_index(drop=True)


def _reminders(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(Debtor.account, Invoice.number, ReminderItem.level, Reminder.sent_on)
        .join(Reminder, Reminder.id == ReminderItem.reminder_id)
        .join(Invoice, Invoice.id == ReminderItem.invoice_id)
        .join(Debtor, Debtor.id == Invoice.debtor_id)
        .where(Reminder.status == "sent", ReminderItem.level.is_not(None))).all()
    frame = pd.DataFrame(rows, columns=["account", "number", "level", "sent_on"])
    frame["key"] = _key(frame["account"], frame["number"])
    return frame


def _disputes(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(AuditEntry.account, AuditEntry.subject, AuditEntry.event, AuditEntry.at)
        .where(AuditEntry.event.in_(DISPUTE_EVENTS), AuditEntry.redacted_at.is_(None))
        .order_by(AuditEntry.id)).all()
    frame = pd.DataFrame(rows, columns=["account", "number", "event", "at"])
    frame["key"] = _key(frame["account"], frame["number"])
    frame["opened"] = frame["event"] == "invoice.dispute_opened"
    frame["on"] = [at.date() for at in frame["at"]]
    return frame


def _promises(session: Session) -> pd.DataFrame:
    rows = session.execute(select(Promise.debtor_id, Promise.created_at, Promise.until)).all()
    frame = pd.DataFrame(rows, columns=["debtor_id", "created_at", "until"])
    frame["created_on"] = [at.date() for at in frame["created_at"]]
    return frame


def _plans(session: Session) -> pd.DataFrame:
    rows = session.execute(select(PaymentPlan.debtor_id, PaymentPlan.created_at,
                                  PaymentPlan.status, PaymentPlan.status_on)).all()
    frame = pd.DataFrame(rows, columns=["debtor_id", "created_at", "status", "status_on"])
    frame["created_on"] = [at.date() for at in frame["created_at"]]
    return frame


def _dossiers(session: Session) -> pd.DataFrame:
    dossiers = session.execute(
        select(LitigationDossier.id, Debtor.account, LitigationDossier.queued_on,
               LitigationDossier.total, LitigationDossier.principal)
        .join(Debtor, Debtor.id == LitigationDossier.debtor_id)).all()
    moves: dict[str, list[tuple[date, str]]] = {}
    for subject, details in session.execute(
            select(AuditEntry.subject, AuditEntry.details)
            .where(AuditEntry.event == "litigation.status_changed",
                   AuditEntry.redacted_at.is_(None)).order_by(AuditEntry.id)):
        details = details or {}
        if subject and details.get("on") and details.get("to"):
            moves.setdefault(subject, []).append((date.fromisoformat(details["on"]), details["to"]))
    paid: dict[str, list[tuple[date, Decimal]]] = {}
    for dossier_id, received_on, amount in session.execute(
            select(LitigationPayment.dossier_id, LitigationPayment.received_on,
                   LitigationPayment.amount)):
        paid.setdefault(dossier_id, []).append((received_on, amount))
    return pd.DataFrame(
        [(d.id, d.account, d.queued_on, d.total, d.principal, moves.get(d.id, []),
          paid.get(d.id, [])) for d in dossiers],
        columns=["id", "account", "queued_on", "total", "principal", "moves", "paid"])
