"""The ledger's tables (SQLAlchemy 2). Schema changes go through Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from recouvrement.domain.model import to_cents


class Money(TypeDecorator):
    """Decimal euros: NUMERIC(14, 2) on PostgreSQL, integer cents on SQLite.

    SQLite has no decimal type and would store floats; cents keep sums exact.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = to_cents(Decimal(value))
        if dialect.name == "sqlite":
            return int(value * 100)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))
        return Decimal(value).quantize(Decimal("0.01"))


class Percent(Money):
    """A percentage with two decimals (an agency's fee): NUMERIC(5, 2), hundredths on SQLite."""

    impl = Numeric(5, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(5, 2, asdecimal=True))


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, Decimal: Money}


class ImportBatch(Base):
    """One export file read from the inbox, known by its content hash."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500))
    file_kind: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    export_date: Mapped[date | None] = mapped_column(Date)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[str | None] = mapped_column(String(64))
    # Migration 0002: how the file was read and where its validation report is.
    profile: Mapped[str | None] = mapped_column(String(100))
    sheet: Mapped[str | None] = mapped_column(String(200))
    report_path: Mapped[str | None] = mapped_column(String(1000))
    rows_ignored: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Migration 0007: `loaded`, or `held` back whole (nothing applied, retried by
    # every ingest until fixed or confirmed); the control total and why it was held.
    status: Mapped[str] = mapped_column(String(12), default="loaded", server_default="loaded")
    control: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    held_reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))


class Debtor(Base):
    __tablename__ = "debtors"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(10), default="B2B")
    siren: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    address: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(100))
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    collective_proceedings_since: Mapped[date | None] = mapped_column(Date)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_score: Mapped[int | None] = mapped_column(Integer)
    risk_class: Mapped[str | None] = mapped_column(String(10))
    risk_factors: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Migration 0002: known only from a FEC's CompAuxLib, no contact details yet.
    contact_missing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Migration 0011: what the court's jurisdiction turns on (domain/courts.py).
    legal_form: Mapped[str | None] = mapped_column(String(60))
    trader: Mapped[bool | None] = mapped_column(Boolean)


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(100), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    open_amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # "open" (owed), "settled", or "credit" (a credit note or payment not yet set off).
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    # Migration 0002: invoice, credit_note or payment (negative amounts).
    document_type: Mapped[str] = mapped_column(String(20), default="invoice",
                                               server_default="invoice")
    settled_on: Mapped[date | None] = mapped_column(Date)
    # Migration 0007: `absent` (missing from a later export) or `export` (open amount 0).
    settled_how: Mapped[str | None] = mapped_column(String(10))
    last_seen_on: Mapped[date | None] = mapped_column(Date)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    # The export date of the last partial payment: it restarts limitation.
    last_payment_on: Mapped[date | None] = mapped_column(Date)
    # Migration 0007: what payments or credit notes not lettered to any invoice took off
    # this one, the oldest due first (Code civil 1342-10); the letters say so.
    set_off: Mapped[Decimal | None] = mapped_column(Money)
    # The debtor acknowledged the debt in writing on this day: limitation restarts.
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    dossier_id: Mapped[str | None] = mapped_column(ForeignKey("litigation_dossiers.id"))


class Reminder(Base):
    """The outbox: one row per reminder, committed before it is sent.

    Its status is read off its deliveries (`ReminderDelivery`, one per
    channel): planned -> sending -> sent | failed | needs_attention; cancelled
    when what it chased was paid or disputed before it could go out. The run's
    claim and lease are on this row: one run holds a reminder and all its
    deliveries at a time.
    """

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    invoice_numbers: Mapped[list[Any]] = mapped_column(JSON)
    planned_on: Mapped[date] = mapped_column(Date)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str | None] = mapped_column(String(320))
    # What was sent, fixed when planned, so a retry resends the same message.
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # The e-mail as it goes on the wire, but for its Date (migration 0006): None
    # when it is built at sending time (a letter attached, an address refused).
    # Loaded only when asked for: the outbox reads it with its own statement.
    mime: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # The same reminder as a postal letter (migration 0004), and where its PDF went.
    letter_html: Mapped[str | None] = mapped_column(Text)
    letter_file: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[str | None] = mapped_column(String(64))


class ReminderDelivery(Base):
    """One channel of a reminder (e-mail, letter, SMS, phone task) and what became of it.

    Its states and the steps between them are `domain/outbox_states.py`. The
    proof is what shows it went out: the e-mail's Message-ID, the letter's file
    in the print queue, the SMS provider's message id, the phone task.
    """

    __tablename__ = "reminder_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    proof: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(Text)
    # What this channel carries that the reminder does not (an SMS's text and number).
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("reminder_id", "channel",
                                       name="uq_reminder_deliveries_channel"),)


class SmsOptOut(Base):
    """A debtor who answered STOP: never texted again until opted in (audited both ways)."""

    __tablename__ = "sms_opt_outs"

    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(String(200))


class ReminderItem(Base):
    """An invoice listed in a reminder, and the level that reminder takes it to."""

    __tablename__ = "reminder_items"

    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    # None when the invoice is only listed (its next level was not due yet).
    level: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_reminder_items_invoice", "invoice_id"),)


class LitigationDossier(Base):
    __tablename__ = "litigation_dossiers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    queued_on: Mapped[date] = mapped_column(Date)
    invoice_numbers: Mapped[list[Any]] = mapped_column(JSON)
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    fixed_fees: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    procedure: Mapped[str] = mapped_column(String(40))
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    statement: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The queue's life (migration 0003): queued -> exported -> with_bailiff |
    # with_lawyer -> closed, with the outcome of a closed dossier.
    outcome: Mapped[str | None] = mapped_column(String(20))
    exported_on: Mapped[date | None] = mapped_column(Date)
    handler: Mapped[str | None] = mapped_column(String(300))
    handler_reference: Mapped[str | None] = mapped_column(String(100))
    closed_on: Mapped[date | None] = mapped_column(Date)
    # Migration 0007: closed as paid because an invoice went missing from the
    # exports: the status it had then, to go back to if the invoice reappears unpaid.
    absence_closed_from: Mapped[str | None] = mapped_column(String(20))
    # Migration 0011: where to file (court, form, reason, to_check), decided at
    # queueing by domain/courts.py and shown as is by the export.
    filing: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class LitigationPayment(Base):
    """A payment seen in the exports after the dossier was queued (migration 0003)."""

    __tablename__ = "litigation_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("litigation_dossiers.id"), index=True)
    invoice_number: Mapped[str] = mapped_column(String(100))
    received_on: Mapped[date] = mapped_column(Date)
    # Negative when an export shows more owed again (a payment reversed).
    amount: Mapped[Decimal] = mapped_column(Money)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LitigationHold(Base):
    """A debtor whose formal notice deadline passed but whose dossier is not ready (0003)."""

    __tablename__ = "litigation_holds"

    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), primary_key=True)
    since: Mapped[date] = mapped_column(Date)
    checked_on: Mapped[date] = mapped_column(Date)
    invoices: Mapped[list[Any]] = mapped_column(JSON)  # [{"invoice", "reasons"}]
    reasons: Mapped[list[Any]] = mapped_column(JSON)  # about the debtor as a whole


class DebtorArchive(Base):
    """Intermediate archive (GDPR) of a closed debtor's personal data (migration 0003).

    Kept apart from the active ledger until the limitation period ends, then
    deleted by the retention purge.
    """

    __tablename__ = "debtor_archives"

    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_contact_on: Mapped[date] = mapped_column(Date)
    archived_on: Mapped[date] = mapped_column(Date)
    archived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    purge_after: Mapped[date] = mapped_column(Date)


class QuarantinedRow(Base):
    __tablename__ = "quarantined_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(500))
    line_number: Mapped[int] = mapped_column(Integer)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Migration 0002: "invoice:F1" or "customer:411A"; open -> released (ingested
    # from a fixed export) or superseded (the same file dropped again).
    row_key: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", server_default="open",
                                        index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_batch_id: Mapped[int | None] = mapped_column(Integer)


class AuditEntry(Base):
    """Append-only, each entry chained to the previous one by SHA-256."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(60), index=True)
    account: Mapped[str | None] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Migration 0003: the chain covers a salted digest of account, subject and
    # details, so a GDPR purge can erase them (and the salt) without breaking it.
    payload_digest: Mapped[str | None] = mapped_column(String(64))
    salt: Mapped[str | None] = mapped_column(String(32))
    redacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Migration 0007: HMAC-SHA256 of the entry's hash under the audit key (a
    # file outside the database); None only for entries written before it.
    mac: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),)


class AuditCheckpoint(Base):
    """A signed head of the audit chain (migration 0007), also kept in a file outside."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[str] = mapped_column(String(32))  # UTC, ISO 8601, as signed
    entry_id: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(BigInteger)
    first_hash: Mapped[str] = mapped_column(String(64))  # names the log it belongs to
    key_id: Mapped[str] = mapped_column(String(16))
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class AuditErasure(Base):
    """Audit entries a GDPR purge erased, one row per run of ids (migration 0007)."""

    __tablename__ = "audit_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    db_user: Mapped[str | None] = mapped_column(String(200))
    pseudonym: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)


class Promise(Base):
    """A debtor's promise to pay by a date: dunning pauses until then."""

    __tablename__ = "promises"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class PaymentPlan(Base):
    """Agreed instalments over the invoices open when it was made (échéancier)."""

    __tablename__ = "payment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    invoice_numbers: Mapped[list[Any]] = mapped_column(JSON)
    total: Mapped[Decimal] = mapped_column(Money)
    instalments: Mapped[list[Any]] = mapped_column(JSON)  # [{"due": iso date, "amount": "0.00"}]
    grace_days: Mapped[int] = mapped_column(Integer, default=5)
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    status_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class ShardResult(Base):
    """What a shard of a daily run hands back to the run that started it (migration 0007).

    Kept in the ledger, not in Prefect's result files: a worker on another
    machine needs only the database, the Prefect API and the SMTP relay.
    """

    __tablename__ = "shard_results"

    parent_run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    shards: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RiskModelRow(Base):
    """A learned risk model (migration 0012): the day it was trained for, the library that
    fitted it, its parameters as plain JSON numbers (never a pickle) and its metrics."""

    __tablename__ = "risk_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_on: Mapped[date] = mapped_column(Date, index=True)
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    library: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)


class CallTask(Base):
    """A phone call for a collector, made once by the reminder whose channels include `phone`.

    open (due on `due_on`) -> carried (not worked on its day, still to do) -> done, with
    the call's outcome; cancelled when the debtor has nothing left to chase (migration 0013).
    """

    __tablename__ = "call_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    # One task per reminder, whatever the reruns: the unique key makes the outbox's promise.
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id"), unique=True)
    level: Mapped[int] = mapped_column(Integer)
    created_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    worked_by: Mapped[str | None] = mapped_column(String(200))
    worked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worked_on: Mapped[date | None] = mapped_column(Date)


class CreditorRow(Base):
    """A creditor (mandant) the agency collects for (migration 0015): its identity, its
    written mandate (CPCE R124-3) and where its own ledger is. Only in the agency's
    database: each creditor's debtors, invoices and audit log live in its own ledger."""

    __tablename__ = "creditors"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str | None] = mapped_column(String(200))
    siren: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    iban: Mapped[str | None] = mapped_column(String(50))
    bic: Mapped[str | None] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(320))
    report_recipients: Mapped[str | None] = mapped_column(Text)
    report_every: Mapped[str | None] = mapped_column(String(10))
    policy: Mapped[str | None] = mapped_column(String(1000))
    templates: Mapped[str | None] = mapped_column(String(1000))
    inbox: Mapped[str | None] = mapped_column(String(1000))
    database_url: Mapped[str | None] = mapped_column(String(1000))
    mandate_reference: Mapped[str] = mapped_column(String(200))
    mandate_signed_on: Mapped[date] = mapped_column(Date)
    mandate_scope: Mapped[str] = mapped_column(Text)
    fee_percent: Mapped[Decimal] = mapped_column(Percent())
    fee_minimum: Mapped[Decimal | None] = mapped_column(Money())
    remit_within_days: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    trader: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
