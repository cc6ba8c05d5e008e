"""An invoice keeps what unlettered payments and credit notes took off it (Code civil 1342-10).

Revision ID: 0008_set_off
Revises: 0007_audit_signed
"""
from alembic import op
import sqlalchemy as sa

from recouvrement.adapters.db.models import Money

revision = "0008_set_off"
down_revision = "0007_audit_signed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", recreate="never") as batch:
        batch.add_column(sa.Column("set_off", Money(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices", recreate="never") as batch:
        batch.drop_column("set_off")
