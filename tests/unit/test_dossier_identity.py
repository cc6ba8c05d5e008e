"""The dossier's request names the claimant as the settings give it, and what they lack."""

from __future__ import annotations

import pytest

from recouvrement.domain.model import DebtorKind
from recouvrement.services.dossier import _payment_order

CREDITOR = {"name": "Créancier Test SAS", "legal_form": "SAS au capital de 10 000 €",
            "siren": "123456782", "address": "10 avenue des Tests\n75011 Paris",
            "phone": None, "email": "relances@creancier.example.com", "iban": None, "bic": None}


def data(**creditor):
    claim = {"invoices": [], "interest_basis": "L441-10", "fee_basis": "D441-5",
             "currency": "EUR", "principal": "1.00", "interest": "0.00", "fixed_fees": "0.00",
             "payments_after_queueing": "0.00", "balance": "1.00"}
    debtor = {"name": "Dupont SARL", "kind": "B2B", "siren": "732829320",
              "address": "1 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR"}
    return {"claim": claim, "debtor": debtor, "letters": [],
            "procedure": {"recommended": "injonction_de_payer", "court": "", "form": "",
                          "reason": "", "to_check": "", "after_the_order": None},
            "creditor": {**CREDITOR, **creditor}}


# (the creditor's settings changed, what the request lists as to complete)
CASES = [
    ({}, []),  # complete: nothing of the creditor's to complete
    ({"siren": None}, ["the creditor's siren (RECOUVREMENT_CREDITOR_SIREN)"]),
    ({"siren": "123456789"}, ["the creditor's siren (RECOUVREMENT_CREDITOR_SIREN)"]),  # Luhn
    ({"legal_form": None, "address": None},
     ["the creditor's legal_form (RECOUVREMENT_CREDITOR_LEGAL_FORM)",
      "the creditor's address (RECOUVREMENT_CREDITOR_ADDRESS)"]),
    ({"iban": None}, []),  # how to pay is the letters' business, not the request's
]


@pytest.mark.parametrize("change, expected", CASES)
def test_the_request_lists_only_the_creditor_settings_missing(change, expected):
    request = _payment_order(data(**change), DebtorKind.B2B)
    assert request["to_complete"] == expected
    assert request["creditor"]["siren"] == change.get("siren", "123456782")
    assert request["creditor"]["legal_form"] == change.get("legal_form", CREDITOR["legal_form"])
