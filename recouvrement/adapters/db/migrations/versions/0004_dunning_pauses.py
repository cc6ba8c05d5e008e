"""Promises to pay, payment plans, and what restarts an invoice's limitation period,
and reminders as postal letters.

Revision ID: 0004_dunning
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

import recouvrement.adapters.db.models

revision = "0004_dunning"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_promises_debtor_id", "promises", ["debtor_id"])
    op.create_table(
        "payment_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("invoice_numbers", sa.JSON(), nullable=False),
        sa.Column("total", recouvrement.adapters.db.models.Money(), nullable=False),
        sa.Column("instalments", sa.JSON(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_payment_plans_debtor_id", "payment_plans", ["debtor_id"])
    op.create_index("ix_payment_plans_status", "payment_plans", ["status"])
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("last_payment_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("acknowledged_on", sa.Date(), nullable=True))
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("letter_html", sa.Text(), nullable=True))
        batch.add_column(sa.Column("letter_file", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("letter_file")
        batch.drop_column("letter_html")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("acknowledged_on")
        batch.drop_column("last_payment_on")
    op.drop_table("payment_plans")
    op.drop_table("promises")
