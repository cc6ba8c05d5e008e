"""Which creditor's ledger a command, a flow and its tasks work on (agency mode).

One place: `using_creditor(code)` installs, for the block, the function that
`load_settings()` applies to the agency's settings; `run_context()` and every task
then see that creditor's home, database, inbox, policy and identity. The CLI's
`--creditor` and the daily flow's `creditor` parameter both go through it. A
context variable, not a global: two flows of two creditors in one process never
see each other's, and Prefect copies it into the threads that run tasks.

Without a code, a command that works on one ledger is refused (CreditorRequired)
as soon as creditors are registered: with two ledgers, none is "the" ledger.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from recouvrement.config.settings import SELECTION, Settings


class CreditorRequired(ValueError):
    """Creditors are registered and the command did not say which one it is about."""


def agency_database(agency: Settings):
    """The agency's own database (the register of creditors), signed with its own key."""
    from recouvrement.adapters.db import open_ledger

    return open_ledger(agency)


def registered(agency: Settings, *, active_only: bool = False):
    """The creditors of the register (CreditorRecord), by code."""
    from recouvrement.services.agency.creditors import list_creditors

    with agency_database(agency).session() as session:
        records = list_creditors(session)
    return [r for r in records if r.active or not active_only]


def creditor_record(agency: Settings, code: str):
    from recouvrement.services.agency.creditors import get_creditor

    with agency_database(agency).session() as session:
        return get_creditor(session, code)


def required_message(codes: list[str]) -> str:
    return (f"{len(codes)} creditor(s) are registered ({', '.join(codes)}): this command works "
            f"on one creditor's ledger, use --creditor CODE (e.g. `recouvrement --creditor "
            f"{codes[0]} ...`); nothing was changed")


def _selector(code: str | None, *, guard: bool):
    """The function load_settings applies: the agency's settings -> the creditor's."""
    from recouvrement.services.agency.creditors import creditor_settings

    known: dict[tuple, Settings] = {}

    def select(agency: Settings) -> Settings:
        key = (str(agency.home), agency.database_url)
        if key not in known:
            if code is not None:
                known[key] = creditor_settings(agency, creditor_record(agency, code))
            else:
                codes = [r.code for r in registered(agency)]
                if codes:
                    raise CreditorRequired(required_message(codes))
                known[key] = agency  # no creditor registered: the one ledger, as always
        return known[key]

    return select if (code is not None or guard) else None


@contextmanager
def using_creditor(code: str | None, *, guard: bool = False) -> Iterator[None]:
    """Within the block, load_settings() is creditor `code`'s (None: the installation's own,
    or with `guard`, refused once creditors are registered)."""
    token = SELECTION.set(_selector(code or None, guard=guard))
    try:
        yield
    finally:
        SELECTION.reset(token)
