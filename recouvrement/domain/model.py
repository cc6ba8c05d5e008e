"""The ledger as the business rules see it: plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    """Round half-up to the cent: the only rounding money gets, at the edges."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class DebtorKind(str, Enum):
    B2B = "B2B"
    B2C = "B2C"
    PUBLIC = "PUBLIC"


class Procedure(str, Enum):
    DECLARATION_DE_CREANCE = "declaration_de_creance"
    REFERE_PROVISION = "refere_provision"
    PETITES_CREANCES = "petites_creances"
    INJONCTION_DE_PAYER = "injonction_de_payer"


@dataclass(frozen=True)
class Debtor:
    account: str
    name: str
    kind: DebtorKind = DebtorKind.B2B
    email: str | None = None
    language: str = "fr"
    payment_terms_days: int = 30
    collective_proceedings_since: date | None = None
    blocked: bool = False
    risk_class: str | None = None
    # The learned chance (0-1) of not paying within 30 days; None under the hand-set score.
    risk_probability: float | None = None
    promise_until: date | None = None  # the debtor promised to pay by this day
    # Postal address, for letters.
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    # What the court's jurisdiction turns on (domain/courts.py): the legal form
    # from the export, and its explicit trader yes/no when it gives one.
    legal_form: str | None = None
    trader: bool | None = None

    @property
    def in_collective_proceedings(self) -> bool:
        return self.collective_proceedings_since is not None


@dataclass(frozen=True)
class Invoice:
    """An invoice of the ledger with the dunning history that concerns it."""

    number: str
    account: str
    issue_date: date
    due_date: date
    amount: Decimal
    open_amount: Decimal
    currency: str = "EUR"
    disputed: bool = False
    in_litigation: bool = False
    # Why dunning of this invoice is paused (a payment plan being honoured), if it is.
    paused: str | None = None
    # Limitation runs from here: the invoice date, or the last partial payment,
    # which acknowledges the debt and restarts it (Code civil 2240).
    limitation_start: date | None = None
    # The same counted from the invoice date instead of the due date: where the
    # courts may start it (the performance), used to flag urgency earlier.
    limitation_earliest: date | None = None
    # What payments or credit notes not lettered to an invoice took off this one (1342-10).
    set_off: Decimal = Decimal(0)
    # level -> date a reminder of that level chasing this invoice was sent
    sent_levels: dict[int, date] = field(default_factory=dict)
    # What was paid on it and when, as far as the ledger knows (legal.Payment),
    # oldest first: interest runs on each part until the day it was paid.
    payments: tuple = ()

    @property
    def level(self) -> int:
        """The highest level actually sent for this invoice (0 when none)."""
        return max(self.sent_levels, default=0)

    @property
    def is_open(self) -> bool:
        return self.open_amount > 0


def late_chance(factors: dict[str, Any] | None) -> float | None:
    """The learned chance of not paying within 30 days, as kept with a debtor's score
    (None for a score of the hand-set rules)."""
    if not factors or factors.get("model") != "learned":
        return None
    return round(1 - float(factors["pays_30"]), 3)
