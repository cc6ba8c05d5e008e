"""From the customer lines of a FEC to the open items of each debtor.

An item is (customer account, piece): the piece is the `PieceRef`, or the
entry standing in for a placeholder reference (`fec_accounts.py`). Lettering
decides as a group: the lines of one account under one lettering code are
settled together when they net to zero; when they do not (a partial
lettering), the group's payments and credit notes go to the group's
invoices, the oldest first, and what is left stays open. The unlettered lines
of a piece are netted with it: a partial payment entered on the invoice's
piece leaves the rest open. A piece with only credit lines is a payment (its
entry moves money: bank, cash, transfer) or a credit note, which
`reconcile.impute_credits` sets against the debtor's open invoices. The
opening entries (`AN`, `RAN`, `OUV`…) are pieces like any other: they carry
the earlier years' open items, and a lettering may join them.

A line that cannot be read holds back the lines it nets with (same piece or
same lettering group), and so does an item refused as a whole: a group is
loaded whole or held back whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pandas as pd

from recouvrement.ingest.columns import LINE
from recouvrement.ingest.fec import FEC_COLUMNS, VARIANT_COLUMNS, check_lines
from recouvrement.ingest.validation import (
    _invoice_expectations,
    clip,
    finish_invoices,
    mark_known,
    run_expectations,
)

DEFAULT_TERMS_DAYS = 30  # a FEC has no due date: PieceDate + the customer's terms
_SEP = "\x1f"
_ROUNDS = 5  # refusing an item may hold back a group, which may refuse another item...


@dataclass
class FecChecked:
    good: pd.DataFrame  # invoice-level rows, as `finish_invoices` returns them
    quarantined: pd.DataFrame  # lines: _line, raw, reasons, key
    lines_total: int
    lines_loaded: int  # customer lines behind the items of `good` (or settled by lettering)
    lines_ignored: int  # not customer lines: sales, VAT, bank, the collective account...
    new_debtors: pd.DataFrame  # account, name: customers known only from the FEC
    numbers_seen: set[str] = field(default_factory=set)
    lines_of: dict[str, list[int]] = field(default_factory=dict)  # number -> its line numbers
    validations: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # lines read as no customer's, and why


def check_fec(raw: pd.DataFrame, export_date: date, known_accounts: set[str],
              terms: dict[str, int], results: list | None = None) -> FecChecked:
    results = [] if results is None else results
    checked = check_lines(raw, export_date, results)
    lines, reasons = checked.lines, checked.reasons
    invoice_results: list = []
    for round_ in range(_ROUNDS):
        _hold_back(lines, reasons)
        good_lines = lines.loc[~reasons.loc[lines.index].map(bool)]
        items, members = _items(good_lines)
        refused = _quarantine_items(items.loc[items["mixed"]], members, reasons, lambda item:
                                    [f"the piece mixes currencies ({item['currencies']})"])
        items = items.loc[~items["mixed"]]
        named = set(good_lines.loc[good_lines["name"].notna(), "account"])
        typed = mark_known(_typed_items(items, export_date, terms), known_accounts | named)
        found: list = []
        failures = run_expectations("invoices", _invoice_expectations, typed, results=found)
        if round_ == 0:
            invoice_results = found
        failing = typed[LINE].isin(list(failures)).to_numpy()
        refused |= _quarantine_items(items.loc[failing], members, reasons,
                                     lambda item: failures[int(item["first_line"])])
        if not refused:
            break
    results.extend(invoice_results)
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
        numbers_seen=set(lines["invoice_number"]) | set(items["invoice_number"]),
        lines_of=_lines_of(items, members, raw[LINE]), validations=results,
        notes=checked.notes)


def _lines_of(items: pd.DataFrame, members: dict, line_numbers: pd.Series) -> dict[str, list[int]]:
    return {number: [int(line_numbers[i]) for i in members.get(number.removesuffix("/credit"), ())]
            for number in items["invoice_number"]}


def _hold_back(lines: pd.DataFrame, reasons: pd.Series) -> None:
    """Quarantine the lines that net with a quarantined line, until nothing more is caught."""
    piece_key = lines["invoice_number"]
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
        reasons[index].append(f"held back with line {where}, which is quarantined: same piece "
                              "or lettering group (loaded whole or not at all)")


def _items(lines: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """One row per (account, piece): what it was, what is left of it."""
    lines = lines.copy()
    letter_key = (lines["account"] + _SEP + lines["letter"]).where(lines["letter"].ne(""))
    lettered = letter_key.notna()
    letter_sums = lines.loc[lettered].groupby(letter_key[lettered])["net_cents"].sum()
    closed = lettered & letter_key.map(letter_sums).eq(0)
    cents = lines["cur_cents"].astype("int64")
    lines["open_part"] = cents.where(~closed, 0)
    partial = lettered & ~closed
    if partial.any():
        lines["open_part"] += _within_groups(lines.loc[partial], letter_key[partial]).reindex(
            lines.index, fill_value=0)
    debits = lines["cur_debit_cents"].astype("int64")
    lines["debit_part"] = debits
    lines["credit_part"] = cents - debits
    lines["debit_date"] = lines["piece_date"].where(debits > 0)
    lines["moves_money"] = lines["treasury"] & (cents < 0)
    grouped = lines.groupby("invoice_number", sort=False)
    items = grouped.agg(
        account=("account", "first"), piece=("piece", "first"),
        open=("open_part", "sum"), debit=("debit_part", "sum"), credit=("credit_part", "sum"),
        currency=("currency", "first"), currency_count=("currency", "nunique"),
        issue_debit=("debit_date", "min"), issue_any=("piece_date", "min"),
        payment=("moves_money", "any"), first_line=(LINE, "min"))
    items["currencies"] = grouped["currency"].agg(lambda c: ", ".join(sorted(set(c))))
    items["mixed"] = items["currency_count"] > 1
    members = {number: list(index) for number, index in grouped.groups.items()}
    items = items.reset_index()
    items.index = items["invoice_number"].to_numpy()
    return _kinds(items), members


def _within_groups(lines: pd.DataFrame, groups: pd.Series) -> pd.Series:
    """A partial lettering: its credits go to its own invoices, the oldest first.

    Returns, per line, what to add to its open part (on the first line of each
    piece of the group). The group's total is unchanged: what it leaves is open.
    """
    delta = pd.Series(0, index=lines.index, dtype="int64")
    for _group, mine in lines.groupby(groups[lines.index], sort=False):
        if mine["currency"].nunique() > 1:
            continue  # amounts are never converted: netted per piece instead
        per_piece = mine.groupby("invoice_number", sort=False).agg(
            net=("open_part", "sum"), day=("piece_date", "min"), first=(LINE, "idxmin"))
        owed = per_piece.loc[per_piece["net"] > 0].sort_values(["day", "first"])
        credits = per_piece.loc[per_piece["net"] < 0]
        if owed.empty or credits.empty:
            continue
        left = -int(credits["net"].sum())
        after = {number: 0 for number in credits.index}
        for number, net in owed["net"].items():
            take = min(left, int(net))
            after[number] = int(net) - take
            left -= take
        if left:  # paid beyond the group's invoices: the rest stays on its latest credit
            after[credits.sort_values("day").index[-1]] = -left
        for number, value in after.items():
            delta[per_piece.at[number, "first"]] += value - int(per_piece.at[number, "net"])
    return delta


def _kinds(items: pd.DataFrame) -> pd.DataFrame:
    """Invoices keep their gross amount; credit pieces open are credit notes or payments."""
    invoice = items["debit"] > 0
    items["document_type"] = "invoice"
    items.loc[~invoice, "document_type"] = items.loc[~invoice, "payment"].map(
        {True: "payment", False: "credit_note"})
    items["amount_cents"] = items["debit"].where(invoice, items["credit"])
    items["open_cents"] = items["open"].where(~invoice | (items["open"] >= 0), 0)
    items["issue_date"] = items["issue_debit"].where(invoice, items["issue_any"])
    # A piece paid beyond its amount: the invoice is settled and the excess is a credit.
    over = items.loc[invoice & (items["open"] < 0)].copy()
    if len(over):
        over["invoice_number"] = over["invoice_number"] + "/credit"
        over["document_type"] = over["payment"].map({True: "payment", False: "credit_note"})
        over["amount_cents"] = over["open"]
        over["open_cents"] = over["open"]
        over.index = over["invoice_number"].to_numpy()
        items = pd.concat([items, over])
    emitted = (items["document_type"] == "invoice") | (items["open_cents"] != 0)
    return items.loc[emitted]


def _quarantine_items(items: pd.DataFrame, members: dict, reasons: pd.Series, why) -> bool:
    """Give every line of these items the item's reasons; True when a line got a new one."""
    added = False
    for number, item in items.iterrows():
        for line_index in members.get(number.removesuffix("/credit"), ()):
            for reason in why(item):
                if reason not in reasons[line_index]:
                    reasons[line_index].append(reason)
                    added = True
    return added


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
    keys = lines["invoice_number"].reindex(rows.index)
    return pd.DataFrame({
        LINE: rows[LINE].astype(int),
        "raw": [dict(zip(columns, map(clip, values)))
                for values in rows[columns].itertuples(index=False)],
        "reasons": reasons[bad],
        "key": keys.where(keys.notna(), None),
    })
