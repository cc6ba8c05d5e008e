"""What a collection agency owes its creditors: imputation, fee, remittance, trust account.

Pure rules of the Code des procédures civiles d'exécution for an agency that
collects for others (R124-1 to R124-7):

- R124-6: a receipt for every payment received; the funds paid back to the creditor
  (reversement) within one month of their actual encashment, unless agreed otherwise;
- R124-3: the written mandate states the basis of the agency's remuneration and the
  conditions of paying funds back;
- R124-2: the funds are held on an account used for nothing else (compte séparé),
  so its balance is, to the cent, what was received less what was paid out.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The mandate's term of 30 days is the default, read as the law's "one month" (R124-6):
# a calendar month from the encashment. Any other number of days is the mandate's own term.
LAW_MONTH_DAYS = 30


def cents(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


# --- imputation of a payment on the invoices ------------------------------------------------

@dataclass(frozen=True)
class Chased:
    """An invoice as the agency chases it: what remains once the agency's payments are off."""

    number: str
    due_date: date
    open_amount: Decimal


@dataclass(frozen=True)
class Imputation:
    lines: tuple[tuple[str, Decimal], ...]  # (invoice, amount taken off it), in order
    remaining: dict[str, Decimal]  # invoice -> what remains due on it after the payment
    unallocated: Decimal  # received beyond what the invoices owed (to refund or to impute)

    @property
    def remaining_total(self) -> Decimal:
        return sum(self.remaining.values(), ZERO)


class ImputationError(ValueError):
    """A payment named an invoice the debtor does not owe."""


def impute(amount: Decimal, invoices: Sequence[Chased], named: Sequence[str] = ()) -> Imputation:
    """Spread a payment over the debtor's invoices.

    The invoices the debtor named, in the order named (Code civil 1342-10: the debtor
    chooses); otherwise the oldest due first (the same article's default for debts
    equally due). What the invoices do not absorb is `unallocated`.
    """
    amount = cents(amount)
    if amount <= 0:
        raise ImputationError(f"the amount must be positive, not {amount}")
    by_number = {i.number: i for i in invoices}
    if named:
        unknown = [n for n in named if n not in by_number]
        if unknown:
            raise ImputationError(f"invoice(s) {', '.join(unknown)} not open for this debtor")
        order = [by_number[n] for n in dict.fromkeys(named)]
    else:
        order = sorted(invoices, key=lambda i: (i.due_date, i.number))
    left = amount
    lines = []
    remaining = {i.number: cents(i.open_amount) for i in invoices}
    for invoice in order:
        if left <= 0:
            break
        take = min(left, remaining[invoice.number])
        if take <= 0:
            continue
        lines.append((invoice.number, take))
        remaining[invoice.number] -= take
        left -= take
    return Imputation(tuple(lines), remaining, left)


# --- what the ledger still chases while the creditor has not booked the agency's payment ---

@dataclass(frozen=True)
class Held:
    """An agency payment on an invoice, as noted in the creditor's ledger.

    `expected_open`: the open amount the creditor's export will show once it has booked
    this payment and every earlier one of the agency on the invoice (the chased amount
    when it was recorded, less this payment).
    """

    amount: Decimal
    expected_open: Decimal


def chased_open(open_amount: Decimal, held: Iterable[Held]) -> Decimal:
    """What reminders may still chase on an invoice: its open amount in the last export,
    less what the agency received on it and the creditor has not booked yet.

    A payment counts as booked once an export shows the open amount down to (or below)
    what it was expected to leave; from then on it takes nothing more off. So the chased
    amount is the lowest of the export's open amount and of what every payment expected
    to leave, and never below zero.
    """
    lowest = min((h.expected_open for h in held), default=open_amount)
    return max(ZERO, cents(min(open_amount, lowest)))


def booked(open_amount: Decimal, held: Held) -> bool:
    """The creditor's export shows this agency payment booked."""
    return open_amount <= held.expected_open


# --- the agency's fee and the remittance ------------------------------------------------------

def fee(collected: Decimal, percent: Decimal, minimum: Decimal | None = None) -> Decimal:
    """The agency's fee on what one remittance pays back (R124-3: the mandate's basis).

    `percent` of the amount collected, rounded half-up to the cent; when the mandate
    sets a minimum, at least that much per remittance — never more than was collected
    (the agency does not invoice the creditor through the trust account).
    """
    collected = cents(collected)
    if collected <= 0:
        return ZERO
    due = cents(collected * Decimal(percent) / 100)
    if minimum is not None:
        due = max(due, cents(minimum))
    return min(due, collected)


def add_month(day: date) -> date:
    """The same day one calendar month later (the last day of a shorter month)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def remit_by(encashed_on: date, within_days: int | None = LAW_MONTH_DAYS) -> date:
    """The last day to pay back funds encashed on this day (R124-6: one month unless agreed)."""
    if within_days is None or within_days == LAW_MONTH_DAYS:
        return add_month(encashed_on)
    return encashed_on + timedelta(days=within_days)


@dataclass(frozen=True)
class Received:
    """A payment the agency received for the creditor."""

    receipt: str
    received_on: date
    amount: Decimal


@dataclass(frozen=True)
class Remittance:
    collected: Decimal
    fee: Decimal
    net: Decimal
    due_on: date | None
    payments: tuple[Received, ...]


def remittance(payments: Sequence[Received], *, percent: Decimal, minimum: Decimal | None,
               within_days: int | None) -> Remittance:
    """The statement of one remittance: every payment, the fee, the net; due within the
    term from the earliest encashment it pays back."""
    payments = tuple(sorted(payments, key=lambda p: (p.received_on, p.receipt)))
    collected = sum((cents(p.amount) for p in payments), ZERO)
    taken = fee(collected, percent, minimum)
    due_on = remit_by(payments[0].received_on, within_days) if payments else None
    return Remittance(collected, taken, collected - taken, due_on, payments)


def overdue(due_on: date, paid_on: date | None, today: date) -> bool:
    """A remittance not paid by its due date (paid later counts as late, not overdue)."""
    return paid_on is None and today > due_on


# --- the trust account (compte séparé) ------------------------------------------------------

@dataclass(frozen=True)
class BankLine:
    id: int
    booked_on: date
    amount: Decimal  # credit positive, debit negative
    label: str
    reference: str | None


@dataclass(frozen=True)
class Expected:
    """A movement the agency's books expect on the trust account."""

    key: str  # "payment:<receipt>", "remittance:<id>", "fee:<id>"
    on: date
    amount: Decimal  # credit positive, debit negative
    references: tuple[str, ...] = ()


@dataclass
class Reconciliation:
    matched: list[tuple[BankLine, Expected, str]] = field(default_factory=list)
    unmatched_lines: list[tuple[BankLine, str]] = field(default_factory=list)
    unmatched_expected: list[tuple[Expected, str]] = field(default_factory=list)
    bank_balance: Decimal = ZERO
    book_balance: Decimal = ZERO

    @property
    def difference(self) -> Decimal:
        return self.bank_balance - self.book_balance

    @property
    def balanced(self) -> bool:
        return not self.unmatched_lines and not self.unmatched_expected and self.difference == 0


def _words(text: str | None) -> str:
    return " ".join((text or "").upper().split())


def _mentions(line: BankLine, reference: str) -> bool:
    """Whether the line names this reference: its own reference, or the reference whole in
    its label (REF-1 is not named by a label that says REF-10)."""
    ref = _words(reference)
    if not ref:
        return False
    if ref == _words(line.reference):
        return True
    label = _words(line.label)
    start = label.find(ref)
    while start >= 0:
        end = start + len(ref)
        if ((start == 0 or not label[start - 1].isalnum())
                and (end == len(label) or not label[end].isalnum())):
            return True
        start = label.find(ref, start + 1)
    return False


def reconcile(lines: Sequence[BankLine], expected: Sequence[Expected], *,
              window_days: int = 10) -> Reconciliation:
    """Match every line of the statement to what the books expect, and the balances.

    First by reference (the bank reference, the receipt or remittance number found in
    the line's reference or label) with the same amount; then, for what is left, by the
    same amount within `window_days` of the expected date, the nearest first. A line
    matched by amount alone says so. Everything unmatched is listed with why.
    """
    result = Reconciliation()
    result.bank_balance = sum((cents(line.amount) for line in lines), ZERO)
    result.book_balance = sum((cents(e.amount) for e in expected), ZERO)
    free_lines = list(sorted(lines, key=lambda line: (line.booked_on, line.id)))
    free_expected = list(sorted(expected, key=lambda e: (e.on, e.key)))
    for e in list(free_expected):
        line = next((line for line in free_lines if cents(line.amount) == cents(e.amount)
                     and any(_mentions(line, r) for r in e.references)), None)
        if line is not None:
            result.matched.append((line, e, "reference"))
            free_lines.remove(line)
            free_expected.remove(e)
    for e in list(free_expected):
        near = [line for line in free_lines if cents(line.amount) == cents(e.amount)
                and abs((line.booked_on - e.on).days) <= window_days]
        if near:
            line = min(near, key=lambda line: (abs((line.booked_on - e.on).days), line.id))
            result.matched.append((line, e, "amount and date"))
            free_lines.remove(line)
            free_expected.remove(e)
    for line in free_lines:
        what = "credit" if line.amount > 0 else "debit"
        books = ("no payment recorded by the agency" if line.amount > 0
                 else "no remittance marked paid nor fee")
        same = [e for e in free_expected if cents(e.amount) == cents(line.amount)]
        why = (f"{what} of {cents(line.amount)}: {books} with this reference or amount within "
               f"{window_days} days")
        if same:
            why += f" (the same amount is expected on {same[0].on.isoformat()}: {same[0].key})"
        result.unmatched_lines.append((line, why))
    for e in free_expected:
        result.unmatched_expected.append(
            (e, f"{e.key} of {cents(e.amount)} on {e.on.isoformat()}: not on the statement"))
    return result


# --- a receipt's amount in words (French) -----------------------------------------------------

_UNITS = ("zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze "
          "quinze seize dix-sept dix-huit dix-neuf").split()
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix..., quatre-vingt-dix...
        head = "soixante" if tens == 7 else "quatre-vingt"
        return f"{head}-et-onze" if n == 71 else f"{head}-{_UNITS[10 + unit]}"
    head = "quatre-vingt" if tens == 8 else _TENS[tens]
    if unit == 0:
        return "quatre-vingts" if tens == 8 else head
    return f"{head}-et-un" if unit == 1 and tens != 8 else f"{head}-{_UNITS[unit]}"


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if hundreds == 0:
        return _below_100(rest)
    head = "cent" if hundreds == 1 else f"{_UNITS[hundreds]}-cent"
    if rest == 0:
        return head + ("s" if hundreds > 1 else "")
    return f"{head}-{_below_100(rest)}"


def _number_words(n: int) -> str:
    """French, with the 1990 spelling (hyphens everywhere)."""
    if n < 1000:
        return _below_1000(n)
    parts = []
    for size, name in ((10**9, "milliard"), (10**6, "million"), (1000, "mille")):
        count, n = divmod(n, size)
        if not count:
            continue
        if name == "mille":
            words = "mille" if count == 1 else f"{_below_1000(count).removesuffix('s')}-mille"
        else:
            words = f"{_number_words(count)}-{name}{'s' if count > 1 else ''}"
        parts.append(words)
    if n:
        parts.append(_below_1000(n))
    return "-".join(parts)


def amount_in_words(amount: Decimal) -> str:
    """`1 234,50` -> `mille-deux-cent-trente-quatre euros et cinquante centimes`."""
    value = cents(amount)
    euros, centimes = divmod(int(value * 100), 100)
    unit = "d'euros" if euros and euros % 10**6 == 0 else "euros" if euros > 1 else "euro"
    text = f"{_number_words(euros)} {unit}"
    if centimes:
        text += f" et {_number_words(centimes)} centime{'s' if centimes > 1 else ''}"
    return text
