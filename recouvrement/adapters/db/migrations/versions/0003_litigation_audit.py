"""litigation queue's life, readiness holds, GDPR archive; audit log protected

Revision ID: 0003_litigation
Revises: 0001

- `litigation_dossiers`: outcome, export date, handler (bailiff or lawyer), closing date;
- `litigation_payments`: payments seen after a dossier was queued;
- `litigation_holds`: dossiers not ready for litigation, with their reasons;
- `debtor_archives`: personal data of closed debtors in intermediate archive;
- `audit_log`: salted payload digest and redaction date; the database itself
  refuses UPDATE, DELETE and TRUNCATE of the log (triggers), except the one
  update a GDPR purge makes: erasing account, subject, details and salt of an
  entry while leaving every hashed column as it was.
"""
from alembic import op
import sqlalchemy as sa

import recouvrement.adapters.db.models


revision = "0003_litigation"
down_revision = "0001"
branch_labels = None
depends_on = None


# The one UPDATE allowed: a redaction that keeps the chain (see recouvrement/adapters/audit.py).
PG_REDACTION = """
    OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
    AND OLD.payload_digest IS NOT NULL
    AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor
    AND NEW.event = OLD.event AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
    AND NEW.payload_digest = OLD.payload_digest
    AND NEW.account IS NULL AND NEW.subject IS NULL AND NEW.salt IS NULL
    AND NEW.details::text = '{}'
"""

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF {PG_REDACTION} THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

SQLITE_REDACTION = """
    OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
    AND OLD.payload_digest IS NOT NULL
    AND NEW.id = OLD.id AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor
    AND NEW.event IS OLD.event AND NEW.prev_hash IS OLD.prev_hash AND NEW.hash IS OLD.hash
    AND NEW.payload_digest IS OLD.payload_digest
    AND NEW.account IS NULL AND NEW.subject IS NULL AND NEW.salt IS NULL
    AND NEW.details = '{}'
"""


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("salt", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("litigation_dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("exported_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("handler", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("handler_reference", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))

    op.create_table(
        "litigation_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("invoice_number", sa.String(length=100), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("amount", recouvrement.adapters.db.models.Money(precision=14, scale=2), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["litigation_dossiers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("litigation_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_litigation_payments_dossier_id"), ["dossier_id"],
                              unique=False)

    op.create_table(
        "litigation_holds",
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("invoices", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"]),
        sa.PrimaryKeyConstraint("debtor_id"),
    )

    op.create_table(
        "debtor_archives",
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_contact_on", sa.Date(), nullable=False),
        sa.Column("archived_on", sa.Date(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purge_after", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"]),
        sa.PrimaryKeyConstraint("debtor_id"),
    )

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE "
                   "ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE "
                   "ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
    elif dialect == "sqlite":
        # Not a defence against whoever holds the file, but no accidental edit
        # from a SQL shell goes through; the hash chain catches the rest.
        op.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN "
                   "SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END")
        op.execute(f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   f"WHEN NOT ({SQLITE_REDACTION}) BEGIN "
                   f"SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    op.drop_table("debtor_archives")
    op.drop_table("litigation_holds")
    with op.batch_alter_table("litigation_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_litigation_payments_dossier_id"))
    op.drop_table("litigation_payments")
    with op.batch_alter_table("litigation_dossiers", schema=None) as batch_op:
        batch_op.drop_column("closed_on")
        batch_op.drop_column("handler_reference")
        batch_op.drop_column("handler")
        batch_op.drop_column("exported_on")
        batch_op.drop_column("outcome")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("redacted_at")
        batch_op.drop_column("salt")
        batch_op.drop_column("payload_digest")
