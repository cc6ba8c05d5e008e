"""accounting exports: quarantine you can work with, import details, credit notes

Revision ID: 0002_ingest
Revises: 0001

- `quarantined_rows`: the row's key (invoice number or account), its status
  (open, released once the fixed export was ingested, superseded when the same
  file was dropped again) and which import resolved it;
- `import_batches`: the mapping profile and Excel sheet read, the GX Data Docs
  report, the rows ignored (FEC lines that are not customer lines);
- `debtors`: contact_missing, for debtors known only from a FEC's CompAuxLib;
- `invoices`: document_type (invoice, credit_note, payment).
"""
from alembic import op
import sqlalchemy as sa


revision = "0002_ingest"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantined_rows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("row_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=12), nullable=False,
                                      server_default="open"))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_by_batch_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_quarantined_rows_status", ["status"], unique=False)
        batch_op.create_index("ix_quarantined_rows_row_key", ["row_key"], unique=False)

    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("sheet", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("report_path", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("rows_ignored", sa.Integer(), nullable=False,
                                      server_default="0"))

    with op.batch_alter_table("debtors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_missing", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_type", sa.String(length=20), nullable=False,
                                      server_default="invoice"))


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("document_type")
    with op.batch_alter_table("debtors", schema=None) as batch_op:
        batch_op.drop_column("contact_missing")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_column("rows_ignored")
        batch_op.drop_column("report_path")
        batch_op.drop_column("sheet")
        batch_op.drop_column("profile")
    with op.batch_alter_table("quarantined_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantined_rows_row_key")
        batch_op.drop_index("ix_quarantined_rows_status")
        batch_op.drop_column("resolved_by_batch_id")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("status")
        batch_op.drop_column("row_key")
