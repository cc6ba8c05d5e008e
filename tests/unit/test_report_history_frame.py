"""The report's history holds no object the figures do not need: at a million invoices
each Decimal or key string per invoice is some 50 to 100 MB."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from recouvrement.queries.dashboard.history import read_history
from tests.report_builders import ledger  # noqa: F401 (a fixture)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_history_keys_and_amounts_are_integers(ledger):
    with ledger.session() as session:
        history = read_history(session)
    inv = history.invoices
    assert len(inv) == 4
    for name in ("key", "amount_c", "current_c"):
        assert inv[name].dtype == np.int64, name
    assert not any(isinstance(v, Decimal) for column in inv.columns
                   if inv[column].dtype == object for v in inv[column])
    assert not {"amount", "open_amount", "status", "disputed", "dossier_id",
                "proceedings_since", "invoice_id"} & set(inv.columns)
    for frame in (history.changes, history.reminders, history.disputes):
        assert frame["key"].dtype == np.int64
    assert set(history.reminders["key"]) <= set(inv["key"])
    assert set(history.changes["key"]) <= set(inv["key"])

