"""Reminders keep their e-mail as it goes on the wire, built once when planned.

Revision ID: 0006_mime
Revises: 0005_merge
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_mime"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("mime", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("mime")
