"""Fixtures of a real Prefect server, its deployments and process workers.

- `prefect_server` (session): `prefect server start` on a free loopback port,
  its PREFECT_HOME a tmp dir and its database a fresh PostgreSQL database
  (PREFECT_SERVER_DATABASE_CONNECTION_URL), dropped at the end. PostgreSQL is
  needed: the tests of this folder are marked `postgres` and are deselected,
  like the other PostgreSQL tests, when RECOUVREMENT_TEST_POSTGRES=off.
- `deployments` (session): the work pool `recouvrement` (type process) and
  `prefect deploy --all` of prefect.yaml from the repository root.
- `start_worker` (test): a factory of process workers on that pool, with the
  creditor's environment the test set up (the `home` fixture's RECOUVREMENT_*
  variables); call it N times for N workers. They stop when the test ends.

A failed test's report shows the end of the server's and the workers' logs.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import postgres_admin_url
from tests.server.harness import POOL, PrefectServer, tail


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    from recouvrement.adapters.mail.sink import free_port

    admin_url = postgres_admin_url()
    if admin_url is None:  # the tests are deselected before this; run alone, say why
        pytest.fail("the Prefect server tests need PostgreSQL (RECOUVREMENT_TEST_POSTGRES is off)")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"recouvrement_prefect_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = (make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
                    .render_as_string(hide_password=False))
    root = tmp_path_factory.mktemp("prefect-server")
    (root / "server").mkdir()
    (root / "client").mkdir()
    port = free_port()
    server = PrefectServer(url=f"http://127.0.0.1:{port}/api", home=root / "server",
                           client_home=root / "client", log=root / "server.log")
    try:
        server.start(port, database_url)
        yield server
    finally:
        server.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def deployments(prefect_server):
    """The README's production steps: the work pool, then `prefect deploy --all`."""
    prefect_server.cli("work-pool", "create", POOL, "--type", "process")
    prefect_server.cli("deploy", "--all")
    # The scheduler plans the daily run's next mornings within seconds (a test reads them);
    # they are cancelled so that none starts in a test's worker when run at 07:00.
    prefect_server.scheduled_runs("daily-dunning/daily", wait=60)
    prefect_server.cancel_unfinished_runs()
    return prefect_server


@pytest.fixture
def start_worker(deployments, tmp_path):
    """`start_worker(name=None, limit=None, queues=(), env=None) -> Worker`, stopped at the end."""
    log_dir = tmp_path / "workers"
    log_dir.mkdir()

    def start(name: str | None = None, **kw):
        return deployments.start_worker(log_dir, name, **kw)

    try:
        yield start
    finally:
        deployments.stop_workers()
        deployments.cancel_unfinished_runs()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    server = item.funcargs.get("prefect_server") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(server, PrefectServer):
        report.sections.append(("prefect server log", tail(server.log, 40)))
        for worker in server.workers:
            report.sections.append((f"prefect worker {worker.name} log", tail(worker.log)))
    return report
