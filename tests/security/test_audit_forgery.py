"""Attacks on the audit log by whoever holds the database but not the audit key.

On SQLite the attacker holds the file (every protection inside it can be
switched off); on PostgreSQL the attacker has the application's least-privilege
role as the README sets it up, or the owner's rights for the attacks that need
them. Each attack is carried out; `audit verify` must name it.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from recouvrement.adapters.audit import (
    PURGE_EVENT,
    Event,
    chain_hash,
    check_chain,
    id_ranges,
    payload_digest,
    record,
)
from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditCheckpoint, AuditEntry, Debtor
from tests.conftest import BACKENDS

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture
def db(home, database_url):
    """A log with a victim's trail in it, checkpointed as every command leaves it."""
    database = open_database(database_url)
    with database.session() as session:
        session.add(Debtor(account="411VICTIM", name="Victime SARL", kind="B2B"))
        session.add(Debtor(account="411OTHER", name="Autre SAS", kind="B2B"))
        record(session, [Event("debtor.created", "411VICTIM", details={"name": "Victime SARL"}),
                         Event("reminder.sent", "411VICTIM", "F1", {"level": 3}),
                         Event("debtor.created", "411OTHER")], "flow-run:day-1")
    with database.session() as session:
        record(session, [Event("reminder.sent", "411OTHER", "F2", {"level": 1}),
                         Event("reminder.sent", "411VICTIM", "F1", {"level": 2})], "flow-run:day-2")
    return database


def problems(db):
    with db.session() as session:
        return check_chain(session).problems


def owner(db):
    """A connection of someone with every right on the database, protections off."""
    conn = db.engine.connect()
    if conn.dialect.name == "postgresql":
        for table in ("audit_log", "audit_checkpoints", "audit_erasures"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        names = conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
        for name in names:
            conn.execute(text(f"DROP TRIGGER {name}"))
    return conn


def app_role(db, database_url):
    """The application's role, granted exactly what the README's least-privilege SQL says."""
    role = f"recouvrement_app_{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        for statement in readme_grants():
            conn.execute(text(statement.replace("recouvrement_app", f'"{role}"')))
    return role, make_url(database_url).set(username=role, password=None).render_as_string(
        hide_password=False)


def readme_grants() -> list[str]:
    """The GRANT/REVOKE statements of the README's least-privilege block."""
    section = README.read_text(encoding="utf-8").split("### Least privilege on PostgreSQL")[1]
    sql = section.split("```sql")[1].split("```")[0]
    statements = [s.strip() for s in re.sub(r"--[^\n]*", "", sql).split(";")]
    return [s for s in statements if s and not s.upper().startswith("CREATE ROLE")]


def forge_entry(conn, *, event: str, account: str | None, subject: str | None,
                details: dict, mac: str | None) -> int:
    """Append an entry hashed exactly as the application hashes: a valid chain link."""
    head = conn.execute(text("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    at = datetime.now(timezone.utc)
    if conn.dialect.name == "sqlite":
        at = at.replace(tzinfo=None)
    salt = "5a" * 16
    digest = payload_digest(account, subject, details, salt)
    entry = chain_hash(head.hash, at, "user:clerk", event, digest)
    conn.execute(text(
        "INSERT INTO audit_log (id, at, actor, event, account, subject, details, prev_hash, hash, "
        "payload_digest, salt, mac) VALUES (:id, :at, 'user:clerk', :event, :account, :subject, "
        ":details, :prev, :hash, :digest, :salt, :mac)"),
        {"id": head.id + 1, "at": at, "event": event, "account": account, "subject": subject,
         "details": json.dumps(details), "prev": head.hash, "hash": entry, "digest": digest,
         "salt": salt, "mac": mac})
    return head.id + 1


def victim_ids(conn) -> list[int]:
    return list(conn.scalars(text("SELECT id FROM audit_log WHERE account = '411VICTIM' "
                                  "ORDER BY id")))


def test_an_untouched_log_verifies_with_its_checkpoint(db):
    with db.session() as session:
        report = check_chain(session)
        assert report.problems == []
        assert report.checkpoint["entry_id"] == report.head_id == 5
        assert session.scalar(select(AuditEntry.mac).where(AuditEntry.id == 1))


def test_blanking_a_debtors_trail_behind_a_forged_purge_entry_is_caught(db, database_url):
    """Erase the victim's entries the way a purge would (erasure record, archive row,
    debtor renamed: all that the database lets the attacker write) and append a
    `retention.purged` entry whose hash is right."""
    if db.engine.dialect.name == "postgresql":
        role, url = app_role(db, database_url)
        attacker = create_engine(url)
        try:
            with pytest.raises(DBAPIError, match="permission denied"):  # no UPDATE on the log
                with attacker.begin() as conn:
                    conn.execute(text("UPDATE audit_log SET account = NULL, subject = NULL, "
                                      "details = '{}', salt = NULL, redacted_at = now() "
                                      "WHERE account = '411VICTIM'"))
            with pytest.raises(DBAPIError, match="GDPR archive"):  # not an archived debtor
                with attacker.begin() as conn:
                    conn.execute(text("SELECT audit_erase(ARRAY[1, 2]::bigint[], 'ERASED-F', "
                                      "'purge')"))
            with attacker.begin() as conn:  # the role may write the archive: it does
                ids = victim_ids(conn)
                conn.execute(text("INSERT INTO debtor_archives (debtor_id, data, last_contact_on, "
                                  "archived_on, archived_at, purge_after) SELECT id, '{}', "
                                  "'2020-01-01', '2023-01-01', now(), '2025-01-01' FROM debtors "
                                  "WHERE account = '411VICTIM'"))
                erased = conn.scalar(text("SELECT audit_erase(CAST(:ids AS bigint[]), "
                                          "'ERASED-F', 'purge')"), {"ids": ids})
                assert sorted(erased) == ids
                conn.execute(text("UPDATE debtors SET account = 'ERASED-F', name = '(erased)' "
                                  "WHERE account = '411VICTIM'"))
                forged = forge_entry(conn, event=PURGE_EVENT, account=None, subject="ERASED-F",
                                     details={"redacted": id_ranges(ids)}, mac="ab" * 32)
                by = conn.scalar(text("SELECT db_user FROM audit_erasures"))
            assert by == role  # the erasure itself says who made it
        finally:
            attacker.dispose()
            with db.engine.begin() as conn:
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE "{role}"'))
    else:
        with db.engine.begin() as conn:  # the triggers refuse an unrecorded erasure...
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text("UPDATE audit_log SET account = NULL, subject = NULL, "
                                  "details = '{}', salt = NULL, redacted_at = CURRENT_TIMESTAMP "
                                  "WHERE account = '411VICTIM'"))
        with owner(db) as conn:  # ...whoever holds the file writes it all by hand
            ids = victim_ids(conn)
            conn.execute(text("INSERT INTO audit_erasures (at, pseudonym, reason, first_id, "
                              "last_id) VALUES (CURRENT_TIMESTAMP, 'ERASED-F', 'purge', :a, :b)"),
                         {"a": ids[0], "b": ids[-1]})
            conn.execute(text("UPDATE audit_log SET account = NULL, subject = NULL, "
                              "details = '{}', salt = NULL, redacted_at = CURRENT_TIMESTAMP "
                              "WHERE account = '411VICTIM'"))
            conn.execute(text("UPDATE debtors SET account = 'ERASED-F', name = '(erased)' "
                              "WHERE account = '411VICTIM'"))
            forged = forge_entry(conn, event=PURGE_EVENT, account=None, subject="ERASED-F",
                                 details={"redacted": id_ranges(ids)}, mac=None)
            conn.commit()
    found = {(p.entry_id, p.kind) for p in problems(db)}
    assert (forged, "forged") in found  # its hash is right, its signature is not
    assert {(i, "edited") for i in ids} <= found  # so the erasure is not a purge's


def test_entries_cut_from_the_end_are_caught_without_a_head_noted_by_hand(db):
    with owner(db) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id >= 4"))
        conn.execute(text("DELETE FROM audit_checkpoints"))  # the database's copy too
        conn.commit()
    assert {(p.entry_id, p.kind) for p in problems(db)} == {(None, "deleted")}
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert "entry #5" in result.output and "no longer in the log" in result.output


def latest_checkpoint(db) -> AuditCheckpoint:
    with db.session() as session:
        return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())
                               .limit(1)).one()


def test_an_old_entry_deleted_stays_missing_for_the_checkpoints_written_after(db):
    """A checkpoint counts on from the one before it: a deletion is never counted away."""
    assert latest_checkpoint(db).entries == 5
    with owner(db) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
        conn.commit()
    with db.session() as session:  # the next day's work appends, and checkpoints
        record(session, [Event("reminder.sent", "411OTHER", "F2", {"level": 2})], "flow-run:day-3")
    assert latest_checkpoint(db).entries == 6
    assert any(p.kind == "deleted" and "the log now holds 5 entries up to it" in p.problem
               for p in problems(db))


def test_a_checkpoint_edited_in_the_database_does_not_lend_its_count_to_the_next(db):
    with owner(db) as conn:
        conn.execute(text("UPDATE audit_checkpoints SET entries = 100 "
                          "WHERE id = (SELECT MAX(id) FROM audit_checkpoints)"))
        conn.commit()
    with db.session() as session:
        record(session, [Event("reminder.sent", "411OTHER", "F2", {"level": 2})], "flow-run:day-3")
    assert latest_checkpoint(db).entries == 6  # counted from the log's start, not 100 + 1


def test_an_entry_edited_and_the_chain_rehashed_up_to_the_head_is_caught(db):
    with owner(db) as conn:
        rows = conn.execute(text("SELECT id, at, actor, event, account, subject, details, salt "
                                 "FROM audit_log ORDER BY id")).all()
        prev = None
        for r in rows:
            details = r.details if isinstance(r.details, dict) else json.loads(r.details)
            if r.id == 2:
                details = {"level": 1}  # the formal notice becomes a mere reminder
            digest = payload_digest(r.account, r.subject, details, r.salt)
            prev_hash = prev or "0" * 64
            at = r.at if not isinstance(r.at, str) else datetime.fromisoformat(r.at)
            entry = chain_hash(prev_hash, at, r.actor, r.event, digest)
            conn.execute(text("UPDATE audit_log SET details = :d, payload_digest = :p, "
                              "prev_hash = :prev, hash = :h WHERE id = :id"),
                         {"d": json.dumps(details), "p": digest, "prev": f"tmp-{r.id}",
                          "h": f"tmp-{r.id}", "id": r.id})
            conn.execute(text("UPDATE audit_log SET prev_hash = :prev, hash = :h WHERE id = :id"),
                         {"prev": prev_hash, "h": entry, "id": r.id})
            prev = entry
        conn.commit()
    found = problems(db)
    entries = {p.entry_id for p in found if p.kind == "forged"}
    assert entries == {2, 3, 4, 5}  # the chain holds together; its signatures do not
    assert any(p.entry_id is None and p.kind == "edited" and "re-hashed" in p.problem
               for p in found)


def test_a_checkpoint_file_rewritten_or_removed_is_caught(db, home):
    [path] = (home / "audit").glob("checkpoints-*.log")
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"entry_id": 3}
    path.write_text("\n".join(lines + [json.dumps(forged)]) + "\n")
    assert any(p.kind == "forged" and "not a checkpoint signed" in p.problem
               for p in problems(db))
    path.unlink()
    assert any(p.kind == "deleted" and "is missing" in p.problem for p in problems(db))


def test_the_key_file_is_owner_only_and_a_lost_key_is_never_replaced(db, home):
    key = home / "keys" / "audit.key"
    assert key.stat().st_mode & 0o777 == 0o600
    [log] = (home / "audit").glob("checkpoints-*.log")
    assert log.stat().st_mode & 0o777 == 0o600
    key.rename(home / "keys" / "elsewhere")
    from recouvrement.adapters.db.checkpoints import forget

    forget(db.engine)  # a new process: nothing cached
    from recouvrement.adapters.audit_key import AuditKeyError

    with pytest.raises(AuditKeyError, match="missing"):
        with db.session() as session:
            record(session, [Event("debtor.created", "411NEW")], "test")
    assert not key.exists()


def test_a_legitimate_purge_still_verifies(db, database_url, monkeypatch):
    """The one erasure that is allowed, by the least-privilege role on PostgreSQL."""
    with db.session() as session:
        victim = session.scalar(select(Debtor).where(Debtor.account == "411VICTIM"))
        victim.name = "(archived)"
        from recouvrement.adapters.db.models import DebtorArchive

        session.add(DebtorArchive(debtor_id=victim.id, data={}, last_contact_on=date(2020, 1, 2),
                                  archived_on=date(2023, 1, 3), purge_after=date(2025, 1, 2),
                                  archived_at=datetime.now(timezone.utc)))
    if db.engine.dialect.name == "postgresql":
        role, url = app_role(db, database_url)
        monkeypatch.setenv("RECOUVREMENT_DATABASE_URL", url)
    try:
        result = CliRunner().invoke(cli, ["retention", "purge"])
        assert result.exit_code == 0, result.output
        assert "1 erased" in result.output
        result = CliRunner().invoke(cli, ["audit", "verify"])
        assert result.exit_code == 0, result.output
        assert "3 erased by retention purges" in result.output
        assert "checkpoint" in result.output
    finally:
        if db.engine.dialect.name == "postgresql":
            from recouvrement.adapters.db import close_database

            close_database(url)
            with db.engine.begin() as conn:
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE "{role}"'))
    with db.session() as session:
        assert session.scalar(select(AuditCheckpoint.id).order_by(AuditCheckpoint.id.desc())
                              .limit(1)) >= 2
