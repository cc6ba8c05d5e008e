"""The debtor's legal form and trader flag; where each litigation dossier is filed.

- debtors: legal_form (as the customers export spells it), trader (yes/no given
  by the export, null when it says nothing): a B2B debtor is not always a trader;
- litigation_dossiers: filing, the court, form and reason decided at queueing.

Revision ID: 0011_debtor_legal_form
Revises: 0010_ingest_guards
"""
from alembic import op
import sqlalchemy as sa

revision = "0011_debtor_legal_form"
down_revision = "0010_ingest_guards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("debtors", recreate="never") as batch:
        batch.add_column(sa.Column("legal_form", sa.String(60), nullable=True))
        batch.add_column(sa.Column("trader", sa.Boolean(), nullable=True))
    with op.batch_alter_table("litigation_dossiers", recreate="never") as batch:
        batch.add_column(sa.Column("filing", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("litigation_dossiers", recreate="never") as batch:
        batch.drop_column("filing")
    with op.batch_alter_table("debtors", recreate="never") as batch:
        batch.drop_column("trader")
        batch.drop_column("legal_form")
