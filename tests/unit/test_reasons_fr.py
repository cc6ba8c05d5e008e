"""Every reason validation writes has a French explanation and a fix; an unknown one shows as is."""

import pandas as pd
import pytest

from recouvrement.ingest import fec
from recouvrement.ingest.columns import CUSTOMER_COLUMNS, INVOICE_COLUMNS
from recouvrement.ingest.reasons_fr import explain
from recouvrement.ingest.validation import (
    _customer_expectations,
    _invoice_expectations,
    check_customers,
    check_invoices,
)


def frame(rows, columns, shapes=None):
    raw = pd.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], dtype=str)
    raw.insert(0, "_line", range(2, 2 + len(rows)))
    raw["_shape"] = shapes or [""] * len(rows)
    return raw


@pytest.mark.parametrize("build", [_customer_expectations, _invoice_expectations,
                                   fec._line_expectations])
def test_every_expectation_reason_is_in_the_catalogue(build):
    reasons = [reason for _expectation, reason in build()]
    unknown = [r for r in reasons if not explain(r).known]
    assert unknown == []


def test_the_reasons_built_from_the_values_are_in_the_catalogue():
    """Reasons that quote a value or a count, as the readers really write them."""
    invoices = frame([
        {"invoice_number": "F1", "account": "411A", "issue_date": "31/02/2026",
         "due_date": "01/03/2026", "amount": "12,5O", "open_amount": "1.234",
         "export_date": "02/11/2026"},
        {"invoice_number": "F2", "account": "411A", "issue_date": "01/10/2026",
         "due_date": "31/10/2026", "amount": "100", "open_amount": "100",
         "export_date": "02/11/2026", "document_type": "ticket"},
    ], INVOICE_COLUMNS, shapes=["", "has 4 fields where the header has 8"])
    customers = frame([{"account": "411A", "name": "=HYPERLINK(1)", "kind": "Société",
                        "payment_terms_days": "trente", "blocked": "peut-être",
                        "collective_proceedings_since": "hier"}], CUSTOMER_COLUMNS)
    reasons = [r for checked in (check_invoices(invoices, ["411A"]), check_customers(customers))
               for found in checked.quarantined["reasons"] for r in found]
    assert len(reasons) >= 9
    assert [r for r in reasons if not explain(r).known] == []
    fec_reasons = ["EcritureDate '2026-13-45' is not a date (YYYYMMDD)", "Credit '40,0O' is not an amount",
                   "Sens 'X' is not D or C",
                   "held back with line 4, which is quarantined: same piece or lettering group "
                   "(loaded whole or not at all)",
                   "the piece mixes currencies (EUR, USD)", "PieceRef VE 0323 is open on several customer accounts",
                   "invoice_number appears in another export of the same day (invoices_b.csv) with different "
                   "amounts or details"]
    assert [r for r in fec_reasons if not explain(r).known] == []


def test_an_explanation_quotes_the_column_and_the_value():
    found = explain("due_date '31/02/2026' is not a date (YYYY-MM-DD or DD/MM/YYYY)")
    assert found.text == "La date d'échéance vaut '31/02/2026', qui n'est pas une date."
    assert "JJ/MM/AAAA" in found.advice and "de nouveau le fichier" in found.advice
    held = explain("held back with line 4, 7, which is quarantined: same piece or lettering group "
                   "(loaded whole or not at all)")
    assert "ligne 4, 7" in held.text and "Corrigez la ligne 4, 7" in held.advice


def test_an_unknown_reason_is_shown_as_it_is():
    found = explain("the moon is in the wrong house")
    assert not found.known
    assert "the moon is in the wrong house" in found.text
    assert "logiciel comptable" in found.advice
