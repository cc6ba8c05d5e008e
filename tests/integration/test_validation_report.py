"""`recouvrement ingest` writes, beside each file's Data Docs page, the French report a credit
manager reads: what was read, the control totals, each quarantined row with its reason and fix."""

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def reports_of(output: str) -> dict[str, Path]:
    """File name -> the French report that `ingest` printed for it."""
    found, current = {}, None
    for line in output.splitlines():
        head = re.match(r"^(\S+?)(?: \(.*\))?: \d+ rows", line)
        if head:
            current = head[1]
        path = re.match(r"^\s+report for the credit manager \(French\): (.+)$", line)
        if path:
            found[current] = Path(path[1])
    return found


def test_a_file_with_bad_rows_gets_a_french_report_listing_each_row(home):
    inbox = home / "inbox"
    shutil.copy(EXPORTS / "broken/customers_html.csv", inbox / "customers.csv")
    shutil.copy(EXPORTS / "csv/invoices_20261102_sage100.csv", inbox)
    result = run("ingest", "--as-of", "2026-11-02")
    # 2 of the export's 5 rows in quarantine: held back whole, and still reported
    assert result.exit_code == 2, result.output
    assert "invoices_20261102_sage100.csv: held back, nothing from it was applied" in result.output
    reports = reports_of(result.output)
    assert set(reports) == {"customers.csv", "invoices_20261102_sage100.csv"}
    for path in reports.values():
        assert path.parent == home / "reports" / "validation" and path.is_file()
    assert "validation report: " in result.output  # the Data Docs page stays, for engineers

    customers = reports["customers.csv"].read_text(encoding="utf-8")
    assert "Lignes lues" in customers and "Lignes en quarantaine" in customers
    for line in (3, 4):
        assert f"Ligne {line} du fichier" in customers
    assert customers.count("Le nom du client contient du code HTML") == 2
    assert "Effacez les balises de ce champ dans la fiche" in customers
    assert "<script" not in customers and "<img" not in customers
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; SARL" in customers
    assert "Martin &lt;img src=x onerror=alert(1)&gt;" in customers

    invoices = reports["invoices_20261102_sage100.csv"].read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", invoices)
    assert "sage100 — Sage 100 Comptabilité" in text and "point-virgule" in text
    assert "Ligne 10 du fichier" in text
    assert "Le montant d&#39;une facture est négatif." in invoices
    assert "exportez-le comme avoir" in invoices
    assert "FA26-0104" in text and "-80,00" in text  # the raw values, as the file has them
    assert "Fichier retenu : rien n&#39;en est chargé" in invoices
    assert "recouvrement ingest --confirm invoices_20261102_sage100.csv" in text
    assert "Reste dû selon le fichier" in text and "5\u202f504,56" in text


def test_the_report_of_a_clean_file_says_nothing_is_in_quarantine(home):
    shutil.copy(EXPORTS / "profiles/customers_dolibarr.csv", home / "inbox")
    result = run("ingest", "--as-of", "2026-11-30")
    assert result.exit_code == 0, result.output
    [path] = reports_of(result.output).values()
    html = path.read_text(encoding="utf-8")
    assert "Aucune ligne en quarantaine" in html and "dolibarr" in html
