"""A litigation dossier's rules: is it ready to hand over, and how it lives once queued.

Plain functions of data: no database, no files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from recouvrement.domain.legal import limitation_date, limitation_status
from recouvrement.domain.model import DebtorKind
from recouvrement.domain.rates import RateTables, load_rates

# --- the queue's life ----------------------------------------------------------------

QUEUED, EXPORTED, WITH_BAILIFF, WITH_LAWYER, CLOSED = (
    "queued", "exported", "with_bailiff", "with_lawyer", "closed")
STATUSES = (QUEUED, EXPORTED, WITH_BAILIFF, WITH_LAWYER, CLOSED)
HANDLERS = {"bailiff": WITH_BAILIFF, "lawyer": WITH_LAWYER}
OUTCOMES = ("paid", "settled", "judgment", "abandoned")


class TransitionError(ValueError):
    """A change of status the queue does not allow, in words."""


def after_export(status: str) -> str:
    """A queued dossier becomes exported; exporting again changes nothing."""
    return EXPORTED if status == QUEUED else status


def after_handover(status: str, to: str) -> str:
    if to not in HANDLERS:
        raise TransitionError(f"hand over to a bailiff or a lawyer, not {to!r}")
    if status == CLOSED:
        raise TransitionError("the dossier is closed")
    if status == QUEUED:
        raise TransitionError("export the dossier first: the bailiff or lawyer works from it")
    return HANDLERS[to]


def after_close(status: str, outcome: str) -> str:
    if outcome not in OUTCOMES:
        raise TransitionError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if status == CLOSED:
        raise TransitionError("the dossier is already closed")
    return CLOSED


# --- readiness -------------------------------------------------------------------------

# "Amounts reconciled with today's export": the newest snapshot of the open
# items may be this many days old (an export made on Friday evening, read on
# Monday morning).
EXPORT_MAX_AGE_DAYS = 3
_SIREN = re.compile(r"^\d{9}$")


@dataclass(frozen=True)
class Identity:
    """What a court form needs to name the debtor."""

    name: str | None
    kind: DebtorKind
    siren: str | None
    address: str | None
    postcode: str | None
    city: str | None
    collective_proceedings: bool = False


@dataclass(frozen=True)
class Candidate:
    """An invoice whose formal notice deadline passed (or, in collective
    proceedings, that is overdue), with what the readiness check looks at."""

    number: str
    issue_date: date
    limitation_start: date | None
    disputed: bool = False
    paused: str | None = None  # why dunning pauses (a payment plan honoured)
    notice_proof: str | None = None  # the formal notice's Message-ID or registered letter
    last_seen_on: date | None = None  # the export date that last listed it
    due_date: date | None = None  # limitation runs from it when no later start is known
    limitation_earliest: date | None = None  # the start as courts may place it, earlier
    # In collective proceedings: True for a claim born before the opening (declared,
    # whatever its state), False for one born after (checked like any other claim).
    declared: bool | None = None


@dataclass(frozen=True)
class Readiness:
    ready: tuple[str, ...] = ()
    held: dict[str, tuple[str, ...]] = field(default_factory=dict)  # invoice -> reasons
    debtor_reasons: tuple[str, ...] = ()  # hold every invoice of the debtor
    urgent: dict[str, date] = field(default_factory=dict)  # ready invoice -> limitation end

    @property
    def fully_ready(self) -> bool:
        return not self.held and not self.debtor_reasons


def identity_problems(who: Identity) -> list[str]:
    """What is missing to name the debtor on a court form."""
    problems = []
    if not (who.name or "").strip():
        problems.append("no debtor name")
    if not all((part or "").strip() for part in (who.address, who.postcode, who.city)):
        problems.append("postal address incomplete (address, postcode and city): the request "
                        "must give the debtor's address (CPC 1407)")
    if who.kind is DebtorKind.B2B and not _SIREN.match((who.siren or "").replace(" ", "")):
        problems.append("no valid SIREN: a company is named by its registration number "
                        "(CPC 1407, 648)")
    return problems


def check_readiness(who: Identity, candidates: list[Candidate], *, today: date,
                    newest_export: date | None, rates: RateTables | None = None,
                    export_max_age_days: int = EXPORT_MAX_AGE_DAYS) -> Readiness:
    """Which candidate invoices can go to the litigation queue today, and why the others not."""
    rates = rates or load_rates()
    debtor_reasons = identity_problems(who)
    oldest_allowed = today - timedelta(days=export_max_age_days)
    if newest_export is None:
        debtor_reasons.append("no export of the open items loaded: amounts cannot be "
                              "reconciled")
    elif newest_export < oldest_allowed:
        debtor_reasons.append(f"newest export of the open items is of "
                              f"{newest_export.isoformat()}: amounts must be reconciled with "
                              f"one of {oldest_allowed.isoformat()} or later")
    rule = rates.limitation_rules[who.kind]
    ready, held, urgent = [], {}, {}
    for c in candidates:
        reasons = []
        start = c.limitation_start or c.due_date or c.issue_date
        declared = who.collective_proceedings if c.declared is None else c.declared
        status = limitation_status(who.kind, start, today, rates=rates,
                                   earliest_start=c.limitation_earliest)
        limit = limitation_date(who.kind, start, rates=rates)
        if status == "prescribed":
            reasons.append(f"prescribed since {(limit + timedelta(days=1)).isoformat()} "
                           f"({rule.source}): the claim can no longer be enforced")
        if c.disputed and not declared:
            reasons.append("disputed: the dispute must be closed first")
        if c.paused and not declared:
            reasons.append(f"dunning paused: {c.paused}")
        if not c.notice_proof and not declared:
            reasons.append("no proof of the formal notice (no e-mail with a Message-ID, no "
                           "registered letter)")
        if newest_export is not None and c.last_seen_on != newest_export:
            seen = c.last_seen_on.isoformat() if c.last_seen_on else "never"
            reasons.append(f"not in the newest export of {newest_export.isoformat()} (last seen "
                           f"{seen}): its open amount is not confirmed")
        if reasons:
            held[c.number] = tuple(reasons)
        else:
            ready.append(c.number)
            if status == "urgent":
                urgent[c.number] = limit
    if debtor_reasons:
        held.update({n: () for n in ready if n not in held})
        ready = []
        urgent = {}
    return Readiness(tuple(ready), held, tuple(debtor_reasons), urgent)


# --- one claim, one dossier ----------------------------------------------------------


@dataclass(frozen=True)
class DossierOfDebtor:
    """A dossier of the debtor, as far as joining and the small-claims ceiling care."""

    id: str
    status: str
    exported_on: date | None
    declared: bool  # claims declared in collective proceedings, or chased
    principal_and_interest: Decimal


def dossier_to_join(dossiers: list[DossierOfDebtor], *, declared: bool) -> str | None:
    """The dossier an invoice reaching litigation joins: of the same kind, queued and never
    exported. The oldest, when (from older versions) there are several."""
    for dossier in dossiers:
        if dossier.status == QUEUED and dossier.exported_on is None \
                and dossier.declared == declared:
            return dossier.id
    return None


def claim_elsewhere(dossiers: list[DossierOfDebtor], *, declared: bool,
                    besides: str | None = None) -> tuple[Decimal, tuple[str, ...]]:
    """What the debtor owes in its other live dossiers of the same kind (exported, not closed).

    The route is chosen on the whole claim: a claim split across dossiers is
    never judged part by part against the small-claims ceiling (CPCE R125-1).
    """
    others = [d for d in dossiers if d.id != besides and d.declared == declared
              and d.status != CLOSED]
    return (sum((d.principal_and_interest for d in others), Decimal(0)),
            tuple(d.id for d in others))


def statement_totals(lines: list[dict]) -> tuple[Decimal, Decimal]:
    """Principal and interest of a statement of claim: the sums of its lines (to the cent)."""
    return (sum((Decimal(line["principal"]) for line in lines), Decimal(0)),
            sum((Decimal(line["interest"]) for line in lines), Decimal(0)))
