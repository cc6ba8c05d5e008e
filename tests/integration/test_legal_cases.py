"""Issue 14's cases played through the CLI to the litigation dossier, figures read back.

Exports are read with `recouvrement ingest`, the dossiers queued by the daily
run's litigation step (`litigation.escalate`, what `recouvrement run` calls; the
Prefect flow itself is tested in tests/flows), and read back with `litigation list`, `declarations` and `litigation
export`. The reminders are recorded as the outbox leaves them (the ladder
itself is tested elsewhere). Every figure is computed by hand in a comment:
ECB 3.15 % on 1 Jan 2025, 2.15 % on 1 Jul 2025; B2B 12.15 % in 2025-H2.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.domain.policy import load_policy
from recouvrement.services.litigation import escalate
from tests.conftest import BACKENDS
from tests.dossier_builders import ladder
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

FIRST, PAID, NOTICE, QUEUE = date(2025, 11, 4), date(2025, 11, 5), date(2025, 11, 20), date(2025, 12, 5)
OPENING = date(2025, 10, 1)


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def customers():
    return [customer("411TROIS"), customer("411PLAFOND"), customer("411PRESSE"),
            customer("411MAIRIE", kind="PUBLIC", siren="217500016"),
            customer("411REDRESS", collective_proceedings_since=OPENING.isoformat()),
            customer("411CONTRAT")]


def invoices(paid: bool):
    return [
        # Three invoices, 500 paid on A (seen in the export of 5 Nov).
        invoice("A", "411TROIS", date(2025, 9, 30), "1000.00", "500.00" if paid else None),
        invoice("B", "411TROIS", date(2025, 10, 15), "1500.00"),
        invoice("C", "411TROIS", date(2025, 10, 31), "800.00"),
        invoice("P1", "411PLAFOND", date(2025, 10, 6), "4000.00"),
        invoice("P2", "411PLAFOND", date(2025, 11, 5), "900.00"),
        # Issued 1 Dec 2020, due 31 Dec 2020: five years from the due date (C. civ. 2233).
        invoice("U1", "411PRESSE", date(2020, 12, 31), "1200.00", issued=date(2020, 12, 1)),
        invoice("M1", "411MAIRIE", date(2025, 6, 20), "10000.00"),
        # Due 30 Nov 2020, reminded until 20 Jan 2021 (loi 68-1250 art. 2).
        invoice("M0", "411MAIRIE", date(2020, 11, 30), "300.00", issued=date(2020, 10, 31)),
        # Collective proceedings opened 1 Oct 2025:
        invoice("K1", "411REDRESS", date(2025, 9, 15), "800.00"),  # overdue before: fee kept
        invoice("K2", "411REDRESS", date(2025, 10, 20), "600.00",  # due after: fee lost
                issued=date(2025, 9, 20)),
        invoice("K3", "411REDRESS", date(2025, 11, 9), "700.00",  # born after: chased
                issued=date(2025, 10, 10)),
        invoice("T1", "411CONTRAT", date(2025, 6, 15), "2000.00"),
    ]


def ingest(home, day, paid):
    write_customers(home / "inbox", customers())
    write_invoices(home / "inbox", day, invoices(paid))
    run("ingest", "--as-of", day)


@pytest.fixture
def cases(home, database_url, tmp_path, monkeypatch):
    policy = tmp_path / "policy.yaml"
    # 9 % agreed with 411CONTRAT: valid today (3 x 2.62 = 7.86), not in 2025-H1 (11.13).
    policy.write_text(
        "name: agreed\nlevels:\n"
        "  - {level: 1, offset_days: 0, relative_to: due_date, channels: [email]}\n"
        "  - {level: 2, offset_days: 15, relative_to: previous_level, channels: [email]}\n"
        "  - {level: 3, offset_days: 8, relative_to: previous_level, channels: [email]}\n"
        "debtors:\n  411CONTRAT: {contractual_rate: \"9.00\"}\n", encoding="utf-8")
    monkeypatch.setenv("RECOUVREMENT_POLICY", str(policy))
    db = open_database(database_url)
    ingest(home, FIRST, paid=False)
    ingest(home, PAID, paid=True)
    for account, numbers in [("411TROIS", ["A", "B", "C"]), ("411PLAFOND", ["P1", "P2"]),
                             ("411PRESSE", ["U1"]), ("411MAIRIE", ["M1"]),
                             ("411REDRESS", ["K3"]), ("411CONTRAT", ["T1"])]:
        ladder(db, account, numbers, NOTICE)
    ladder(db, "411MAIRIE", ["M0"], date(2021, 1, 20))
    ingest(home, QUEUE, paid=True)
    with db.session() as session:  # the daily run's litigation step, with the policy in force
        escalate(session, today=QUEUE, policy=load_policy(policy), actor="flow-run:test")
    return {d["debtor"] + ("/declared" if d["procedure"] == "declaration_de_creance" else ""): d
            for d in json.loads(run("litigation", "list", "--format", "json"))}


def figures(d):
    return (d["principal"], d["interest"], d["fixed_fees"], d["total"], d["procedure"])


def test_amounts_and_routes_of_every_case(cases, home, tmp_path):
    # 411TROIS. A: 1 Oct - 5 Nov, 36 days on 1000: 1000 x 12.15 % x 36/365 = 11.98 -> paid by
    # the 500 first (C. civ. 1343-1), 488.02 to principal -> 511.98; 6 Nov - 5 Dec, 30 days:
    # 511.98 x 12.15 % x 30/365 = 5.11. B: 16 Oct - 5 Dec, 51 days: 1500 x 12.15 % x 51/365
    # = 25.47. C: 1 Nov - 5 Dec, 35 days: 800 x 12.15 % x 35/365 = 9.32.
    # Principal 2811.98, interest 39.90, fees 3 x 40; 2971.88 (the old engine: 2965.77).
    assert figures(cases["411TROIS"]) == ("2811.98", "39.90", "120.00", "2971.88",
                                          "petites_creances")
    # 411PLAFOND. P1: 7 Oct - 5 Dec, 60 days: 4000 x 12.15 % x 60/365 = 79.89;
    # P2: 6 Nov - 5 Dec, 30 days: 900 x 12.15 % x 30/365 = 8.99. Principal and interest
    # 4988.88 <= 5000 (CPCE R125-1): a small claim though the total with fees is 5068.88.
    assert figures(cases["411PLAFOND"]) == ("4900.00", "88.88", "80.00", "5068.88",
                                            "petites_creances")
    # 411PRESSE. Due 31 Dec 2020: prescribed after 31 Dec 2025, 26 days away (the old engine,
    # from the issue date, held it as prescribed since 2 Dec 2025). Urgent: not the small-claims
    # procedure, which would not interrupt the prescription (CPCE L125-1; C. civ. 2241).
    assert cases["411PRESSE"]["procedure"] == "injonction_de_payer"
    shown = json.loads(run("litigation", "show", cases["411PRESSE"]["id"], "--format", "json"))
    reasons = " ".join(shown["reasons"])
    assert "URGENT: U1 is prescribed after 2025-12-31" in reasons and "2241" in reasons
    # Counted from the invoice date, as courts may, it could be argued prescribed already.
    assert "could be argued prescribed since 2025-12-02" in reasons
    # 411MAIRIE. M1: interest began on 21 Jun 2025, in 2025-H1: 3.15 + 8 = 11.15 % for the whole
    # delay (CCP R2192-31): 21 Jun - 5 Dec = 10 + 158 = 168 days:
    # 10000 x 11.15 % x 168/365 = 513.21 (re-rated on 1 July: 469.92).
    # M0: due 30 Nov 2020, last reminder 20 Jan 2021: four years from 1 Jan 2022 (loi 68-1250
    # art. 2), alive until 31 Dec 2025 (the old engine dropped it on 1 Jan 2025). Its interest
    # began in 2020-H2: ECB 0.00 on 1 Jul 2020 + 8 = 8 % for the whole delay; 300 x 8 % = 24 a
    # year: 1 - 31 Dec 2020 31/366, 2021 to 2024 four whole years, 1 Jan - 5 Dec 2025 339/365:
    # 24 x (0.0846995 + 4 + 0.9287671) = 120.3232. Interest 513.21 + 120.32 = 633.53.
    mairie = cases["411MAIRIE"]
    assert figures(mairie) == ("10300.00", "633.53", "80.00", "11013.53", "refere_provision")
    # 411REDRESS. Declared: K1 overdue before the opening keeps its 40 EUR (C. com. L441-10),
    # interest 16 Sep - 1 Oct (L622-28), 16 days: 800 x 12.15 % x 16/365 = 4.26; K2, due after
    # the opening, loses it and bears none. K3, born after the opening, is chased: 10 Nov - 5 Dec,
    # 26 days: 700 x 12.15 % x 26/365 = 6.06, plus 40.
    assert figures(cases["411REDRESS/declared"]) == ("1400.00", "4.26", "40.00", "1444.26",
                                                     "declaration_de_creance")
    assert figures(cases["411REDRESS"]) == ("700.00", "6.06", "40.00", "746.06",
                                            "petites_creances")
    # 411CONTRAT, 9 % agreed: 16 - 30 Jun 2025 floored at 3 x 3.71 = 11.13 %:
    # 2000 x 11.13 % x 15/365 = 9.1479; 1 Jul - 5 Dec at 9 %: 2000 x 9 % x 158/365 = 77.9178;
    # 87.0658 -> 87.07. The run went on for everyone (the old engine stopped on a ValueError).
    assert figures(cases["411CONTRAT"]) == ("2000.00", "87.07", "40.00", "2127.07",
                                            "petites_creances")
    declarations = json.loads(run("declarations", "--format", "json"))
    assert [(d["account"], d["open_amount"]) for d in declarations] == [("411REDRESS", "1400.00")]


def test_the_exported_statement_shows_the_imputation_line_by_line(cases, tmp_path):
    run("litigation", "export", cases["411TROIS"]["id"], "--out", tmp_path / "out",
        "--as-of", QUEUE.isoformat())
    [folder] = (tmp_path / "out").iterdir()
    data = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
    a = next(line for line in data["claim"]["invoices"] if line["invoice"] == "A")
    assert a["imputations"] == [{
        "on": "2025-11-05", "payment": "500.00", "interest_due": "11.98",
        "to_interest": "11.98", "to_principal": "488.02", "principal_after": "511.98",
        "date_known": True, "after_queueing": False}]
    assert [(p["start"], p["end"], p["days"], p["principal"], p["rate"], p["amount"])
            for p in a["periods"]] == [
        ("2025-10-01", "2025-11-05", 36, "1000.00", "12.15", "11.98"),
        ("2025-11-06", "2025-12-05", 30, "511.98", "12.15", "5.11")]
    assert (a["principal"], a["interest"], a["interest_paid_by_imputation"], a["rounding"]) == (
        "511.98", "5.11", "11.98", "0.00")
    assert (a["amount"], a["paid_before_queueing"]) == ("1000.00", "500.00")
    assert data["claim"]["total"] == "2971.88"
    reasons = " ".join(data["procedure"]["reasons"])
    assert "25-70.013" in reasons and "fixed fees do not count" in reasons
    text = " ".join(page.extract_text() for page in PdfReader(folder / "dossier.pdf").pages)
    text = " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())
    for expected in ("Imputation des paiements", "488,02 €", "511,98 €", "11,98 €",
                     "2 971,88 €", "n° 25-70.013", "en principal et intérêts"):
        assert expected in text, expected
    assert "une tentative de conciliation ou de médiation est requise" not in text


def test_the_public_dossier_cites_the_right_articles(cases, tmp_path):
    run("litigation", "export", cases["411MAIRIE"]["id"], "--out", tmp_path / "out",
        "--as-of", QUEUE.isoformat())
    [folder] = (tmp_path / "out").iterdir()
    data = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
    m1 = next(line for line in data["claim"]["invoices"] if line["invoice"] == "M1")
    assert {p["rate"] for p in m1["periods"]} == {"11.15"}
    assert m1["interest"] == "513.21"
    m0 = next(line for line in data["claim"]["invoices"] if line["invoice"] == "M0")
    assert m0["limitation_ends_on"] == "2025-12-31"
    assert {p["rate"] for p in m0["periods"]} == {"8.00"}
    assert "D2192-35" in data["claim"]["fee_basis"]
    assert "R2192-32" not in json.dumps(data, ensure_ascii=False)


def test_a_later_export_restates_each_case_by_its_own_rule(cases, tmp_path):
    def restated(key):
        out = tmp_path / key.replace("/", "_")
        run("litigation", "export", cases[key]["id"], "--out", out, "--as-of", "2025-12-31")
        [folder] = out.iterdir()
        return json.loads((folder / "dossier.json").read_text(encoding="utf-8"))["claim"]

    # 411CONTRAT keeps the 9 % agreed, kept with its statement: 16 - 30 Jun 2025 floored at
    # 11.13 %: 9.1479; 1 Jul - 31 Dec at 9 % (above 3 x 2.76 = 8.28): 2000 x 9 % x 184/365 =
    # 90.7397; 99.8876 -> 99.89.
    claim = restated("411CONTRAT")
    assert (claim["interest"], claim["total"]) == ("99.89", "2139.89")
    assert {p["rate"] for p in claim["invoices"][0]["periods"]} == {"11.13", "9.00"}
    # The declared claims bear no interest after the opening (C. com. L622-28): unchanged.
    claim = restated("411REDRESS/declared")
    assert claim["interest"] == "4.26"
    assert {line["interest_until"] for line in claim["invoices"]} == {"2025-10-01"}
    # 411MAIRIE M1: one rate, 11.15 %, for the whole delay (CCP R2192-31): 21 Jun - 31 Dec,
    # 194 days: 10000 x 11.15 % x 194/365 = 592.6301 -> 592.63.
    m1 = next(line for line in restated("411MAIRIE")["invoices"] if line["invoice"] == "M1")
    assert (m1["interest"], {p["rate"] for p in m1["periods"]}) == ("592.63", {"11.15"})
