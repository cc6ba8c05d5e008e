"""Legal computations of French debt collection: interest, fees, procedure, limitation.

Figures come from ``rules/rates.yaml`` (see ``rates.py``); this module holds
the rules that combine them. Articles are cited where each rule is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Literal

from recouvrement.domain.courts import Filing, debtor_trader_status, injonction_court
from recouvrement.domain.model import Debtor, DebtorKind, Invoice, Procedure, to_cents
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


class Note(str):
    """A remark of a computation. It reads as its English text (logs, the run's report);
    ``text("fr")`` gives the French one, for what a French reader gets (the dossier)."""

    fr: str

    def __new__(cls, en: str, fr: str) -> "Note":
        note = str.__new__(cls, en)
        note.fr = fr
        return note

    def text(self, language: str = "fr") -> str:
        return self.fr if language == "fr" else str(self)


def note_text(note: str, language: str = "fr") -> str:
    """A note in ``language``; a plain string (an older dossier's) stays as written."""
    return note.text(language) if isinstance(note, Note) else note


def _eur_fr(amount: Decimal) -> str:
    return f"{to_cents(amount):,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"


def _day_fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _pct_fr(rate: Decimal) -> str:
    return f"{Decimal(rate).normalize():f}".replace(".", ",") + "\u00a0%"


def _half_fr(day: date) -> str:
    return f"{'1er' if day.month <= 6 else '2d'} semestre {day.year}"


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
    base: Decimal | None = None  # the principal that bore interest over these days


@dataclass(frozen=True)
class Payment:
    """A sum received on an invoice (or a credit set off against it) on a day."""

    on: date
    amount: Decimal
    # The day is not known (paid before the first export that listed the invoice):
    # counted on the due date, so that no interest is claimed on that part.
    date_known: bool = True


@dataclass(frozen=True)
class Imputation:
    """How one payment was applied: to the interest accrued first, then to the principal
    (Code civil 1343-1)."""

    on: date
    amount: Decimal
    interest_due: Decimal  # interest accrued and unpaid on that day, to the cent
    to_interest: Decimal
    to_principal: Decimal
    principal_after: Decimal
    date_known: bool = True
    excess: Decimal = Decimal("0.00")  # paid beyond interest and principal


@dataclass(frozen=True)
class InterestStatement:
    principal: Decimal  # the principal before any payment counted here
    start: date | None  # first day that bears interest; None when none can
    end: date  # last day included
    periods: tuple[InterestPeriod, ...]
    total: Decimal  # interest still due, rounded half-up to the cent
    notes: tuple[str, ...]
    imputations: tuple[Imputation, ...] = ()
    principal_due: Decimal | None = None  # principal left after the payments (None: principal)

    @property
    def provisional(self) -> bool:
        return any(p.provisional for p in self.periods)

    @property
    def remaining_principal(self) -> Decimal:
        return self.principal if self.principal_due is None else self.principal_due


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
    payments: tuple[Payment, ...] | list[Payment] = (),
) -> InterestStatement:
    """Simple late interest on ``principal`` up to and including ``until``.

    B2B and PUBLIC: runs from the day after the due date, without any reminder
    (Code de commerce L441-10; Code de la commande publique L2192-13).
    B2C: runs only from the formal notice (Code civil 1231-6 and 1344-1).

    With ``payments`` (``principal`` is then the invoice's amount before any of
    them), each part of the principal bears interest up to and including the
    day it was paid, and each payment goes first to the interest accrued, then
    to the principal (Code civil 1343-1); interest does not bear interest
    (1343-2). Payments after ``until`` are not counted.
    """
    if isinstance(principal, float) or isinstance(contractual_rate, float):
        raise TypeError("late_interest: pass money and rates as Decimal, not float")
    if principal < 0:
        raise ValueError(f"late_interest: negative principal {principal}")
    if contractual_rate is not None and contractual_rate < 0:
        raise ValueError(f"late_interest: negative contractual rate {contractual_rate}")
    for p in payments:
        if isinstance(p.amount, float):
            raise TypeError("late_interest: pass payments as Decimal, not float")
        if p.amount < 0:
            raise ValueError(f"late_interest: negative payment {p.amount} on {p.on}")
    rates = rates or load_rates()
    notes: list[str] = []
    counted = sorted((p for p in payments if p.on <= until), key=lambda p: p.on)

    if kind is DebtorKind.B2C:
        if formal_notice_on is None:
            notes.append(Note(
                "No formal notice: interest on a consumer's debt runs only from the "
                "mise en demeure (Code civil 1231-6, 1344-1).",
                "Pas de mise en demeure : les intérêts dus par un consommateur ne courent "
                "qu'à compter de la mise en demeure (Code civil, art. 1231-6 et 1344-1)."))
            first = None
        else:
            if formal_notice_on < due_date:
                notes.append(Note(
                    "Formal notice sent before the due date: interest counted from the due date.",
                    "Mise en demeure envoyée avant l'échéance : intérêts comptés à partir de "
                    "l'échéance."))
            first = max(formal_notice_on, due_date) + timedelta(days=1)
    else:
        first = due_date + timedelta(days=1)

    fixed = _public_rate(kind, first, rates, contractual_rate, notes)
    periods: list[InterestPeriod] = []
    imputations: list[Imputation] = []
    base = principal
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        accrued = Decimal(0)  # exact, since the last payment
        unpaid = Decimal(0)  # to the cent, left over at the last payment
        cursor = first

        def accrue(last: date) -> Decimal:
            amount_sum = Decimal(0)
            if cursor is None or base <= 0:
                return amount_sum
            for start, end in _split(cursor, last):
                if fixed is not None:
                    rate, provisional = fixed
                else:
                    rate, provisional = _rate_for(kind, start, rates, contractual_rate, notes)
                days = (end - start).days + 1
                year_days = _year_days(start.year)
                amount = base * rate / 100 * days / year_days
                periods.append(InterestPeriod(start, end, days, year_days, rate, amount,
                                              provisional, base))
                amount_sum += amount
            return amount_sum

        for payment in counted:
            accrued += accrue(payment.on)
            if cursor is not None:
                cursor = max(cursor, payment.on + timedelta(days=1))
            due = to_cents(unpaid + accrued)
            to_interest = min(payment.amount, due)
            to_principal = min(payment.amount - to_interest, base)
            excess = payment.amount - to_interest - to_principal
            unpaid, accrued = due - to_interest, Decimal(0)
            base -= to_principal
            imputations.append(Imputation(payment.on, payment.amount, due, to_interest,
                                          to_principal, base, payment.date_known,
                                          to_cents(excess)))
            if not payment.date_known:
                notes.append(Note(
                    f"{to_cents(payment.amount)} EUR paid before the first export that listed "
                    f"the invoice, on a day the ledger does not know: counted on "
                    f"{payment.on.isoformat()}, with no interest claimed on that part.",
                    f"{_eur_fr(payment.amount)} réglés avant le premier export comptable qui "
                    f"mentionne la facture, à une date que la comptabilité ne connaît pas : "
                    f"comptés au {_day_fr(payment.on)}, sans intérêts réclamés sur cette part."))
            if excess > 0:
                notes.append(Note(
                    f"Payment of {payment.on.isoformat()} exceeds the interest and "
                    f"principal due by {to_cents(excess)} EUR.",
                    f"Le paiement du {_day_fr(payment.on)} dépasse de {_eur_fr(excess)} les "
                    f"intérêts et le principal dus."))
        accrued += accrue(until)
        total = to_cents(unpaid + accrued)

    if first is not None and not periods and not imputations:
        notes.append(Note(
            "No interest yet: the first day bearing interest is after the end date.",
            "Pas encore d'intérêts : le premier jour productif d'intérêts est postérieur à la "
            "date d'arrêté du décompte."))
    return InterestStatement(principal, first, until, tuple(periods), total, _unique(notes),
                             tuple(imputations), base if counted else None)


def invoice_claim(
    invoice: Invoice,
    debtor: Debtor,
    until: date,
    *,
    formal_notice_on: date | None = None,
    contractual_rate: Decimal | None = None,
    rates: RateTables | None = None,
) -> InterestStatement:
    """The interest on one invoice of the ledger, its payments imputed (C. civ. 1343-1).

    Without a payment history the open amount bears interest from the due date.
    ``remaining_principal`` is what the claim's principal is after imputation.
    """
    if invoice.payments:
        return late_interest(invoice.amount, debtor.kind, invoice.due_date, until,
                             formal_notice_on=formal_notice_on, rates=rates,
                             contractual_rate=contractual_rate, payments=invoice.payments)
    return late_interest(invoice.open_amount, debtor.kind, invoice.due_date, until,
                         formal_notice_on=formal_notice_on, rates=rates,
                         contractual_rate=contractual_rate)


def _public_rate(kind: DebtorKind, first: date | None, rates: RateTables,
                 contractual_rate: Decimal | None,
                 notes: list[str]) -> tuple[Decimal, bool] | None:
    """A public buyer's one rate for the whole delay, or None elsewhere.

    Code de la commande publique R2192-31: the ECB rate in force on the first
    day of the half-year in which the moratory interest began to run, plus 8
    points, for the whole delay (not re-rated each half-year).
    """
    if kind is not DebtorKind.PUBLIC or first is None or contractual_rate is not None:
        return None
    rate, provisional = rates.late_interest_rate(kind, first)
    if provisional:
        notes.append(Note(
            f"Rate for {half_year_label(first)} is provisional: the published figure is not "
            f"recorded in rates.yaml yet, the last known one was used.",
            f"Taux du {_half_fr(first)} provisoire : le taux publié n'est pas encore "
            f"enregistré, le dernier taux connu a été appliqué."))
    return rate, provisional


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
            notes.append(Note(
                f"Rate for {label} is provisional: the published figure is not recorded "
                f"in rates.yaml yet, the last known one was used.",
                f"Taux du {_half_fr(day)} provisoire : le taux publié n'est pas encore "
                f"enregistré, le dernier taux connu a été appliqué."))
        return rate, provisional
    if kind is DebtorKind.B2C:
        # The L441-10 floor concerns commercial relations only.
        return contractual_rate, False
    # L441-10 II: a contract may set the rate, never below 3 x the taux légal of
    # the half-year; below it, the floor is what the law gives for that half-year.
    legal, provisional = rates.legal_rate(day)
    floor = legal * rates.contractual_rate_floor_multiple
    rate = contractual_rate
    if contractual_rate < floor:
        rate = floor
        notes.append(Note(
            f"Contractual rate {contractual_rate} % is below the legal minimum for {label}: "
            f"{rates.contractual_rate_floor_multiple} x taux légal {legal} % = {floor} % "
            f"applied for that half-year (Code de commerce L441-10).",
            f"Taux contractuel de {_pct_fr(contractual_rate)} inférieur au minimum légal du "
            f"{_half_fr(day)} : {rates.contractual_rate_floor_multiple} × taux de l'intérêt "
            f"légal {_pct_fr(legal)} = {_pct_fr(floor)}, appliqué pour ce semestre (Code de "
            f"commerce, art. L441-10)."))
    if provisional:
        notes.append(Note(
            f"The L441-10 minimum for {label} was checked against the last recorded "
            f"taux légal ({legal} %): provisional.",
            f"Minimum de l'article L441-10 pour le {_half_fr(day)} vérifié sur le dernier taux "
            f"de l'intérêt légal enregistré ({_pct_fr(legal)}) : provisoire."))
    return rate, provisional


def payments_from_changes(
    amount: Decimal,
    open_amount: Decimal,
    due_date: date,
    changes: list[tuple[date, Decimal, Decimal]],
) -> tuple[Payment, ...]:
    """The payments of an invoice, from the changes of its open amount snapshot by snapshot.

    ``changes``: (export date, open amount before, open amount after), oldest
    first. A drop is a payment (or a credit set off) on the export date that
    showed it: the ledger knows no earlier day. A rise undoes the latest
    payments (a payment rejected). What ``amount - open_amount`` leaves
    unexplained was paid before the first export that listed the invoice, on a
    day nobody knows: it is counted on the due date, bearing no interest.
    """
    payments: list[Payment] = []

    def undo(value: Decimal) -> None:
        while value > 0 and payments:
            last = payments.pop()
            if last.amount > value:
                payments.append(Payment(last.on, last.amount - value, last.date_known))
            value -= last.amount

    for on, before, after in changes:
        if after < before:
            payments.append(Payment(on, before - after))
        elif after > before:
            undo(after - before)
    unexplained = (amount - open_amount) - sum((p.amount for p in payments), Decimal(0))
    if unexplained > 0:
        payments.insert(0, Payment(due_date, unexplained, date_known=False))
    elif unexplained < 0:
        undo(-unexplained)
    return tuple(payments)


def payments_since_queueing(before: tuple[Payment, ...] | list[Payment],
                            after: list[tuple[date, Decimal]]) -> tuple[Payment, ...]:
    """An invoice's payments as a dossier is restated: those imputed when it was queued,
    then each one the exports showed since, oldest first.

    ``after``: (day, amount) as recorded against the dossier; a negative amount
    is a payment reversed (a rejected transfer) and cancels the latest payments,
    as in ``payments_from_changes``.
    """
    payments = list(before)
    for on, amount in sorted(after, key=lambda p: p[0]):
        if amount > 0:
            payments.append(Payment(on, amount))
            continue
        value = -amount
        while value > 0 and payments:
            last = payments.pop()
            if last.amount > value:
                payments.append(Payment(last.on, last.amount - value, last.date_known))
            value -= last.amount
    return tuple(payments)


def _unique(notes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


def fixed_recovery_fee(
    kind: DebtorKind,
    invoice_count: int,
    *,
    collective_proceedings: bool,
    rates: RateTables | None = None,
) -> Decimal:
    """Indemnité forfaitaire: per unpaid invoice for B2B (C. com. L441-10 II, D441-5) and
    PUBLIC (Code de la commande publique L2192-13, D2192-35).

    Nothing for a consumer (CPCE L111-8: recovery costs stay with the creditor)
    nor when ``collective_proceedings`` is set: the opening of the proceedings
    prevented payment of these invoices at their due date (L441-10 II; see
    ``fee_lost_to_proceedings``).
    """
    if invoice_count < 0:
        raise ValueError(f"fixed_recovery_fee: negative invoice count {invoice_count}")
    if kind is DebtorKind.B2C or collective_proceedings:
        return to_cents(Decimal(0))
    rates = rates or load_rates()
    return to_cents(rates.fixed_recovery_fee * invoice_count)


def born_after_opening(issue_date: date, proceedings_since: date | None) -> bool:
    """A claim born after the opening judgment, paid at maturity (C. com. L622-17 I).

    The ledger knows the invoice date, not the delivery: an invoice dated the
    day of the judgment or earlier is taken as born before it and declared.
    Declaring a later claim costs little; not declaring an earlier one loses
    it (L622-26): the reading that keeps the claim.
    """
    return proceedings_since is not None and issue_date > proceedings_since


def fee_lost_to_proceedings(due_date: date, issue_date: date,
                            proceedings_since: date | None) -> bool:
    """L441-10 II: the 40 EUR is not due when the opening of the proceedings prevented
    payment at the due date. An invoice already overdue at the opening keeps it;
    one born after the opening is paid at maturity and keeps it too."""
    if proceedings_since is None or born_after_opening(issue_date, proceedings_since):
        return False
    # The judgment takes effect from 0 h on its date: due on that day, it could not be paid.
    return due_date >= proceedings_since


def recommend_procedure(
    debtor: Debtor,
    principal_and_interest: Decimal,
    *,
    creditor_is_trader: bool = True,
    rates: RateTables | None = None,
    prescribed_after: date | None = None,
    born_after_opening: bool = False,
    on: date = date.min,
) -> tuple[Procedure, tuple[str, ...]]:
    """The judicial route for an unpaid claim, with reasons.

    ``principal_and_interest`` excludes the fixed fees: the small-claims
    ceiling counts principal and interest only (CPCE R125-1). With
    ``prescribed_after`` (an urgent claim: prescription close), the route must
    interrupt prescription. ``born_after_opening``: a claim of a debtor in
    collective proceedings born after the opening judgment, chased normally.

    Order of DESIGN §2: collective proceedings, public debtor, small claim,
    then injonction de payer. The court named is ``injonction_filing``'s on
    ``on`` (the tribunaux des activités économiques sit from 2025).
    """
    rates = rates or load_rates()
    amount = to_cents(principal_and_interest)
    prefix: tuple[str, ...] = ()
    if debtor.in_collective_proceedings:
        since = debtor.collective_proceedings_since
        if not born_after_opening:
            return Procedure.DECLARATION_DE_CREANCE, (
                f"Debtor in collective proceedings since {since.isoformat()}: no individual "
                "action or payment is allowed for a claim born before the opening judgment "
                "(Code de commerce L622-21).",
                "Declare the claim to the mandataire judiciaire within 2 months of the BODACC "
                "publication of the opening judgment (Code de commerce L622-24, R622-24).",
            )
        prefix = (
            f"Claim born after the opening judgment of {since.isoformat()}: it is paid at "
            "maturity (Code de commerce L622-17 I), not declared; it is chased like any other "
            "claim, with a copy to the administrateur judiciaire when one was appointed.",
        )
    if debtor.kind is DebtorKind.PUBLIC:
        return Procedure.REFERE_PROVISION, prefix + (
            "No injonction de payer against a public person: send a prior claim to the "
            "entity, then ask the administrative judge for a référé-provision "
            "(Code de justice administrative R541-1).",
        )
    court = _court_phrase(injonction_filing(debtor, creditor_is_trader, on=on))
    ceiling = rates.small_claims_ceiling
    if amount <= ceiling and prescribed_after is not None:
        return Procedure.INJONCTION_DE_PAYER, prefix + (
            f"Prescribed after {prescribed_after.isoformat()}: the procédure simplifiée de "
            "recouvrement des petites créances would only suspend prescription, and only if "
            "the debtor agrees to it (CPCE L125-1); a demande en justice interrupts it (Code "
            f"civil 2241): request an injonction de payer from {court} (CPC 1405 and "
            "following), or serve an assignation, before that day.",
            f"Claim of {amount} EUR in principal and interest: small enough for the petites "
            "créances procedure, which is not used because of the deadline.",
        )
    if amount <= ceiling:
        return Procedure.PETITES_CREANCES, prefix + (
            f"Claim of {amount} EUR in principal and interest (the fixed fees do not count) is "
            f"at most {ceiling} EUR: procédure simplifiée de recouvrement des petites créances "
            "by a commissaire de justice (CPCE L125-1, R125-1); it needs the debtor's "
            "agreement.",
            "If it fails, no conciliation attempt is needed before going to court: CPC 750-1 "
            "(tribunal judiciaire only) waives it once the petites créances procedure was "
            "tried in vain, and an injonction de payer is exempt at every stage (Cass. 2e "
            "civ., avis, 25 September 2025, n° 25-70.013).",
        )
    return Procedure.INJONCTION_DE_PAYER, prefix + (
        f"Claim of {amount} EUR in principal and interest is above {ceiling} EUR: request an "
        f"injonction de payer from {court} (CPC 1405 and following).",
    )


def injonction_filing(debtor: Debtor, creditor_is_trader: bool, *, on: date) -> Filing:
    """The court and form of an injonction de payer against ``debtor`` (domain/courts.py)."""
    return injonction_court(debtor.kind, debtor_trader_status(debtor.kind, debtor.legal_form,
                                                              debtor.trader),
                            creditor_is_trader, debtor.postcode, on=on)


def _court_phrase(where: Filing) -> str:
    return f"the {where.court} ({where.form}; {where.reason})"


def limitation_start(
    kind: DebtorKind,
    due_date: date,
    *,
    paid_on: date | None = None,
    acknowledged_on: date | None = None,
    requests: tuple[date, ...] | list[date] = (),
) -> date:
    """The day the limitation period runs from, for ``limitation_date``.

    A claim with a term does not prescribe before its due date (Code civil
    2233): counted from the due date, not the invoice date. A part payment or
    an acknowledgment restarts it (2240). Against a public person, any written
    request for payment (each reminder sent) and any payment interrupt the
    four years too (loi n° 68-1250, art. 2).
    """
    dates = [due_date, paid_on, acknowledged_on]
    if kind is DebtorKind.PUBLIC:
        dates += list(requests)
    return max(d for d in dates if d is not None)


def limitation_date(kind: DebtorKind, start: date, *, rates: RateTables | None = None) -> date:
    """Last day on which the claim can still be brought to court.

    5 years B2B (Code de commerce L110-4), 2 years against a consumer (Code de
    la consommation L218-2), counted from ``start`` (see ``limitation_start``:
    the due date or the last interruption). Against a public person, 4 years
    from 1 January of the year after the due date or the last interruption
    (loi n° 68-1250 du 31 décembre 1968, art. 1 and 2). The prescription is
    acquired when the last day is over (Code civil 2229).
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
    kind: DebtorKind, start: date, today: date, *, rates: RateTables | None = None,
    earliest_start: date | None = None,
) -> LimitationStatus:
    """"prescribed" after the limit, "urgent" within the configured days of it, else "ok".

    ``earliest_start``: where the courts may place the start earlier than
    ``start`` (the performance of the service, known here by the invoice
    date). The claim is dropped only once prescribed from ``start``; it is
    urgent from the configured days before the earlier limit.
    """
    rates = rates or load_rates()
    limit = limitation_date(kind, start, rates=rates)
    if today > limit:
        return "prescribed"
    first = limitation_date(kind, min(start, earliest_start or start), rates=rates)
    if (first - today).days <= rates.urgent_within_days:
        return "urgent"
    return "ok"


def earliest_limitation_note(kind: DebtorKind, start: date, earliest_start: date | None,
                             today: date, *, rates: RateTables | None = None) -> str | None:
    """Said when the case law's earlier start gives an earlier limit than Code civil 2233."""
    if earliest_start is None or earliest_start >= start:
        return None
    rates = rates or load_rates()
    first, last = (limitation_date(kind, d, rates=rates) for d in (earliest_start, start))
    if first >= last:
        return None
    verb = "could be argued prescribed since" if today > first else "could be prescribed after"
    return (f"counted from the invoice date, as courts may count it (from the performance of "
            f"the service: Code civil 2224; Cass. 1re civ., 19 May 2021, n° 20-12.520; "
            f"Cass. 3e civ., 1 March 2023, n° 21-23.176), the claim {verb} "
            f"{(first + timedelta(days=1) if today > first else first).isoformat()}; from "
            f"the due date (Code civil 2233) it is prescribed after {last.isoformat()}: "
            f"file at once")


# Claims are declared within two months of the BODACC publication of the
# opening judgment (C. com. R622-24).
DECLARATION_MONTHS = 2


def declaration_deadline(proceedings_since: date) -> date:
    """The earliest the declaration deadline can be: two months from the opening judgment."""
    month = proceedings_since.month - 1 + DECLARATION_MONTHS
    year, month = proceedings_since.year + month // 12, month % 12 + 1
    last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(proceedings_since.day, last_day))
