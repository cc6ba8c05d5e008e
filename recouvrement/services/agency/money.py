"""What the agency's money commands work on: its own database, one creditor's record and
ledger, who signs the receipts, the relay."""

from __future__ import annotations

from dataclasses import dataclass

from recouvrement.services.agency.creditors import CreditorRecord, creditor_settings, get_creditor
from recouvrement.services.agency.payments import Agency
from recouvrement.services.agency.selection import agency_database
from recouvrement.adapters.db import Database, open_ledger
from recouvrement.config.settings import Settings


@dataclass(frozen=True)
class MoneyContext:
    settings: Settings  # the agency's
    record: CreditorRecord
    ledger_settings: Settings  # the creditor's ledger's
    agency_db: Database
    ledger_db: Database
    agency: Agency

    def mailer(self):
        from recouvrement.adapters.mail.mailer import SmtpMailer

        return SmtpMailer.from_settings(self.settings)


def money_context(settings: Settings, code: str, record: CreditorRecord | None = None
                  ) -> MoneyContext:
    """The context of creditor `code` (UnknownCreditor when the register lacks it): each
    database signed with its own audit key, whatever creditor is selected."""
    agency_db = agency_database(settings)
    if record is None:
        with agency_db.session() as session:
            record = get_creditor(session, code)
    ledger_settings = creditor_settings(settings, record)
    return MoneyContext(settings, record, ledger_settings, agency_db,
                        open_ledger(ledger_settings), Agency.from_settings(settings))
