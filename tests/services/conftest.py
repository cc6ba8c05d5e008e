"""Service tests: the outbox's every branch on fakes (mailer, SMS provider, clock, PDF),
on a SQLite ledger copied from one migrated at the start of the session."""

from __future__ import annotations

import pytest

from recouvrement.adapters.db import Database


@pytest.fixture(scope="session")
def ledger_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    Database(f"sqlite:///{path}").dispose()
    return path
