"""The ledger is read a chunk of debtors at a time: by the index on (debtor, status)."""

from __future__ import annotations

from sqlalchemy import inspect, text

from recouvrement.adapters.db import Database


def test_a_chunk_of_debtors_is_read_by_its_debtor_status_index(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with db.engine.connect() as connection:
            names = {i["name"] for i in inspect(connection).get_indexes("invoices")}
            assert "ix_invoices_debtor_status" in names
            for table, status in (("invoices", "open"), ("reminders", "sent")):
                plan = " ".join(row[-1] for row in connection.execute(text(
                    f"EXPLAIN QUERY PLAN SELECT * FROM {table} "
                    "WHERE debtor_id IN (1, 2, 3) AND status = :s"), {"s": status}))
                # Not the index on status alone, which holds every open invoice of the ledger.
                assert f"ix_{table}_debtor_status" in plan, plan
    finally:
        db.dispose()
