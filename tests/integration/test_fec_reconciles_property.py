"""Generated FECs: the ledger owes what the file's 411 accounts owe, to the cent.

Each example is a fiscal year written the way accounting tools write it:
opening entries with one reference for every customer, invoices under their
own number or a monthly batch reference or a placeholder (`x`, `0000`, `-`,
empty), credit notes, receipts from banks whose journal codes say nothing
(`CRC CREDIT AGRICOLE`, `RCH`, lower-case `bq`), lettered in full, lettered in
part (lower case, `*`), or not lettered at all, under a remittance reference
(`REM CHQ`, `0000000`), lines on the collective account without a customer,
and a till clearing account. The file goes through the real ingest into a
SQLite ledger; then every debtor's open amount must be its account's balance
when positive, and nothing may be due where the balance is nil or a credit.
"""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recouvrement.adapters.db import Database, close_database
from recouvrement.ingest.load import ingest_inbox
from tests.fec_builders import balances_411, ledger_owed, owed, write_fec

TODAY = date(2026, 11, 2)
ACCOUNTS = ("411ALPHA", "411BRAVO", "411CHARLIE", "411DELTA", "411ECHO")
BANKS = (("BQ", "Banque"), ("CRC CREDIT AGRICOLE", "CREDIT AGRICOLE"),
         ("RCH", "Remises de cheques"), ("bq", "banque"), ("CM", "CIC"))
CASH_ACCOUNTS = ("51200000", "51120000", "53000000", "58000000")
PLACEHOLDERS = ("x", "X", "0000", "0000000", "-", "", "SANS_PIECE_REF", "sans")
CLEARING = "411RECCB"
EXAMPLES = int(os.environ.get("RECOUVREMENT_PROPERTY_EXAMPLES", "25"))


def cents(value: int) -> str:
    return f"{value // 100},{value % 100:02d}"


@dataclass
class Year:
    """A FEC being written: entries of balanced lines, numbered per journal."""

    lines: list[dict] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seq: int = 0
    letters: int = 0

    def entry(self, journal: str, label: str, day: date, customer_lines: list[tuple],
              counterpart: str) -> None:
        """customer_lines: (CompteNum, CompAuxNum, CompAuxLib, PieceRef, net cents, letter)."""
        self.numbers[journal] += 1
        common = {"JournalCode": journal, "JournalLib": label,
                  "EcritureNum": str(self.numbers[journal]), "EcritureDate": day.strftime("%Y%m%d")}
        total = 0
        for compte, aux, name, ref, net, letter in customer_lines:
            total += net
            self.lines.append({**common, "CompteNum": compte, "CompteLib": "Clients",
                               "CompAuxNum": aux, "CompAuxLib": name, "PieceRef": ref,
                               "EcritureLib": f"{label} {ref}".strip(),
                               "Debit": cents(max(net, 0)), "Credit": cents(max(-net, 0)),
                               "EcritureLet": letter,
                               "DateLet": day.strftime("%Y%m%d") if letter else ""})
        ref = customer_lines[0][3]
        self.lines.append({**common, "CompteNum": counterpart, "CompteLib": "Contrepartie",
                           "PieceRef": ref, "EcritureLib": label,
                           "Debit": cents(max(-total, 0)), "Credit": cents(max(total, 0))})

    def letter(self, lower: bool = False, star: bool = False) -> str:
        self.letters += 1
        code = "".join(chr(65 + (self.letters // 26 ** i) % 26) for i in (2, 1, 0))
        return (code.lower() if lower else code) + ("*" if star else "")

    def reference(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}{self.seq:05d}"


@st.composite
def fiscal_years(draw) -> tuple[list[dict], set[str]]:
    year = Year()
    accounts = list(ACCOUNTS[:draw(st.integers(1, len(ACCOUNTS)))])
    amounts = st.integers(1, 900_000)
    days = st.integers(0, 290).map(lambda d: date(2026, 1, 5) + timedelta(days=d))
    owed_items: dict[str, list[list]] = {a: [] for a in accounts}  # [line index, cents, open]

    def customer(account, ref, net, letter=""):
        return ("41100000", account, f"Client {account[3:].title()}", ref, net, letter)

    # Opening entries: one entry, one reference for every customer ("RAN", "AN").
    opening = [a for a in accounts if draw(st.booleans())]
    if opening:
        ref = draw(st.sampled_from(("RAN", "AN", "A NOUVEAUX")))
        nets = [draw(amounts) for _ in opening]
        start = len(year.lines)
        year.entry("AN", "A nouveaux", date(2026, 1, 1),
                   [customer(a, ref, n) for a, n in zip(opening, nets)], "89000000")
        for i, (a, n) in enumerate(zip(opening, nets)):
            owed_items[a].append([start + i, n])
    # Invoices: their own number, a monthly batch reference, or a placeholder.
    batch = draw(st.sampled_from(("VE  0323", "01/2023", "FACT MARS")))
    for account in accounts:
        for _ in range(draw(st.integers(0 if account != accounts[0] else 1, 3))):
            kind = draw(st.sampled_from(("own", "own", "batch", "placeholder")))
            ref = (year.reference("F") if kind == "own" else batch if kind == "batch"
                   else draw(st.sampled_from(PLACEHOLDERS)))
            net = draw(amounts)
            owed_items[account].append([len(year.lines), net])
            year.entry("VT", "Ventes", draw(days), [customer(account, ref, net)], "70600000")
        for _ in range(draw(st.integers(0, 1))):  # a credit note, never lettered here
            ref = draw(st.sampled_from((year.reference("AV"), "x", "")))
            year.entry("VT", "Ventes", draw(days), [customer(account, ref, -draw(amounts))],
                       "70900000")
    # Receipts: lettered in full, in part, or not at all.
    for account in accounts:
        open_ = [item for item in owed_items[account]]
        for _ in range(draw(st.integers(0, 4))):
            journal, label = draw(st.sampled_from(BANKS))
            cash = draw(st.sampled_from(CASH_ACCOUNTS))
            ref = draw(st.sampled_from(("REM CHQ", "0000000", "VIR", "own")))
            ref = year.reference("VIR") if ref == "own" else ref
            how = draw(st.sampled_from(("full", "partial", "none")))
            day = draw(days)
            if how == "full" and open_:
                chosen = draw(st.lists(st.sampled_from(range(len(open_))), min_size=1,
                                       max_size=min(3, len(open_)), unique=True))
                code = year.letter()
                paid = 0
                for index in sorted(chosen, reverse=True):
                    line_index, net = open_.pop(index)
                    year.lines[line_index]["EcritureLet"] = code
                    paid += net
                year.entry(journal, label, day, [customer(account, ref, -paid, code)], cash)
            elif how == "partial" and open_:
                index = draw(st.sampled_from(range(len(open_))))
                line_index, net = open_.pop(index)
                code = year.letter(lower=draw(st.booleans()), star=draw(st.booleans()))
                year.lines[line_index]["EcritureLet"] = code
                part = draw(st.integers(1, max(net - 1, 1)))
                year.entry(journal, label, day, [customer(account, ref, -part, code)], cash)
            else:
                year.entry(journal, label, day, [customer(account, ref, -draw(amounts))], cash)
    # Lines on the collective account itself, and a till clearing account.
    not_debtors = set()
    if draw(st.booleans()):
        year.entry("OD", "Operations diverses", draw(days),
                   [("41100000", "", "", "OD REGUL", draw(amounts), "")], "47100000")
    if draw(st.booleans()):
        not_debtors.add(CLEARING)
        net = draw(amounts)
        year.entry("VT", "Ventes", draw(days),
                   [("41100000", CLEARING, "RECETTE CB", "Z CAISSE", net, "")], "70700000")
        year.entry("CB", "Remises CB", draw(days),
                   [("41100000", CLEARING, "RECETTE CB", "Z CAISSE", -net, "")], "58000000")
    return year.lines, not_debtors


@pytest.fixture(scope="module")
def empty_ledger(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    Database(f"sqlite:///{path}").dispose()
    close_database(f"sqlite:///{path}")
    return path


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(story=fiscal_years())
def test_every_debtor_owes_its_411_balance_when_positive_and_nothing_else(
        story, empty_ledger, tmp_path_factory):
    lines, not_debtors = story
    folder = tmp_path_factory.mktemp("example")
    inbox = folder / "inbox"
    inbox.mkdir()
    fec = write_fec(inbox / "732829320FEC20261231.txt", lines)
    shutil.copy(empty_ledger, folder / "ledger.db")
    url = f"sqlite:///{folder / 'ledger.db'}"
    db = Database(url)
    try:
        with db.session() as session:
            report = ingest_inbox(session, inbox, actor="test", run_id=None, today=TODAY,
                                  home=None)
        assert report.quarantined == []
        with db.session() as session:
            assert ledger_owed(session) == owed(balances_411(fec, not_debtors))
    finally:
        db.dispose()
        close_database(url)
