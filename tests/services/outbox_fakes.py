"""Fakes for the outbox's service tests: an SMS provider that records, a fixed clock, and a
small ledger written straight into SQLite (no export to read, no server)."""

from __future__ import annotations

import shutil
from collections import deque
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Debtor, Invoice

PARIS = ZoneInfo("Europe/Paris")


class FakeSmsProvider:
    """Records each SMS handed to it; `fail(error)` scripts the next answers."""

    name = "fake"

    def __init__(self):
        self.sent: list[dict] = []
        self.calls = 0
        self._script: deque[Exception] = deque()

    def fail(self, error: Exception, times: int = 1) -> None:
        self._script.extend([error] * times)

    def send(self, *, to: str, text: str, reference: str) -> str:
        self.calls += 1
        if self._script:
            raise self._script.popleft()
        self.sent.append({"to": to, "text": text, "reference": reference})
        return str(len(self.sent))


def at(day: date, hour: int, minute: int = 0):
    """A clock stopped at this local time in Paris (the outbox is given UTC)."""
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
    return lambda: moment.astimezone(ZoneInfo("UTC"))


def fresh_ledger(template: Path, folder: Path) -> Database:
    """A copy of the migrated empty ledger: a new database in a millisecond."""
    path = folder / "ledger.db"
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}")


def add_debtor(db: Database, account: str, *, email: str | None = "compta@exemple.example.com",
               phone: str | None = "06 12 34 56 78", kind: str = "B2B", due: date,
               amount: str = "1200.00", language: str = "fr") -> None:
    with db.session() as session:
        debtor = Debtor(account=account, name=f"{account[3:].title()} SARL", email=email,
                        phone=phone, kind=kind, language=language, address="1 rue de la Paix",
                        postcode="75002", city="Paris", country="FR", payment_terms_days=30,
                        legal_form="SARL" if kind == "B2B" else None)
        session.add(debtor)
        session.flush()
        session.add(Invoice(number=f"F-{account}", debtor_id=debtor.id,
                            issue_date=date.fromordinal(due.toordinal() - 30), due_date=due,
                            amount=Decimal(amount), open_amount=Decimal(amount), currency="EUR",
                            status="open", last_seen_on=due))
