"""The agency's money: payments received for creditors and their receipts, remittances,
the trust account's statement lines, marks of what was reported once; and in a creditor's
ledger, the agency payments it has not booked yet (agency_holds).

Revision ID: 0016_agency_money
Revises: 0015_creditors
"""
from alembic import op
import sqlalchemy as sa

from recouvrement.adapters.db.models import Money

revision = "0016_agency_money"
down_revision = "0015_creditors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency_remittances",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("creditor", sa.String(40), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("collected", Money(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("net", Money(), nullable=False),
        sa.Column("fee_basis", sa.JSON(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by", sa.String(200), nullable=False),
        sa.Column("statement_file", sa.String(1000), nullable=True),
        sa.Column("csv_file", sa.String(1000), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_reference", sa.String(200), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sa.String(200), nullable=True),
        sa.UniqueConstraint("number", name="uq_agency_remittances_number"),
        sa.UniqueConstraint("year", "seq", name="uq_agency_remittances_year_seq"),
    )
    op.create_index("ix_agency_remittances_creditor", "agency_remittances", ["creditor"])
    op.create_index("ix_agency_remittances_status", "agency_remittances", ["status"])
    op.create_table(
        "agency_payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("creditor", sa.String(40), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("unallocated", Money(), nullable=False),
        sa.Column("remaining", Money(), nullable=False),
        sa.Column("under_plan", sa.Boolean(), nullable=False),
        sa.Column("receipt_number", sa.String(20), nullable=False),
        sa.Column("receipt_year", sa.Integer(), nullable=False),
        sa.Column("receipt_seq", sa.Integer(), nullable=False),
        sa.Column("receipt_file", sa.String(1000), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("ledger_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remittance_id", sa.Integer(), sa.ForeignKey("agency_remittances.id"),
                  nullable=True),
        sa.UniqueConstraint("receipt_number", name="uq_agency_payments_receipt_number"),
        sa.UniqueConstraint("receipt_year", "receipt_seq", name="uq_agency_payments_receipt_seq"),
        sa.UniqueConstraint("method", "reference", name="uq_agency_payments_reference"),
    )
    op.create_index("ix_agency_payments_creditor", "agency_payments", ["creditor"])
    op.create_index("ix_agency_payments_received_on", "agency_payments", ["received_on"])
    op.create_index("ix_agency_payments_remittance_id", "agency_payments", ["remittance_id"])
    op.create_table(
        "agency_trust_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("file_sha256", "row_number", name="uq_agency_trust_lines_file_row"),
    )
    op.create_index("ix_agency_trust_lines_booked_on", "agency_trust_lines", ["booked_on"])
    op.create_table(
        "agency_marks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("creditor", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("creditor", "kind", "key", name="uq_agency_marks_key"),
    )
    op.create_index("ix_agency_marks_digest_id", "agency_marks", ["digest_id"])
    op.create_table(
        "agency_holds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("receipt_number", sa.String(20), nullable=False),
        sa.Column("invoice_number", sa.String(100), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("expected_open", Money(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("receipt_number", "invoice_number",
                            name="uq_agency_holds_receipt_invoice"),
    )
    op.create_index("ix_agency_holds_invoice_number", "agency_holds", ["invoice_number"])


def downgrade() -> None:
    op.drop_table("agency_holds")
    op.drop_table("agency_marks")
    op.drop_table("agency_trust_lines")
    op.drop_table("agency_payments")
    op.drop_table("agency_remittances")
