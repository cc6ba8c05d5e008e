"""Indexes on (debtor_id, status) for the invoices and the reminders.

The ledger is read a chunk of debtors at a time (`debtor_id IN (...) AND status = ...`).
With one index on `debtor_id` and another on `status`, SQLite takes the one on `status`:
every open invoice of the ledger for each chunk, 1.2 s a chunk at 1,000,000 invoices
against 0.15 s by debtor. An index on both columns is the one it takes.

Revision ID: 0018_debtor_status_indexes
Revises: 0017_drop_reminder_content
"""
from alembic import op

revision = "0018_debtor_status_indexes"
down_revision = "0017_drop_reminder_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_invoices_debtor_status", "invoices", ["debtor_id", "status"])
    op.create_index("ix_reminders_debtor_status", "reminders", ["debtor_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_reminders_debtor_status", table_name="reminders")
    op.drop_index("ix_invoices_debtor_status", table_name="invoices")
