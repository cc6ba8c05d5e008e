"""Links, pipes and devices in the inbox are never read, and are reported by name."""

from __future__ import annotations

import os
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Debtor
from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.inbox import read_regular
from recouvrement.ingest.load import ingest_inbox
from tests.factories import customer, invoice, write_customers, write_invoices

DAY = date(2026, 11, 2)
SECRET = "TOP-SECRET-LINE;root:x:0:0"


@pytest.fixture
def planted(tmp_path):
    """An inbox whose exports are links to files elsewhere on the machine, and a pipe."""
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    elsewhere.mkdir()
    # A CSV-shaped file outside the inbox: a link would import its debtor.
    write_customers(elsewhere, [customer("411VOLE", email="vole@ailleurs.example.com")],
                    name="someone_elses.csv")
    (elsewhere / "secret.txt").write_text(f"{SECRET}\nline two\n", encoding="utf-8")
    (inbox / "customers.csv").symlink_to(elsewhere / "someone_elses.csv")
    (inbox / "invoices_20261102.csv").symlink_to(elsewhere / "secret.txt")
    os.mkfifo(inbox / "customers_pipe.csv")  # a read would wait forever for a writer
    # A genuine export beside them, which is read.
    write_customers(inbox, [customer("411DUPONT")], name="customers_real.csv")
    write_invoices(inbox, DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1))],
                   name="invoices_real_20261102.csv")
    return inbox


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_links_and_pipes_in_the_inbox_are_skipped_by_name_unread(planted, database_url):
    db = Database(database_url)
    with db.session() as session:
        report = ingest_inbox(session, planted, actor="test", run_id=None, today=DAY)
    with db.session() as session:
        accounts = set(session.scalars(select(Debtor.account)))
    db.dispose()
    assert accounts == {"411DUPONT"}  # nothing of the linked file came in
    assert {f["file"] for f in report.files} == {"customers_real.csv",
                                                 "invoices_real_20261102.csv"}
    refused = {r["file"]: r["reason"] for r in report.refused}
    assert refused == {
        "customers.csv": "a symbolic link: only regular files of the inbox are read",
        "invoices_20261102.csv": "a symbolic link: only regular files of the inbox are read",
        "customers_pipe.csv": "a named pipe: only regular files of the inbox are read"}
    assert SECRET not in repr(report)


def test_ingest_command_names_what_it_did_not_read_and_shows_none_of_it(planted, home,
                                                                        monkeypatch):
    from recouvrement.entrypoints.cli import main

    monkeypatch.setenv("RECOUVREMENT_INBOX", str(planted))
    result = CliRunner().invoke(main, ["ingest", "--as-of", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert ("customers.csv: not read, a symbolic link: only regular files of the inbox are read"
            in result.output)
    assert "invoices_20261102.csv: not read, a symbolic link" in result.output
    assert "customers_pipe.csv: not read, a named pipe" in result.output
    assert SECRET.split(";")[0] not in result.output and "411VOLE" not in result.output


def test_a_file_swapped_for_a_link_after_the_listing_is_not_followed(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text(SECRET)
    (tmp_path / "customers.csv").symlink_to(target)
    with pytest.raises(InputFileError, match="symbolic link") as refused:
        read_regular(tmp_path / "customers.csv")
    assert SECRET not in str(refused.value)
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(InputFileError, match="named pipe"):
        read_regular(tmp_path / "pipe.csv")  # refused at once: never waits for a writer
