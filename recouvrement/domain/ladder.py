"""What is due for a debtor today: the ladder's decision, with its reason.

Each invoice climbs on its own clock (its due date, then the reminders that
chased it); a debtor gets at most one message per run, at the highest level
due, listing all of its overdue invoices (README, "Dunning rules"). Every decision says
why, including why nothing was sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Sequence

from recouvrement.domain.calendar import is_business_day, next_business_day_on_or_after
from recouvrement.domain.channels import planned_channels
from recouvrement.domain.legal import (
    born_after_opening,
    earliest_limitation_note,
    limitation_date,
    limitation_status,
)
from recouvrement.domain.model import Debtor, Invoice
from recouvrement.domain.policy import Policy, end_of_month

SEND, SKIP, NOTHING = "send", "skip", "nothing"


@dataclass(frozen=True)
class Decision:
    account: str
    action: str  # send | skip | nothing
    reason: str
    level: int | None = None
    channels: tuple[str, ...] = ()
    template: str | None = None
    listed: tuple[str, ...] = ()  # invoice numbers the message lists
    advances: dict[str, int] = field(default_factory=dict)  # invoice -> level it reaches
    next_due: date | None = None  # when something will next be due, if nothing is now
    notes: tuple[str, ...] = ()  # what the credit manager should know (limitation...)


def next_level_date(invoice: Invoice, policy: Policy, today: date, *,
                    promise_until: date | None = None) -> tuple[int, date] | None:
    """The invoice's next level and the business day it falls due; None past the last level.

    After a promise to pay that was not kept, the next level is due the day
    after the promised date, without waiting for its usual offset.
    """
    sent = invoice.sent_levels
    done = max(sent, default=None)
    for level in policy.levels:
        if done is not None and level.level <= done:
            continue
        if level.level == 0 and today > invoice.due_date:
            continue  # no courtesy notice once overdue
        if level.relative_to == "due_date":
            start = invoice.due_date
        elif level.relative_to == "end_of_month":
            start = end_of_month(invoice.due_date)
        else:
            previous = max((n for n in sent if n < level.level), default=None)
            if previous is None:
                return None  # levels go up one at a time: not before the one below
            start = sent[previous]
        due = start + timedelta(days=level.offset_days)
        if promise_until is not None and max(sent.values(), default=date.min) <= promise_until:
            due = min(due, promise_until + timedelta(days=1))
        return level.level, next_business_day_on_or_after(due)
    return None


def is_prescribed(invoice: Invoice, debtor: Debtor, today: date) -> bool:
    start = invoice.limitation_start or invoice.due_date
    return limitation_status(debtor.kind, start, today) == "prescribed"


def _limitation_notes(debtor: Debtor, invoices: Sequence[Invoice], today: date) -> list[str]:
    notes = []
    for invoice in invoices:
        start = invoice.limitation_start or invoice.due_date
        status = limitation_status(debtor.kind, start, today,
                                   earliest_start=invoice.limitation_earliest)
        if status != "ok":
            limit = limitation_date(debtor.kind, start)
            notes.append(f"{invoice.number} {'prescribed since' if status == 'prescribed' else 'URGENT: prescribed after'} "
                         f"{limit.isoformat()}")
            earlier = earliest_limitation_note(debtor.kind, start, invoice.limitation_earliest,
                                               today) if status == "urgent" else None
            if earlier:
                notes[-1] += f" ({earlier})"
    return notes


def decide(debtor: Debtor, invoices: Sequence[Invoice], *, today: date, policy: Policy,
           last_contact: date | None = None, pending: bool = False) -> Decision:
    """The one decision for this debtor today."""
    account = debtor.account
    open_ = [i for i in invoices if i.is_open and not i.in_litigation]
    if not open_:
        return Decision(account, NOTHING, "nothing open" if not any(i.is_open for i in invoices)
                        else "every open invoice is in litigation")
    notes = tuple(_limitation_notes(debtor, open_, today))
    chaseable = [i for i in open_ if not i.disputed and not i.paused
                 and i.open_amount >= policy.min_open_amount and not is_prescribed(i, debtor, today)]
    if not chaseable:
        return Decision(account, NOTHING, _why_none(open_, policy, debtor, today), notes=notes)
    if debtor.in_collective_proceedings:
        # Claims born after the opening judgment are paid at maturity (C. com.
        # L622-17 I): they are chased; the earlier ones are declared, never chased.
        since = debtor.collective_proceedings_since
        chaseable = [i for i in chaseable if born_after_opening(i.issue_date, since)]
        if not chaseable:
            return Decision(account, SKIP, "in collective proceedings since "
                            f"{since.isoformat()}: the claim is declared, no reminders "
                            "(C. com. L622-7, L622-24)", notes=notes)
    if debtor.blocked:
        return Decision(account, SKIP, "debtor blocked by the credit manager", notes=notes)
    if pending:
        return Decision(account, SKIP, "an earlier reminder is still waiting to be sent",
                        notes=notes)
    if debtor.promise_until is not None and today <= debtor.promise_until:
        return Decision(account, SKIP, f"promise to pay until {debtor.promise_until.isoformat()}",
                        next_due=debtor.promise_until + timedelta(days=1), notes=notes)

    due_now: dict[str, tuple[int, date]] = {}
    upcoming: list[date] = []
    for invoice in chaseable:
        step = next_level_date(invoice, policy, today, promise_until=debtor.promise_until)
        if step is None:
            continue
        if step[1] <= today:
            due_now[invoice.number] = step
        else:
            upcoming.append(step[1])
    if not due_now:
        next_due = min(upcoming, default=None)
        reason = (f"next level due on {next_due.isoformat()}" if next_due
                  else "every invoice is at the last level, awaiting the formal notice deadline")
        return Decision(account, NOTHING, reason, next_due=next_due, notes=notes)

    if not is_business_day(today):
        return Decision(account, SKIP, f"{today.isoformat()} is not a business day", notes=notes)
    if last_contact is not None and (today - last_contact).days < policy.min_gap_days:
        return Decision(account, SKIP, f"last contact on {last_contact.isoformat()}, minimum gap "
                        f"{policy.min_gap_days} days",
                        next_due=last_contact + timedelta(days=policy.min_gap_days), notes=notes)

    level = max(step[0] for step in due_now.values())
    overdue = [i.number for i in chaseable if i.due_date < today or i.number in due_now]
    policy_level = policy.level(level)
    channels, why = planned_channels(policy_level.channels, has_email=bool(debtor.email))
    reason = f"level {level} due" + (f", {why}" if why else "")
    return Decision(
        account, SEND, reason, level=level, channels=channels,
        template=policy_level.template, listed=tuple(sorted(overdue)),
        advances={number: step[0] for number, step in sorted(due_now.items())}, notes=notes,
    )


def _why_none(open_: Sequence[Invoice], policy: Policy, debtor: Debtor, today: date) -> str:
    """Why none of the open invoices can be chased, in words."""
    reasons = []
    for invoice in open_:
        if invoice.disputed:
            reasons.append(f"{invoice.number} disputed")
        elif invoice.paused:
            reasons.append(f"{invoice.number} {invoice.paused}")
        elif is_prescribed(invoice, debtor, today):
            reasons.append(f"{invoice.number} prescribed: never chased")
        else:
            reasons.append(f"{invoice.number} below the minimum of {policy.min_open_amount}")
    return "; ".join(reasons)


def to_declare(invoice: Invoice, debtor: Debtor) -> bool:
    """In collective proceedings, a claim born before the opening judgment: it is declared,
    never chased (C. com. L622-24); a later one is paid at maturity (L622-17 I)."""
    return debtor.in_collective_proceedings and not born_after_opening(
        invoice.issue_date, debtor.collective_proceedings_since)


def past_notice_deadline(invoice: Invoice, policy: Policy, today: date) -> bool:
    """The formal notice went out and its deadline (`litigation_after_days`) has passed."""
    notice = invoice.sent_levels.get(policy.formal_notice_level)
    return notice is not None and today > notice + timedelta(days=policy.litigation_after_days)


def litigation_candidates(debtor: Debtor, invoices: Sequence[Invoice], *, today: date,
                          policy: Policy) -> list[Invoice]:
    """The open invoices, not yet in litigation, that the ladder hands over: a claim to
    declare once overdue, whatever the ladder; any other past the formal notice's deadline.
    Readiness (identity, proof, disputes, limitation) is checked after this."""
    return [i for i in invoices if i.is_open and not i.in_litigation and (
        i.due_date < today if to_declare(i, debtor) else past_notice_deadline(i, policy, today))]


def due_for_litigation(invoice: Invoice, *, today: date, policy: Policy,
                       debtor: Debtor | None = None) -> bool:
    """Formal notice sent and its deadline passed, still open, undisputed, not prescribed."""
    if debtor is not None and is_prescribed(invoice, debtor, today):
        return False
    return (past_notice_deadline(invoice, policy, today) and invoice.is_open
            and not invoice.disputed and not invoice.in_litigation and not invoice.paused)
