"""Where a claim is filed: the court (or officer) and the form of each procedure.

One function decides it, `filing`: the litigation queue stores its answer on
the dossier and the dossier's export shows what was stored, so the two can
never disagree. Figures and lists come from ``rules/courts.yaml``.
"""

from __future__ import annotations

import calendar
import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from importlib.resources import files
from typing import Any

import yaml

from recouvrement.domain.model import DebtorKind

TJ_FORM = "Cerfa 12948"
TC_FORM = "Cerfa 12946"


@dataclass(frozen=True)
class EconomicCourt:
    seat: str
    departement: str
    whole: bool  # the only commercial court of its département


@dataclass(frozen=True)
class CourtRules:
    legal_forms: Mapping[str, bool | None]  # folded form -> trader, None unknown
    unknown_trader: bool
    tae_from: date
    tae_until: date
    tae_courts: tuple[EconomicCourt, ...]
    # (orders issued from, months to serve them), oldest first
    service_months: tuple[tuple[date, int], ...]
    service_source: str = ""


@dataclass(frozen=True)
class TraderStatus:
    is_trader: bool  # what the court choice uses
    known: bool  # False: neither the form nor the export said; is_trader is the default
    reason: str


@dataclass(frozen=True)
class Filing:
    """Where to file: the court or officer, the form, why, and what the user should check."""

    court: str
    form: str
    reason: str
    to_check: str = ""  # what the user must check (a code below), "" when nothing

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fold(text: str) -> str:
    """A legal form as the table keys it: no accents, dots, spaces or case."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


@functools.cache
def load_court_rules() -> CourtRules:
    """The packaged table, read once per process."""
    text = files("recouvrement.domain").joinpath("rules").joinpath("courts.yaml").read_text(
        encoding="utf-8")
    return parse_court_rules(yaml.safe_load(text))


def parse_court_rules(data: Mapping[str, Any]) -> CourtRules:
    """Build and check the rules; ValueError names the bad entry."""
    forms = {}
    for name, trader in data["legal_forms"]["forms"].items():
        if trader not in (True, False, None):
            raise ValueError(f"courts.yaml: legal form {name!r}: trader must be true, false "
                             f"or null, not {trader!r}")
        forms[fold(str(name))] = trader
    tae = data["economic_activities_courts"]
    courts = tuple(EconomicCourt(str(c["seat"]), str(c["departement"]), bool(c["whole"]))
                   for c in tae["courts"])
    if len({c.seat for c in courts}) != len(courts):
        raise ValueError("courts.yaml: a tribunal des activités économiques is listed twice")
    service = tuple((r["orders_from"], int(r["months"]))
                    for r in data["service_deadline"]["rules"])
    if [d for d, _ in service] != sorted(d for d, _ in service):
        raise ValueError("courts.yaml: service_deadline rules must be oldest first")
    return CourtRules(forms, bool(data["legal_forms"]["unknown_trader"]), tae["from"],
                      tae["until"], courts, service,
                      " ".join(str(data["service_deadline"]["source"]).split()))


def debtor_trader_status(kind: DebtorKind, legal_form: str | None, trader: bool | None,
                         rules: CourtRules | None = None) -> TraderStatus:
    """Is the debtor a trader, for the court's jurisdiction (Code de commerce L721-3)?

    The export's explicit ``trader`` wins; else the ``legal_form`` table; else
    unknown, read as the rules' default (not a trader: the tribunal judiciaire
    has general jurisdiction). A consumer or a public person is never one.
    """
    rules = rules or load_court_rules()
    if kind is not DebtorKind.B2B:
        return TraderStatus(False, True, f"a {kind.value} debtor is not a trader")
    if trader is not None:
        return TraderStatus(trader, True, "the customers export says the debtor is "
                            + ("a trader" if trader else "not a trader"))
    found = rules.legal_forms.get(fold(legal_form)) if legal_form else None
    if found is not None:
        return TraderStatus(found, True, f"legal form {legal_form}: "
                            + ("a commercial company (Code de commerce L210-1)" if found
                               else "not a trader"))
    said = (f"legal form {legal_form} does not say whether the debtor is a trader"
            if legal_form else "the customers export gives no legal form")
    return TraderStatus(rules.unknown_trader, False, said)


def departement(postcode: str | None) -> str | None:
    """The département of a French postcode: its first two digits (97x overseas)."""
    digits = "".join(c for c in (postcode or "") if c.isdigit())
    if len(digits) != 5:
        return None
    return digits[:3] if digits.startswith("97") else digits[:2]


# What the user must check about the court named, when it is not certain.
SEAT_UNKNOWN = "court_of_seat"  # no data on the commercial court of the debtor's seat
SEVERAL_COURTS = "several_courts"  # the TAE or another commercial court of the département
TRADER_UNKNOWN = "trader_unknown"  # tribunal judiciaire chosen, the debtor may be a trader
EXPERIMENT_ENDED = "experiment_ended"  # the TAE experiment's end date has passed


def commercial_court(postcode: str | None, on: date,
                     rules: CourtRules | None = None) -> tuple[str, str, str]:
    """The commercial court of the debtor's seat on ``on``: name, what to check, why.

    Only a TAE that is the one commercial court of its département is named
    outright; elsewhere the dossier says what to check instead of guessing.
    """
    rules = rules or load_court_rules()
    generic = "tribunal de commerce du siège du débiteur"
    dept = departement(postcode)
    if on < rules.tae_from:
        return generic, SEAT_UNKNOWN, "the commercial court of the debtor's seat (CPC 1406)"
    if on > rules.tae_until:
        return (generic, EXPERIMENT_ENDED,
                f"the experiment of the tribunaux des activités économiques ended on "
                f"{rules.tae_until.isoformat()} unless extended: check the court of the seat")
    court = next((c for c in rules.tae_courts if c.departement == dept), None)
    if court is None:
        where = f"département {dept}" if dept else "postcode unknown"
        return (generic, SEAT_UNKNOWN,
                f"no tribunal des activités économiques in the {where}: the tribunal de "
                "commerce of the debtor's seat (CPC 1406)")
    name = f"tribunal des activités économiques de {court.seat}"
    why = (f"postcode {postcode}: the tribunal de commerce de {court.seat} sits as a tribunal "
           f"des activités économiques since {rules.tae_from.isoformat()} (loi n° 2023-1059, "
           "art. 26)")
    if court.whole:
        return name, "", why
    return (name, SEVERAL_COURTS,
            f"{why}, but it is not the only commercial court of the département {dept}: "
            "check which one the debtor's seat comes under")


def injonction_court(kind: DebtorKind, debtor: TraderStatus, creditor_is_trader: bool,
                     postcode: str | None, *, on: date,
                     rules: CourtRules | None = None) -> Filing:
    """The court for a request for an injonction de payer (CPC 1405-1406).

    Between traders: the commercial court of the debtor's seat (Code de
    commerce L721-3; since 2025 a tribunal des activités économiques in twelve
    districts), Cerfa 12946. Otherwise the tribunal judiciaire of the debtor's
    domicile or seat (CPC 1406), Cerfa 12948: a non-trader is sued before the
    civil court, whoever the creditor is.
    """
    rules = rules or load_court_rules()
    if kind is DebtorKind.B2B and debtor.is_trader and creditor_is_trader:
        court, check, where = commercial_court(postcode, on, rules)
        return Filing(court, TC_FORM, f"creditor and debtor both traders ({debtor.reason}; "
                      f"Code de commerce L721-3); {where}", check)
    court = "tribunal judiciaire du domicile ou du siège du débiteur"
    if kind is DebtorKind.B2B and not debtor.known:
        return Filing(court, TJ_FORM, (
            f"{debtor.reason}: the tribunal judiciaire, which has general jurisdiction (Code "
            "de l'organisation judiciaire L211-3), is chosen; if the debtor is a trader (its "
            "Kbis shows it) and so is the creditor, the tribunal de commerce of its seat is "
            "the court (Cerfa 12946): check"), TRADER_UNKNOWN)
    why = debtor.reason if not debtor.is_trader else "the creditor is not a trader"
    return Filing(court, TJ_FORM, f"{why}: the tribunal judiciaire (CPC 1406)")


OTHER_ROUTES = {
    "petites_creances": Filing("commissaire de justice (CPCE L125-1)",
                               "demande de recouvrement simplifié des petites créances",
                               "CPCE L125-1, R125-1"),
    "refere_provision": Filing("tribunal administratif (CJA R541-1)",
                               "réclamation préalable, puis requête en référé-provision",
                               "no injonction de payer against a public person"),
    "declaration_de_creance": Filing("mandataire judiciaire (C. com. L622-24)",
                                     "déclaration de créance", "C. com. L622-24"),
}


def filing(procedure: str, kind: DebtorKind, debtor: TraderStatus, creditor_is_trader: bool,
           postcode: str | None, *, on: date, rules: CourtRules | None = None) -> Filing:
    """The court or officer, and the form, for the recommended procedure."""
    if procedure == "injonction_de_payer":
        return injonction_court(kind, debtor, creditor_is_trader, postcode, on=on, rules=rules)
    return OTHER_ROUTES.get(procedure, Filing("", "", ""))


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def service_months(order_on: date, rules: CourtRules | None = None) -> int:
    """Months within which an order issued on ``order_on`` must be served (CPC 1411)."""
    rules = rules or load_court_rules()
    return [m for start, m in rules.service_months if start <= order_on][-1]


def service_deadline(order_on: date, rules: CourtRules | None = None) -> date:
    """The last day to serve an order issued on ``order_on``; after it, the order is void."""
    return _add_months(order_on, service_months(order_on, rules))


def service_months_from(earliest_order: date, rules: CourtRules | None = None) -> int:
    """The shortest service delay that can apply to an order issued on or after the day.

    The order is issued after the dossier is exported, on a day not known
    yet: the dossier gives the shortest delay in force then or later, never a
    longer one that a later order would not have.
    """
    rules = rules or load_court_rules()
    return min([service_months(earliest_order, rules)]
               + [m for start, m in rules.service_months if start > earliest_order])
