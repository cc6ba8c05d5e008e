"""The audit log signed with a key outside the database; erasure only through a recorded path.

Revision ID: 0007_audit_signed
Revises: 0006_mime

- `audit_log.mac`: each entry's HMAC-SHA256 under the installation's audit key
  (a file outside the database): an entry written behind the application's
  back, or a chain re-hashed up to its head, no longer carries a valid one;
- `audit_checkpoints`: signed heads of the chain (entry id, hash, count, time),
  written after every unit of work that appended, also kept in a file outside
  the database: entries cut from the end are caught;
- `audit_erasures`: what a GDPR purge erased (entry id ranges, pseudonym,
  reason, database user). The database lets an entry be erased only when such
  a record covers it and its account is an archived debtor's. On PostgreSQL
  the record and the erasure are made by `audit_erase()`, a SECURITY DEFINER
  function: the application's role needs no UPDATE on the log, nor INSERT on
  the erasure records.
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_audit_signed"
down_revision = "0006_mime"
branch_labels = None
depends_on = None


_SHAPE = """
    OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
    AND OLD.payload_digest IS NOT NULL
    AND NEW.id = OLD.id AND NEW.at {same} OLD.at AND NEW.actor {same} OLD.actor
    AND NEW.event {same} OLD.event AND NEW.prev_hash {same} OLD.prev_hash
    AND NEW.hash {same} OLD.hash AND NEW.payload_digest {same} OLD.payload_digest
    AND NEW.mac {same_null} OLD.mac
    AND NEW.account IS NULL AND NEW.subject IS NULL AND NEW.salt IS NULL
    AND {details} = '{{}}'
    AND EXISTS (SELECT 1 FROM audit_erasures e WHERE NEW.id BETWEEN e.first_id AND e.last_id)
    AND EXISTS (SELECT 1 FROM debtors d JOIN debtor_archives a ON a.debtor_id = d.id
                WHERE d.account = OLD.account)
"""
PG_ERASURE = _SHAPE.format(same="=", same_null="IS NOT DISTINCT FROM",
                           details="NEW.details::text")
SQLITE_ERASURE = _SHAPE.format(same="IS", same_null="IS", details="NEW.details")

PG_GUARD = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF {PG_ERASURE} THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

PG_TABLE_GUARD = """
CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

# Runs with its owner's rights (who ran the migrations); the caller needs only
# EXECUTE. It erases nothing of a debtor that is not in the GDPR archive, and
# records what it erased before erasing it (the trigger checks the record).
PG_ERASE = """
CREATE OR REPLACE FUNCTION audit_erase(p_ids bigint[], p_pseudonym text, p_reason text)
RETURNS bigint[] LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    v_ids bigint[];
BEGIN
    IF p_pseudonym IS NULL OR p_reason IS NULL OR length(p_reason) = 0 THEN
        RAISE EXCEPTION 'audit_erase: a pseudonym and a reason are required'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock({lock});
    SELECT coalesce(array_agg(l.id ORDER BY l.id), '{{}}') INTO v_ids FROM audit_log l
     WHERE l.id = ANY(p_ids) AND l.redacted_at IS NULL AND l.payload_digest IS NOT NULL;
    IF EXISTS (SELECT 1 FROM audit_log l WHERE l.id = ANY(v_ids) AND NOT EXISTS (
            SELECT 1 FROM debtors d JOIN debtor_archives a ON a.debtor_id = d.id
             WHERE d.account = l.account)) THEN
        RAISE EXCEPTION 'audit_erase: only entries about a debtor in the GDPR archive can be erased'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO audit_erasures (at, db_user, pseudonym, reason, first_id, last_id)
    SELECT now(), session_user, p_pseudonym, p_reason, min(id), max(id)
      FROM (SELECT id, id - row_number() OVER (ORDER BY id) AS run FROM unnest(v_ids) AS id) s
     GROUP BY run;
    UPDATE audit_log SET account = NULL, subject = NULL, details = '{{}}', salt = NULL,
           redacted_at = now()
     WHERE id = ANY(v_ids);
    RETURN v_ids;
END;
$$
"""
ERASE_SIGNATURE = "audit_erase(bigint[], text, text)"


def _sqlite_guard(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"]


def upgrade() -> None:
    with op.batch_alter_table("audit_log", recreate="never") as batch:
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("first_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("prev_mac", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("db_user", sa.String(length=200), nullable=True),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar()
        from recouvrement.adapters.db import _lock_key

        op.execute(PG_GUARD)
        op.execute(PG_TABLE_GUARD)
        for table in ("audit_checkpoints", "audit_erasures"):
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION audit_record_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only()")
        op.execute(PG_ERASE.format(schema=f'"{schema}"', lock=_lock_key("audit-log")))
        op.execute(f"REVOKE ALL ON FUNCTION {ERASE_SIGNATURE} FROM PUBLIC")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute(f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   f"WHEN NOT ({SQLITE_ERASURE}) BEGIN "
                   f"SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END")
        for table in ("audit_checkpoints", "audit_erasures"):
            for statement in _sqlite_guard(table):
                op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    # Put back the guard of migration 0003 (an erasure-shaped update passes).
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "migration_0003", Path(__file__).with_name("0003_litigation_audit.py"))
    m0003 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m0003)
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {ERASE_SIGNATURE}")
        for table in ("audit_checkpoints", "audit_erasures"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_record_append_only()")
        op.execute(m0003.PG_FUNCTION)
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute(f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   f"WHEN NOT ({m0003.SQLITE_REDACTION}) BEGIN "
                   f"SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END")
    op.drop_table("audit_erasures")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_log", recreate="never") as batch:
        batch.drop_column("mac")
