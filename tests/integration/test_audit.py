"""The audit log: append-only in the application and in the database, and every kind
of tampering by someone who got past both named by `audit verify`."""

from __future__ import annotations

import getpass
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from recouvrement.adapters.audit import (
    GENESIS,
    PURGE_EVENT,
    AuditLogIsAppendOnly,
    Event,
    chain_hash,
    check_chain,
    current_actor,
    id_ranges,
    payload_digest,
    record,
    redact,
    verify,
)
from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import AuditEntry, Debtor, DebtorArchive
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    with database.session() as session:
        for n in range(1, 7):
            record(session, [Event("reminder.planned", f"411D{n}", f"key-{n}", {"level": 1})],
                   actor="flow-run:test")
    yield database
    database.dispose()


def tamper(db: Database, *statements: str, **params) -> None:
    """What someone with the database owner's rights does: switch the protection off, edit."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        for statement in statements:
            conn.execute(text(statement), params)


def found(db: Database) -> set[tuple[int | None, str]]:
    """The entries named (problems of the log as a whole, such as a signed checkpoint
    that no longer matches, are left to tests/security/)."""
    with db.session() as session:
        return {(p.entry_id, p.kind) for p in verify(session) if p.entry_id is not None}


def archive(db: Database, *accounts: str) -> None:
    """Debtors of these accounts, in the GDPR archive (what a purge erases)."""
    with db.session() as session:
        for account in accounts:
            debtor = Debtor(account=account, name="(archived)", kind="B2B")
            session.add(debtor)
            session.flush()
            session.add(DebtorArchive(debtor_id=debtor.id, data={}, last_contact_on=date(2020, 1, 1),
                                      archived_on=date(2023, 1, 2), purge_after=date(2025, 1, 1),
                                      archived_at=datetime.now(timezone.utc)))


def row(db: Database, entry_id: int) -> AuditEntry:
    with db.session() as session:
        return session.get(AuditEntry, entry_id)


def test_an_untouched_log_verifies_and_the_command_says_so(db, database_url, monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_DATABASE_URL", database_url)
    assert found(db) == set()
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit log intact: 6 entries" in result.output


def test_entries_have_consecutive_ids_and_chain_from_genesis(db):
    with db.session() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.id for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:]))
    assert len({e.salt for e in entries}) == 6


def test_an_edited_detail_is_named(db, database_url, monkeypatch):
    tamper(db, "UPDATE audit_log SET details = :d WHERE id = 3", d='{"level": 3}')
    assert found(db) == {(3, "edited")}
    monkeypatch.setenv("RECOUVREMENT_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert "entry 3: edited" in result.output


@pytest.mark.parametrize("column, value", [("actor", "user:someone-else"), ("event", "x.y"),
                                           ("account", "411OTHER"), ("subject", "key-9")])
def test_each_edited_column_is_named(db, column, value):
    tamper(db, f"UPDATE audit_log SET {column} = :v WHERE id = 2", v=value)
    assert found(db) == {(2, "edited")}


def test_an_edit_whose_hash_was_recomputed_is_named(db):
    """Whoever knows the algorithm can re-hash the entry: the next link still gives it away."""
    entry = row(db, 4)
    details = '{"level": 2}'
    digest = payload_digest(entry.account, entry.subject, {"level": 2}, entry.salt)
    new_hash = chain_hash(entry.prev_hash, entry.at, entry.actor, entry.event, digest)
    tamper(db, "UPDATE audit_log SET details = :d, payload_digest = :p, hash = :h WHERE id = 4",
           d=details, p=digest, h=new_hash)
    problems = found(db)
    assert problems == {(4, "edited")}


def test_a_deleted_entry_is_named(db):
    tamper(db, "DELETE FROM audit_log WHERE id = 3")
    with db.session() as session:
        [problem] = [p for p in verify(session) if p.entry_id is not None]
    assert (problem.entry_id, problem.kind) == (4, "deleted")
    assert "entry #3 deleted" in problem.problem


def test_the_deleted_first_entry_is_named(db):
    tamper(db, "DELETE FROM audit_log WHERE id = 1")
    with db.session() as session:
        [problem] = [p for p in verify(session) if p.entry_id is not None]
    assert (problem.entry_id, problem.kind) == (2, "deleted") and "#1" in problem.problem


def test_entries_deleted_at_the_end_are_caught_against_a_noted_head(db):
    with db.session() as session:
        head = check_chain(session).head_hash
    tamper(db, "DELETE FROM audit_log WHERE id >= 5")
    assert found(db) == set()  # the rest of the chain is sound...
    with db.session() as session:  # ...but not the signed checkpoint of its head
        assert {(p.entry_id, p.kind) for p in verify(session)} == {(None, "deleted")}
        assert {(p.entry_id, p.kind) for p in verify(session, expected_head=head)} == {
            (None, "deleted")}


def test_reordered_entries_are_named(db):
    tamper(db, "UPDATE audit_log SET id = 100 WHERE id = 3",
           "UPDATE audit_log SET id = 3 WHERE id = 4",
           "UPDATE audit_log SET id = 4 WHERE id = 100")
    problems = found(db)
    assert {kind for _, kind in problems} == {"reordered"}
    assert {3, 4} <= {entry_id for entry_id, _ in problems}


def test_an_entry_inserted_in_the_middle_is_named(db):
    """The forger shifts the later entries up and writes a well-hashed entry in between."""
    before = row(db, 3)
    fake_prev = "f" * 64  # chaining it to #3 is impossible: #4 already claims that link
    details = {"level": 3}
    salt = "00" * 16
    digest = payload_digest("411D3", "key-x", details, salt)
    forged = chain_hash(fake_prev, before.at, before.actor, "reminder.planned", digest)
    tamper(db, *[f"UPDATE audit_log SET id = {i + 1} WHERE id = {i}" for i in range(6, 3, -1)],
           "INSERT INTO audit_log (id, at, actor, event, account, subject, details, prev_hash, "
           "hash, payload_digest, salt) VALUES (4, :at, :actor, 'reminder.planned', '411D3', "
           "'key-x', :details, :prev, :hash, :digest, :salt)",
           at=before.at, actor=before.actor, details='{"level": 3}', prev=fake_prev, hash=forged,
           digest=digest, salt=salt)
    assert found(db) == {(4, "inserted")}


def test_an_entry_added_by_hand_at_the_end_is_named(db):
    head = row(db, 6)
    tamper(db, "INSERT INTO audit_log (id, at, actor, event, account, subject, details, "
           "prev_hash, hash, payload_digest, salt) VALUES (7, :at, 'user:forger', "
           "'invoice.settled', '411D1', 'F1', '{}', :prev, :hash, :digest, :salt)",
           at=head.at, prev="e" * 64, hash="d" * 64, digest="c" * 64, salt="b" * 32)
    assert found(db) == {(7, "inserted")}


def test_content_erased_outside_a_purge_is_an_edit(db):
    tamper(db, "UPDATE audit_log SET account = NULL, subject = NULL, details = '{}', "
           "salt = NULL, redacted_at = CURRENT_TIMESTAMP WHERE id = 2")
    assert found(db) == {(2, "edited")}


def test_only_an_archived_debtors_entries_can_be_erased(db):
    with pytest.raises(DBAPIError):
        with db.session() as session:
            redact(session, [2], pseudonym="ERASED-X")
    assert found(db) == set()


def test_erasure_recorded_by_a_purge_leaves_the_chain_verifiable(db, database_url, monkeypatch):
    archive(db, "411D2", "411D3", "411D5")
    with db.session() as session:
        erased = redact(session, [2, 3, 5], pseudonym="ERASED-T1")
        session.execute(update(Debtor).where(Debtor.account.in_(["411D2", "411D3", "411D5"]))
                        .values(name="(erased)", account=Debtor.account + "-ERASED-T1"))
        session.execute(update(Debtor).where(Debtor.account == "411D2-ERASED-T1")
                        .values(account="ERASED-T1"))
        record(session, [Event(PURGE_EVENT, subject="ERASED-T1",
                               details={"redacted": id_ranges(erased)})], "test")
    assert found(db) == set()
    entry = row(db, 3)
    assert (entry.account, entry.subject, entry.details, entry.salt) == (None, None, {}, None)
    monkeypatch.setenv("RECOUVREMENT_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0 and "3 erased by retention purges" in result.output
    # Writing content back into an erased entry is an edit.
    tamper(db, "UPDATE audit_log SET account = '411D3' WHERE id = 3")
    assert found(db) == {(3, "edited")}


def test_the_application_refuses_to_change_or_delete_entries(db):
    with pytest.raises(AuditLogIsAppendOnly):
        with db.session() as session:
            session.get(AuditEntry, 2).details = {"level": 9}
    with pytest.raises(AuditLogIsAppendOnly):
        with db.session() as session:
            session.delete(session.get(AuditEntry, 2))
    with pytest.raises(AuditLogIsAppendOnly):
        with db.session() as session:
            session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(actor="x"))
    with pytest.raises(AuditLogIsAppendOnly):
        with db.session() as session:
            session.execute(text("DELETE FROM audit_log WHERE id = 2"))
    assert found(db) == set()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET details = '{\"level\": 9}' WHERE id = 2",
    "UPDATE audit_log SET hash = 'x' WHERE id = 2",
    "DELETE FROM audit_log WHERE id = 6",
    # an erasure that also changes a hashed column is not an erasure
    "UPDATE audit_log SET account = NULL, subject = NULL, details = '{}', salt = NULL, "
    "redacted_at = '2030-01-01', event = 'x' WHERE id = 2",
])
def test_the_database_refuses_to_change_or_delete_entries(db, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text(statement))
    assert found(db) == set()


def test_the_database_lets_only_a_recorded_erasure_of_an_archived_debtor_through(db):
    erase = text("UPDATE audit_log SET account = NULL, subject = NULL, details = '{}', "
                 "salt = NULL, redacted_at = CURRENT_TIMESTAMP WHERE id = 2")
    with pytest.raises(DBAPIError, match="append-only"):  # shaped like an erasure, unrecorded
        with db.engine.begin() as conn:
            conn.execute(erase)
    archive(db, "411D2")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_erasures (at, pseudonym, reason, first_id, last_id) "
                          "VALUES (CURRENT_TIMESTAMP, 'ERASED-Y', 'test', 2, 2)"))
        conn.execute(erase)
    assert row(db, 2).redacted_at is not None


def test_entries_say_who_acted(db):
    assert current_actor("abc-123") == "flow-run:abc-123"
    assert current_actor() == f"user:{getpass.getuser()}"
    with db.session() as session:
        actors = set(session.scalars(select(AuditEntry.actor)))
    assert actors == {"flow-run:test"}
