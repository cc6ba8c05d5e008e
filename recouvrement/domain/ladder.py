"""What is due for a debtor today: the ladder's decision, with its reason.

Each invoice climbs on its own clock (its due date, then the reminders that
chased it); a debtor gets at most one message per run, at the highest level
due, listing all of its overdue invoices (DESIGN.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Sequence

from recouvrement.domain.calendar import is_business_day, next_business_day_on_or_after
from recouvrement.domain.model import Debtor, Invoice
from recouvrement.domain.policy import Policy

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


def next_level_date(invoice: Invoice, policy: Policy, today: date) -> tuple[int, date] | None:
    """The invoice's next level and the business day it falls due; None past the last level."""
    sent = invoice.sent_levels
    done = max(sent, default=None)
    for level in policy.levels:
        if done is not None and level.level <= done:
            continue
        if level.level == 0 and today > invoice.due_date:
            continue  # a courtesy notice makes no sense once the due date has passed
        if level.relative_to == "due_date":
            start = invoice.due_date
        else:
            previous = max((n for n in sent if n < level.level), default=None)
            if previous is None:
                return None  # levels go up one at a time: not before the one below
            start = sent[previous]
        return level.level, next_business_day_on_or_after(start + timedelta(days=level.offset_days))
    return None


def _chaseable(invoice: Invoice, policy: Policy) -> bool:
    return (invoice.is_open and not invoice.disputed and not invoice.in_litigation
            and invoice.open_amount >= policy.min_open_amount)


def decide(debtor: Debtor, invoices: Sequence[Invoice], *, today: date, policy: Policy,
           last_contact: date | None = None, pending: bool = False) -> Decision:
    """The one decision for this debtor today."""
    account = debtor.account
    chaseable = [i for i in invoices if _chaseable(i, policy)]
    if not chaseable:
        reason = ("nothing open" if not any(i.is_open for i in invoices)
                  else "open invoices are disputed, in litigation or below the minimum")
        return Decision(account, NOTHING, reason)
    if debtor.in_collective_proceedings:
        return Decision(account, SKIP, "in collective proceedings since "
                        f"{debtor.collective_proceedings_since.isoformat()}: the claim is "
                        "declared, no reminders (C. com. L622-7, L622-24)")
    if debtor.blocked:
        return Decision(account, SKIP, "debtor blocked by the credit manager")
    if pending:
        return Decision(account, SKIP, "an earlier reminder is still waiting to be sent")

    due_now: dict[str, tuple[int, date]] = {}
    upcoming: list[date] = []
    for invoice in chaseable:
        step = next_level_date(invoice, policy, today)
        if step is None:
            continue
        if step[1] <= today:
            due_now[invoice.number] = step
        else:
            upcoming.append(step[1])
    if not due_now:
        return Decision(account, NOTHING, "no level due today", next_due=min(upcoming, default=None))

    if not is_business_day(today):
        return Decision(account, SKIP, f"{today.isoformat()} is not a business day")
    if last_contact is not None and (today - last_contact).days < policy.min_gap_days:
        return Decision(account, SKIP, f"last contact on {last_contact.isoformat()}, minimum gap "
                        f"{policy.min_gap_days} days",
                        next_due=last_contact + timedelta(days=policy.min_gap_days))

    level = max(step[0] for step in due_now.values())
    overdue = [i.number for i in chaseable if i.due_date < today or i.number in due_now]
    policy_level = policy.level(level)
    if not debtor.email:
        return Decision(account, SKIP, f"level {level} due but no e-mail address on file",
                        level=level)
    return Decision(
        account, SEND, f"level {level} due", level=level, channels=policy_level.channels,
        template=policy_level.template, listed=tuple(sorted(overdue)),
        advances={number: step[0] for number, step in sorted(due_now.items())},
    )


def due_for_litigation(invoice: Invoice, *, today: date, policy: Policy) -> bool:
    """Formal notice sent and its deadline passed, still open and undisputed."""
    notice = invoice.sent_levels.get(policy.last_level)
    return (notice is not None and invoice.is_open and not invoice.disputed
            and not invoice.in_litigation
            and today > notice + timedelta(days=policy.litigation_after_days))
