"""The dossier tells the truth on the day it is printed: played through the CLI from the
queue to the exported dossier, its figures read back from the JSON and the PDF's text."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.domain.calendar import today_in
from recouvrement.config.settings import load_settings
from tests.conftest import BACKENDS
from tests.dossier_builders import escalate_on, export, ladder
from tests.factories import customer, invoice

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DAY, NOTICE, PAID = date(2026, 11, 4), date(2026, 10, 26), date(2026, 11, 5)
AS_OF = "2026-11-30"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def db(home, database_url):
    return open_database(database_url)


@pytest.fixture
def played(db, home):
    """F1, 1200.00 due 1 Oct 2026, queued on 4 Nov; 500 paid, seen in the export of 5 Nov;
    then the debtor disputes it and promises to pay, by command."""
    export(db, home, DAY, [customer("411DUPONT")], [invoice("F1", "411DUPONT", date(2026, 10, 1))])
    ladder(db, "411DUPONT", ["F1"], NOTICE)
    [dossier] = escalate_on(db, DAY)
    export(db, home, PAID, [customer("411DUPONT")],
           [invoice("F1", "411DUPONT", date(2026, 10, 1), "1200.00", "700.00")])
    escalate_on(db, PAID)  # the payment reaches the dossier
    opened = run("dispute", "open", "F1", "--reason", "livraison incomplète")
    assert opened.exit_code == 0, opened.output
    promised = run("promise", "411DUPONT", "--until", "2026-12-15")
    assert promised.exit_code == 0, promised.output
    return dossier["id"]


def pdf_text(folder) -> list[str]:
    pages = [p.extract_text() for p in PdfReader(folder / "dossier.pdf").pages]
    return [" ".join(t.replace("\u202f", " ").replace("\u00a0", " ").split()) for t in pages]


def test_the_list_keeps_the_queueing_day_and_the_export_restates_to_the_day_given(
        played, tmp_path):
    [row] = json.loads(run("litigation", "list", "--format", "json").output)
    # The queue is frozen at queueing: 1200 x 12.15 % x 34/365 (2 Oct - 4 Nov) = 13.5814.
    assert (row["interest"], row["total"], row["queued_on"]) == ("13.58", "1253.58", "2026-11-04")

    result = run("litigation", "export", played, "--out", tmp_path, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "WARNING: invoice F1 is disputed" in result.output and "contested" in result.output
    [folder] = tmp_path.glob("dossier-*")
    data = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
    [line] = data["claim"]["invoices"]
    # 2 Oct - 5 Nov, 35 days: 1200 x 12.15 % x 35/365 = 13.9808 -> 13.98 accrued when the 500
    # were paid (seen in the export of 5 Nov): 13.98 to interest, 486.02 to principal
    # (C. civ. 1343-1), 713.98 left. 6 - 30 Nov, 25 days: 713.98 x 12.15 % x 25/365 = 5.9417.
    assert [(p["start"], p["end"], p["days"], p["principal"], p["rate"], p["amount"])
            for p in line["periods"]] == [
        ("2026-10-02", "2026-11-05", 35, "1200.00", "12.15", "13.98"),
        ("2026-11-06", "2026-11-30", 25, "713.98", "12.15", "5.94")]
    assert line["imputations"] == [{
        "on": "2026-11-05", "payment": "500.00", "interest_due": "13.98", "to_interest": "13.98",
        "to_principal": "486.02", "principal_after": "713.98", "date_known": True,
        "after_queueing": True}]
    assert (line["principal"], line["interest"], line["interest_until"]) == (
        "713.98", "5.94", AS_OF)
    # 713.98 + 5.94 + 40 fee = 759.92
    claim = data["claim"]
    assert (claim["as_of"], claim["principal"], claim["interest"], claim["fixed_fees"],
            claim["total"], claim["balance"], claim["payments_after_queueing"]) == (
        AS_OF, "713.98", "5.94", "40.00", "759.92", "759.92", "500.00")
    assert claim["at_queueing"]["total"] == "1253.58"
    assert [(e["event"], e["invoice"]) for e in data["since_queued"]] == [
        ("litigation.payment_received", "F1"), ("invoice.dispute_opened", "F1"),
        ("promise.recorded", None)]
    assert data["warnings"] == [{"warning": "disputed", "invoice": "F1",
                                 "since": data["since_queued"][1]["on"],
                                 "reason": "livraison incomplète"}]
    request = json.loads((folder / "payment_order_request.json").read_text(encoding="utf-8"))
    assert (request["claim"]["interest_until"], request["claim"]["total"]) == (AS_OF, "759.92")

    first, *rest = pdf_text(folder)
    # The first page: the warning, what happened since the queueing, the claim to the day.
    for expected in ("Attention : créance contestée", "La facture F1 est contestée",
                     "livraison incomplète", "Depuis la mise en file du 04/11/2026",
                     "paiement reçu après mise en file", "contestation ouverte",
                     "promesse de paiement", "15/12/2026",
                     "Décompte de la créance arrêté au 30/11/2026", "759,92 €",
                     "1 253,58 €"):
        assert expected in first, expected
    text = " ".join([first, *rest])
    for expected in ("13,98 €", "486,02 €", "713,98 €", "5,94 €", "(après la mise en file)",
                     "Intérêts restant dus au 30/11/2026"):
        assert expected in text, expected


def test_every_line_of_the_pdf_is_in_french(played, tmp_path):
    assert run("litigation", "export", played, "--out", tmp_path, "--as-of", AS_OF).exit_code == 0
    [folder] = tmp_path.glob("dossier-*")
    text = " ".join(pdf_text(folder))
    # No setting, file name, JSON, event code or English note of the domain.
    for leak in ("RECOUVREMENT_", ".json", ".csv", "letters/", ".pdf", "{", '":',
                 "invoice.", "litigation.", "promise.", "reminder.", "decision.", "import.",
                 "registered letter", "audit entry", "flow-run:", "user:", "interest",
                 " paid ", "the claim", "Payment of", "No interest", "creditor", "debtor",
                 "email,", "queued", "True", "False"):
        assert leak not in text, leak


def test_show_states_the_claim_on_the_day_and_lists_what_happened_since(played):
    shown = run("litigation", "show", played, "--as-of", AS_OF, "--format", "json")
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.output)
    assert (found["as_of"]["as_of"], found["as_of"]["total"]) == (AS_OF, "759.92")
    assert [e["label"] for e in found["since_queued"]] == [
        "paiement reçu après mise en file", "contestation ouverte", "promesse de paiement"]
    assert found["warnings"][0]["invoice"] == "F1"
    table = run("litigation", "show", played, "--as-of", AS_OF)
    assert "contestation ouverte [invoice.dispute_opened]" in table.output
    assert "WARNING: invoice F1 is disputed" in table.output
    # The default day is today in the creditor's time zone.
    today = today_in(load_settings().timezone).isoformat()
    default = json.loads(run("litigation", "show", played, "--format", "json").output)
    assert default["as_of"]["as_of"] == today


def test_a_day_before_the_queueing_is_refused(played, tmp_path):
    before = (DAY - timedelta(days=1)).isoformat()
    for args in (("show", played), ("export", played, "--out", tmp_path)):
        result = run("litigation", *args, "--as-of", before)
        assert result.exit_code == 2
        assert re.search(r"before the dossier was queued \(2026-11-04\)", result.output)
    assert not list(tmp_path.glob("dossier-*"))


def test_closing_the_dispute_lifts_the_warning(played, tmp_path):
    assert run("dispute", "close", "F1").exit_code == 0
    result = run("litigation", "export", played, "--out", tmp_path, "--as-of", AS_OF)
    assert result.exit_code == 0 and "WARNING" not in result.output
    [folder] = tmp_path.glob("dossier-*")
    first = pdf_text(folder)[0]
    assert "contestation close" in first and "Attention" not in first
