"""FEC files for the tests, and what a file says each customer owes, read from its raw lines.

`balances_411` is written apart from the product's reader on purpose: it adds
up the debits and credits of each customer account straight from the text,
so that a test compares the ledger with the file, not the reader with itself.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from recouvrement.ingest.fec import FEC_COLUMNS

ENCODINGS = ("utf-8-sig", "cp1252")


def write_fec(path: Path, lines: list[dict], sep: str = "\t", encoding: str = "utf-8",
              newline: str = "\n", header=FEC_COLUMNS) -> Path:
    """A FEC from dicts of the columns that matter; the others empty."""
    rows = [sep.join(header)]
    for line in lines:
        values = {"Debit": "0,00", "Credit": "0,00", **line}
        values.setdefault("PieceDate", values.get("EcritureDate", ""))
        values.setdefault("ValidDate", values.get("EcritureDate", ""))
        rows.append(sep.join(str(values.get(c, "")) for c in header))
    path.write_bytes((newline.join(rows) + newline).encode(encoding))
    return path


def _amount(text: str) -> Decimal:
    text = text.strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        return Decimal(0)
    sign = -1 if text.endswith("-") or text.startswith("-") else 1
    text = text.strip("+-")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return sign * Decimal(text)


def raw_lines(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    rows = [r for r in text.splitlines() if r.strip()]
    sep = max(("\t", "|", ";"), key=rows[0].count)
    header = [h.strip().lower() for h in rows[0].split(sep)]
    return [dict(zip(header, (v.strip() for v in row.split(sep)))) for row in rows[1:]]


def balances_411(path: Path, not_debtors: set[str] = frozenset()) -> dict[str, Decimal]:
    """Debit minus credit of every customer account (`CompAuxNum`, else a detailed `411…`).

    Lines on a 411 account without `CompAuxNum` when that account has a
    sub-ledger belong to nobody; `not_debtors` names the accounts the test
    says are no customer (till clearing accounts).
    """
    lines = raw_lines(path)
    with_aux = {line["comptenum"] for line in lines
                if line["comptenum"].startswith("411") and line["compauxnum"]}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        number, aux = line["comptenum"], line["compauxnum"]
        if not number.startswith("411") or (not aux and number in with_aux):
            continue
        account = aux or number
        if account in not_debtors:
            continue
        if "montant" in line:
            amount = _amount(line["montant"])
            net = amount if line["sens"].strip().upper().startswith("D") else -amount
        else:
            net = _amount(line["debit"]) - _amount(line["credit"])
        totals[account] += net
    return dict(totals)


def owed(balances: dict[str, Decimal]) -> dict[str, Decimal]:
    """What the ledger must chase: the positive balances, nothing on a nil or credit one."""
    return {a: b.quantize(Decimal("0.01")) for a, b in balances.items() if b > 0}


def ledger_owed(session) -> dict[str, Decimal]:
    """Each debtor's open amount as `recouvrement debtors` shows it, the positive ones."""
    from recouvrement.queries.reports import debtor_rows

    return {r["account"]: Decimal(r["open_amount"]) for r in debtor_rows(session)
            if Decimal(r["open_amount"]) != 0}
