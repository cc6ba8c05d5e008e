"""On PostgreSQL the database itself keeps the audit log append-only."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from recouvrement.adapters.audit import Event, record, verify
from recouvrement.adapters.db import Database

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)]


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    with database.session() as session:
        record(session, [Event("debtor.created", f"411D{n}") for n in range(3)], "test")
    yield database
    database.dispose()


def test_the_log_is_guarded_by_triggers(db):
    with db.engine.connect() as conn:
        triggers = set(conn.scalars(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
            "AND NOT tgisinternal")))
    assert triggers == {"audit_log_no_update_delete", "audit_log_no_truncate"}


def test_postgres_refuses_truncate_and_an_update_by_the_application_role(db, database_url):
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
    # The application's role as the README sets it up: SELECT and INSERT on the
    # log, no UPDATE at all (a GDPR purge erases through audit_erase()); the trigger behind.
    from tests.security.test_audit_forgery import readme_grants

    role = f"recouvrement_app_{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        for statement in readme_grants():
            conn.execute(text(statement.replace("recouvrement_app", f'"{role}"')))
    app = create_engine(make_url(database_url).set(username=role, password=None))
    try:
        with pytest.raises(DBAPIError, match="permission denied"):
            with app.begin() as conn:
                conn.execute(text("UPDATE audit_log SET actor = 'x' WHERE id = 1"))
        with pytest.raises(DBAPIError, match="permission denied"):
            with app.begin() as conn:
                conn.execute(text("UPDATE audit_log SET details = '{\"a\": 1}' WHERE id = 1"))
        with pytest.raises(DBAPIError, match="append-only: UPDATE refused"):  # the owner
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE audit_log SET details = '{\"a\": 1}' WHERE id = 1"))
        with pytest.raises(DBAPIError, match="permission denied"):
            with app.begin() as conn:
                conn.execute(text("DELETE FROM audit_log WHERE id = 1"))
    finally:
        app.dispose()
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
    with db.session() as session:
        assert verify(session) == []
