"""Shared fixtures: a fresh ledger database per test, on SQLite and on PostgreSQL.

PostgreSQL is asked for by default (the production backend); a machine
without it sets RECOUVREMENT_TEST_POSTGRES=off, and the PostgreSQL tests are
then deselected and reported, never silently skipped. When asked for and not
reachable, the tests error.
"""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# Prefect keeps its database and results under PREFECT_HOME: never the user's.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="recouvrement-prefect-")

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str | None:
    if os.environ.get("RECOUVREMENT_TEST_POSTGRES", "on").lower() in ("off", "0", "no"):
        return None
    return os.environ.get("RECOUVREMENT_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def browser_wanted() -> bool:
    return os.environ.get("RECOUVREMENT_TEST_BROWSER", "on").lower() not in ("off", "0", "no")


def pytest_collection_modifyitems(config, items):
    unwanted = set()
    if postgres_admin_url() is None:
        unwanted.add("postgres")
    if not browser_wanted():
        unwanted.add("browser")
    kept = [i for i in items if not unwanted & set(i.keywords)]
    dropped = [i for i in items if unwanted & set(i.keywords)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def own_audit_key(tmp_path, monkeypatch):
    """Every test's audit key and checkpoints are its own (never ./data of the checkout);
    the `home` fixture replaces these with its home's."""
    default = tmp_path / "default-home"
    monkeypatch.setenv("RECOUVREMENT_AUDIT_KEY_FILE", str(default / "keys" / "audit.key"))
    monkeypatch.setenv("RECOUVREMENT_AUDIT_CHECKPOINT_FILE", str(default / "checkpoints.log"))


@pytest.fixture
def database_url(request, tmp_path):
    """A brand-new empty database of the backend the test is parametrised with."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        _forget(f"sqlite:///{tmp_path / 'ledger.db'}")
        return
    admin_url = postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"recouvrement_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        _forget(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _forget(url: str) -> None:
    from recouvrement.adapters.db import close_database

    close_database(url)


@pytest.fixture
def sink():
    from recouvrement.adapters.mail.sink import SmtpSink

    with SmtpSink(port=0) as server:
        yield server


@pytest.fixture
def home(tmp_path, monkeypatch, database_url, sink):
    """Settings of a creditor whose home, database and SMTP relay are this test's own."""
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("RECOUVREMENT_") and not name.startswith("RECOUVREMENT_TEST"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RECOUVREMENT_HOME", str(home))
    monkeypatch.setenv("RECOUVREMENT_DATABASE_URL", database_url)
    monkeypatch.setenv("RECOUVREMENT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RECOUVREMENT_SMTP_PORT", str(sink.port))
    from tests.factories import CREDITOR_ENV

    for name, value in CREDITOR_ENV.items():  # a complete identity: real runs send
        monkeypatch.setenv(name, value)
    # The day's report page costs seconds per run: its own tests ask for it.
    monkeypatch.setenv("RECOUVREMENT_DAILY_REPORT", "false")
    return home
