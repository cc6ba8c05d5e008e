"""Agency mode end to end through the CLI: a partial payment recorded and receipted, the
daily run telling the creditor (R124-5) and sending its report once over two runs, the
remittance, the trust account reconciled."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli
from recouvrement.domain.calendar import today_in
from tests.agency_builders import TRUST, pdf_text
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.flow]

REGISTER = Path(__file__).parents[1] / "fixtures" / "agency" / "creditors.toml"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_a_payment_is_receipted_reported_once_remitted_and_reconciled(home, sink, monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_AGENCY_NAME", "Agence Centrale de Recouvrement")
    monkeypatch.setenv("RECOUVREMENT_AGENCY_ADDRESS", "5 quai de Seine\n75019 Paris")
    assert run("creditor", "import", REGISTER).exit_code == 0
    today = today_in("Europe/Paris")
    due = today - timedelta(days=40)
    for code in ("atelier-nord", "sud-bureautique"):
        inbox = home / "creditors" / code / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        write_customers(inbox, [customer("411DUPONT", email="compta@dupont.example.com")])
        write_invoices(inbox, today, [invoice("F1", "411DUPONT", due, "1000.00")])
    first = run("run")
    assert first.exit_code == 0, first.output

    paid = run("--creditor", "atelier-nord", "payment", "record", "411DUPONT", "--amount",
               "412,30", "--on", today, "--reference", "VIR-A-0211")
    assert paid.exit_code == 0, paid.output
    assert "receipt Q" in paid.output and "F1: 412.30 paid, 587.70 remains" in paid.output
    assert "receipt e-mailed to compta@dupont.example.com" in paid.output
    receipt = next(m for m in sink.messages if m["Subject"].startswith("Quittance"))
    assert receipt["To"] == "compta@dupont.example.com"
    twice = run("--creditor", "atelier-nord", "payment", "record", "411DUPONT", "--amount",
                "412.30", "--on", today, "--reference", "VIR-A-0211")
    assert twice.exit_code == 2 and "already recorded" in twice.output
    without = run("payment", "record", "411DUPONT", "--amount", "1", "--on", today)
    assert without.exit_code == 2 and "--creditor" in without.output

    feed = json.loads(run("--creditor", "atelier-nord", "feed", "--format", "json").output)
    assert [(r["kind"], r["amount"], r["reported"]) for r in feed] == [
        ("payment", "412.30", "not yet")]

    for _ in range(2):  # two runs: the digest goes once
        again = run("run")
        assert again.exit_code == 0, again.output
    digests = [m for m in sink.messages if "R124-5" in m["Subject"]]
    assert len(digests) == 1 and digests[0]["To"] == "compta@atelier-nord.example.com"
    assert "412,30" in digests[0].get_body(("plain",)).get_content()
    reported = json.loads(run("--creditor", "atelier-nord", "feed", "--format", "json").output)
    assert reported[0]["reported"] == today.isoformat()

    made = run("--creditor", "atelier-nord", "remittance", "make", "--from", today,
               "--to", today)
    assert made.exit_code == 0, made.output
    assert "collected 412.30, fee 51.54, net to pay 360.76" in made.output  # 12.5 %, min 15
    number = made.output.split()[1]
    assert "Relevé de reversement" in pdf_text(
        home / "agency" / "atelier-nord" / "remittances" / f"{number}.pdf")
    assert run("remittance", "paid", number, "--on", today, "--reference", "VIR-REM-1"
               ).exit_code == 0
    listed = json.loads(run("remittance", "list", "--format", "json").output)
    assert [(r["number"], r["status"]) for r in listed] == [(number, "paid")]

    statement = home / "releve.csv"
    d = today.strftime("%d/%m/%Y")
    statement.write_text(
        "Date;Libellé;Débit euros;Crédit euros;Référence\n"
        f"{d};VIR SEPA DUPONT;;412,30;VIR-A-0211\n"
        f"{d};VIR ATELIER DU NORD {number};360,76;;\n"
        f"{d};HONORAIRES {number};51,54;;\n", encoding="cp1252")
    assert run("trust", "import", statement).exit_code == 0
    reconciled = run("trust", "reconcile")
    assert reconciled.exit_code == 0, reconciled.output
    assert "bank 0.00, books 0.00" in reconciled.output and "balanced" in reconciled.output
    assert run("trust", "import", TRUST / "releve-2026-11.csv").exit_code == 0
    unbalanced = run("trust", "reconcile", "--format", "json")
    assert unbalanced.exit_code == 1
    assert len(json.loads(unbalanced.output)["unmatched_lines"]) == 4
