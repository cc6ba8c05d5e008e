"""The learned risk models: one row per training, as plain numbers.

risk_models: the day it was trained for, when, the library and its version,
the kind of model, its parameters as JSON (means, scales, coefficients: no
pickled object is ever stored nor read back) and its training metrics.

Revision ID: 0012_risk_models
Revises: 0011_debtor_legal_form
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_risk_models"
down_revision = "0011_debtor_legal_form"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_models",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("trained_on", sa.Date(), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("library", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
    )
    op.create_index("ix_risk_models_trained_on", "risk_models", ["trained_on"])


def downgrade() -> None:
    op.drop_index("ix_risk_models_trained_on", table_name="risk_models")
    op.drop_table("risk_models")
