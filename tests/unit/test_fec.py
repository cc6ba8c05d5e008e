"""Reading FEC files as accounting tools write them, and turning customer lines into open items."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.fec import FEC_COLUMNS, export_date_of_fec, read_fec
from recouvrement.ingest.fec_items import check_fec
from recouvrement.ingest.readers import kind_of
from recouvrement.ingest.reconcile import impute_credits

FIXTURES = Path(__file__).parents[1] / "fixtures" / "exports" / "fec"
DAY = date(2026, 11, 2)
KNOWN = {"411DUPONT", "411MARTIN"}
TERMS = {"411DUPONT": 45}


def items_of(name_or_path, known=KNOWN, terms=TERMS, day=DAY):
    path = name_or_path if isinstance(name_or_path, Path) else FIXTURES / name_or_path
    return check_fec(read_fec(path), day, set(known), dict(terms))


def open_items(result):
    return {r.invoice_number: (r.account, r.document_type, r.amount, r.open_amount, r.currency)
            for r in result.good.itertuples()}


def write_fec(tmp_path, lines, sep="\t", name="FEC_test.txt", header=FEC_COLUMNS):
    """A small FEC: each line a dict of the columns that matter, the others empty."""
    rows = [sep.join(header)]
    for line in lines:
        values = {"JournalCode": "VT", "JournalLib": "Ventes", "CompteNum": "41100000",
                  "CompteLib": "Clients", "Debit": "0,00", "Credit": "0,00", **line}
        values.setdefault("PieceDate", values.get("EcritureDate", ""))
        values.setdefault("ValidDate", values.get("EcritureDate", ""))
        rows.append(sep.join(values.get(c, "") for c in header))
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_fec_as_test_compta_demat_expects_gives_each_debtors_open_items():
    result = items_of("732829320FEC20261231.txt")
    assert open_items(result) == {
        # carried forward by the opening entries (OUV journal)
        "F2025-0090": ("411DUPONT", "invoice", Decimal("500.00"), Decimal("500.00"), "EUR"),
        # lettered with its payment: settled
        "F2026-0001": ("411DUPONT", "invoice", Decimal("1200.00"), Decimal("0.00"), "EUR"),
        # a partial payment on the invoice's piece leaves the rest open
        "F2026-0002": ("411MARTIN", "invoice", Decimal("3000.00"), Decimal("2000.00"), "EUR"),
        "AV2026-0001": ("411MARTIN", "credit_note", Decimal("-300.00"), Decimal("-300.00"), "EUR"),
        # PieceRef left empty: the sales entry's EcritureNum
        "VT000004": ("411PETIT", "invoice", Decimal("240.00"), Decimal("240.00"), "EUR"),
    }
    rows = result.good.set_index("invoice_number")
    # no due date in a FEC: PieceDate + the customer's terms (30 days when unknown)
    assert rows.loc["F2025-0090", "due_date"] == date(2025, 12, 30)
    assert rows.loc["F2026-0002", "due_date"] == date(2026, 10, 15)
    assert (result.lines_total, result.lines_loaded, result.lines_ignored) == (18, 7, 11)
    assert result.quarantined.empty
    # a customer the customers export does not know: created from CompAuxLib (ISO-8859-15 œ)
    assert list(result.new_debtors.itertuples(index=False, name=None)) == [
        ("411PETIT", "Petit Cœur Boulangerie")]


def test_a_credit_note_lowers_what_the_debtor_owes():
    good, imputations = impute_credits(items_of("732829320FEC20261231.txt").good)
    rows = good.set_index("invoice_number")
    assert rows.loc["F2026-0002", "open_amount"] == Decimal("1700.00")
    assert rows.loc["AV2026-0001", "open_amount"] == Decimal("0.00")
    assert [(i.credit, i.invoice, i.amount) for i in imputations] == [
        ("AV2026-0001", "F2026-0002", Decimal("300.00"))]


def test_montant_and_sens_pipe_separated_in_windows_1252():
    result = items_of("FEC_montant_sens_pipe_cp1252.txt")
    assert open_items(result) == {
        "FA-1001": ("C0042", "invoice", Decimal("1200.00"), Decimal("1200.00"), "EUR"),
        "FA-1002": ("C0042", "invoice", Decimal("480.00"), Decimal("0.00"), "EUR"),  # lettered B
    }
    assert result.new_debtors.loc[0, "name"] == "Œuvres Sociales Réunies"


def test_padding_zero_filled_amounts_trailing_signs_lower_case_header_and_extra_column():
    result = items_of("fec_legrand_semicolon_utf8.txt")
    # booked twice, the double reversed with "900,00-": one invoice of 900
    assert open_items(result) == {
        "F-7001": ("411LEGRAND", "invoice", Decimal("900.00"), Decimal("900.00"), "EUR")}
    assert result.new_debtors.loc[0, "name"] == "Legrand Transports"


def test_a_foreign_currency_invoice_stays_in_its_currency():
    result = items_of("FEC_usd.txt")
    assert open_items(result) == {
        "INV-US-01": ("411EXPORT", "invoice", Decimal("1000.00"), Decimal("600.00"), "USD")}


def test_a_fec_without_header_is_read_in_the_decrees_order():
    result = items_of("FEC_no_header.txt")
    assert open_items(result) == {
        "F2026-0301": ("411DUPONT", "invoice", Decimal("60.00"), Decimal("60.00"), "EUR")}
    assert result.good.iloc[0]["_line"] == 1


def test_bad_lines_are_quarantined_with_what_they_net_with():
    result = items_of("FEC_bad_lines.txt")
    assert list(result.good["invoice_number"]) == ["F2026-0405"]
    reasons = {q._1: q.reasons for q in result.quarantined.itertuples()}
    assert reasons[4][0] == "Credit '40,0O' is not an amount"
    assert reasons[2] == ["held back with line 4, which is quarantined: same piece or lettering group "
                          "(loaded whole or not at all)"]
    assert "Debit/Credit (or Montant) has more than two decimals" in reasons[5]
    assert reasons[6] == ["EcritureDate is after the export date", "PieceDate is after the export date"]
    assert reasons[7][0] == "EcritureDate '2026-13-45' is not a date (YYYYMMDD)"
    # the line of revenue (706) is neither loaded nor quarantined: ignored
    assert (result.lines_total, result.lines_loaded, result.lines_ignored) == (7, 1, 1)
    # a quarantined piece is not settled by its absence
    assert {"F2026-0401", "F2026-0402", "F2026-0403"} <= result.numbers_seen
    raw = result.quarantined.set_index("_line").loc[4, "raw"]
    assert raw["Credit"] == "40,0O" and raw["PieceRef"] == "F2026-0401"


@pytest.mark.parametrize("piece_ref", ["", "-", "SANS_PIECE_REF"])
def test_an_empty_piece_ref_is_the_entry_number(tmp_path, piece_ref):
    path = write_fec(tmp_path, [
        {"EcritureNum": "VT77", "EcritureDate": "20261001", "CompAuxNum": "411DUPONT",
         "PieceRef": piece_ref, "Debit": "50,00"}])
    assert list(items_of(path).good["invoice_number"]) == ["VT77"]


def test_one_opening_entry_for_every_customer_keeps_them_apart(tmp_path):
    path = write_fec(tmp_path, [
        {"JournalCode": "OUV", "EcritureNum": "1", "EcritureDate": "20260101",
         "CompAuxNum": account, "CompAuxLib": account, "Debit": amount}
        for account, amount in (("411DUPONT", "100,00"), ("411MARTIN", "200,00"))])
    assert open_items(items_of(path)) == {
        "1-411DUPONT": ("411DUPONT", "invoice", Decimal("100.00"), Decimal("100.00"), "EUR"),
        "1-411MARTIN": ("411MARTIN", "invoice", Decimal("200.00"), Decimal("200.00"), "EUR")}


def test_a_lettering_that_does_not_net_to_zero_leaves_the_piece_open(tmp_path):
    path = write_fec(tmp_path, [
        {"EcritureNum": "1", "EcritureDate": "20261001", "CompAuxNum": "411DUPONT",
         "PieceRef": "F1", "Debit": "100,00", "EcritureLet": "ZZ"},
        {"JournalCode": "BQ", "EcritureNum": "2", "EcritureDate": "20261010",
         "CompAuxNum": "411DUPONT", "PieceRef": "F1", "Credit": "30,00", "EcritureLet": "ZZ"}])
    assert open_items(items_of(path))["F1"][3] == Decimal("70.00")


def test_an_invoice_moved_to_another_customer_is_open_on_the_new_one_only(tmp_path):
    # An invoice is (customer, piece): the moved piece is settled on the first
    # customer and open on the second, each under a number of its own.
    path = write_fec(tmp_path, [
        {"EcritureNum": "1", "EcritureDate": "20261001", "CompAuxNum": "411DUPONT",
         "PieceRef": "F9", "Debit": "100,00"},
        {"JournalCode": "OD", "EcritureNum": "2", "EcritureDate": "20261002",
         "CompAuxNum": "411DUPONT", "PieceRef": "F9", "Credit": "100,00"},
        {"JournalCode": "OD", "EcritureNum": "2", "EcritureDate": "20261002",
         "CompAuxNum": "411MARTIN", "PieceRef": "F9", "PieceDate": "20261001", "Debit": "100,00"}])
    assert open_items(items_of(path)) == {
        "F9-411DUPONT": ("411DUPONT", "invoice", Decimal("100.00"), Decimal("0.00"), "EUR"),
        "F9-411MARTIN": ("411MARTIN", "invoice", Decimal("100.00"), Decimal("100.00"), "EUR")}


def test_a_piece_paid_beyond_its_amount_is_settled_and_the_excess_is_a_credit(tmp_path):
    path = write_fec(tmp_path, [
        {"EcritureNum": "1", "EcritureDate": "20261001", "CompAuxNum": "411DUPONT",
         "PieceRef": "F5", "Debit": "100,00"},
        {"JournalCode": "BQ", "JournalLib": "Banque", "EcritureNum": "2",
         "EcritureDate": "20261005", "CompAuxNum": "411DUPONT", "PieceRef": "F5",
         "Credit": "120,00"}])
    assert open_items(items_of(path)) == {
        "F5": ("411DUPONT", "invoice", Decimal("100.00"), Decimal("0.00"), "EUR"),
        "F5/credit": ("411DUPONT", "payment", Decimal("-20.00"), Decimal("-20.00"), "EUR")}


def test_an_unapplied_payment_from_the_bank_journal_is_a_payment(tmp_path):
    path = write_fec(tmp_path, [
        {"JournalCode": "BQ1", "JournalLib": "Banque populaire", "EcritureNum": "2",
         "EcritureDate": "20261005", "CompAuxNum": "411DUPONT", "PieceRef": "VIR55",
         "Credit": "40,00"}])
    assert open_items(items_of(path))["VIR55"][1:4] == ("payment", Decimal("-40.00"), Decimal("-40.00"))


def test_a_customer_unknown_and_unnamed_is_quarantined(tmp_path):
    path = write_fec(tmp_path, [
        {"EcritureNum": "1", "EcritureDate": "20261001", "CompAuxNum": "411NOBODY",
         "PieceRef": "F1", "Debit": "10,00"}])
    result = items_of(path)
    assert result.good.empty
    assert result.quarantined.iloc[0]["reasons"] == [
        "account is not a known debtor (absent from the customers exports)"]


def test_a_piece_in_two_currencies_is_quarantined(tmp_path):
    path = write_fec(tmp_path, [
        {"EcritureNum": "1", "EcritureDate": "20261001", "CompAuxNum": "411DUPONT",
         "PieceRef": "F1", "Debit": "92,00", "Montantdevise": "100,00", "Idevise": "USD"},
        {"JournalCode": "BQ", "EcritureNum": "2", "EcritureDate": "20261005",
         "CompAuxNum": "411DUPONT", "PieceRef": "F1", "Credit": "92,00"}])
    result = items_of(path)
    assert result.good.empty
    assert set(map(tuple, result.quarantined["reasons"])) == {
        ("the piece mixes currencies (EUR, USD)",)}


def test_a_spreadsheet_formula_in_comp_aux_lib_is_quarantined(tmp_path):
    path = write_fec(tmp_path, [
        {"EcritureNum": "1", "EcritureDate": "20261001", "CompAuxNum": "411NEW",
         "CompAuxLib": '=HYPERLINK("http://evil.example","Dupont")', "PieceRef": "F1",
         "Debit": "10,00"}])
    reasons = items_of(path).quarantined.iloc[0]["reasons"]
    assert "CompAuxLib starts like a spreadsheet formula (= + - @)" in reasons


@pytest.mark.parametrize("content, problem", [
    ("JournalCode\tDebit\tCredit\nVT\t1\t0\n", "line 1: not a FEC header: missing EcritureNum"),
    ("\t".join(FEC_COLUMNS) + "\n", "line 1: a header but no entries under it"),
    ("\t".join(FEC_COLUMNS) + "\nVT\tVentes\t1\t20261001\t70600000" + "\t" * 13 + "\n",
     "no customer line (CompteNum 411…) in the FEC"),
])
def test_a_file_that_is_not_a_fec_names_the_file_and_line(tmp_path, content, problem):
    path = tmp_path / "FEC_broken.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_fec(path)
    assert str(caught.value).startswith(str(path)) and problem in str(caught.value)


@pytest.mark.parametrize("name, expected", [
    ("732829320FEC20251231.txt", date(2025, 12, 31)),  # a closed year: as of its closing date
    ("732829320FEC20261231.txt", DAY),  # the year still running: as of today
    ("FEC_export.txt", DAY),
])
def test_the_export_date_of_a_fec(name, expected):
    assert export_date_of_fec(Path(name), DAY) == expected


@pytest.mark.parametrize("name, kind", [
    ("732829320FEC20261231.txt", "fec"), ("export_fec_2026.csv", "fec"), ("FEC.txt", "fec"),
    ("effectifs.txt", None), ("invoices_20261102.csv", "invoices"),
    ("customers.xlsx", "customers"), ("notes.txt", None), ("invoices.pdf", None),
])
def test_which_files_of_the_inbox_are_exports(name, kind):
    assert kind_of(Path(name)) == kind


def test_an_old_excel_workbook_is_refused_with_what_to_do():
    with pytest.raises(InputFileError, match=r"invoices\.xls: an old Excel \(\.xls\) workbook: "
                                             r"save it as \.xlsx or CSV"):
        kind_of(Path("invoices.xls"))
