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
from sqlalchemy import and_, select
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


def _cents_of(value) -> int:
    """Decimal euros as integer cents, as `cents` does, while the rows are read."""
    return int(Decimal(value) * 100)


def _shared():
    """A converter that keeps one object per distinct value (a date, a currency code):
    a million invoices hold a few thousand dates, not a million date objects."""
    seen: dict = {}
    return lambda value: seen.setdefault(value, value)


@dataclass
class LedgerHistory:
    # One row per invoice (document_type invoice, positive amounts). `key` is the
    # invoice's id, the key of the other frames too; amounts are integer cents
    # (amount_c, current_c, initial_c); the debtor's account, name, kind,
    # risk_class, risk_score and risk_probability are on each row.
    invoices: pd.DataFrame
    changes: pd.DataFrame  # key, on (datetime64), before_c, after_c: open amount changes
    reminders: pd.DataFrame  # key, level, sent_on: each invoice a sent reminder took up
    disputes: pd.DataFrame  # key, on (date), opened (bool)
    promises: pd.DataFrame  # debtor_id, created_on, until
    plans: pd.DataFrame  # debtor_id, created_on, status, status_on
    dossiers: pd.DataFrame  # id, account, queued_on, total, principal, status_changes, paid
    _sorted: pd.DataFrame | None = None  # changes by day, made once for every look-up
    _facts: pd.DataFrame | None = None  # invoices by key, made once for every look-up

    def restricted(self, rows: pd.Series) -> "LedgerHistory":
        """The same history for the invoices where `rows` is true."""
        if bool(np.all(rows)):  # every invoice (one currency): no copy of the frame
            return replace(self)
        return replace(self, invoices=self.invoices.loc[rows].reset_index(drop=True), _facts=None)

    def open_on(self, day: date) -> np.ndarray:
        """Each invoice's open amount on `day`, in cents, in the order of `invoices`."""
        on = np.datetime64(day, "us")
        changes = self._changes_by_day
        # the last change of each invoice on or before `day` (ties: the later entry), as
        # `open_at`'s backward as-of merge finds it
        last = changes.loc[changes["on"].to_numpy() <= on].drop_duplicates("key", keep="last")
        after = self.invoices["key"].map(last.set_index("key")["after_c"]).to_numpy(dtype=float)
        values = np.where(np.isnan(after), self.invoices["initial_c"].to_numpy(), after)
        return np.where(on < self.invoices["issue_date"].to_numpy(), 0, values).astype(np.int64)

    def open_at(self, keys, days) -> np.ndarray:
        """The open amount (cents) of invoice `keys[i]` on day `days[i]`, for each i."""
        asked = pd.DataFrame({
            "key": np.asarray(keys, dtype=np.int64),
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
            self._sorted = (self.changes.sort_values("on", kind="stable")
                            [["key", "on", "after_c"]])
        return self._sorted


def cents(values) -> np.ndarray:
    """Decimal euros (two decimals) as integer cents; None as NaN."""
    return np.array([np.nan if v is None else int(Decimal(v) * 100) for v in values], dtype=float)


def euros(amount_cents) -> Decimal:
    """Integer cents back to Decimal euros, at the edge."""
    return Decimal(int(amount_cents)).scaleb(-2)


DEBTOR_COLUMNS = ["account", "name", "kind", "risk_class", "risk_score", "risk_probability"]


def read_history(session: Session) -> LedgerHistory:
    # Read by chunks (`frame_of`), only the columns the figures read, each value made
    # compact as it is read: the amounts as integer cents (no Decimal kept), one object
    # per distinct date or currency, the invoice's id as its key (no key string per
    # invoice). A million invoices' frame is then some 200 MB, not 1.1 GB.
    debtors = frame_of(session, select(
        Debtor.id, Debtor.account, Debtor.name, Debtor.kind, Debtor.risk_class, Debtor.risk_score,
        Debtor.risk_factors),
        ["debtor_id", *DEBTOR_COLUMNS],
        # the learned chance of paying late, for the policy's probability bands
        convert={"risk_probability": late_chance, "kind": _shared(), "risk_class": _shared()})
    day, currency = _shared(), _shared()
    invoices = frame_of(session, select(
        Invoice.id, Invoice.number, Invoice.debtor_id, Invoice.issue_date, Invoice.due_date,
        Invoice.amount, Invoice.open_amount, Invoice.currency, Invoice.settled_on,
        Invoice.last_payment_on, Invoice.acknowledged_on)
        .where(Invoice.document_type == "invoice", Invoice.amount > 0), [
        "key", "number", "debtor_id", "issue_date", "due_date", "amount_c", "current_c",
        "currency", "settled_on", "last_payment_on", "acknowledged_on"],
        ints=["key", "debtor_id", "amount_c", "current_c"], chunk=10_000, convert={"amount_c": _cents_of, "current_c": _cents_of, "currency": currency,
                 **{name: day for name in ("issue_date", "due_date", "settled_on",
                                           "last_payment_on", "acknowledged_on")}})
    invoices = _with_debtors(invoices, debtors)
    del debtors
    invoices["key"] = invoices["key"].astype(np.int64)
    for name in ("amount_c", "current_c"):
        invoices[name] = invoices[name].astype(np.int64)

    changes = _amount_changes(session)
    first_before = changes.dropna(subset=["before_c"]).groupby("key")["before_c"].first()
    # Before its first recorded change an invoice owed what that change started from
    # (its amount when the change does not say); one never changed owes what it owes now.
    start = invoices["key"].map(first_before).to_numpy(dtype=float)
    was_changed = invoices["key"].isin(changes["key"]).to_numpy()
    invoices["initial_c"] = np.where(~np.isnan(start), start,
                                     np.where(was_changed, invoices["amount_c"],
                                              invoices["current_c"])).astype(float)
    del start, was_changed
    invoices["issue_date"] = pd.to_datetime(invoices["issue_date"]).astype("datetime64[us]")
    return LedgerHistory(invoices=invoices, changes=changes, reminders=_reminders(session),
                         disputes=_disputes(session), promises=_promises(session),
                         plans=_plans(session), dossiers=_dossiers(session))


def _with_debtors(invoices: pd.DataFrame, debtors: pd.DataFrame) -> pd.DataFrame:
    """Each invoice with its debtor's columns (a left join), one column at a time."""
    rows = pd.Index(debtors["debtor_id"]).get_indexer(invoices["debtor_id"])
    if len(invoices) == 0 or (rows < 0).any() or not debtors["debtor_id"].is_unique:
        return invoices.merge(debtors, on="debtor_id", how="left")
    for name in DEBTOR_COLUMNS:
        invoices[name] = debtors[name].take(rows).set_axis(invoices.index)
    return invoices


def _amount_changes(session: Session) -> pd.DataFrame:
    """The open amount changes of the ledger's invoices, keyed by invoice id.

    An entry names its invoice by account and number: it is the invoice of that
    number whose debtor has that account (an entry under another account matches
    none, as it never did)."""
    entries, keys, days, befores, afters = [], [], [], [], []
    day = _shared()
    for entry_id, event, details, invoice_id in session.execute(
            select(AuditEntry.id, AuditEntry.event, AuditEntry.details, Invoice.id)
            .join(Debtor, Debtor.account == AuditEntry.account)
            .join(Invoice, and_(Invoice.number == AuditEntry.subject,
                                Invoice.debtor_id == Debtor.id))
            .where(AuditEntry.event.in_(AMOUNT_EVENTS), AuditEntry.redacted_at.is_(None))
            .order_by(AuditEntry.id).execution_options(yield_per=50_000)):
        details = details or {}
        on = details.get("export_date")
        if not on:
            continue
        if event == "invoice.open_amount_changed":
            before, after = _money(details.get("from")), _money(details.get("to"))
        elif event == "invoice.settled":
            before, after = _money(details.get("open_amount_before")), Decimal(0)
        else:
            before, after = None, _money(details.get("open_amount"))
        if after is None:
            continue
        entries.append(entry_id)
        keys.append(invoice_id)
        days.append(day(date.fromisoformat(on)))
        befores.append(np.nan if before is None else int(before * 100))
        afters.append(int(after * 100))
    frame = pd.DataFrame({
        "entry": np.array(entries, dtype=np.int64), "key": np.array(keys, dtype=np.int64),
        "on": pd.to_datetime(pd.Series(days, dtype=object)).astype("datetime64[us]"),
        "before_c": np.array(befores, dtype=float), "after_c": np.array(afters, dtype=float)})
    # Several entries of one export (changed, then settled) keep their order.
    return frame.sort_values(["on", "entry"], kind="stable").reset_index(drop=True)


def _reminders(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(Invoice.id, ReminderItem.level, Reminder.sent_on)
        .join(Reminder, Reminder.id == ReminderItem.reminder_id)
        .join(Invoice, Invoice.id == ReminderItem.invoice_id)
        .join(Debtor, Debtor.id == Invoice.debtor_id)
        .where(Reminder.status == "sent", ReminderItem.level.is_not(None))).all()
    frame = pd.DataFrame(rows, columns=["key", "level", "sent_on"])
    frame["key"] = frame["key"].astype(np.int64)
    return frame


def _disputes(session: Session) -> pd.DataFrame:
    """Disputes opened and closed, keyed by the invoice's id; an entry that names no
    invoice of the ledger (by account and number) has a key of its own below 0."""
    rows = session.execute(
        select(AuditEntry.account, AuditEntry.subject, AuditEntry.event, AuditEntry.at, Invoice.id)
        .outerjoin(Debtor, Debtor.account == AuditEntry.account)
        .outerjoin(Invoice, and_(Invoice.number == AuditEntry.subject,
                                 Invoice.debtor_id == Debtor.id))
        .where(AuditEntry.event.in_(DISPUTE_EVENTS), AuditEntry.redacted_at.is_(None))
        .order_by(AuditEntry.id)).all()
    frame = pd.DataFrame(rows, columns=["account", "number", "event", "at", "invoice_id"])
    unknown = frame["invoice_id"].isna().to_numpy()
    codes = pd.factorize(_key(frame["account"], frame["number"]))[0]
    frame["key"] = np.where(unknown, -1 - codes, frame["invoice_id"].fillna(-1)).astype(np.int64)
    frame["opened"] = frame["event"] == "invoice.dispute_opened"
    frame["on"] = [at.date() for at in frame["at"]]
    return frame.drop(columns="invoice_id")


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
