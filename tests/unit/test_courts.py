"""Where a claim is filed, and one claim one dossier: tables of the pure rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.courts import (
    EXPERIMENT_ENDED,
    SEAT_UNKNOWN,
    SEVERAL_COURTS,
    TC_FORM,
    TJ_FORM,
    TRADER_UNKNOWN,
    commercial_court,
    debtor_trader_status,
    departement,
    filing,
    fold,
    injonction_court,
    load_court_rules,
    parse_court_rules,
    service_deadline,
    service_months_from,
)
from recouvrement.domain.dossier import (
    DossierOfDebtor,
    claim_elsewhere,
    dossier_to_join,
    statement_totals,
)
from recouvrement.domain.legal import recommend_procedure
from recouvrement.domain.model import Debtor, DebtorKind, Procedure

B2B, B2C, PUBLIC = DebtorKind.B2B, DebtorKind.B2C, DebtorKind.PUBLIC
D = Decimal
DEC_2026 = date(2026, 12, 2)
TJ = "tribunal judiciaire du domicile ou du siège du débiteur"
TC = "tribunal de commerce du siège du débiteur"


# --- is the debtor a trader? -----------------------------------------------------------


@pytest.mark.parametrize("kind, legal_form, trader, is_trader, known", [
    (B2B, "SAS", None, True, True),          # commercial by its form, C. com. L210-1
    (B2B, "s.a.r.l.", None, True, True),     # dots and case do not matter
    (B2B, "Société Anonyme", None, None, False),  # not a key of the table: unknown
    (B2B, "SA", None, True, True),
    (B2B, "SNC", None, True, True),
    (B2B, "SCI", None, False, True),         # civil company (C. civ. 1845)
    (B2B, "SCP", None, False, True),
    (B2B, "GAEC", None, False, True),        # farmers
    (B2B, "EARL", None, False, True),
    (B2B, "association", None, False, True),
    (B2B, "Profession libérale", None, False, True),  # accents do not matter either
    (B2B, "SELARL", None, False, False),     # commercial form, civil object: unknown
    (B2B, "EI", None, False, False),         # an EI may be a trader or not
    (B2B, "micro-entreprise", None, False, False),
    (B2B, None, None, False, False),         # no legal form at all
    (B2B, "EI", True, True, True),           # the export's trader column wins ...
    (B2B, "SAS", False, False, True),        # ... either way
    (B2C, "SAS", True, False, True),         # a consumer or a public person never is one
    (PUBLIC, None, None, False, True),
])
def test_debtor_trader_status(kind, legal_form, trader, is_trader, known):
    status = debtor_trader_status(kind, legal_form, trader)
    # Unknown reads as the rules' default: not a trader (the tribunal judiciaire).
    assert status.is_trader is (False if is_trader is None else is_trader)
    assert status.known is known
    assert status.reason


def test_fold_keeps_letters_and_digits_only():
    assert fold(" Profession  libérale ") == "professionliberale"
    assert fold("S.A.S.U.") == "sasu"


# --- postcode -> commercial court ----------------------------------------------------------


@pytest.mark.parametrize("postcode, dept", [
    ("75008", "75"), ("92000", "92"), ("69002", "69"), ("97400", "974"), ("01000", "01"),
    ("7500", None), ("", None), (None, None), ("75 008", "75"),
])
def test_departement(postcode, dept):
    assert departement(postcode) == dept


@pytest.mark.parametrize("postcode, on, court, check", [
    # Paris and Hauts-de-Seine: one commercial court each, a TAE since 1 January 2025.
    ("75008", DEC_2026, "tribunal des activités économiques de Paris", ""),
    ("92000", DEC_2026, "tribunal des activités économiques de Nanterre", ""),
    ("75008", date(2025, 1, 1), "tribunal des activités économiques de Paris", ""),
    # The day before the experiment: still the tribunal de commerce.
    ("75008", date(2024, 12, 31), TC, SEAT_UNKNOWN),
    # Rhône has other commercial courts than Lyon's: named, with a check.
    ("69002", DEC_2026, "tribunal des activités économiques de Lyon", SEVERAL_COURTS),
    ("13001", DEC_2026, "tribunal des activités économiques de Marseille", SEVERAL_COURTS),
    ("76600", DEC_2026, "tribunal des activités économiques de Le Havre", SEVERAL_COURTS),
    # Gironde: no TAE, the court of the seat.
    ("33000", DEC_2026, TC, SEAT_UNKNOWN),
    (None, DEC_2026, TC, SEAT_UNKNOWN),
    # After 31 December 2028 the experiment is over unless extended.
    ("75008", date(2029, 1, 1), TC, EXPERIMENT_ENDED),
])
def test_commercial_court(postcode, on, court, check):
    got, what, why = commercial_court(postcode, on)
    assert (got, what) == (court, check)
    assert why


def test_the_twelve_tribunaux_des_activites_economiques():
    # Arrêté du 5 juillet 2024 (loi n° 2023-1059, art. 26).
    assert sorted(c.seat for c in load_court_rules().tae_courts) == [
        "Auxerre", "Avignon", "Le Havre", "Le Mans", "Limoges", "Lyon", "Marseille", "Nancy",
        "Nanterre", "Paris", "Saint-Brieuc", "Versailles"]


# --- the injonction de payer's court -------------------------------------------------------


SAS = debtor_trader_status(B2B, "SAS", None)
SCI = debtor_trader_status(B2B, "SCI", None)
UNKNOWN = debtor_trader_status(B2B, None, None)
CONSUMER = debtor_trader_status(B2C, None, None)


@pytest.mark.parametrize("kind, debtor, creditor_trader, postcode, court, form, check", [
    # Both traders: the commercial court (L721-3), in Paris the TAE, Cerfa 12946.
    (B2B, SAS, True, "75008", "tribunal des activités économiques de Paris", TC_FORM, ""),
    (B2B, SAS, True, "33000", TC, TC_FORM, SEAT_UNKNOWN),
    # A SCI in Paris: not a trader, the tribunal judiciaire even in a TAE district.
    (B2B, SCI, True, "75008", TJ, TJ_FORM, ""),
    # The creditor is not a trader: the tribunal judiciaire.
    (B2B, SAS, False, "75008", TJ, TJ_FORM, ""),
    # The form does not say: the tribunal judiciaire (general jurisdiction), to check.
    (B2B, UNKNOWN, True, "75008", TJ, TJ_FORM, TRADER_UNKNOWN),
    (B2C, CONSUMER, True, "75008", TJ, TJ_FORM, ""),
])
def test_injonction_court(kind, debtor, creditor_trader, postcode, court, form, check):
    got = injonction_court(kind, debtor, creditor_trader, postcode, on=DEC_2026)
    assert (got.court, got.form, got.to_check) == (court, form, check)


@pytest.mark.parametrize("procedure, court", [
    ("petites_creances", "commissaire de justice (CPCE L125-1)"),
    ("refere_provision", "tribunal administratif (CJA R541-1)"),
    ("declaration_de_creance", "mandataire judiciaire (C. com. L622-24)"),
    ("injonction_de_payer", "tribunal des activités économiques de Paris"),
])
def test_filing_of_each_route(procedure, court):
    assert filing(procedure, B2B, SAS, True, "75008", on=DEC_2026).court == court


def test_recommend_procedure_names_the_same_court_as_the_filing():
    # 7000.00 > 5000.00: injonction de payer; a SCI of Paris goes to the tribunal judiciaire.
    sci = Debtor(account="411SCI", name="SCI Les Tilleuls", legal_form="SCI", postcode="75011")
    procedure, reasons = recommend_procedure(sci, D("7000.00"), on=DEC_2026)
    assert procedure is Procedure.INJONCTION_DE_PAYER
    assert TJ in reasons[-1] and TJ_FORM in reasons[-1] and TC_FORM not in reasons[-1]
    sas = Debtor(account="411SAS", name="Durand SAS", legal_form="SAS", postcode="75011")
    _, reasons = recommend_procedure(sas, D("7000.00"), on=DEC_2026)
    assert "tribunal des activités économiques de Paris" in reasons[-1]


def test_a_legal_form_table_entry_must_be_true_false_or_null():
    bad = {"legal_forms": {"forms": {"SAS": "yes"}, "unknown_trader": False}}
    with pytest.raises(ValueError, match="SAS"):
        parse_court_rules(bad)


# --- serving the order (CPC 1411, décret n° 2026-96) ----------------------------------------


@pytest.mark.parametrize("order_on, last_day", [
    (date(2026, 8, 31), date(2027, 2, 28)),   # before 1 September 2026: 6 months (28 Feb)
    (date(2026, 9, 1), date(2026, 12, 1)),    # from 1 September 2026: 3 months
    (date(2026, 11, 30), date(2027, 2, 28)),  # 30 November + 3 months: no 30 February
    (date(2026, 12, 2), date(2027, 3, 2)),
])
def test_service_deadline(order_on, last_day):
    assert service_deadline(order_on) == last_day


@pytest.mark.parametrize("exported_on, months", [
    # Exported in August: the order may come in September: the shorter delay.
    (date(2026, 8, 20), 3),
    (date(2026, 12, 2), 3),
    (date(2025, 6, 1), 3),
])
def test_the_dossier_gives_the_shortest_delay_an_order_issued_later_can_have(exported_on,
                                                                              months):
    assert service_months_from(exported_on) == months


# --- one claim, one dossier ------------------------------------------------------------------


def dossier(id, status="queued", exported_on=None, declared=False, owed="0"):
    return DossierOfDebtor(id, status, exported_on, declared, D(owed))


@pytest.mark.parametrize("dossiers, declared, joined", [
    ([], False, None),
    ([dossier("a")], False, "a"),
    # A claim declared in collective proceedings never joins a chased one, nor the reverse.
    ([dossier("a", declared=True)], False, None),
    ([dossier("a", declared=True)], True, "a"),
    # Exported (even if back to queued by hand) or further on: a new dossier.
    ([dossier("a", "exported", date(2026, 11, 1))], False, None),
    ([dossier("a", "queued", date(2026, 11, 1))], False, None),
    ([dossier("a", "closed")], False, None),
    ([dossier("a", "with_bailiff", date(2026, 11, 1)), dossier("b")], False, "b"),
    ([dossier("a"), dossier("b")], False, "a"),  # the oldest
])
def test_dossier_to_join(dossiers, declared, joined):
    assert dossier_to_join(dossiers, declared=declared) == joined


def test_claim_elsewhere_adds_the_other_live_dossiers_of_the_same_kind():
    dossiers = [dossier("a", "exported", date(2026, 11, 1), owed="3000.00"),
                dossier("b", "with_lawyer", date(2026, 11, 2), owed="500.00"),
                dossier("c", "closed", owed="9999.00"),          # closed: not owed any more
                dossier("d", declared=True, owed="700.00"),      # declared: another claim
                dossier("e", owed="100.00")]                     # the dossier itself
    # 3000.00 + 500.00 = 3500.00
    assert claim_elsewhere(dossiers, declared=False, besides="e") == (D("3500.00"), ("a", "b"))


def test_statement_totals_sum_the_lines():
    lines = [{"principal": "2500.00", "interest": "12.33"},
             {"principal": "2600.00", "interest": "3.07"}]
    # principal 2500.00 + 2600.00 = 5100.00; interest 12.33 + 3.07 = 15.40
    assert statement_totals(lines) == (D("5100.00"), D("15.40"))


# --- the export shows what the queue decided ------------------------------------------------


def test_the_export_shows_the_stored_court_even_if_the_setting_changed_since():
    from recouvrement.adapters.db.models import Debtor as DebtorRow
    from recouvrement.adapters.db.models import LitigationDossier
    from recouvrement.services.dossier import where_to_file

    row = DebtorRow(kind="B2B", legal_form="SAS", trader=None, postcode="75002")
    stored = filing("injonction_de_payer", B2B, SAS, True, "75002", on=DEC_2026).as_dict()
    queued = LitigationDossier(procedure="injonction_de_payer", queued_on=DEC_2026,
                               filing=stored)
    # Queued with a trader creditor; exported after the setting says otherwise: as queued.
    assert where_to_file(queued, row, creditor_is_trader=False) == stored
    # A dossier queued before courts were stored: the same rule, as of its queueing day.
    older = LitigationDossier(procedure="injonction_de_payer", queued_on=date(2024, 6, 3),
                              filing=None)
    assert where_to_file(older, row, creditor_is_trader=True)["court"] == TC
