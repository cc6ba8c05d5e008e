"""The application's PostgreSQL role, granted as the README says, cannot cut the audit log
(on SQLite the file holder can, and `audit verify` catches it: test_audit_forgery.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.security.test_audit_forgery import app_role, db, problems  # noqa: F401

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


def test_the_application_role_cannot_cut_the_log(db, database_url):
    """Roles are PostgreSQL's: on SQLite the file holder can, and is caught (above)."""
    role, url = app_role(db, database_url)
    attacker = create_engine(url)
    try:
        for statement in ("DELETE FROM audit_log WHERE id >= 4", "TRUNCATE audit_log",
                          "DELETE FROM audit_checkpoints", "DELETE FROM audit_erasures",
                          "INSERT INTO audit_erasures (at, pseudonym, reason, first_id, last_id) "
                          "VALUES (now(), 'X', 'x', 1, 5)"):
            with pytest.raises(DBAPIError, match="permission denied"):
                with attacker.begin() as conn:
                    conn.execute(text(statement))
    finally:
        attacker.dispose()
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
    assert problems(db) == []
