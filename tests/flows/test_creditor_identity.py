"""The creditor's identity through `recouvrement run`, read back as the debtor reads it: the
e-mail from a real SMTP server on loopback, the letter's PDF text."""

from __future__ import annotations

import io
from datetime import date

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import func, select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry, ImportBatch, Reminder
from recouvrement.domain.identity import L111_8_PARAGRAPHS_2_3
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.flow]

DUE = date(2026, 10, 1)  # a Thursday: the reminder goes out that day
SECOND = date(2026, 10, 16)  # 15 days later: the second reminder, e-mail and registered letter


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def count(database_url, model):
    with open_database(database_url).session() as session:
        return session.scalar(select(func.count()).select_from(model))


def read(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


@pytest.fixture
def inbox(home):
    write_customers(home / "inbox", [customer("411DUPONT")])
    write_invoices(home / "inbox", DUE, [invoice("F1", "411DUPONT", DUE)])
    return home / "inbox"


def test_a_real_run_without_the_creditor_s_identity_refuses_and_changes_nothing(
        inbox, sink, database_url, monkeypatch):
    monkeypatch.delenv("RECOUVREMENT_CREDITOR_SIREN")
    monkeypatch.delenv("RECOUVREMENT_CREDITOR_IBAN")
    monkeypatch.delenv("RECOUVREMENT_CREDITOR_PHONE")
    monkeypatch.setenv("RECOUVREMENT_SENDER", "relances@example.invalid")
    files = sorted(p.name for p in inbox.iterdir())

    result = run("run", "--as-of", DUE)

    assert result.exit_code == 2, result.output
    for setting in ("RECOUVREMENT_CREDITOR_SIREN", "RECOUVREMENT_CREDITOR_IBAN",
                    "RECOUVREMENT_SENDER"):
        assert setting in result.output
    assert "nothing was changed" in result.output
    assert "warning: RECOUVREMENT_CREDITOR_PHONE" in result.output  # said, not refused
    assert sink.messages == []
    for model in (Reminder, ImportBatch, AuditEntry):
        assert count(database_url, model) == 0
    assert sorted(p.name for p in inbox.iterdir()) == files

    dry = run("run", "--as-of", DUE, "--dry-run")  # plans and warns, refuses nothing
    assert dry.exit_code == 0, dry.output
    assert "would send level 1 to 411DUPONT: F1" in dry.output
    assert "a real run would refuse: RECOUVREMENT_CREDITOR_SIREN" in dry.output
    assert sink.messages == [] and count(database_url, Reminder) == 0


def test_the_daily_flow_itself_refuses_for_a_deployment_run(inbox, sink, database_url,
                                                             monkeypatch):
    from flows.daily import daily_dunning
    from recouvrement.config.settings import IdentityIncomplete

    monkeypatch.delenv("RECOUVREMENT_CREDITOR_LEGAL_FORM")
    with pytest.raises(IdentityIncomplete, match="RECOUVREMENT_CREDITOR_LEGAL_FORM"):
        daily_dunning(as_of=DUE)
    assert count(database_url, ImportBatch) == 0 and sink.messages == []


def test_an_agency_s_reminders_carry_every_mention_by_e_mail_and_by_letter(
        inbox, home, sink, monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_AGENCY_NAME", "Agence Recouvre & Co")
    monkeypatch.setenv("RECOUVREMENT_AGENCY_ADDRESS", "5 quai de Seine\n75019 Paris")

    assert run("run", "--as-of", DUE).exit_code == 0
    [first] = sink.messages
    text = first.get_body(("plain",)).get_content()
    # Every printed value on its own line: the name never runs into the address.
    assert text.splitlines()[:8] == [
        "Agence Recouvre & Co", "5 quai de Seine", "75019 Paris",
        "Recouvrement amiable de créances, pour le compte de :",
        "Créancier Test SAS, SAS au capital de 10 000 €, RCS Paris", "SIREN 123 456 782",
        "10 avenue des Tests", "75011 Paris"]
    first_ref = first["Message-ID"].strip().strip("<>")
    assert f"Notre référence : {first_ref}" in text
    assert "RGPD, article 14" in text  # the first contact
    for paragraph in L111_8_PARAGRAPHS_2_3:
        assert paragraph in read(text)

    result = run("run", "--as-of", SECOND)
    assert result.exit_code == 0, result.output
    second = sink.messages[1]
    assert second["X-Recouvrement-Level"] == "2"
    text = second.get_body(("plain",)).get_content()
    assert f"Suite à notre lettre du 01/10/2026, référence {first_ref}" in text
    assert "RGPD" not in text  # not the first contact any more
    [attached] = [part for part in second.iter_attachments()
                  if part.get_content_type() == "application/pdf"]
    queued = list((home / "letters" / SECOND.isoformat()).glob("*.pdf"))
    assert len(queued) == 1
    for pdf in (attached.get_content(), queued[0].read_bytes()):
        letter = read(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
        for mention in ("Agence Recouvre & Co", "5 quai de Seine", "Créancier Test SAS",
                        "SIREN 123 456 782", "10 avenue des Tests", "75011 Paris",
                        "Lettre recommandée avec accusé de réception",
                        f"Suite à notre lettre du 01/10/2026, référence {first_ref}",
                        "FR76 3000 6000 0112 3456 7890 189", *L111_8_PARAGRAPHS_2_3):
            assert mention in letter, mention
