"""Does the ledger agree with the export it was loaded from? May a snapshot settle what it omits?

Plain functions of amounts: no database, no files.

- The control total of a file: per customer account and currency, what the
  file shows (a FEC: debit − credit of the account's customer lines; an
  open-items export: the sum of its open amounts) against what the ledger
  holds open for that account once the file is applied. An account without
  rows in quarantine must agree to the cent. An account with rows in
  quarantine may hold less than the file shows (those rows wait in
  quarantine), never more: more would chase a debtor for what the file shows
  paid. An account whose amounts cannot all be read, for which the ledger
  already holds a newer export, or that another file of the same export date
  shows too (the ledger then holds what the files show together), is not
  compared.
- A file whose customer lines go to quarantine above a share is held back too.
- Settlement by absence: an open invoice missing from a later snapshot is
  settled. A snapshot that would settle that way more than a share of the
  open amount, or an invoice of a dossier in litigation, waits for a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0.00")
SHOWN = 5  # accounts named in a message


@dataclass(frozen=True)
class HoldLimits:
    """Percentages above which a file is held back (settings `hold_*_percent`)."""

    quarantined_percent: Decimal = Decimal("5")
    settled_by_absence_percent: Decimal = Decimal("20")


@dataclass(frozen=True)
class AccountBalance:
    account: str
    currency: str
    file: Decimal | None  # None: an amount of the account could not be read
    ledger: Decimal
    quarantined: bool  # some of the account's rows are in quarantine
    # the ledger holds for it what another export of the same day, or a later one, shows
    newer_in_ledger: bool = False
    shared: bool = False  # another file of the same export date shows it too

    @property
    def compared(self) -> bool:
        return self.file is not None and not self.newer_in_ledger and not self.shared

    @property
    def differs(self) -> bool:
        return self.compared and self.ledger != self.file

    @property
    def blocking(self) -> bool:
        """The ledger would not reconcile: it differs, and quarantine does not explain it."""
        if not self.differs:
            return False
        return not self.quarantined or self.ledger > self.file


@dataclass
class Control:
    """A file's control total, account by account."""

    accounts: list[AccountBalance]
    customer_rows: int
    quarantined_rows: int

    def totals(self, side: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for a in self.accounts:
            value = a.file if side == "file" else a.ledger
            if value is not None:
                out[a.currency] = out.get(a.currency, ZERO) + value
        return dict(sorted(out.items()))

    @property
    def differing(self) -> list[AccountBalance]:
        return [a for a in self.accounts if a.differs]

    @property
    def blocking(self) -> list[AccountBalance]:
        return [a for a in self.accounts if a.blocking]

    @property
    def not_compared(self) -> list[AccountBalance]:
        return [a for a in self.accounts if not a.compared]

    @property
    def quarantined_share(self) -> Decimal:
        """Exact, for the comparison with the limit."""
        if not self.customer_rows:
            return ZERO
        return Decimal(100) * self.quarantined_rows / self.customer_rows

    @property
    def quarantined_percent(self) -> Decimal:
        """Rounded to 0.1, to show."""
        return self.quarantined_share.quantize(Decimal("0.1"))

    def as_dict(self) -> dict:
        """JSON-ready: money as two-decimal strings."""
        return {
            "file_balance": {c: f"{v:.2f}" for c, v in self.totals("file").items()},
            "ledger_balance": {c: f"{v:.2f}" for c, v in self.totals("ledger").items()},
            "accounts": len({a.account for a in self.accounts}),
            "differ": len({a.account for a in self.differing}),
            "differ_not_explained": len({a.account for a in self.blocking}),
            "not_compared": len({a.account for a in self.not_compared}),
            "customer_rows": self.customer_rows,
            "quarantined_rows": self.quarantined_rows,
            "quarantined_percent": f"{self.quarantined_percent}",
            "first_differences": [_difference(a) for a in
                                  (self.blocking or self.differing)[:SHOWN]],
        }


def _difference(a: AccountBalance) -> dict:
    return {"account": a.account, "currency": a.currency, "file": f"{a.file:.2f}",
            "ledger": f"{a.ledger:.2f}", "rows_in_quarantine": a.quarantined}


def compare(file: dict[tuple[str, str], Decimal | None], ledger: dict[tuple[str, str], Decimal],
            quarantined: set[str], newer: set[str], customer_rows: int,
            quarantined_rows: int, shared: frozenset | set = frozenset()) -> Control:
    """The file's balances per (account, currency) against the ledger's for the same pairs.

    `ledger` may hold other accounts and currencies: only the file's pairs
    are compared; `shared` are the pairs another file of the same day shows too.
    """
    rows = [AccountBalance(account, currency, file[(account, currency)],
                           ledger.get((account, currency), ZERO), account in quarantined,
                           account in newer, (account, currency) in shared)
            for account, currency in sorted(file)]
    return Control(rows, customer_rows, quarantined_rows)


def control_hold_reasons(control: Control, limits: HoldLimits) -> list[str]:
    """Why a file must be held back whole; empty when it may be applied."""
    reasons = []
    if control.quarantined_share > limits.quarantined_percent:
        reasons.append(
            f"{control.quarantined_rows} of its {control.customer_rows} customer rows "
            f"({control.quarantined_percent} %) go to quarantine, more than "
            f"{limits.quarantined_percent} %")
    blocking = control.blocking
    if blocking:
        shown = "; ".join(f"{a.account} the file shows {a.file:.2f} {a.currency}, the ledger "
                          f"would hold {a.ledger:.2f}" for a in blocking[:SHOWN])
        more = f" and {len({a.account for a in blocking}) - SHOWN} more" \
            if len({a.account for a in blocking}) > SHOWN else ""
        reasons.append(f"the ledger would not reconcile with it on "
                       f"{len({a.account for a in blocking})} account(s): {shown}{more}")
    return reasons


@dataclass
class Absence:
    """What a snapshot would settle because it no longer lists it."""

    open_before: dict[str, Decimal] = field(default_factory=dict)  # currency -> open amount
    # number, account, currency, open_amount, dossier (in litigation, or None)
    settled: list[dict] = field(default_factory=list)

    def settled_amount(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for s in self.settled:
            if s["open_amount"] > 0:
                out[s["currency"]] = out.get(s["currency"], ZERO) + s["open_amount"]
        return out

    def percent(self) -> dict[str, Decimal]:
        """Exact shares of the open amount, per currency (rounded only to be shown)."""
        return {c: Decimal(100) * v / self.open_before[c]
                for c, v in self.settled_amount().items() if self.open_before.get(c)}

    def in_litigation(self) -> list[dict]:
        return [s for s in self.settled if s.get("dossier")]


def absence_hold_reasons(absence: Absence, limits: HoldLimits) -> list[str]:
    """Why a snapshot's settlements by absence must wait for a person; empty when they need not."""
    reasons = []
    amounts = absence.settled_amount()
    for currency, share in sorted(absence.percent().items()):
        if share > limits.settled_by_absence_percent:
            count = sum(1 for s in absence.settled if s["currency"] == currency
                        and s["open_amount"] > 0)
            reasons.append(
                f"it would settle {count} invoice(s) by their absence, "
                f"{amounts[currency]:.2f} {currency} or {share.quantize(Decimal('0.1'))} % of "
                f"the open amount "
                f"(more than {limits.settled_by_absence_percent} %)")
    dossiers = absence.in_litigation()
    if dossiers:
        shown = ", ".join(f"{s['number']} ({s['account']})" for s in dossiers[:SHOWN])
        more = f" and {len(dossiers) - SHOWN} more" if len(dossiers) > SHOWN else ""
        reasons.append(f"it would settle by their absence {len(dossiers)} invoice(s) of "
                       f"dossiers in litigation, closing them as paid: {shown}{more}")
    return reasons
