"""Shards hand their summaries back through the ledger, not through result files.

Revision ID: 0009_shard_results
Revises: 0008_set_off
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_shard_results"
down_revision = "0008_set_off"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shard_results",
        sa.Column("parent_run_id", sa.String(64), primary_key=True),
        sa.Column("shard", sa.Integer(), primary_key=True),
        sa.Column("shards", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shard_results")
