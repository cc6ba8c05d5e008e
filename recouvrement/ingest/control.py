"""A file's own balances, read again from its raw rows, and the ledger's balances for its accounts.

The file side never goes through the invoices the loader builds (pieces,
lettering, set-offs): it is a second, plain reading of the same lines, so a
mistake in building the invoices shows as a difference. See
`recouvrement/domain/reconciliation.py` for the comparison.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recouvrement.adapters.db.models import Debtor, Invoice
from recouvrement.ingest.columns import LINE
from recouvrement.ingest.fec_accounts import customers
from recouvrement.ingest.parsing import parse_amounts
from recouvrement.ingest.validation import document_types

Balances = dict[tuple[str, str], Decimal | None]
_SENS = {"d": 1, "debit": 1, "+1": 1, "1": 1, "+": 1, "c": -1, "credit": -1, "-1": -1, "-": -1}
_IDENTITY = ["invoice_number", "account", "issue_date", "due_date", "amount", "open_amount",
             "currency", "document_type"]


def fec_balances(raw: pd.DataFrame) -> tuple[Balances, pd.Series]:
    """Per (customer account, currency): debit − credit of its lines; which lines are customers'.

    A customer line is a `411…` line, the account its `CompAuxNum` (or its
    `CompteNum` without one). In another currency (`Idevise`), the amount is
    `Montantdevise` with the line's sign, as the ledger keeps it.
    """
    # The reader's own rule: collective 411 lines and till accounts are no customer's.
    labels = {c: "" for c in ("CompteLib", "CompAuxLib") if c not in raw.columns}
    customer, _notes = customers(raw.assign(**labels) if labels else raw)
    lines = raw.loc[customer]
    account = lines["CompAuxNum"].mask(lines["CompAuxNum"].eq(""), lines["CompteNum"])
    if raw.attrs.get("amounts", "debit_credit") == "debit_credit":
        parsed, ambiguous = parse_amounts({c: lines[c]
                                           for c in ("Debit", "Credit", "Montantdevise")})
        debit = _readable(parsed["Debit"], ambiguous["Debit"], lines["Debit"])
        credit = _readable(parsed["Credit"], ambiguous["Credit"], lines["Credit"])
        net = [None if d is None or c is None else d - c for d, c in zip(debit, credit)]
    else:
        parsed, ambiguous = parse_amounts({c: lines[c] for c in ("Montant", "Montantdevise")})
        amount = _readable(parsed["Montant"], ambiguous["Montant"], lines["Montant"])
        sens = lines["Sens"].str.strip().str.lower().map(_SENS)
        net = [None if m is None or pd.isna(s) else m * int(s) for m, s in zip(amount, sens)]
    currency = lines["Idevise"].str.strip().str.upper().mask(lines["Idevise"].str.strip().eq(""),
                                                             "EUR")
    foreign = _readable(parsed["Montantdevise"], ambiguous["Montantdevise"], lines["Montantdevise"])
    values = []
    for n, cur, f in zip(net, currency, foreign):
        if cur == "EUR":
            values.append(n)
        elif n is None or f is None or f == "":
            values.append(None)
        else:
            values.append(abs(f) if n >= 0 else -abs(f))
    return _sum(account, currency, values), customer


def invoice_balances(raw: pd.DataFrame) -> Balances:
    """Per (account, currency): the sum of `open_amount`, credit notes and payments negative.

    Identical rows count once, as the loader counts them (one invoice listed twice).
    """
    rows = raw.drop_duplicates(subset=[c for c in _IDENTITY if c in raw.columns])
    parsed, ambiguous = parse_amounts({"open_amount": rows["open_amount"]})
    values = _readable(parsed["open_amount"], ambiguous["open_amount"], rows["open_amount"],
                       empty_is_zero=False)
    credit = document_types(rows["document_type"]).isin(["credit_note", "payment"])
    values = [None if v is None else (-abs(v) if c else v) for v, c in zip(values, credit)]
    currency = rows["currency"].str.strip().str.upper().mask(rows["currency"].str.strip().eq(""),
                                                             "EUR")
    return _sum(rows["account"].str.strip(), currency, values)


def _readable(parsed: pd.Series, ambiguous: pd.Series, text: pd.Series,
              empty_is_zero: bool = True) -> list:
    """Decimals, None when unreadable; an empty cell is 0 where a FEC leaves a side empty."""
    return [(Decimal(0) if empty_is_zero else None) if t.strip() == ""
            else (None if a or p is None else p)
            for p, a, t in zip(parsed, ambiguous, text)]


def _sum(accounts: pd.Series, currencies: pd.Series, values: list) -> Balances:
    out: Balances = {}
    for account, currency, value in zip(accounts, currencies, values):
        if not account:
            continue  # a row without an account is quarantined and belongs to no one
        key = (account, currency)
        if key in out and out[key] is None:
            continue
        out[key] = None if value is None else (out.get(key) or Decimal(0)) + value
    return {k: (None if v is None else v.quantize(Decimal("0.01"))) for k, v in out.items()}


def quarantined_accounts(raw: pd.DataFrame, quarantined: pd.DataFrame, kind: str) -> set[str]:
    """The accounts some of whose rows are in quarantine."""
    if quarantined.empty:
        return set()
    rows = raw.loc[raw[LINE].isin(list(quarantined[LINE]))]
    if kind == "fec":
        return set(rows["CompAuxNum"].mask(rows["CompAuxNum"].eq(""), rows["CompteNum"]))
    return set(rows["account"].str.strip())


ACCOUNTS_CHUNK = 1000


def ledger_balances(session: Session, accounts: set[str], export_date: date | None,
                    numbers: set[str]) -> tuple[dict[tuple[str, str], Decimal], set[str]]:
    """What the ledger holds open per (account, currency), and the accounts not to compare.

    Not to compare: an account with an open invoice the file does not list but
    that an export of the same day or a later one does (the ledger holds what
    the exports show together), or settled after the file's date.

    Up to ACCOUNTS_CHUNK accounts are asked for by name; more are read in one
    pass over the ledger and kept by account: asked for by chunks of names, the
    database reads every open invoice again for each chunk (from the index on
    the status), and a file of a million invoices took hours.
    """
    if not accounts:
        return {}, set()
    balances: dict[tuple[str, str], Decimal] = {}
    other: set[str] = set()
    listed = sorted(accounts)
    chunks = ([listed[start:start + ACCOUNTS_CHUNK]
               for start in range(0, len(listed), ACCOUNTS_CHUNK)]
              if len(listed) <= ACCOUNTS_CHUNK else [None])

    def among(query, chunk):
        """By the chunk's names, or every row streamed (not a million rows fetched at once)."""
        return (query.execution_options(yield_per=10_000) if chunk is None
                else query.where(Debtor.account.in_(chunk)))

    for chunk in chunks:
        for account, currency, amount in session.execute(among(
                select(Debtor.account, Invoice.currency, func.sum(Invoice.open_amount))
                .join(Debtor, Debtor.id == Invoice.debtor_id)
                .where(Invoice.status.in_(("open", "credit")))
                .group_by(Debtor.account, Invoice.currency), chunk)):
            if account in accounts:
                balances[(account, currency)] = Decimal(amount).quantize(Decimal("0.01"))
        if export_date is None:
            continue
        for account, number in session.execute(among(
                select(Debtor.account, Invoice.number).join(Invoice, Invoice.debtor_id == Debtor.id)
                .where(Invoice.status.in_(("open", "credit")),
                       Invoice.last_seen_on >= export_date), chunk)):
            if number not in numbers and account in accounts:
                other.add(account)
        other.update(a for a in session.scalars(among(
            select(Debtor.account).join(Invoice, Invoice.debtor_id == Debtor.id)
            .where(Invoice.settled_on > export_date).distinct(), chunk)) if a in accounts)
    return balances, other


def controls_fr(summary: dict) -> list[tuple[str, str]]:
    """The control total of a file's summary, worded in French for the credit manager's page."""
    from recouvrement.adapters.mail.render import format_amount

    c = summary.get("control")
    if not c:
        return []

    def money(amounts: dict[str, str]) -> str:
        return " + ".join(format_amount(Decimal(v), cur, "fr") for cur, v in amounts.items()) \
            or format_amount(Decimal(0), "EUR", "fr")

    held = summary.get("held")
    shown = "Solde clients (411) selon le fichier" if summary["kind"] == "fec" \
        else "Reste dû selon le fichier"
    ledger = ("Encours qu'aurait le registre avec ce fichier" if held
              else "Encours du registre après chargement")
    explained = c["differ"] - c["differ_not_explained"]
    gaps = f"{c['differ']} sur {c['accounts']}"
    if explained:
        gaps += f" (dont {explained} par des lignes en quarantaine)"
    if c["not_compared"]:
        gaps += f" ; {c['not_compared']} non comparé(s)"
    lines = [(shown, money(c["file_balance"])), (ledger, money(c["ledger_balance"])),
             ("Comptes en écart", gaps)]
    for d in c.get("first_differences", []):
        lines.append((f"Écart sur {d['account']}",
                      f"fichier {format_amount(Decimal(d['file']), d['currency'], 'fr')}, "
                      f"registre {format_amount(Decimal(d['ledger']), d['currency'], 'fr')}"))
    if held:
        lines.append(("Fichier retenu : rien n'en est chargé",
                      " ; ".join(_reason_fr(r) for r in summary.get("reasons", []))))
        lines.append(("Pour le prendre tel quel",
                      f"recouvrement ingest --confirm {summary['file']}"))
    return lines


_REASONS_FR = [
    (re.compile(r"^(\d+) of its (\d+) customer rows \(([\d.]+) %\) go to quarantine, more than "
                r"([\d.]+) %$"),
     "{0} lignes clients sur {1} ({2} %) sont en quarantaine, plus de {3} %"),
    (re.compile(r"^the ledger would not reconcile with it on (\d+) account\(s\): .*$"),
     "le registre ne concorderait pas avec le fichier sur {0} compte(s) (écarts ci-dessus)"),
    (re.compile(r"^it would settle (\d+) invoice\(s\) by their absence, ([\d.]+) (\w+) or "
                r"([\d.]+) % of the open amount \(more than ([\d.]+) %\)$"),
     "il solderait par leur absence {0} facture(s), {1} {2}, soit {3} % de l'encours "
     "(plus de {4} %)"),
    (re.compile(r"^it would settle by their absence (\d+) invoice\(s\) of dossiers in "
                r"litigation, closing them as paid: (.*)$"),
     "il solderait par leur absence {0} facture(s) de dossiers au contentieux, qui seraient "
     "clos comme payés : {1}"),
]


def _reason_fr(reason: str) -> str:
    """Why a file is held, in French; as written when not one of the known reasons."""
    for pattern, french in _REASONS_FR:
        found = pattern.match(reason)
        if found:
            return french.format(*(g.replace(".", ",") if re.fullmatch(r"[\d.]+", g) else g
                                   for g in found.groups()))
    return reason
