"""The credit manager's page: what was read, the control totals, each quarantined row, all escaped."""

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from recouvrement.ingest.manager_report import FileSummary, render, write_manager_report

HOSTILE = "<script>alert('x')</script> SARL"
IMAGE = '"><img src=x onerror=alert(1)>'


def summary(**kw):
    values = dict(
        file_name="invoices_<b>20261102.csv", kind="invoices", rows=4, loaded=2,
        quarantined_rows=[
            {"line": 3, "raw": {"invoice_number": "F-3", "account": HOSTILE, "amount": "12,5O"},
             "reasons": ["amount '12,5O' is not an amount",
                         "account is not a known debtor (absent from the customers exports)"]},
            {"line": 5, "raw": {"invoice_number": IMAGE, "open_amount": "-80,00"},
             "reasons": ["something no catalogue knows <yet>"]},
        ],
        profile="sage100", profile_label="Sage 100 Comptabilité — échéancier clients",
        separator=";", header_line=4, export_date=date(2026, 11, 2),
        amounts=[("Reste dû chargé (avoirs déduits)", Decimal("1234.5"), "EUR")],
        controls=[("Solde des comptes 411 du fichier", "2 134,50 €")],
        engineer_report=Path("invoices_20261102-abc.html"))
    values.update(kw)
    return FileSummary(**values)


def page(**kw):
    return render(summary(**kw), datetime(2026, 11, 2, 8, 30))


def test_it_says_what_was_read_and_the_control_totals():
    html = page()
    text = re.sub(r"<[^>]+>", " ", html)
    for expected in ("Sage 100 Comptabilité — échéancier clients", "point-virgule",
                     "02/11/2026", "Lignes lues", "Lignes chargées dans le registre",
                     "Lignes en quarantaine", "Solde des comptes 411 du fichier", "2 134,50 €"):
        assert expected in text
    assert "1\u202f234,50\u00a0€" in text  # French amount, to the cent


def test_each_quarantined_row_has_its_line_values_french_reason_and_fix():
    html = page()
    assert "Ligne 3 du fichier" in html and "Ligne 5 du fichier" in html
    assert "Le montant TTC vaut &#39;12,5O&#39;, qui n&#39;est pas un montant." in html
    assert "Créez ou complétez la fiche du client dans le plan tiers" in html
    assert "F-3" in html and "12,5O" in html and "-80,00" in html
    # A reason the catalogue does not know is shown as written, escaped.
    assert "Motif non traduit : something no catalogue knows &lt;yet&gt;" in html


def test_every_value_is_escaped_and_the_page_is_self_contained():
    html = page()
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; SARL" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert not re.search(r"<(link|script|iframe|img)\b", html)
    assert not re.search(r"(src|href)=\"?(https?:)?//", html)  # nothing fetched from outside


def test_a_file_without_bad_rows_says_so(tmp_path):
    path = write_manager_report(summary(quarantined_rows=[], loaded=4), tmp_path, "f" * 64)
    html = path.read_text(encoding="utf-8")
    assert "Aucune ligne en quarantaine" in html
    assert path.name == "invoices__b_20261102-ffffffffffff-rapport.html"
