"""The agency's register of creditors (mandants): identity, mandate, where each one's ledger is.

Revision ID: 0015_creditors
Revises: 0014_reminder_deliveries
"""
from alembic import op
import sqlalchemy as sa

from recouvrement.adapters.db.models import Money, Percent

revision = "0015_creditors"
down_revision = "0014_reminder_deliveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "creditors",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("legal_form", sa.String(200), nullable=True),
        sa.Column("siren", sa.String(20), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("iban", sa.String(50), nullable=True),
        sa.Column("bic", sa.String(20), nullable=True),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("report_recipients", sa.Text(), nullable=True),
        sa.Column("report_every", sa.String(10), nullable=True),
        sa.Column("policy", sa.String(1000), nullable=True),
        sa.Column("templates", sa.String(1000), nullable=True),
        sa.Column("inbox", sa.String(1000), nullable=True),
        sa.Column("database_url", sa.String(1000), nullable=True),
        sa.Column("mandate_reference", sa.String(200), nullable=False),
        sa.Column("mandate_signed_on", sa.Date(), nullable=False),
        sa.Column("mandate_scope", sa.Text(), nullable=False),
        sa.Column("fee_percent", Percent(), nullable=False),
        sa.Column("fee_minimum", Money(), nullable=True),
        sa.Column("remit_within_days", sa.Integer(), nullable=False, server_default="30"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("trader", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    op.drop_table("creditors")
