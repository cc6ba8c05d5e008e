"""The formal notice claims what the dossier will: payments imputed to interest first."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from recouvrement.domain.legal import Payment
from recouvrement.domain.model import Debtor, DebtorKind, Invoice
from recouvrement.domain.policy import load_policy
from recouvrement.adapters.ledger import DebtorState
from recouvrement.services.reminder_planning import invoice_rows


def state(debtor: Debtor, invoice: Invoice) -> DebtorState:
    return DebtorState(id=1, debtor=debtor, invoices=[invoice], invoice_ids={invoice.number: 1},
                       last_contact=None, pending=False)


def test_the_formal_notice_counts_the_part_paid_until_its_payment():
    # 1000 due 30 Sep 2025, 500 seen paid on 30 Oct, formal notice on 29 Nov 2025 (12.15 %):
    # 1 - 30 Oct on 1000: 9.99, paid first by the 500 -> principal 509.99; 31 Oct - 29 Nov on
    # 509.99: 5.09. Owed: 509.99 + 5.09 = 515.08, i.e. the open 500.00 + 15.08 of interest.
    # (Before: 500 x 12.15 % x 60/365 = 9.99 on the open amount from the due date.)
    invoice = Invoice(number="A", account="411A", issue_date=date(2025, 8, 31),
                      due_date=date(2025, 9, 30), amount=Decimal("1000.00"),
                      open_amount=Decimal("500.00"),
                      payments=(Payment(date(2025, 10, 30), Decimal("500.00")),))
    [row] = invoice_rows(state(Debtor("411A", "A"), invoice), ("A",), date(2025, 11, 29),
                         with_claim=True, policy=load_policy())
    assert (row.open_amount, row.interest, row.fixed_fee) == (
        Decimal("500.00"), Decimal("15.08"), Decimal("40.00"))


def test_in_collective_proceedings_the_fee_is_lost_only_if_the_opening_prevented_payment():
    # Opening 1 Oct 2025; K3 issued 10 Oct (born after, chased) keeps its 40 EUR.
    debtor = Debtor("411K", "K", kind=DebtorKind.B2B,
                    collective_proceedings_since=date(2025, 10, 1))
    invoice = Invoice(number="K3", account="411K", issue_date=date(2025, 10, 10),
                      due_date=date(2025, 11, 9), amount=Decimal("700.00"),
                      open_amount=Decimal("700.00"))
    [row] = invoice_rows(state(debtor, invoice), ("K3",), date(2025, 12, 5), with_claim=True,
                         policy=load_policy())
    # 10 Nov - 5 Dec, 26 days: 700 x 12.15 % x 26/365 = 6.0583 -> 6.06
    assert (row.interest, row.fixed_fee) == (Decimal("6.06"), Decimal("40.00"))
