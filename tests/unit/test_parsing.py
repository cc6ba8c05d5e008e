"""Reading the exports' text: amounts, dates, separators, encodings."""

import subprocess
import sys
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from recouvrement.ingest.readers import ExportFile, InputFileError, read_export
from recouvrement.ingest.validation import parse_amount, parse_dates


@pytest.mark.parametrize("text, expected", [
    ("1234.56", Decimal("1234.56")), ("1234,56", Decimal("1234.56")),
    ("1 234,56", Decimal("1234.56")), ("1\u00a0234,56", Decimal("1234.56")),
    ("1\u202f234,56", Decimal("1234.56")), ("1.234,56", Decimal("1234.56")),
    ("1,234.56", Decimal("1234.56")), ("-12,5", Decimal("-12.5")), ("12 €", Decimal("12")),
    ("", None), ("douze", None), ("NaN", None), ("Infinity", None),
])
def test_amounts(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2026-11-22", date(2026, 11, 22)), ("22/11/2026", date(2026, 11, 22)),
    ("22/11/26", date(2026, 11, 22)), ("31/02/2026", None), ("2026-13-01", None), ("", None),
])
def test_dates(text, expected):
    parsed = parse_dates(pd.Series([text], dtype=str))[0]
    assert (None if pd.isna(parsed) else parsed.date()) == expected


HEADER = "invoice_number{s}account{s}issue_date{s}due_date{s}amount{s}open_amount{s}currency{s}export_date"


@pytest.mark.parametrize("sep", [";", ",", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_separators_and_encodings(tmp_path, sep, encoding):
    row = sep.join(["F1", "411CAFÉ", "01/10/2026", "31/10/2026", "12", "12", "EUR", "02/11/2026"])
    path = tmp_path / "invoices.csv"
    path.write_bytes((HEADER.format(s=sep) + "\r\n" + row + "\r\n").encode(encoding))
    frame = read_export(ExportFile(path, "invoices", "x"))
    assert frame.loc[0, "account"] == "411CAFÉ"
    assert frame.loc[0, "_line"] == 2


def test_quoted_fields_keep_separators_and_line_breaks_and_their_line_numbers(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text('account;name;kind\n411A;"Dupont; Fils\net Cie";B2B\n411B;Martin;B2C\n', encoding="utf-8")
    frame = read_export(ExportFile(path, "customers", "x"))
    assert list(frame["name"]) == ["Dupont; Fils\net Cie", "Martin"]
    assert list(frame["_line"]) == [3, 4]  # line where each row ends


def test_a_row_with_more_fields_than_the_header_is_flagged(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("account;name;kind\n411A;Dupont;B2B;oops\n", encoding="utf-8")
    frame = read_export(ExportFile(path, "customers", "x"))
    assert frame.loc[0, "_shape"] == "has 4 fields where the header has 3"


def test_missing_required_column_names_the_file_and_the_column(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("account;email\n411A;a@b.fr\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"customers.csv: missing required column\(s\) name, kind"):
        read_export(ExportFile(path, "customers", "x"))


def test_the_domain_package_imports_neither_prefect_nor_sqlalchemy():
    code = ("import sys, recouvrement.domain.ladder, recouvrement.domain.legal, "
            "recouvrement.domain.risk, recouvrement.domain.policy; "
            "print(sorted(m for m in ('prefect', 'sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
