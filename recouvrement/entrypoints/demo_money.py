"""The agency's money in the demo: a few payments received on the simulated days, the
month's remittance made and paid, and the trust account's statement reconciled.

`demo_money_day` is called once per simulated day and creditor, before that day's run
(the run then tells the creditor and sends its report); `demo_money_finish` once at the
end. Both go through the same services as the commands, on the demo's own home.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from recouvrement.services.agency.money import money_context
from recouvrement.services.agency.payments import PaymentInput, chased_invoices, record_payment
from recouvrement.services.agency.remittances import RemittanceRefused, make_remittance, mark_paid
from recouvrement.services.agency.trust import import_statement, reconcile
from recouvrement.adapters.db.agency_models import AgencyPayment, AgencyRemittance
from recouvrement.adapters.db.models import Debtor, Invoice
from recouvrement.domain.calendar import is_business_day, next_business_day_on_or_after
from recouvrement.adapters.private_files import write_private

ACTOR = "demo"


def demo_money_day(agency_settings, record, day: date, rng: random.Random, *,
                   renderer=None) -> list[str]:
    """What the agency did that day for the creditor, as lines to print."""
    from recouvrement.adapters.pdf import default_renderer

    renderer = renderer or default_renderer()
    ctx = money_context(agency_settings, record.code, record)
    done = []
    if is_business_day(day) and rng.random() < 0.35:
        with ctx.ledger_db.session() as ledger:
            accounts = list(ledger.scalars(select(Debtor.account).join(
                Invoice, Invoice.debtor_id == Debtor.id).where(
                Invoice.status == "open", Invoice.due_date < day).distinct()
                .order_by(Debtor.account)))
            owed = []
            if accounts:
                account = rng.choice(accounts)
                _, owed = chased_invoices(ledger, account)
        if owed and owed[0].open_amount > 0:
            share = Decimal(rng.choice(("0.25", "0.5", "1")))
            amount = max(Decimal("1.00"), (owed[0].open_amount * share).quantize(Decimal("0.01")))
            method = rng.choice(("transfer", "transfer", "cheque", "card"))
            row = record_payment(
                ctx.agency_db, ctx.ledger_db, record, ctx.agency,
                PaymentInput(account, amount, day, method,
                             f"DEMO-{record.code.replace('-', '')[:8].upper()}-{day:%Y%m%d}"),
                actor=ACTOR, today=day, renderer=renderer)
            done.append(f"{record.code}: receipt {row['receipt']}, {row['amount']} from "
                        f"{account} ({method})")
    first = next_business_day_on_or_after(day.replace(day=1))
    if day == first:
        end = day.replace(day=1) - timedelta(days=1)
        try:
            made = make_remittance(ctx.agency_db, record, ctx.agency,
                                   period_from=end.replace(day=1), period_to=end, today=day,
                                   actor=ACTOR, renderer=renderer)
        except RemittanceRefused:
            made = None
        if made:
            mark_paid(ctx.agency_db, made["number"], paid_on=day,
                      reference=f"VIR-{made['number']}", today=day, actor=ACTOR)
            done.append(f"{record.code}: remittance {made['number']} of {made['collected']}, "
                        f"fee {made['fee']}, {made['net']} paid back")
    return done


def demo_money_finish(agency_settings, day: date) -> dict:
    """The trust account's statement as the bank would show it (every movement of the
    books, and one transfer nobody recorded), imported and reconciled as of `day`."""
    from recouvrement.services.agency.selection import agency_database

    db = agency_database(agency_settings)
    rows = ["Date;Libellé;Débit euros;Crédit euros;Référence"]

    def fr(value: Decimal) -> str:
        return f"{value:.2f}".replace(".", ",")

    with db.session() as session:
        for p in session.scalars(select(AgencyPayment).where(AgencyPayment.received_on <= day)
                                 .order_by(AgencyPayment.received_on, AgencyPayment.id)):
            rows.append(f"{p.received_on:%d/%m/%Y};VIR SEPA {p.account};;{fr(p.amount)};"
                        f"{p.reference or ''}")
        for r in session.scalars(select(AgencyRemittance).where(
                AgencyRemittance.status == "paid").order_by(AgencyRemittance.id)):
            rows.append(f"{r.paid_on:%d/%m/%Y};VIR {r.creditor.upper()} {r.number};"
                        f"{fr(r.net)};;{r.paid_reference}")
            if r.fee > 0:
                rows.append(f"{r.paid_on:%d/%m/%Y};HONORAIRES AGENCE {r.number};{fr(r.fee)};;")
    rows.append(f"{day:%d/%m/%Y};VIR SEPA EMETTEUR INCONNU;;12,00;")
    path = Path(agency_settings.home) / "agency" / f"releve-compte-separe-{day:%Y-%m-%d}.csv"
    write_private(path, "\r\n".join(rows) + "\r\n", encoding="cp1252")
    imported = import_statement(db, path, actor=ACTOR)
    return {"statement": str(path), "imported": imported, "reconciled": reconcile(db, day)}
