"""From the customer lines of a FEC to the open items of each debtor.

An item is a piece (`PieceRef`, or the entry's `EcritureNum` when the tool
leaves it empty) of one customer account. Lines whose lettering group nets
to zero are settled. What is left of a piece is netted: FEC tools only
letter full matches, so a partial payment entered on the invoice's piece
leaves the rest open. A piece with only credit lines is a credit note or an
unapplied payment, which `reconcile.impute_credits` sets against the
debtor's open invoices. The opening entries (`OUV`/`AN` journal) are pieces
like any other: they carry the earlier years' open items.

A line that cannot be read holds back the lines it nets with (same piece or
same lettering): a piece netted without one of its lines would be wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pandas as pd

from recouvrement.ingest.columns import LINE
from recouvrement.ingest.fec import FEC_COLUMNS, VARIANT_COLUMNS, check_lines
from recouvrement.ingest.profiles import fold
from recouvrement.ingest.validation import (
    _invoice_expectations,
    clip,
    finish_invoices,
    mark_known,
    run_expectations,
)

DEFAULT_TERMS_DAYS = 30  # INTERFACE.md: a FEC has no due date
_SEP = "\x1f"
_TREASURY_CODES = ("bq", "bn", "ban", "ca", "cai", "tr", "rg", "reg", "enc")
_TREASURY_WORDS = ("banque", "caisse", "reglement", "tresorerie", "encaissement", "virement")


@dataclass
class FecChecked:
    good: pd.DataFrame  # invoice-level rows, as `finish_invoices` returns them
    quarantined: pd.DataFrame  # lines: _line, raw, reasons, key
    lines_total: int
    lines_loaded: int  # customer lines behind the items of `good` (or settled by lettering)
    lines_ignored: int  # not customer lines: sales, VAT, bank...
    new_debtors: pd.DataFrame  # account, name: customers known only from the FEC
    numbers_seen: set[str] = field(default_factory=set)
    lines_of: dict[str, list[int]] = field(default_factory=dict)  # number -> its line numbers
    validations: list = field(default_factory=list)


def check_fec(raw: pd.DataFrame, export_date: date, known_accounts: set[str],
              terms: dict[str, int], results: list | None = None) -> FecChecked:
    results = [] if results is None else results
    checked = check_lines(raw, export_date, results)
    lines, reasons = checked.lines, checked.reasons
    _hold_back(lines, reasons)
    good_lines = lines.loc[~reasons.loc[lines.index].map(bool)]

    items, members = _items(good_lines)
    _quarantine_items(items.loc[items["mixed"]], members, reasons, lambda item:
                      f"the piece mixes currencies ({item['currencies']})")
    items = items.loc[~items["mixed"]]
    items, clashes = _one_account_per_number(items)
    _quarantine_items(clashes, members, reasons, lambda item:
                      f"PieceRef {item['invoice_number']} is open on several customer accounts")

    named = set(good_lines.loc[good_lines["name"].notna(), "account"])
    typed = mark_known(_typed_items(items, export_date, terms), known_accounts | named)
    failures = run_expectations("invoices", _invoice_expectations, typed, results=results)
    failing = typed[LINE].isin(list(failures))
    for key, item in items.loc[failing.to_numpy()].iterrows():
        for line_index in members.get(key.removesuffix("/credit"), ()):
            for reason in failures[int(item["first_line"])]:
                if reason not in reasons[line_index]:
                    reasons[line_index].append(reason)
    good = finish_invoices(typed.loc[~failing])

    new = good.loc[~good["account"].isin(known_accounts), ["account"]].drop_duplicates()
    latest_names = good_lines.dropna(subset=["name"]).groupby("account")["name"].last()
    new["name"] = new["account"].map(latest_names)
    customer = checked.customer
    bad = reasons.map(bool)
    quarantined = _quarantined(raw, reasons, bad, lines)
    return FecChecked(
        good=good, quarantined=quarantined, lines_total=len(raw),
        lines_loaded=int((customer & ~bad).sum()), lines_ignored=int((~customer & ~bad).sum()),
        new_debtors=new.reset_index(drop=True),
        numbers_seen=set(lines["piece"]) | set(items["invoice_number"]),
        lines_of=_lines_of(items, members, raw[LINE]), validations=results)


def _lines_of(items: pd.DataFrame, members: dict, line_numbers: pd.Series) -> dict[str, list[int]]:
    return {number: [int(line_numbers[i]) for i in members.get(key.removesuffix("/credit"), ())]
            for key, number in zip(items.index, items["invoice_number"])}


def _hold_back(lines: pd.DataFrame, reasons: pd.Series) -> None:
    """Quarantine the lines that net with a quarantined line, until nothing more is caught."""
    piece_key = lines["account"].fillna("") + _SEP + lines["piece"]
    letter_key = (lines["account"].fillna("") + _SEP + lines["letter"]).where(lines["letter"].ne(""))
    bad = reasons.loc[lines.index].map(bool)
    if not bad.any():
        return
    held = bad.copy()
    while True:
        pieces, letters = set(piece_key[held]), set(letter_key[held].dropna())
        grown = held | piece_key.isin(pieces) | letter_key.isin(letters)
        if grown.sum() == held.sum():
            break
        held = grown
    first_bad = lines.loc[bad, LINE]
    for index in held[held & ~bad].index:
        same = first_bad[(piece_key[bad] == piece_key[index]) |
                         (letter_key[bad] == letter_key[index])]
        where = ", ".join(str(n) for n in (same.head(3) if len(same) else first_bad.head(1)))
        reasons[index].append(f"held back with line {where}, which cannot be read: "
                              "same piece or lettering")


def _items(lines: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """One row per (account, piece): what it was, what is left of it."""
    lines = lines.copy()
    letter_key = lines["account"] + _SEP + lines["letter"]
    lettered = lines["letter"].ne("")
    letter_sums = lines.loc[lettered].groupby(letter_key[lettered])["net_cents"].sum()
    closed = lettered & letter_key.map(letter_sums).eq(0)
    cents = lines["cur_cents"].astype("int64")
    lines["open_part"] = cents.where(~closed, 0)
    debits = lines["cur_debit_cents"].astype("int64")
    lines["debit_part"] = debits
    lines["credit_part"] = cents - debits
    lines["debit_date"] = lines["piece_date"].where(debits > 0)
    grouped = lines.groupby(["account", "piece"], sort=False)
    items = grouped.agg(
        open=("open_part", "sum"), debit=("debit_part", "sum"), credit=("credit_part", "sum"),
        currency=("currency", "first"), currency_count=("currency", "nunique"),
        issue_debit=("debit_date", "min"), issue_any=("piece_date", "min"),
        journal=("journal", "first"), label=("journal_label", "first"),
        first_line=(LINE, "min"), from_entry=("piece_from_entry", "first"))
    currencies = grouped["currency"].agg(lambda c: ", ".join(sorted(set(c))))
    items["currencies"] = currencies
    items["mixed"] = items["currency_count"] > 1
    members = {_key(*key): list(index) for key, index in grouped.groups.items()}
    items = items.reset_index()
    items.index = _key(items["account"], items["piece"])
    # An entry number used as the piece by several accounts (one opening entry
    # for all customers): the account tells the items apart.
    entry = items.loc[items["from_entry"]]
    shared = entry.index[entry.groupby("piece")["account"].transform("nunique") > 1]
    items["invoice_number"] = items["piece"]
    items.loc[shared, "invoice_number"] = items.loc[shared, "piece"] + "-" + items.loc[shared, "account"]
    return _kinds(items), members


def _key(account, piece):
    return account + _SEP + piece


def _kinds(items: pd.DataFrame) -> pd.DataFrame:
    """Invoices keep their gross amount; credit pieces open are credit notes or payments."""
    invoice = items["debit"] > 0
    treasury = pd.Series([_is_treasury(code, label) for code, label
                          in zip(items["journal"], items["label"])], index=items.index)
    items["document_type"] = "invoice"
    items.loc[~invoice, "document_type"] = treasury[~invoice].map(
        {True: "payment", False: "credit_note"})
    items["amount_cents"] = items["debit"].where(invoice, items["credit"])
    items["open_cents"] = items["open"].where(~invoice | (items["open"] >= 0), 0)
    items["issue_date"] = items["issue_debit"].where(invoice, items["issue_any"])
    # A piece paid beyond its amount: the invoice is settled and the excess is a credit.
    over = items.loc[invoice & (items["open"] < 0)].copy()
    if len(over):
        over["invoice_number"] = over["invoice_number"] + "/credit"
        over["document_type"] = "payment"
        over["amount_cents"] = over["open"]
        over["open_cents"] = over["open"]
        over.index = over.index + "/credit"
        items = pd.concat([items, over])
    emitted = (items["document_type"] == "invoice") | (items["open_cents"] != 0)
    return items.loc[emitted]


def _is_treasury(code: str, label: str) -> bool:
    code, label = fold(code), fold(label)
    return code.startswith(_TREASURY_CODES) or any(w in label for w in _TREASURY_WORDS)


def _one_account_per_number(items: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A piece moved to another account is the open one; open on two accounts, it is unclear."""
    counts = items.groupby("invoice_number")["account"].transform("size")
    if (counts == 1).all():
        return items, items.iloc[0:0]
    shared = items.loc[counts > 1]
    open_count = shared.groupby("invoice_number")["open_cents"].transform(lambda s: (s != 0).sum())
    clashes = shared.loc[open_count > 1]
    keep_open = shared.loc[(open_count == 1) & (shared["open_cents"] != 0)]
    settled = shared.loc[open_count == 0]
    keep_settled = settled.loc[settled.groupby("invoice_number")["first_line"].transform("max")
                               == settled["first_line"]]
    kept = pd.concat([items.loc[counts == 1], keep_open, keep_settled])
    return kept, clashes


def _quarantine_items(items: pd.DataFrame, members: dict, reasons: pd.Series, why) -> None:
    for key, item in items.iterrows():
        for line_index in members.get(key.removesuffix("/credit"), ()):
            reasons[line_index].append(why(item))


def _typed_items(items: pd.DataFrame, export_date: date, terms: dict[str, int]) -> pd.DataFrame:
    """The items in the shape `type_invoices` gives, for the same invoice expectations."""
    def money(cents) -> Decimal:
        return Decimal(int(cents)).scaleb(-2)

    issue = pd.to_datetime(items["issue_date"]).astype("datetime64[us]")
    days = items["account"].map(lambda a: terms.get(a, DEFAULT_TERMS_DAYS))
    invoice = items["document_type"].eq("invoice")
    due = issue + pd.to_timedelta(days.where(invoice, 0), unit="D")
    typed = pd.DataFrame({
        LINE: items["first_line"].astype("int64").to_numpy(),
        "invoice_number": items["invoice_number"].to_numpy(),
        "account": items["account"].to_numpy(),
        "issue_date": issue.to_numpy(),
        "due_date": due.astype("datetime64[us]").to_numpy(),
        "export_date": pd.Series(pd.Timestamp(export_date), index=items.index)
        .astype("datetime64[us]").to_numpy(),
        "document_type": items["document_type"].to_numpy(),
        "amount": [money(c) for c in items["amount_cents"]],
        "open_amount": [money(c) for c in items["open_cents"]],
        "currency": items["currency"].to_numpy(),
    })
    typed["amount_f"] = items["amount_cents"].to_numpy() / 100
    typed["open_amount_f"] = items["open_cents"].to_numpy() / 100
    typed["amount_decimals"] = 0.0
    typed["open_amount_decimals"] = 0.0
    typed["distinct_number"] = typed["invoice_number"]
    return typed


def _quarantined(raw: pd.DataFrame, reasons: pd.Series, bad: pd.Series,
                 lines: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in (*FEC_COLUMNS, *VARIANT_COLUMNS)
               if c in raw.columns and (c not in VARIANT_COLUMNS or raw[c].ne("").any())]
    rows = raw.loc[bad]
    keys = lines["piece"].reindex(rows.index)
    return pd.DataFrame({
        LINE: rows[LINE].astype(int),
        "raw": [dict(zip(columns, map(clip, values)))
                for values in rows[columns].itertuples(index=False)],
        "reasons": reasons[bad],
        "key": keys.where(keys.notna(), None),
    })
