"""Files held back whole (control totals, settlement by absence) and dossiers closed by absence.

- import_batches: status (`loaded` or `held`), control total, why held, who confirmed;
- invoices: settled_how (`absent` from a later export, or open amount 0 in the `export`);
- litigation_dossiers: absence_closed_from, the status a dossier closed by absence had.

Revision ID: 0010_ingest_guards
Revises: 0009_shard_results
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_ingest_guards"
down_revision = "0009_shard_results"
branch_labels = None
depends_on = None


# "never": plain ALTER TABLE on SQLite (3.35+ drops columns too), no table rebuild
# tripping over the foreign keys that point at these tables.
def upgrade() -> None:
    with op.batch_alter_table("import_batches", recreate="never") as batch:
        batch.add_column(sa.Column("status", sa.String(12), nullable=False,
                                   server_default="loaded"))
        batch.add_column(sa.Column("control", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("held_reasons", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("confirmed_by", sa.String(200), nullable=True))
    with op.batch_alter_table("invoices", recreate="never") as batch:
        batch.add_column(sa.Column("settled_how", sa.String(10), nullable=True))
    with op.batch_alter_table("litigation_dossiers", recreate="never") as batch:
        batch.add_column(sa.Column("absence_closed_from", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("litigation_dossiers", recreate="never") as batch:
        batch.drop_column("absence_closed_from")
    with op.batch_alter_table("invoices", recreate="never") as batch:
        batch.drop_column("settled_how")
    with op.batch_alter_table("import_batches", recreate="never") as batch:
        for column in ("confirmed_by", "held_reasons", "control", "status"):
            batch.drop_column(column)
