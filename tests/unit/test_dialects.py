"""Exports as French tools write them: encodings, separators, numbers, Excel sheets, mapping profiles."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from recouvrement.ingest.dialect import decode, read_rows, sniff_separator
from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.parsing import parse_amount, parse_amounts, parse_dates
from recouvrement.ingest.profiles import ProfileError, fold, load_profile, load_profiles
from recouvrement.ingest.readers import ExportFile, read_export
from recouvrement.ingest.validation import check_customers, check_invoices

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"
DAY = date(2026, 11, 2)
HEADER = "invoice_number;account;issue_date;due_date;amount;open_amount;export_date"


def read(path, kind="invoices", **kw):
    return read_export(ExportFile(path, kind, "x"), today=DAY, **kw)


# --- encodings

@pytest.mark.parametrize("data, text", [
    ("Réf;€".encode("utf-8"), "Réf;€"),
    (b"\xef\xbb\xbfR\xc3\xa9f", "Réf"),  # UTF-8 with BOM
    ("Réf;€ Œuvre".encode("utf-16"), "Réf;€ Œuvre"),  # Excel's "Unicode text"
    ("Réf;€;œ".encode("cp1252"), "Réf;€;œ"),  # € is 0x80, œ 0x9C
    ("Réf;€;œ".encode("iso-8859-15"), "Réf;€;œ"),  # € is 0xA4, œ 0xBD
    ("Réf;¤;½".encode("cp1252"), "Réf;€;œ"),  # the same bytes: ISO-8859-15 reads them better
    ("Coût;Réf;€".encode("cp1252"), "Coût;Réf;€"),  # 0x80 is only Windows-1252
])
def test_the_encoding_is_read_off_the_bytes(tmp_path, data, text):
    assert decode(tmp_path / "f.csv", data) == text


@pytest.mark.parametrize("data, problem", [
    (b"", "the file is empty"),
    (b"  \r\n", "the file is empty"),
    (b"a;b\x00\x01", "binary content"),
    ("a;b\nCafé;1\n".encode("utf-8") + "Crème;2\n".encode("cp1252"),
     "line 3: mixes UTF-8 with another encoding"),
    (b"a;b\nx;\x81\n", "line 2: byte 0x81 is not a character"),
    (b"a;b\nx;\x07y\n", "line 2: control character U+0007"),
])
def test_what_is_not_text_is_refused_with_its_line(tmp_path, data, problem):
    with pytest.raises(InputFileError) as caught:
        decode(tmp_path / "invoices.csv", data)
    assert "invoices.csv" in str(caught.value) and problem in str(caught.value)


# --- separators and rows

@pytest.mark.parametrize("text, sep", [
    ('a;b;c\n1;"2,5";3\n', ";"),
    ('a,b,c\n1,"2,5",3\n', ","),  # decimal comma quoted in a comma file
    ("a\tb\tc\n1\t2,5\t3\n", "\t"),
    ("a|b|c\n1|2,5|3\n", "|"),
    ("Balance âgée au 02/11/2026\n\na;b;c\n1;2,5;3\n4;5;6\n", ";"),  # a title above the header
    ("a;b;c\n1;1,5;2,5\n", ";"),  # more commas than semicolons, but they do not make columns
])
def test_the_separator_is_the_one_that_makes_columns(tmp_path, text, sep):
    assert sniff_separator(tmp_path / "f.csv", text) == sep


def test_no_separator_at_all(tmp_path):
    with pytest.raises(InputFileError, match="no column separator"):
        sniff_separator(tmp_path / "f.csv", "just one column\nand another line\n")


def test_a_quote_never_closed_names_the_line_it_opens(tmp_path):
    with pytest.raises(InputFileError, match="line 3: a quoted field is never closed"):
        read_rows(tmp_path / "f.csv", 'a;b\n1;2\n3;"unfinished\n4;5\n', ";")


def test_a_stray_quote_inside_a_field_is_forgiven(tmp_path):
    rows, lines = read_rows(tmp_path / "f.csv", 'a;b\n1;"Dupont" SA\n', ";")
    assert rows[1] == ["1", "Dupont SA"] and lines == [1, 2]


# --- numbers and dates

@pytest.mark.parametrize("text, expected", [
    ("12,50-", Decimal("-12.50")), ("(12,50)", Decimal("-12.50")), ("+12,50", Decimal("12.50")),
    ("00001200,00", Decimal("1200.00")), ("1'234.50", Decimal("1234.50")),
    ("1.234.567,89", Decimal("1234567.89")), ("1,2,3", None), ("--1", None),
])
def test_amounts_as_ledgers_print_them(text, expected):
    assert parse_amount(text) == expected


def test_the_decimal_mark_of_the_file_decides_what_1_234_means():
    values = pd.Series(["1.234", "1.234,56", "12,50"])
    parsed, ambiguous = parse_amounts({"amount": values})
    assert list(parsed["amount"]) == [Decimal("1234"), Decimal("1234.56"), Decimal("12.50")]
    assert not ambiguous["amount"].any()
    parsed, ambiguous = parse_amounts({"amount": pd.Series(["1,234.56", "1,234"])})
    assert list(parsed["amount"]) == [Decimal("1234.56"), Decimal("1234")]


def test_1_234_alone_is_ambiguous():
    _parsed, ambiguous = parse_amounts({"amount": pd.Series(["1.234", "100"])})
    assert list(ambiguous["amount"]) == [True, False]


@pytest.mark.parametrize("text, expected", [
    ("20261102", date(2026, 11, 2)), ("02.11.2026", date(2026, 11, 2)),
    ("02-11-2026", date(2026, 11, 2)), ("2026-11-02 00:00:00", date(2026, 11, 2)),
    ("20261102 10:15:00", date(2026, 11, 2)), ("2/11/2026", date(2026, 11, 2)),
    ("2026111", None),
])
def test_more_dates(text, expected):
    parsed = parse_dates(pd.Series([text], dtype=str))[0]
    assert (None if pd.isna(parsed) else parsed.date()) == expected


# --- mapping profiles

def test_a_windows_1252_semicolon_csv_with_french_headers_is_mapped_by_its_profile():
    frame = read(EXPORTS / "csv" / "invoices_20261102_sage100.csv")
    assert frame.attrs["profile"] == "sage100" and frame.attrs["header_line"] == 4
    checked = check_invoices(frame, ["411DUPONT", "411MARTIN"])
    good = {r.invoice_number: (r.amount, r.open_amount, r.document_type, r.due_date, r.export_date)
            for r in checked.good.itertuples()}
    assert good == {
        "FA26-0101": (Decimal("1234.56"), Decimal("1234.56"), "invoice", date(2026, 10, 31), DAY),
        "FA26-0102": (Decimal("2400.00"), Decimal("900.00"), "invoice", date(2026, 11, 4), DAY),
        "FA26-0103": (Decimal("3600.00"), Decimal("3600.00"), "invoice", date(2026, 10, 10), DAY),
        # an "Avoir" written as a positive amount is kept negative
        "AV26-0007": (Decimal("-150.00"), Decimal("-150.00"), "credit_note", date(2026, 10, 12), DAY),
    }
    assert list(checked.quarantined["_line"]) == [10]
    assert checked.quarantined.iloc[0]["reasons"] == [
        "amount is negative", "open_amount is negative and the row is not a credit note"]


def test_a_customers_file_with_french_headers_siret_and_kinds():
    checked = check_customers(read(EXPORTS / "csv" / "customers_sage100.csv", "customers"))
    good = checked.good.set_index("account")
    assert good.loc["411DUPONT", "siren"] == "732829320"  # from the SIRET
    assert good.loc["411DUPONT", "kind"] == "B2B" and good.loc["411MARTIN", "kind"] == "B2C"
    assert good.loc["411MARTIN", "address"] == "3 chemin des Œillets"
    assert checked.quarantined.iloc[0]["reasons"] == [
        "siren fails its check digit (Luhn): a typing error?"]


def test_a_profile_can_be_named(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text("Numéro;Identifiant client;Date d'émission;Date d'échéance;Montant TTC;"
                    "Reste à payer\nP-1;411A;01/10/2026;31/10/2026;10,00;10,00\n", encoding="utf-8")
    frame = read(path, profile="pennylane")
    assert frame.attrs["profile"] == "pennylane" and frame.loc[0, "invoice_number"] == "P-1"
    with pytest.raises(ProfileError, match="no mapping profile named 'nope'"):
        read(path, profile="nope")
    with pytest.raises(InputFileError, match="the mapping profile 'ebp' does not fit"):
        read(path, profile="ebp")


def test_a_header_that_fits_two_profiles_equally_must_be_named(tmp_path):
    home = tmp_path / "profiles"
    home.mkdir()
    for name in ("one", "two"):
        (home / f"{name}.yaml").write_text(
            "invoices:\n  columns:\n    invoice_number: [Pièce X]\n    account: [Tiers X]\n"
            "    issue_date: [Date X]\n    due_date: [Échéance X]\n    amount: [TTC X]\n"
            "    open_amount: [Reste X]\n  defaults: {export_date: today}\n", encoding="utf-8")
    path = tmp_path / "invoices.csv"
    path.write_text("Pièce X;Tiers X;Date X;Échéance X;TTC X;Reste X\nF1;411A;01/10/2026;"
                    "31/10/2026;1;1\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="fits the mapping profiles 'one' and 'two' equally"):
        read(path, profiles=load_profiles(home))
    assert read(path, profiles=load_profiles(home), profile="two").attrs["profile"] == "two"


def test_a_creditors_own_profile_wins_over_a_shipped_one(tmp_path):
    own = tmp_path / "sage100.yaml"
    own.write_text("name: sage100\ninvoices:\n  columns:\n    invoice_number: [Mon numéro]\n",
                   encoding="utf-8")
    assert load_profiles(tmp_path)["sage100"].source == own
    assert set(load_profiles(tmp_path)) >= {"sage100", "ebp", "cegid_quadra", "pennylane"}


@pytest.mark.parametrize("content, problem", [
    ("invoices: [1, 2]\n", "invoices: needs a `columns` mapping"),
    ("invoices:\n  columns:\n    numero: [N°]\n", "'numero' is not a column"),
    ("nom: x\n", "unknown key(s) nom"),
    ("invoices:\n  columns: {amount: 12}\n", "invoices.columns.amount: a header or a list"),
    ("a: [\n", "not a readable YAML mapping profile"),
])
def test_a_broken_profile_names_its_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "mine.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(path) in str(caught.value) and problem in str(caught.value)


def test_headers_are_compared_without_accents_case_or_punctuation():
    assert fold("N° pièce") == fold("n piece") == "n piece"
    assert fold("Date d'échéance") == "date d echeance"
    assert fold("Œillets") == "oeillets"


def test_every_shipped_profile_reads_its_own_headers(tmp_path):
    for profile in load_profiles().values():
        spec = profile.kinds["invoices"]
        header = [spec.columns[c][0] for c in ("invoice_number", "account", "issue_date",
                                               "due_date", "amount", "open_amount")]
        path = tmp_path / f"invoices_{profile.name}.csv"
        path.write_text(";".join(header) + "\nF1;411A;01/10/2026;31/10/2026;10,00;10,00\n",
                        encoding="utf-8")
        frame = read(path, profiles=load_profiles())
        assert frame.attrs["profile"] == profile.name, profile.name
        assert frame.loc[0, ["invoice_number", "account", "open_amount"]].tolist() == [
            "F1", "411A", "10,00"]


# --- Excel

def test_excel_finds_the_sheet_and_the_header_below_a_title():
    frame = read(EXPORTS / "xlsx" / "invoices_ebp.xlsx")
    assert (frame.attrs["sheet"], frame.attrs["profile"], frame.attrs["header_line"]) == (
        "Échéancier", "ebp", 3)
    checked = check_invoices(frame, ["411DUPONT", "411MARTIN"])
    good = {r.invoice_number: (r.issue_date, r.amount) for r in checked.good.itertuples()}
    assert good == {"E-2026-0501": (date(2026, 10, 1), Decimal("1500")),
                    "E-2026-0502": (date(2026, 10, 3), Decimal("100.00"))}
    reasons = dict(zip(checked.quarantined["_line"], checked.quarantined["reasons"]))
    assert reasons[6][0] == "amount has more than two decimals"
    assert reasons[7][0] == "amount '=E4*2' is not an amount"  # a formula saved without its value


def test_excel_named_sheet(tmp_path):
    path = tmp_path / "invoices.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing to see"])
    for name, number in (("Octobre", "F10"), ("Novembre", "F11")):
        sheet = book.create_sheet(name)
        sheet.append(HEADER.split(";"))
        sheet.append([number, "411A", "2026-10-01", "2026-10-31", 10, 10, "2026-11-02"])
    book.save(path)
    assert read(path).loc[0, "invoice_number"] == "F10"  # the first sheet that fits
    assert read(path, sheet="Novembre").loc[0, "invoice_number"] == "F11"
    with pytest.raises(InputFileError, match=r"no sheet named 'Décembre' \(sheets: Notes, Octobre, Novembre\)"):
        read(path, sheet="Décembre")


def test_excel_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "invoices.xlsx"
    path.write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="not a readable Excel workbook"):
        read(path)


def test_a_header_without_rows_names_the_line(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + "\n\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="invoices.csv: line 1: a header but no rows under it"):
        read(path)


def test_trailing_separators_are_not_a_shape_problem(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + "\nF1;411A;01/10/2026;31/10/2026;1;1;02/11/2026;;\n"
                    "F2;411A;01/10/2026;31/10/2026;1;1\n", encoding="utf-8")
    frame = read(path)
    assert list(frame["_shape"]) == ["", "has 6 fields where the header has 7"]
