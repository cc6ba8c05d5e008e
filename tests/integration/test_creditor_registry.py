"""`recouvrement creditor import|list|show`: the agency's register, on SQLite and PostgreSQL."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry, CreditorRow
from tests.conftest import BACKENDS

REGISTER = Path(__file__).parents[1] / "fixtures" / "agency" / "creditors.toml"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_import_list_show_and_the_agency_audit_log(home, database_url):
    imported = run("creditor", "import", REGISTER)
    assert imported.exit_code == 0, imported.output
    assert "registered atelier-nord: Atelier du Nord SAS (mandate MDT-2026-014 of 2026-09-01)" in imported.output
    assert "registered sud-bureautique" in imported.output

    listed = json.loads(run("creditor", "list", "--format", "json").output)
    assert [c["code"] for c in listed] == ["atelier-nord", "sud-bureautique"]
    assert listed[0]["mandate"] == {
        "reference": "MDT-2026-014", "signed_on": "2026-09-01",
        "scope": "Factures clients échues du compte 411, émises depuis le 1er janvier 2025",
        "fee_percent": "12.50", "fee_minimum": "15.00", "remit_within_days": 30}
    table = run("creditor", "list").output
    assert "atelier-nord" in table and "MDT-2026-021" in table and "9.00" in table

    shown = run("creditor", "show", "sud-bureautique")
    assert shown.exit_code == 0
    assert "18 boulevard de la Corderie / 13007 Marseille" in shown.output
    assert f"ledger.home                {home / 'creditors' / 'sud-bureautique'}" in shown.output
    assert "mandate.remit_within_days  30" in shown.output and "active                     yes" in shown.output

    again = run("creditor", "import", REGISTER)  # the same file: nothing changes
    assert again.exit_code == 0 and "updated atelier-nord" in again.output
    with open_database(database_url).session() as session:
        kinds = session.execute(select(AuditEntry.event).where(
            AuditEntry.subject.like("creditor:%"))).scalars().all()
    assert kinds == ["creditor.registered", "creditor.registered"]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_bad_register_exits_2_and_registers_none_of_it(home, database_url, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(REGISTER.read_text(encoding="utf-8").replace(
        'siren = "552100554"', 'siren = "552100555"'), encoding="utf-8")
    result = run("creditor", "import", bad)
    assert result.exit_code == 2
    assert f"error: {bad}: creditor 'sud-bureautique': siren: '552100555' fails its check digit" in result.output
    with open_database(database_url).session() as session:
        assert session.execute(select(func.count()).select_from(CreditorRow)).scalar() == 0


def test_show_an_unknown_creditor_names_the_known_ones(home):
    run("creditor", "import", REGISTER)
    result = run("creditor", "show", "atelier-sud")
    assert result.exit_code == 2
    assert "no creditor 'atelier-sud'; the creditors are: atelier-nord, sud-bureautique" in result.output


@pytest.mark.parametrize("database_url", [BACKENDS[1]], indirect=True)
def test_a_creditor_schema_is_made_and_migrated_on_first_use(database_url):
    from recouvrement.adapters.db import close_database

    url = database_url + "?options=-csearch_path%3Dcreditor_essai"
    try:
        open_database(url)
        engine = create_engine(database_url)
        with engine.connect() as conn:
            tables = set(conn.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "'creditor_essai'")).scalars())
            public = set(conn.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "'public'")).scalars())
        engine.dispose()
        assert {"debtors", "invoices", "audit_log", "alembic_version"} <= tables
        assert "debtors" not in public
    finally:
        close_database(url)

