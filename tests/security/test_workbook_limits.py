"""Workbooks small on disk and huge inside are refused, named, before their sheets are parsed."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Debtor, ImportBatch
from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.load import ingest_inbox
from recouvrement.ingest.sheets import WorkbookLimits
from tests.factories import CUSTOMER_HEADER, customer

DAY = date(2026, 11, 2)
SHEET = "xl/worksheets/sheet1.xml"


def workbook(path: Path, rows: int = 3, extra_columns: int = 0) -> Path:
    """A customers workbook as Excel writes one: header, then `rows` debtors."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(CUSTOMER_HEADER + [f"extra{i}" for i in range(extra_columns)])
    for n in range(rows):
        row = customer(f"411W{n:06d}")
        sheet.append([row.get(c, "") for c in CUSTOMER_HEADER] + ["x"] * extra_columns)
    book.save(path)
    return path


def rewrite_sheet(path: Path, change) -> None:
    """The same workbook with its first sheet's XML replaced by `change(xml)` (streamed)."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            if name != SHEET:
                target.writestr(name, data)
                continue
            with target.open(name, "w", force_zip64=True) as out:
                for chunk in change(data):
                    out.write(chunk)


def ingest(database_url, inbox, limits=WorkbookLimits()):
    db = Database(database_url)
    try:
        with db.session() as session:
            return ingest_inbox(session, inbox, actor="test", run_id=None, today=DAY,
                                workbook_limits=limits)
    finally:
        db.dispose()


def nothing_changed(database_url) -> bool:
    db = Database(database_url)
    with db.session() as session:
        changed = (session.scalar(select(func.count()).select_from(Debtor))
                   + session.scalar(select(func.count()).select_from(ImportBatch)))
    db.dispose()
    return changed == 0


@pytest.fixture
def never_parsed(monkeypatch):
    """Fails the test if openpyxl is asked to open a workbook."""
    def refuse(*args, **kwargs):
        raise AssertionError("the workbook was handed to openpyxl")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_zip_bomb_is_refused_from_the_central_directory(tmp_path, database_url,
                                                          never_parsed):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bomb = workbook(inbox / "customers_bomb.xlsx")

    def inflate(xml: bytes):  # 300 MB of blanks inside the sheet's XML: valid, and huge
        head, tail = xml.split(b"</sheetData>")
        yield head
        for _ in range(300):
            yield b" " * (1024 * 1024)
        yield b"</sheetData>" + tail

    rewrite_sheet(bomb, inflate)
    assert bomb.stat().st_size < 2 * 1024 * 1024  # small on disk
    with pytest.raises(InputFileError) as refused:
        ingest(database_url, inbox)  # the default limits
    message = str(refused.value)
    assert "customers_bomb.xlsx" in message and "300 MB of XML once uncompressed" in message
    assert "limit is 256 MB" in message and "RECOUVREMENT_XLSX_MAX_UNCOMPRESSED_MB" in message
    assert nothing_changed(database_url)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sheet_declaring_a_million_rows_is_refused_before_its_rows(tmp_path, database_url):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    liar = workbook(inbox / "customers_liar.xlsx")  # three rows, declared as a whole sheet
    rewrite_sheet(liar, lambda xml: [re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', xml)])
    with pytest.raises(InputFileError, match=r"customers_liar\.xlsx: sheet 'Sheet' declares "
                                             r"1,048,576 rows \(limit 300,000, "
                                             r"RECOUVREMENT_XLSX_MAX_ROWS\)"):
        ingest(database_url, inbox)
    assert nothing_changed(database_url)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("declared", [True, False])
def test_too_many_rows_are_refused_declared_or_not(tmp_path, database_url, declared):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    big = workbook(inbox / "customers_big.xlsx", rows=1_200)
    if not declared:  # no dimension: counted as the rows stream in
        rewrite_sheet(big, lambda xml: [re.sub(rb"<dimension [^>]*/>", b"", xml)])
    seen = "declares 1,201" if declared else "has more than 1,000"
    with pytest.raises(InputFileError, match=rf"customers_big\.xlsx: sheet 'Sheet' {seen} rows "
                                             r"\(limit 1,000, RECOUVREMENT_XLSX_MAX_ROWS\)"):
        ingest(database_url, inbox, WorkbookLimits(max_rows=1_000))
    assert nothing_changed(database_url)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_too_many_columns_are_refused(tmp_path, database_url):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    workbook(inbox / "customers_wide.xlsx", extra_columns=300)
    with pytest.raises(InputFileError, match=rf"declares {len(CUSTOMER_HEADER) + 300} columns \(limit 200, "
                                             r"RECOUVREMENT_XLSX_MAX_COLUMNS\)"):
        ingest(database_url, inbox)


def test_the_limits_are_settings_and_the_command_refuses_with_exit_2(home, monkeypatch,
                                                                     database_url):
    from recouvrement.entrypoints.cli import main

    workbook(home / "inbox" / "customers_big.xlsx", rows=60)
    monkeypatch.setenv("RECOUVREMENT_XLSX_MAX_ROWS", "50")
    result = CliRunner().invoke(main, ["ingest", "--as-of", DAY.isoformat()])
    assert result.exit_code == 2
    assert "customers_big.xlsx: sheet 'Sheet' declares 61 rows (limit 50" in result.stderr
    assert "nothing was changed" in result.stderr
    assert nothing_changed(database_url)

    monkeypatch.setenv("RECOUVREMENT_XLSX_MAX_ROWS", "100")  # raised: the same file is read
    result = CliRunner().invoke(main, ["ingest", "--as-of", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "customers_big.xlsx" in result.output and "60 loaded" in result.output
