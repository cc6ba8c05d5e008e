"""Payment plans (échéanciers): instalments, and whether the debtor keeps to them.

While a plan is honoured the invoices it covers are not chased; an
instalment still unpaid more than the grace days after its date breaks the
plan and dunning resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from recouvrement.domain.model import CENT, to_cents

HONOURED, COMPLETED, BROKEN = "honoured", "completed", "broken"


@dataclass(frozen=True)
class Instalment:
    due: date
    amount: Decimal


@dataclass(frozen=True)
class PlanState:
    state: str  # honoured | completed | broken
    reason: str


def make_instalments(total: Decimal, count: int, first: date, every_days: int = 30) -> tuple[Instalment, ...]:
    """`count` equal instalments to the cent; the last one takes what rounding left."""
    if count < 1:
        raise ValueError("a payment plan needs at least one instalment")
    if every_days < 1:
        raise ValueError("instalments must be at least one day apart")
    if total <= 0:
        raise ValueError("nothing is owed: no payment plan to make")
    share = (total / count).quantize(CENT, rounding="ROUND_DOWN")
    amounts = [share] * (count - 1) + [to_cents(total - share * (count - 1))]
    return tuple(Instalment(first + timedelta(days=every_days * i), amount)
                 for i, amount in enumerate(amounts))


def plan_state(instalments: tuple[Instalment, ...], total: Decimal, open_now: Decimal,
               today: date, grace_days: int) -> PlanState:
    """Compare what was paid since the plan with what its instalments asked for by now."""
    paid = total - open_now
    if open_now <= 0:
        return PlanState(COMPLETED, "payment plan completed")
    owed = Decimal(0)
    for number, instalment in enumerate(instalments, start=1):
        owed += instalment.amount
        late = today > instalment.due + timedelta(days=grace_days)
        if late and paid < owed:
            return PlanState(BROKEN, f"payment plan broken: instalment {number} of "
                             f"{instalment.amount} due {instalment.due.isoformat()} unpaid "
                             f"more than {grace_days} days later")
        if paid < owed:
            return PlanState(HONOURED, f"payment plan honoured: instalment {number} of "
                             f"{instalment.amount} due {instalment.due.isoformat()}")
    return PlanState(HONOURED, "payment plan honoured: every instalment paid, awaiting the ledger")
