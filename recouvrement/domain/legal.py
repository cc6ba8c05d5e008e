"""Legal computations of French debt collection: interest, fees, procedure, limitation.

Figures come from ``rules/rates.yaml`` (see ``rates.py``); this module holds
the rules that combine them. Articles are cited where each rule is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Literal

from recouvrement.domain.model import Debtor, DebtorKind, Procedure, to_cents
from recouvrement.domain.rates import (
    RateTables,
    half_year_label,
    load_rates,
    next_half_year_start,
)

LimitationStatus = Literal["ok", "urgent", "prescribed"]

# Enough digits that the per-period amounts are exact for any realistic
# principal before the one rounding of the total.
_PRECISION = 50


@dataclass(frozen=True)
class InterestPeriod:
    """Interest for the days start..end, both included, at one rate and one year length."""

    start: date
    end: date
    days: int
    year_days: int
    rate: Decimal  # annual percent
    amount: Decimal  # exact, not rounded
    provisional: bool = False


@dataclass(frozen=True)
class InterestStatement:
    principal: Decimal
    start: date | None  # first day that bears interest; None when none can
    end: date  # last day included
    periods: tuple[InterestPeriod, ...]
    total: Decimal  # rounded half-up to the cent, once
    notes: tuple[str, ...]

    @property
    def provisional(self) -> bool:
        return any(p.provisional for p in self.periods)


def _year_days(year: int) -> int:
    # Actual days of the civil year: 366 in a leap year (L441-10 practice).
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


def _split(first: date, last: date) -> list[tuple[date, date]]:
    """Cut first..last at each 1 January and 1 July (rate and year-length changes)."""
    pieces = []
    while first <= last:
        cut = min(next_half_year_start(first) - timedelta(days=1), last)
        pieces.append((first, cut))
        first = cut + timedelta(days=1)
    return pieces


def late_interest(
    principal: Decimal,
    kind: DebtorKind,
    due_date: date,
    until: date,
    *,
    formal_notice_on: date | None = None,
    rates: RateTables | None = None,
    contractual_rate: Decimal | None = None,
) -> InterestStatement:
    """Simple late interest on ``principal`` up to and including ``until``.

    B2B and PUBLIC: runs from the day after the due date, without any reminder
    (Code de commerce L441-10; Code de la commande publique L2192-13).
    B2C: runs only from the formal notice (Code civil 1231-6 and 1344-1).
    """
    if isinstance(principal, float) or isinstance(contractual_rate, float):
        raise TypeError("late_interest: pass money and rates as Decimal, not float")
    if principal < 0:
        raise ValueError(f"late_interest: negative principal {principal}")
    if contractual_rate is not None and contractual_rate < 0:
        raise ValueError(f"late_interest: negative contractual rate {contractual_rate}")
    rates = rates or load_rates()
    notes: list[str] = []

    if kind is DebtorKind.B2C:
        if formal_notice_on is None:
            notes.append(
                "No formal notice: interest on a consumer's debt runs only from the "
                "mise en demeure (Code civil 1231-6, 1344-1)."
            )
            return InterestStatement(principal, None, until, (), to_cents(Decimal(0)), tuple(notes))
        if formal_notice_on < due_date:
            notes.append(
                "Formal notice sent before the due date: interest counted from the due date."
            )
        first = max(formal_notice_on, due_date) + timedelta(days=1)
    else:
        first = due_date + timedelta(days=1)

    periods: list[InterestPeriod] = []
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        for start, end in _split(first, until):
            rate, provisional = _rate_for(kind, start, rates, contractual_rate, notes)
            days = (end - start).days + 1
            year_days = _year_days(start.year)
            amount = principal * rate / 100 * days / year_days
            periods.append(InterestPeriod(start, end, days, year_days, rate, amount, provisional))
        total = to_cents(sum((p.amount for p in periods), Decimal(0)))

    if not periods:
        notes.append("No interest yet: the first day bearing interest is after the end date.")
    return InterestStatement(principal, first, until, tuple(periods), total, _unique(notes))


def _rate_for(
    kind: DebtorKind,
    day: date,
    rates: RateTables,
    contractual_rate: Decimal | None,
    notes: list[str],
) -> tuple[Decimal, bool]:
    label = half_year_label(day)
    if contractual_rate is None:
        rate, provisional = rates.late_interest_rate(kind, day)
        if provisional:
            notes.append(
                f"Rate for {label} is provisional: the published figure is not recorded "
                f"in rates.yaml yet, the last known one was used."
            )
        return rate, provisional
    if kind is DebtorKind.B2C:
        # The L441-10 floor concerns commercial relations only.
        return contractual_rate, False
    # L441-10 II: a contract may set the rate, never below 3 x the taux légal.
    legal, provisional = rates.legal_rate(day)
    floor = legal * rates.contractual_rate_floor_multiple
    if contractual_rate < floor:
        raise ValueError(
            f"Contractual rate {contractual_rate} % is below the legal minimum for {label}: "
            f"{rates.contractual_rate_floor_multiple} x taux légal {legal} % = {floor} % "
            f"(Code de commerce L441-10)."
        )
    if provisional:
        notes.append(
            f"The L441-10 minimum for {label} was checked against the last recorded "
            f"taux légal ({legal} %): provisional."
        )
    return contractual_rate, provisional


def _unique(notes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


def fixed_recovery_fee(
    kind: DebtorKind,
    invoice_count: int,
    *,
    collective_proceedings: bool,
    rates: RateTables | None = None,
) -> Decimal:
    """Indemnité forfaitaire: per unpaid invoice for B2B (D441-5) and PUBLIC (R2192-32 CCP).

    Nothing for a consumer (CPCE L111-8: recovery costs stay with the creditor)
    nor when collective proceedings bar payment of earlier debts (L622-7).
    """
    if invoice_count < 0:
        raise ValueError(f"fixed_recovery_fee: negative invoice count {invoice_count}")
    if kind is DebtorKind.B2C or collective_proceedings:
        return to_cents(Decimal(0))
    rates = rates or load_rates()
    return to_cents(rates.fixed_recovery_fee * invoice_count)


def recommend_procedure(
    debtor: Debtor,
    total: Decimal,
    *,
    creditor_is_trader: bool = True,
    rates: RateTables | None = None,
) -> tuple[Procedure, tuple[str, ...]]:
    """The judicial route for an unpaid claim of ``total`` (interest included), with reasons.

    Order of DESIGN §2: collective proceedings, public debtor, small claim,
    then injonction de payer.
    """
    rates = rates or load_rates()
    if debtor.in_collective_proceedings:
        since = debtor.collective_proceedings_since
        return Procedure.DECLARATION_DE_CREANCE, (
            f"Debtor in collective proceedings since {since.isoformat()}: no individual "
            "action or payment is allowed (Code de commerce L622-21).",
            "Declare the claim to the mandataire judiciaire within 2 months of the BODACC "
            "publication of the opening judgment (Code de commerce L622-24, R622-24).",
        )
    if debtor.kind is DebtorKind.PUBLIC:
        return Procedure.REFERE_PROVISION, (
            "No injonction de payer against a public person: send a prior claim to the "
            "entity, then ask the administrative judge for a référé-provision "
            "(Code de justice administrative R541-1).",
        )
    ceiling = rates.small_claims_ceiling
    if total <= ceiling:
        return Procedure.PETITES_CREANCES, (
            f"Claim of {to_cents(total)} EUR is at most {ceiling} EUR: procédure simplifiée "
            "de recouvrement des petites créances by a commissaire de justice (CPCE L125-1); "
            "it needs the debtor's agreement.",
            "If it fails, a conciliation or mediation attempt is required before going to "
            "court for such a claim (CPC 750-1).",
        )
    if debtor.kind is DebtorKind.B2B and creditor_is_trader:
        court = (
            "the tribunal de commerce, the creditor and the debtor both being traders "
            "(Cerfa 12946)"
        )
    else:
        court = "the tribunal judiciaire (Cerfa 12948)"
    return Procedure.INJONCTION_DE_PAYER, (
        f"Claim of {to_cents(total)} EUR is above {ceiling} EUR: request an injonction de "
        f"payer from {court} (CPC 1405 and following).",
    )


def limitation_date(kind: DebtorKind, start: date, *, rates: RateTables | None = None) -> date:
    """Last day on which the claim can still be brought to court.

    5 years B2B (Code de commerce L110-4), 2 years against a consumer (Code de
    la consommation L218-2), counted from ``start`` (delivery or invoice date,
    or the last interruption). Against a public person, 4 years from 1 January
    of the following year (loi n° 68-1250 du 31 décembre 1968, art. 1). The
    prescription is acquired when the last day is over (Code civil 2229).
    """
    rule = (rates or load_rates()).limitation_rules[kind]
    if rule.counted_from == "next_january_first":
        return date(start.year + rule.years, 12, 31)
    return _add_years(start, rule.years)


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        # 29 February: no same day that year, the term ends on the last day of
        # the month (CPC 641).
        return date(d.year + years, 2, 28)


def limitation_status(
    kind: DebtorKind, start: date, today: date, *, rates: RateTables | None = None
) -> LimitationStatus:
    """"prescribed" after the limit, "urgent" within the configured days of it, else "ok"."""
    rates = rates or load_rates()
    limit = limitation_date(kind, start, rates=rates)
    if today > limit:
        return "prescribed"
    if (limit - today).days <= rates.urgent_within_days:
        return "urgent"
    return "ok"


# Claims are declared within two months of the BODACC publication of the
# opening judgment (C. com. R622-24).
DECLARATION_MONTHS = 2


def declaration_deadline(proceedings_since: date) -> date:
    """The earliest the declaration deadline can be: two months from the opening judgment."""
    month = proceedings_since.month - 1 + DECLARATION_MONTHS
    year, month = proceedings_since.year + month // 12, month % 12 + 1
    last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(proceedings_since.day, last_day))
