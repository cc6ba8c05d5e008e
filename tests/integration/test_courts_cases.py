"""Courts and "one claim, one dossier", played through the CLI to the dossier, read back.

Exports are read with `recouvrement ingest`, the dossiers queued by the daily
run's litigation step (`litigation.escalate`) and read back with `litigation
list` and `litigation export`. Rate: ECB 2.15 % on 1 July 2025, B2B 12.15 % in
2025-H2; each figure is computed by hand in a comment.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry
from recouvrement.domain.policy import load_policy
from recouvrement.services.litigation import escalate
from tests.conftest import BACKENDS
from tests.dossier_builders import ladder
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

NOTICE1, QUEUE1 = date(2025, 11, 20), date(2025, 12, 1)
NOTICE2, QUEUE2 = date(2025, 11, 25), date(2025, 12, 5)
TJ = "tribunal judiciaire du domicile ou du siège du débiteur"
KEYS = {"id", "debtor", "invoices", "principal", "interest", "fixed_fees", "total",
        "procedure", "queued_on"}


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def customers():
    return [customer("411TILLEULS", name="SCI Les Tilleuls", legal_form="SCI", postcode="75011"),
            customer("411LYON", name="Lyon Négoce SAS", legal_form="SAS", postcode="69002",
                     city="Lyon"),
            customer("411INCONNU", name="Cabinet Inconnu", legal_form=""),
            # A micro-entrepreneur the export says is a trader: the commercial court.
            customer("411ARTISAN", name="Jean Artisan", legal_form="micro-entreprise",
                     trader="yes"),
            customer("411JOINT"), customer("411SPLIT")]


def invoices():
    return [invoice("S1", "411TILLEULS", date(2025, 10, 15), "7000.00"),
            invoice("L1", "411LYON", date(2025, 10, 15), "6000.00"),
            invoice("N1", "411INCONNU", date(2025, 10, 15), "6000.00"),
            invoice("A1", "411ARTISAN", date(2025, 10, 15), "6000.00"),
            invoice("J1", "411JOINT", date(2025, 10, 15), "2500.00"),
            invoice("J2", "411JOINT", date(2025, 10, 20), "2600.00"),
            invoice("K1", "411SPLIT", date(2025, 10, 15), "3000.00"),
            invoice("K2", "411SPLIT", date(2025, 10, 20), "2100.00")]


def day(home, db, policy, on):
    write_customers(home / "inbox", customers())
    write_invoices(home / "inbox", on, invoices())
    run("ingest", "--as-of", on)
    with db.session() as session:  # the daily run's litigation step
        escalate(session, today=on, policy=policy, actor="flow-run:test")
    return {d["debtor"]: d for d in json.loads(run("litigation", "list", "--format", "json"))}


@pytest.fixture
def world(home, database_url, tmp_path):
    db = open_database(database_url)
    policy = load_policy()
    write_customers(home / "inbox", customers())
    write_invoices(home / "inbox", NOTICE1, invoices())
    run("ingest", "--as-of", NOTICE1)
    for account, numbers in [("411TILLEULS", ["S1"]), ("411LYON", ["L1"]),
                             ("411INCONNU", ["N1"]), ("411ARTISAN", ["A1"]),
                             ("411JOINT", ["J1"]), ("411SPLIT", ["K1"])]:
        ladder(db, account, numbers, NOTICE1)
    # The second invoice of each of these two debtors is a few days behind on the ladder.
    ladder(db, "411JOINT", ["J2"], NOTICE2)
    ladder(db, "411SPLIT", ["K2"], NOTICE2)
    first = day(home, db, policy, QUEUE1)
    # 411SPLIT's first dossier goes to the bailiff's desk before K2 reaches litigation.
    run("litigation", "export", first["411SPLIT"]["id"], "--out", tmp_path / "split")
    second = json.loads(run("litigation", "list", "--format", "json"))
    day(home, db, policy, QUEUE2)
    final = json.loads(run("litigation", "list", "--format", "json"))
    return {"db": db, "first": first, "second": second, "final": final}


def export_of(dossier_id, out):
    run("litigation", "export", dossier_id, "--out", out)
    [folder] = out.iterdir()
    data = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
    text = " ".join(page.extract_text() for page in PdfReader(folder / "dossier.pdf").pages)
    return data, " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def figures(d):
    return (d["invoices"], d["principal"], d["interest"], d["fixed_fees"], d["total"],
            d["procedure"])


def joins_the_queued_dossier(world):
    # 1 December: J1 alone, 16 Oct - 1 Dec = 47 days: 2500 x 12.15 % x 47/365 = 39.11;
    # 2539.11 <= 5000: a small claim.
    assert figures(world["first"]["411JOINT"]) == (["J1"], "2500.00", "39.11", "40.00",
                                                   "2579.11", "petites_creances")
    # 5 December: J2 joins. J2: 21 Oct - 5 Dec = 46 days: 2600 x 12.15 % x 46/365 = 39.81.
    # The whole claim: 2500 + 2600 = 5100.00, interest 39.11 + 39.81 = 78.92, 2 x 40 fees;
    # 5178.92 in principal and interest is above 5000: injonction de payer, not two small
    # claims. J1's line keeps its figures to 1 December (payments since are recorded beside).
    joint = [d for d in world["final"] if d["debtor"] == "411JOINT"]
    assert len(joint) == 1 and set(joint[0]) == KEYS | {"status"}
    assert figures(joint[0]) == (["J1", "J2"], "5100.00", "78.92", "80.00", "5258.92",
                                 "injonction_de_payer")
    assert joint[0]["id"] == world["first"]["411JOINT"]["id"]
    assert joint[0]["queued_on"] == QUEUE1.isoformat()
    with world["db"].session() as session:
        events = list(session.scalars(select(AuditEntry.event)
                                      .where(AuditEntry.account == "411JOINT")))
    assert events.count("litigation.queued") == 1 and events.count("litigation.joined") == 1


def judged_whole_after_an_export(world, tmp_path):
    # K1 alone on 1 December, 47 days: 3000 x 12.15 % x 47/365 = 46.94: a small claim, and
    # exported before K2 arrives: K2 cannot join it and gets its own dossier.
    assert figures(world["first"]["411SPLIT"]) == (["K1"], "3000.00", "46.94", "40.00",
                                                   "3086.94", "petites_creances")
    split = {tuple(d["invoices"]): d for d in world["final"] if d["debtor"] == "411SPLIT"}
    assert split[("K1",)]["status"] == "exported"
    # K2, 46 days: 2100 x 12.15 % x 46/365 = 32.16; 2132.16 alone would be a small claim, but
    # with K1's 3046.94 the claim is 5179.10 > 5000: injonction de payer.
    assert figures(split[("K2",)]) == (["K2"], "2100.00", "32.16", "40.00", "2172.16",
                                       "injonction_de_payer")
    data, _ = export_of(split[("K2",)]["id"], tmp_path / "k2")
    assert any("3046.94 EUR" in r and "whole claim" in r for r in data["procedure"]["reasons"])


def sci_goes_to_the_tribunal_judiciaire(world, tmp_path):
    # S1, 47 days: 7000 x 12.15 % x 47/365 = 109.52; 7109.52 > 5000: injonction de payer.
    sci = world["first"]["411TILLEULS"]
    assert figures(sci) == (["S1"], "7000.00", "109.52", "40.00", "7149.52",
                            "injonction_de_payer")
    data, text = export_of(sci["id"], tmp_path / "sci")
    procedure, request = data["procedure"], data["payment_order_request"]
    assert (procedure["court"], procedure["form"], procedure["to_check"]) == (
        TJ, "Cerfa 12948", "")
    assert (request["court"], request["form"]) == (TJ, "Cerfa 12948")
    assert "SCI" in procedure["reason"] and data["debtor"]["legal_form"] == "SCI"
    assert "tribunal de commerce" not in " ".join(procedure["reasons"])
    # Décret n° 2026-96: an order issued from 1 September 2026 is served within 3 months.
    assert procedure["after_the_order"]["serve_within_months"] == 3
    assert request["after_the_order"]["serve_within_months"] == 3
    assert "Cerfa 12948" in text and "dans les 3 mois de sa date" in text


def trader_in_a_tae_district(world, tmp_path):
    # L1, 47 days: 6000 x 12.15 % x 47/365 = 93.87.
    lyon = world["first"]["411LYON"]
    assert figures(lyon)[1:3] == ("6000.00", "93.87")
    data, text = export_of(lyon["id"], tmp_path / "lyon")
    procedure = data["procedure"]
    assert (procedure["court"], procedure["form"], procedure["to_check"]) == (
        "tribunal des activités économiques de Lyon", "Cerfa 12946", "several_courts")
    # The Rhône has other commercial courts: the request says to check, never guesses.
    assert any(item.startswith("the court:") for item in data["payment_order_request"]
               ["to_complete"])
    assert "tribunal des activités économiques de Lyon" in text and "À vérifier" in text
    # Paris (75002): the TAE is the city's one commercial court; the export's trader=yes
    # makes the micro-entrepreneur a trader.
    data, _ = export_of(world["first"]["411ARTISAN"]["id"], tmp_path / "artisan")
    assert (data["procedure"]["court"], data["procedure"]["to_check"]) == (
        "tribunal des activités économiques de Paris", "")
    # The queued dossier's reasons name the same court as the export: decided once.
    assert "tribunal des activités économiques de Paris" in " ".join(data["procedure"]["reasons"])


def unknown_form_goes_to_the_tribunal_judiciaire(world, tmp_path):
    data, text = export_of(world["first"]["411INCONNU"]["id"], tmp_path / "unknown")
    assert (data["procedure"]["court"], data["procedure"]["form"],
            data["procedure"]["to_check"]) == (TJ, "Cerfa 12948", "trader_unknown")
    assert "L211-3" in data["procedure"]["reason"]
    assert "Kbis" in text


# One world, played once per backend (the CLI reads every export through its checks).


def test_one_claim_one_dossier(world, tmp_path):
    """An invoice joins its debtor's queued dossier; an exported one still counts."""
    joins_the_queued_dossier(world)
    judged_whole_after_an_export(world, tmp_path)


def test_the_court_of_each_debtor(world, tmp_path):
    """A SCI, a SAS in Lyon, a declared trader in Paris, a debtor whose form does not say."""
    sci_goes_to_the_tribunal_judiciaire(world, tmp_path)
    trader_in_a_tae_district(world, tmp_path)
    unknown_form_goes_to_the_tribunal_judiciaire(world, tmp_path)
