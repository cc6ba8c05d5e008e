"""The agency's money commands as the README shows them (no Prefect: no run here)."""

import csv
import json
from datetime import date

from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli
from recouvrement.domain.calendar import today_in
from tests.agency_builders import TRUST, add_debtor, register_agency


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_payment_remittance_feed_and_trust_commands(home, sink, tmp_path):
    today = today_in("Europe/Paris")  # the numbers run per year of issue; dates are past
    q, r = f"Q{today.year}-000001", f"R{today.year}-0001"
    settings, creditors = register_agency()
    add_debtor(creditors["atelier-nord"].ledger_db, "411DUPONT",
               [("F2026-0042", date(2026, 10, 10), "500.00"),
                ("F2026-0041", date(2026, 9, 10), "1000.00")])
    nord = ("--creditor", "atelier-nord")
    paid = run(*nord, "payment", "record", "411DUPONT", "--amount", "300.00", "--on",
               "2026-11-02", "--method", "transfer", "--reference", "VIR-2026-1102-01",
               "--invoice", "F2026-0042", "--no-mail")
    assert paid.exit_code == 0, paid.output
    assert "F2026-0042: 300.00 paid, 200.00 remains" in paid.output
    assert "receipt not e-mailed (--no-mail)" in paid.output and sink.messages == []
    for bad, message in (
            (("--amount", "abc", "--on", "2026-11-02"), "is not an amount"),
            (("--amount", "10.001", "--on", "2026-11-02"), "euros and cents"),
            (("--amount", "10", "--on", "2026-11-02", "--invoice", "F9"), "F9"),
            (("--amount", "10", "--on", "2999-01-01"), "later than today")):
        result = run(*nord, "payment", "record", "411DUPONT", *bad)
        assert result.exit_code == 2 and message in result.output, (bad, result.output)
    listed = json.loads(run("payment", "list", "--format", "json").output)
    assert [(p["receipt"], p["creditor"], p["remitted"]) for p in listed] == [
        (q, "atelier-nord", "no")]

    out = tmp_path / "informations.csv"
    assert run(*nord, "feed", "--since", "2026-11-01", "--out", out).exit_code == 0
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0][:3] == ["event", "date", "kind"] and rows[1][:3] == [
        f"payment:{q}", "2026-11-02", "payment"]
    assert "(none)" in run(*nord, "feed", "--since", "2026-11-03").output

    assert "--period" in run(*nord, "remittance", "make").output
    assert "not a month" in run(*nord, "remittance", "make", "--period", "2026-13").output
    made = run(*nord, "remittance", "make", "--period", "2026-11")
    assert made.exit_code == 0, made.output
    assert (f"remittance {r} for atelier-nord: collected 300.00, fee 37.50, net to pay "
            "262.50 by 2026-12-02") in made.output
    late = run("remittance", "list")
    assert f"warning: remittance {r} to atelier-nord (262.50) was due by 2026-12-02" in late.output
    assert run("--creditor", "sud-bureautique", "remittance", "paid", r, "--on", today,
               "--reference", "X").exit_code == 2  # not that creditor's
    paid = run("remittance", "paid", r, "--on", today, "--reference", "VIR-REM-1")
    assert paid.exit_code == 0 and "(late: it was due by 2026-12-02)" in paid.output

    imported = run("trust", "import", TRUST / "releve-2026-11.csv")
    assert imported.output == ("releve-2026-11.csv: 4 line(s) imported; 1 balance line(s) "
                               "left aside\n")
    again = run("trust", "import", TRUST / "releve-2026-11.csv")
    assert "already imported, nothing changed" in again.output
    reconciled = run("trust", "reconcile", "--as-of", "2026-12-31")
    assert reconciled.exit_code == 1
    assert "unmatched releve-2026-11.csv row 5 2026-11-02 412.30" in reconciled.output
    assert f"not on the statement: payment:{q} of 300.00" in reconciled.output

    # The creditor's KPI report, on its own ledger (its books: the 300.00 the agency holds
    # counts once the creditor's export shows it).
    page = tmp_path / "rapport.html"
    report = run(*nord, "report", "--as-of", today, "--out", page)
    assert report.exit_code == 0, report.output
    assert "1 500,00" in page.read_text(encoding="utf-8").replace("\u202f", " ")
