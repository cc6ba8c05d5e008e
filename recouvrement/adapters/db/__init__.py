"""Engine, sessions, schema migrations and locks for the ledger database."""

from __future__ import annotations

import ast
import os
import zlib
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from recouvrement.adapters.private_files import FILE_MODE, private_dir, tighten

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine whose errors never quote the values of a statement (debtors' data)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith(
            "file:"):
        _private_sqlite_file(Path(parsed.database))
    engine = create_engine(url, connect_args={"timeout": 60}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, open transactions, so that each one
        # takes the write lock up front: two runs at once serialise instead of
        # deciding on the same stale state.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _private_sqlite_file(path: Path) -> None:
    """The database file made (or made again) owner-only before SQLite opens it.

    SQLite gives its WAL and shared-memory files the mode of the database
    file: an owner-only database keeps them owner-only too, whatever the umask.
    """
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    for companion in (path, path.with_name(path.name + "-wal"),
                      path.with_name(path.name + "-shm")):
        tighten(companion)


def alembic_config(connection: Connection) -> "Config":
    """Alembic's configuration for our migrations, run on this connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting on an empty database must not both create it.
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key("migrate")})
            schema = search_path_schema(engine.url)
            if schema is not None:  # a creditor's ledger in the agency's database
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        if _at_heads(connection):
            return  # every command checks this: no need to load Alembic for it
        from alembic import command

        # "heads": independent branches of migrations all apply, whatever their order.
        command.upgrade(alembic_config(connection), "heads")


def search_path_schema(url) -> str | None:
    """The schema a PostgreSQL URL's connections are confined to (`options=-csearch_path=S`,
    as a creditor's ledger is in agency mode), or None."""
    import re

    options = make_url(str(url)) if isinstance(url, str) else url
    found = re.search(r"-c\s*search_path=([A-Za-z0-9_]+)", options.query.get("options") or "")
    return found.group(1) if found else None


@lru_cache(maxsize=1)
def _heads() -> frozenset[str]:
    """The newest migrations: those no other migration revises (read from the files)."""
    revisions, revised = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                    node.targets[0], ast.Name) and node.targets[0].id in ("revision",
                                                                           "down_revision"):
                value = ast.literal_eval(node.value)
                names = value if isinstance(value, (tuple, list)) else (value,)
                (revisions if node.targets[0].id == "revision" else revised).update(
                    n for n in names if n)
    return frozenset(revisions - revised)


def _at_heads(connection: Connection) -> bool:
    """True when the database already stands at every newest migration."""
    try:
        if not inspect(connection).has_table("alembic_version"):
            return False
        stamped = set(connection.execute(text("SELECT version_num FROM alembic_version"))
                      .scalars())
    except Exception:  # anything unexpected: let Alembic look
        return False
    heads = _heads()
    return bool(heads) and stamped == heads


class Database:
    """The ledger database: migrated on first use, handing out sessions."""

    def __init__(self, url: str, keyring=None):
        from recouvrement.adapters.db.checkpoints import keyring_from_settings, register

        self.url = url
        self.engine = make_engine(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The audit key and checkpoint file of the installation (settings of now).
        register(self.engine, keyring or keyring_from_settings())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error.

        When it (or anything before it on this database) appended to the audit
        log, a signed checkpoint of the log's head follows the commit."""
        from recouvrement.adapters.db.checkpoints import checkpoint_if_due

        with self._sessions() as session, session.begin():
            yield session
        checkpoint_if_due(self.engine)

    @contextmanager
    def rolled_back_session(self) -> Iterator[Session]:
        """A session whose every change is thrown away (dry runs)."""
        with self._sessions() as session:
            session.begin()
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        from recouvrement.adapters.db.checkpoints import checkpoint_if_due, forget

        checkpoint_if_due(self.engine)
        forget(self.engine)
        self.engine.dispose()


_OPEN: dict[str, Database] = {}


def open_database(url: str, keyring=None) -> Database:
    """The process's one `Database` for this URL (engines and pools are shared).

    `keyring`: the audit key and checkpoints of the ledger, when it is opened the first
    time (default: those of the settings of now); see `open_ledger`."""
    if url not in _OPEN:
        _OPEN[url] = Database(url, keyring)
    return _OPEN[url]


def open_ledger(settings) -> Database:
    """The ledger of these settings, signed with their own audit key: the way to open a
    creditor's ledger from the agency's code (agency mode), whatever is selected."""
    from recouvrement.adapters.db.checkpoints import keyring_from_settings

    return open_database(settings.database_url, keyring_from_settings(settings))


def close_database(url: str) -> None:
    database = _OPEN.pop(url, None)
    if database is not None:
        database.dispose()


def _lock_key(name: str) -> int:
    return zlib.crc32(f"recouvrement:{name}".encode()) & 0x7FFFFFFF


def lock(session: Session, name: str) -> None:
    """Hold a named lock until the transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: every transaction
    already holds the database's write lock (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(name)})
