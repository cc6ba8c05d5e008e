"""The litigation queue on SQLite and PostgreSQL: readiness, figures checked by hand,
payments after queueing, the queue's life by command, the exported dossier."""

from __future__ import annotations

import getpass
import hashlib
import json
import zipfile
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select, update

from recouvrement.adapters.audit import verify
from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry, Debtor, Reminder, ReminderDelivery
from recouvrement.services.litigation import list_dossiers, list_not_ready
from recouvrement.queries.reports import set_dispute
from tests.conftest import BACKENDS
from tests.dossier_builders import escalate_on, export, ladder, post
from tests.factories import customer, invoice

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

LIST_KEYS = {"id", "debtor", "invoices", "principal", "interest", "fixed_fees", "total",
             "procedure", "queued_on", "status"}


@pytest.fixture
def db(home, database_url):
    return open_database(database_url)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def dossier_of(db, account):
    with db.session() as session:
        return next(d for d in list_dossiers(session) if d["debtor"] == account)


def audit_events(db, account):
    with db.session() as session:
        return list(session.scalars(select(AuditEntry.event).where(AuditEntry.account == account)
                                    .order_by(AuditEntry.id)))


# --- figures against hand computations -------------------------------------------------

QUEUE_DAY = date(2025, 7, 10)


@pytest.fixture
def across_half_years(db, home):
    """A B2B invoice late across 1 July 2025 (the ECB rate changes), partly paid before;
    a consumer's invoice, whose interest runs only from the formal notice."""
    export(db, home, QUEUE_DAY, [customer("411DUPONT"), customer("411PETIT", kind="B2C")], [
        invoice("F2", "411DUPONT", date(2025, 6, 15), "5000.00", "4000.00",
                issued=date(2025, 5, 16)),
        invoice("P1", "411PETIT", date(2025, 6, 1), "800.00", issued=date(2025, 5, 2))])
    ladder(db, "411DUPONT", ["F2"], date(2025, 7, 1))
    ladder(db, "411PETIT", ["P1"], date(2025, 7, 1))
    return escalate_on(db, QUEUE_DAY)


def test_queued_figures_match_a_hand_computation(across_half_years):
    by_debtor = {d["debtor"]: d for d in across_half_years}
    # 4000 x 13.15 % x 15/365 (16-30 June, ECB 3.15 + 10) = 21.6164
    # 4000 x 12.15 % x 10/365 (1-10 July, ECB 2.15 + 10) = 13.3151  -> 34.9315
    assert by_debtor["411DUPONT"] == {
        "id": by_debtor["411DUPONT"]["id"], "debtor": "411DUPONT", "invoices": ["F2"],
        "principal": "4000.00", "interest": "34.93", "fixed_fees": "40.00", "total": "4074.93",
        "procedure": "petites_creances", "queued_on": "2025-07-10"}
    # 800 x 2.76 % x 9/365 (2-10 July, from the formal notice of 1 July) = 0.5444
    assert by_debtor["411PETIT"]["interest"] == "0.54"
    assert by_debtor["411PETIT"]["fixed_fees"] == "0.00"
    assert by_debtor["411PETIT"]["total"] == "800.54"


def test_litigation_list_json_keeps_the_interface(across_half_years, db):
    result = run("litigation", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [set(r) for r in rows] == [LIST_KEYS, LIST_KEYS]
    assert {r["status"] for r in rows} == {"queued"}


def test_the_exported_statement_shows_each_period_and_its_rate(across_half_years, db, tmp_path):
    dossier_id = dossier_of(db, "411DUPONT")["id"]
    # Stated on the queueing day: the figures of the queue, by hand below.
    result = run("litigation", "export", dossier_id, "--out", tmp_path / "out",
                 "--as-of", QUEUE_DAY)
    assert result.exit_code == 0, result.output
    [folder] = (tmp_path / "out").iterdir()
    data = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
    [line] = data["claim"]["invoices"]
    assert [(p["start"], p["end"], p["days"], p["year_days"], p["rate"], p["amount"])
            for p in line["periods"]] == [
        ("2025-06-16", "2025-06-30", 15, 365, "13.15", "21.62"),
        ("2025-07-01", "2025-07-10", 10, 365, "12.15", "13.32")]
    # The periods rounded one by one make 34.94; the interest is rounded once: 34.93.
    assert (line["interest"], line["rounding"]) == ("34.93", "-0.01")
    assert (line["amount"], line["paid_before_queueing"], line["principal"]) == (
        "5000.00", "1000.00", "4000.00")
    assert (line["fixed_fee"], line["balance"]) == ("40.00", "4074.93")
    assert data["claim"]["total"] == data["claim"]["balance"] == "4074.93"
    assert data["procedure"]["recommended"] == "petites_creances"
    assert data["procedure"]["reasons"]
    request = json.loads((folder / "payment_order_request.json").read_text(encoding="utf-8"))
    assert request["debtor"] == {"name": "Dupont SARL", "kind": "B2B", "siren": "732829320",
                                 "address": "1 rue de la Paix", "postcode": "75002",
                                 "city": "Paris", "country": "FR"}
    assert request["claim"] == {"currency": "EUR", "principal": "4000.00", "interest": "34.93",
                                "interest_until": "2025-07-10", "fixed_fees": "40.00",
                                "payments_after_queueing": "0.00", "total": "4074.93"}
    assert any("<411DUPONT-3-2025-07-01@creancier.example.com>" in b for b in request["basis"])
    assert any("L441-10" in b for b in request["basis"])

    text = " ".join(page.extract_text() for page in PdfReader(folder / "dossier.pdf").pages)
    text = " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())
    for expected in ("Décompte de la créance", "Facture F2", "13,15 %", "12,15 %", "21,62 €",
                     "13,32 €", "34,93 €", "4 074,93 €", "1 000,00 €", "Dupont SARL",
                     "732829320", "411DUPONT-3-2025-07-01@creancier.example.com",
                     "Procédure simplifiée de recouvrement des petites créances"):
        assert expected in text, expected


# --- readiness ---------------------------------------------------------------------------

DAY = date(2026, 11, 4)
NOTICE = date(2026, 10, 26)


@pytest.fixture
def mixed(db, home):
    customers = [customer("411DUPONT"), customer("411LITIGE"), customer("411NOSIREN", siren=""),
                 customer("411VIEUX"), customer("411PRESSE"), customer("411SANSPREUVE")]
    invoices = [invoice("F1", "411DUPONT", date(2026, 10, 1)),
                invoice("L1", "411LITIGE", date(2026, 10, 1)),
                invoice("N1", "411NOSIREN", date(2026, 10, 1)),
                # due 1 July 2021: five years (C. com. L110-4) from the due date (C. civ.
                # 2233) are over on 4 Nov 2026
                invoice("V1", "411VIEUX", date(2021, 7, 1), issued=date(2021, 6, 1)),
                # due 31 Dec 2021: prescribed after 31 Dec 2026, 57 days away
                invoice("U1", "411PRESSE", date(2021, 12, 31), issued=date(2021, 12, 1)),
                invoice("S1", "411SANSPREUVE", date(2026, 10, 1))]
    export(db, home, DAY, customers, invoices)
    for account, number in [("411DUPONT", "F1"), ("411LITIGE", "L1"), ("411NOSIREN", "N1"),
                            ("411VIEUX", "V1"), ("411PRESSE", "U1")]:
        ladder(db, account, [number], NOTICE)
    ladder(db, "411SANSPREUVE", ["S1"], NOTICE, message_id="")
    with db.session() as session:
        assert set_dispute(session, "L1", reason="marchandise abîmée") is None
    return customers, invoices


def not_ready(db):
    with db.session() as session:
        return {r["debtor"]: r for r in list_not_ready(session)}


def test_only_ready_dossiers_are_queued_the_others_are_listed_with_reasons(mixed, db):
    queued = escalate_on(db, DAY)
    assert sorted(d["debtor"] for d in queued) == ["411DUPONT", "411PRESSE"]
    held = not_ready(db)
    assert sorted(held) == ["411LITIGE", "411NOSIREN", "411SANSPREUVE", "411VIEUX"]
    assert held["411LITIGE"]["held"] == [{"invoice": "L1", "reasons": [
        "disputed: the dispute must be closed first"]}]
    assert any("SIREN" in r for r in held["411NOSIREN"]["debtor_reasons"])
    assert held["411NOSIREN"]["invoices"] == ["N1"]
    [reason] = held["411VIEUX"]["held"][0]["reasons"]
    assert reason.startswith("prescribed since 2026-07-02")
    assert held["411SANSPREUVE"]["held"][0]["reasons"] == [
        "no proof of the formal notice (no e-mail with a Message-ID, no registered letter)"]
    assert all(h["since"] == DAY.isoformat() for h in held.values())


def test_a_claim_close_to_its_limitation_is_queued_flagged_urgent(mixed, db):
    escalate_on(db, DAY)
    with db.session() as session:
        from recouvrement.services.lifecycle import find_dossier

        dossier = find_dossier(session, dossier_of(db, "411PRESSE")["id"])
        assert dossier.reasons[0].startswith("URGENT: U1 is prescribed after 2026-12-31: file "
                                             "before that day")
        # Counted from the invoice date of 1 Dec 2021, as courts may, it ends sooner.
        assert "could be prescribed after 2026-12-01" in dossier.reasons[0]
        assert dossier.statement[0]["limitation_ends_on"] == "2026-12-31"
        # 1200 + interest + 40 is a small claim, but the petites créances procedure would
        # not interrupt the prescription (CPCE L125-1): a court route that does (C. civ. 2241).
        assert dossier.procedure == "injonction_de_payer"
        assert any("2241" in r for r in dossier.reasons)


def test_not_ready_is_audited_once_and_lifted_when_the_dossier_is_queued(mixed, db, home):
    escalate_on(db, DAY)
    escalate_on(db, DAY)  # the same reasons the next run: no second entry
    assert audit_events(db, "411LITIGE").count("litigation.not_ready") == 1
    with db.session() as session:
        assert set_dispute(session, "L1", reason=None) is None
    day = DAY + timedelta(days=1)
    export(db, home, day, *mixed)
    queued = escalate_on(db, day)
    assert "411LITIGE" in [d["debtor"] for d in queued]
    assert "411LITIGE" not in not_ready(db)
    assert audit_events(db, "411LITIGE")[-2:] == ["litigation.hold_lifted", "litigation.queued"]


def test_amounts_must_be_reconciled_with_a_recent_export(mixed, db):
    queued = escalate_on(db, DAY + timedelta(days=5))
    assert queued == []
    held = not_ready(db)
    assert any("newest export of the open items is of 2026-11-04" in r
               for r in held["411DUPONT"]["debtor_reasons"])


def test_the_not_ready_command_lists_them(mixed, db):
    escalate_on(db, DAY)
    result = run("litigation", "not-ready", "--format", "json")
    assert result.exit_code == 0, result.output
    assert sorted(r["debtor"] for r in json.loads(result.output)) == [
        "411LITIGE", "411NOSIREN", "411SANSPREUVE", "411VIEUX"]
    table = run("litigation", "list")
    assert "4 debtor(s) past the formal notice deadline are not ready" in table.output


# --- the queue's life --------------------------------------------------------------------


@pytest.fixture
def queued(db, home):
    export(db, home, DAY, [customer("411DUPONT")], [invoice("F1", "411DUPONT", date(2026, 10, 1))])
    ladder(db, "411DUPONT", ["F1"], NOTICE)
    [dossier] = escalate_on(db, DAY)
    return dossier["id"]


def test_each_change_is_made_by_command_and_audited_with_who_made_it(queued, db, tmp_path):
    refused = run("litigation", "handover", queued, "--to", "lawyer", "--name", "Me Durand")
    assert refused.exit_code == 2 and "export the dossier first" in refused.output
    assert run("litigation", "export", queued[:8], "--out", tmp_path).exit_code == 0
    assert dossier_of(db, "411DUPONT")["status"] == "exported"
    result = run("litigation", "handover", queued, "--to", "bailiff", "--name", "SCP Huissiers",
                 "--reference", "2026/118")
    assert result.exit_code == 0, result.output
    assert dossier_of(db, "411DUPONT")["status"] == "with_bailiff"
    result = run("litigation", "close", queued, "--outcome", "judgment", "--note", "TC Paris")
    assert result.exit_code == 0, result.output
    again = run("litigation", "close", queued, "--outcome", "paid")
    assert again.exit_code == 2 and "already closed" in again.output
    shown = json.loads(run("litigation", "show", queued, "--format", "json").output)
    assert (shown["status"], shown["outcome"], shown["handler"], shown["handler_reference"]) == (
        "closed", "judgment", "SCP Huissiers", "2026/118")
    with db.session() as session:
        changes = [(e.actor, e.details["from"], e.details["to"]) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.subject == queued, AuditEntry.event.in_(
                ["litigation.exported", "litigation.status_changed"])).order_by(AuditEntry.id))]
        assert verify(session) == []
    me = f"user:{getpass.getuser()}"
    assert changes == [(me, "queued", "exported"), (me, "exported", "with_bailiff"),
                       (me, "with_bailiff", "closed")]
    assert run("litigation", "list", "--status", "closed", "--format", "json").output.count(
        queued) == 1


def test_an_unknown_dossier_is_a_usage_error(queued):
    result = run("litigation", "close", "00000000-nope", "--outcome", "paid")
    assert result.exit_code == 2 and "no dossier" in result.output


def test_payments_after_queueing_show_on_the_dossier_and_close_it_when_nothing_is_left(
        queued, db, home, tmp_path):
    day = DAY + timedelta(days=1)
    export(db, home, day, [customer("411DUPONT")],
           [invoice("F1", "411DUPONT", date(2026, 10, 1), "1200.00", "700.00")])
    escalate_on(db, day)
    shown = json.loads(run("litigation", "show", queued, "--format", "json").output)
    assert shown["payments"] == [{"invoice": "F1", "received_on": "2026-11-05",
                                  "amount": "500.00"}]
    # 1200 + 13.58 interest + 40 fee, less 500
    assert (shown["status"], shown["balance"], shown["principal_balance"]) == (
        "queued", "753.58", "700.00")
    assert run("litigation", "export", queued, "--out", tmp_path,
               "--as-of", "2026-11-05").exit_code == 0
    [folder] = tmp_path.glob("dossier-*")
    data = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
    assert data["claim"]["invoices"][0]["payments_after_queueing"] == [
        {"received_on": "2026-11-05", "amount": "500.00"}]
    # Restated on 5 Nov, the payment imputed interest first (C. civ. 1343-1): 1200 x 12.15 %
    # x 35/365 (2 Oct - 5 Nov) = 13.9808 -> 13.98 to interest, 486.02 to principal: 713.98
    # principal, no interest left, + 40 fee = 753.98 (the queue's figure, 13.58 to 4 Nov less
    # 500, forgot the day of 5 Nov).
    assert (data["claim"]["payments_after_queueing"], data["claim"]["principal"],
            data["claim"]["interest"], data["claim"]["balance"]) == (
        "500.00", "713.98", "0.00", "753.98")

    day += timedelta(days=1)
    # F1 gone from the export: paid (another debtor keeps the export from being empty); an
    # invoice in litigation settled by its absence waits for a person to confirm the export
    held = export(db, home, day, [customer("411DUPONT"), customer("411MARTIN")],
                  [invoice("M1", "411MARTIN", date(2026, 12, 1))])
    assert [h["file"] for h in held.held] == ["invoices_20261106.csv"]
    escalate_on(db, day)
    assert json.loads(run("litigation", "show", queued, "--format", "json").output)[
        "status"] == "exported"
    export(db, home, day, [customer("411DUPONT"), customer("411MARTIN")],
           [invoice("M1", "411MARTIN", date(2026, 12, 1))], confirmed=True)
    escalate_on(db, day)
    shown = json.loads(run("litigation", "show", queued, "--format", "json").output)
    assert (shown["status"], shown["outcome"], shown["closed_on"]) == ("closed", "paid",
                                                                       "2026-11-06")
    assert [p["amount"] for p in shown["payments"]] == ["500.00", "700.00"]
    with db.session() as session:
        closing = session.scalar(select(AuditEntry).where(
            AuditEntry.subject == queued, AuditEntry.event == "litigation.status_changed")
            .order_by(AuditEntry.id.desc()).limit(1))
        assert closing.details["to"] == "closed" and closing.actor == "flow-run:test"
        assert closing.details["interest_and_fees_not_recovered"] == "53.58"
        assert closing.details["settled_by_absence"] == ["F1"]


# --- the exported dossier ------------------------------------------------------------------


def test_the_dossier_holds_letters_invoices_audit_trail_and_checksums(queued, db, tmp_path):
    result = run("litigation", "export", queued, "--out", tmp_path, "--zip", "--as-of", DAY)
    assert result.exit_code == 0, result.output
    [archive] = tmp_path.glob("*.zip")
    with zipfile.ZipFile(archive) as z:
        files = {name.split("/", 1)[1]: z.read(name) for name in z.namelist()}
    assert {"dossier.json", "payment_order_request.json", "dossier.pdf", "invoices.csv",
            "audit_trail.json", "SHA256SUMS", "letters/03_2026-10-26_level3.txt"} <= set(files)
    for line in files["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
    notice = files["letters/03_2026-10-26_level3.txt"].decode()
    assert notice.startswith("Message-ID: <411DUPONT-3-2026-10-26@creancier.example.com>")
    data = json.loads(files["dossier.json"])
    assert [c["proof"] for c in data["chronology"] if c["what"].startswith("reminder")] == [
        f"Message-ID <411DUPONT-{level}-{on}@creancier.example.com>"
        for level, on in [(1, "2026-10-03"), (2, "2026-10-18"), (3, "2026-10-26")]]
    assert data["dossier"]["status"] == "exported"
    trail = json.loads(files["audit_trail.json"])
    assert trail["chain"]["intact"] is True
    assert "litigation.queued" in [e["event"] for e in trail["entries"]]
    assert all(len(e["hash"]) == 64 for e in trail["entries"])
    assert files["invoices.csv"].decode("utf-8-sig").splitlines()[1].startswith(
        "F1;2026-09-01;2026-10-01;1200.00;1200.00;13.58;40.00;0.00;1253.58")
    with db.session() as session:
        [exported] = [e for e in session.scalars(select(AuditEntry).where(
            AuditEntry.subject == queued)) if e.details.get("to") == "exported"]
    assert exported.details["sha256sums"] == hashlib.sha256(files["SHA256SUMS"]).hexdigest()


def test_a_notice_whose_e_mail_was_refused_is_proved_by_its_letter_alone(db, home, tmp_path):
    """The formal notice's e-mail was refused for good and a registered letter went instead:
    the deliveries say so, and the dossier names the letter, not the refused e-mail."""
    export(db, home, DAY, [customer("411DUPONT")], [invoice("F1", "411DUPONT", date(2026, 10, 1))])
    ladder(db, "411DUPONT", ["F1"], NOTICE)
    posted = tmp_path / "queue" / "411DUPONT-3.pdf"
    posted.parent.mkdir()
    posted.write_bytes(b"%PDF-1.4 lettre recommandee")
    key = f"411DUPONT-3-{NOTICE}"
    with db.session() as session:
        notice_id = session.scalar(select(Reminder.id).where(Reminder.key == key))
        session.execute(update(ReminderDelivery).where(ReminderDelivery.reminder_id == notice_id)
                        .values(status="skipped", proof=None, sent_at=None,
                                last_error="the e-mail was refused for good, a letter went"))
    post(db, "411DUPONT", 3, NOTICE, posted)
    [dossier] = escalate_on(db, DAY)
    result = run("litigation", "export", dossier["id"], "--out", tmp_path / "out", "--as-of", DAY)
    assert result.exit_code == 0, result.output
    [folder] = (tmp_path / "out").glob("dossier-*")
    data = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
    notice = data["letters"][-1]
    assert (notice["level"], notice["channel"], notice["letter_file"], notice["proof"]) == (
        3, "email,letter", str(posted), "registered letter 411DUPONT-3.pdf")
    assert [letter["proof"] for letter in data["letters"][:2]] == [
        f"Message-ID <411DUPONT-{level}-{on}@creancier.example.com>"
        for level, on in [(1, "2026-10-03"), (2, "2026-10-18")]]
    assert (folder / "letters" / f"03_{NOTICE}_level3.pdf").read_bytes() == posted.read_bytes()
    text = " ".join(" ".join(p.extract_text().split())
                    for p in PdfReader(folder / "dossier.pdf").pages)
    assert "lettre recommandée, pièce n° 3" in text
    assert f"Message-ID <{key}@creancier.example.com>" not in text


def test_debtor_text_is_escaped_in_the_pdf_and_neutralised_in_the_csv(db, home, tmp_path):
    export(db, home, DAY, [customer("411EVIL")], [invoice("=1+1", "411EVIL", date(2026, 10, 1))])
    with db.session() as session:  # past what ingest lets through, as a second line of defence
        session.scalar(select(Debtor).where(Debtor.account == "411EVIL")).name = (
            "<b>Evil</b> & Co")
    ladder(db, "411EVIL", ["=1+1"], NOTICE)
    [dossier] = escalate_on(db, DAY)
    assert run("litigation", "export", dossier["id"], "--out", tmp_path).exit_code == 0
    [folder] = tmp_path.glob("dossier-*")
    text = " ".join(p.extract_text() for p in PdfReader(folder / "dossier.pdf").pages)
    assert "<b>Evil</b> & Co" in text
    assert (folder / "invoices.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith(
        "'=1+1;")
