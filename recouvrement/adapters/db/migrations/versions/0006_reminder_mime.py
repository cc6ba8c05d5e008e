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


# "never": a plain ALTER TABLE on SQLite too (3.35+), where rebuilding the table
# would trip over the foreign keys of reminder_items.
def upgrade() -> None:
    with op.batch_alter_table("reminders", recreate="never") as batch:
        batch.add_column(sa.Column("mime", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reminders", recreate="never") as batch:
        batch.drop_column("mime")
