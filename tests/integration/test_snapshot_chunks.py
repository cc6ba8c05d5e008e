"""A day's snapshot is compared with the ledger chunk by chunk (never every open invoice held at
once): with chunks of three rows, the ledger ends exactly as the exports say, to the cent, and
every change is audited once (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from recouvrement.adapters.audit import verify
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry, Invoice
from recouvrement.ingest import load
from tests.conftest import BACKENDS
from tests.dossier_builders import export
from tests.factories import customer, invoice

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

FIRST = date(2026, 11, 4)
ACCOUNTS = [f"411CHUNK{i:02d}" for i in range(6)]


@pytest.fixture
def db(home, database_url, monkeypatch):
    monkeypatch.setattr(load, "CHUNK", 3)
    # The guard against truncated exports is tested elsewhere: here any share may go.
    monkeypatch.setenv("RECOUVREMENT_HOLD_SETTLED_BY_ABSENCE_PERCENT", "100")
    return open_database(database_url)


def ledger_state(db) -> dict[str, tuple[str, Decimal, str | None]]:
    with db.session() as session:
        return {n: (s, o, h) for n, s, o, h in session.execute(
            select(Invoice.number, Invoice.status, Invoice.open_amount, Invoice.settled_how))}


def audited(db, event: str) -> list[str]:
    with db.session() as session:
        return sorted(session.scalars(select(AuditEntry.subject).where(AuditEntry.event == event)))


def next_day(rows: list[dict], rng: random.Random, serial: int) -> tuple[list[dict], set[str]]:
    """The next export: some invoices gone (paid), some paid in part or in full, some new."""
    kept, gone = [], set()
    for row in rows:
        pick = rng.random()
        if pick < 0.25:
            gone.add(row["invoice_number"])
            continue
        if pick < 0.4:
            row = {**row, "open_amount": f"{Decimal(row['open_amount']) / 2:.2f}"}
        elif pick < 0.5:
            row = {**row, "open_amount": "0.00"}
        kept.append(row)
    for i in range(rng.randint(0, 7)):
        kept.append(invoice(f"N{serial}{i:02d}", rng.choice(ACCOUNTS), FIRST - timedelta(days=10),
                            f"{rng.randint(100, 99_999) / 100:.2f}"))
    rng.shuffle(kept)
    return kept, gone


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_snapshot_by_chunks_leaves_the_ledger_as_the_export_says(db, home, seed):
    rng = random.Random(seed)
    customers = [customer(a) for a in ACCOUNTS]
    rows = [invoice(f"F{i:03d}", rng.choice(ACCOUNTS), FIRST - timedelta(days=rng.randint(1, 90)),
                    f"{rng.randint(100, 999_999) / 100:.2f}") for i in range(rng.randint(20, 40))]
    assert export(db, home, FIRST, customers, rows).held == []
    ever: dict[str, dict] = {r["invoice_number"]: r for r in rows}
    settled_absent: set[str] = set()

    day = FIRST
    for serial in range(2):
        day += timedelta(days=1)
        rows, gone = next_day(rows, rng, serial)
        before = ledger_state(db)
        report = export(db, home, day, customers, rows)
        assert report.held == []
        ever.update((r["invoice_number"], r) for r in rows)
        listed = {r["invoice_number"]: r for r in rows}
        newly_absent = {n for n in gone if before[n][0] == "open"}
        settled_absent |= newly_absent

        state = ledger_state(db)
        assert set(state) == set(ever)  # nothing lost, nothing made up
        for number, (status, open_amount, how) in state.items():
            if number in listed:
                wanted = Decimal(listed[number]["open_amount"])
                assert open_amount == wanted, number
                assert status == ("open" if wanted > 0 else "settled"), number
            else:  # absent from this export (today or earlier): settled, owing nothing
                assert (status, open_amount) == ("settled", 0), number
                assert how in ("absent", "export"), number
        # The ledger reconciles to the export, to the cent.
        assert (sum(o for s, o, _ in state.values() if s == "open")
                == sum(Decimal(r["open_amount"]) for r in rows))
        assert newly_absent <= set(report.invoices_settled)

    # Every invoice settled by its absence is audited once, with why.
    with db.session() as session:
        absent = sorted(s for s, d in session.execute(
            select(AuditEntry.subject, AuditEntry.details)
            .where(AuditEntry.event == "invoice.settled"))
            if d["why"] == "absent from the export")
        assert verify(session) == []
    assert absent == sorted(settled_absent)
