"""The agency's money tables (migration 0016): payments received for creditors, their
receipts, remittances, the trust account's statement lines, and what was reported once.

They live in the agency's database (RECOUVREMENT_DATABASE_URL), beside the registry of
creditors; `agency_holds` lives in each creditor's ledger (what the agency received on an
invoice and the creditor has not booked yet: reminders do not chase it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recouvrement.adapters.db.models import Base, Money


class AgencyRemittance(Base):
    """What the agency pays back to one creditor for a period (R124-6), with its fee (R124-3).

    open (made, to pay by `due_on`) -> paid (`paid_on`, the transfer's reference)."""

    __tablename__ = "agency_remittances"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # R2026-0001, per year
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    creditor: Mapped[str] = mapped_column(String(40), index=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    collected: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money)
    net: Mapped[Decimal] = mapped_column(Money)
    fee_basis: Mapped[dict[str, Any]] = mapped_column(JSON)  # the mandate's terms applied
    due_on: Mapped[date] = mapped_column(Date)
    made_on: Mapped[date] = mapped_column(Date)
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    made_by: Mapped[str] = mapped_column(String(200))
    statement_file: Mapped[str | None] = mapped_column(String(1000))
    csv_file: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_reference: Mapped[str | None] = mapped_column(String(200))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("year", "seq", name="uq_agency_remittances_year_seq"),)


class AgencyPayment(Base):
    """A payment the agency received for a creditor, with its receipt (quittance, R124-6)."""

    __tablename__ = "agency_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor: Mapped[str] = mapped_column(String(40), index=True)
    account: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(200))
    # [{"invoice", "amount", "remaining"}]: how it was imputed, and what remains due
    lines: Mapped[list[Any]] = mapped_column(JSON)
    unallocated: Mapped[Decimal] = mapped_column(Money)
    remaining: Mapped[Decimal] = mapped_column(Money)
    under_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    # Q2026-000001: sequential per agency and year, no gaps (given under a lock, in the
    # transaction that records the payment)
    receipt_number: Mapped[str] = mapped_column(String(20), unique=True)
    receipt_year: Mapped[int] = mapped_column(Integer)
    receipt_seq: Mapped[int] = mapped_column(Integer)
    receipt_file: Mapped[str | None] = mapped_column(String(1000))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
    # set once the creditor's ledger holds its audit entry and holds (agency_holds)
    ledger_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    remittance_id: Mapped[int | None] = mapped_column(ForeignKey("agency_remittances.id"),
                                                      index=True)

    __table_args__ = (
        UniqueConstraint("receipt_year", "receipt_seq", name="uq_agency_payments_receipt_seq"),
        UniqueConstraint("method", "reference", name="uq_agency_payments_reference"),
    )


class TrustLine(Base):
    """A line of a statement of the trust account (compte séparé, R124-2), kept as read."""

    __tablename__ = "agency_trust_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int] = mapped_column(Integer)
    booked_on: Mapped[date] = mapped_column(Date, index=True)
    label: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money)  # credit positive, debit negative
    reference: Mapped[str | None] = mapped_column(String(200))
    # The same movement already read from an earlier statement (overlapping periods):
    # kept, and counted once.
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("file_sha256", "row_number",
                                       name="uq_agency_trust_lines_file_row"),)


class AgencyMark(Base):
    """Something sent or reported to a creditor once: a feed event (kind `feed`, key the
    event), a digest or a report (kind `digest` / `report`, key the day or period), a
    receipt mailed to a debtor (kind `receipt`). sending -> sent; a row left `sending` by
    a run that died is sent again with the same Message-ID."""

    __tablename__ = "agency_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="sent")
    message_id: Mapped[str | None] = mapped_column(String(200))
    digest_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("creditor", "kind", "key", name="uq_agency_marks_key"),)


class AgencyHold(Base):
    """In a creditor's ledger: an agency payment on an invoice, chased no more until the
    creditor's export shows it booked (the open amount down to `expected_open`)."""

    __tablename__ = "agency_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(20))
    invoice_number: Mapped[str] = mapped_column(String(100), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date] = mapped_column(Date)
    expected_open: Mapped[Decimal] = mapped_column(Money)
    booked_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("receipt_number", "invoice_number",
                                       name="uq_agency_holds_receipt_invoice"),)
