"""Put together the valid rows of the exports of one day, before they meet the ledger.

- The same invoice in two files of one day is one invoice; listed with
  different amounts, it is a conflict and neither row is trusted.
- Credit notes and unapplied payments are set against the debtor's open
  invoices in the same currency (Code civil art. 1342-10: failing the
  debtor's choice, the debts that are due first, the oldest first). Amounts
  are never converted between currencies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

SAME_INVOICE = ["account", "amount", "open_amount", "currency", "document_type"]
ZERO = Decimal("0.00")


@dataclass
class Imputation:
    credit: str
    invoice: str
    amount: Decimal
    account: str = ""
    credit_type: str = "credit_note"  # or payment
    currency: str = "EUR"

    def as_dict(self) -> dict:
        return {"account": self.account, "credit": self.credit, "credit_type": self.credit_type,
                "invoice": self.invoice, "amount": f"{self.amount:.2f}",
                "currency": self.currency}


@dataclass
class DayRows:
    rows: pd.DataFrame  # one row per invoice number
    conflicts: dict[int, dict[str, str]] = field(default_factory=dict)  # source -> number -> why
    imputations: list[Imputation] = field(default_factory=list)


def merge_same_day(parts: list[tuple[int, str, pd.DataFrame, bool]]) -> DayRows:
    """parts: (source id, file name, valid rows, from a FEC). One row per invoice number.

    A due date written in an open-items export wins over the one a FEC can
    only estimate (piece date + payment terms).
    """
    frames = []
    for order, (source, name, frame, from_fec) in enumerate(parts):
        if len(frame):
            frames.append(frame.assign(_source=source, _file=name, _fec=from_fec, _order=order))
    if not frames:
        empty = parts[0][2].iloc[0:0] if parts else pd.DataFrame()
        return DayRows(rows=empty)
    rows = pd.concat(frames, ignore_index=True)
    counts = rows.groupby("invoice_number")["_source"].transform("nunique")
    conflicts: dict[int, dict[str, str]] = defaultdict(dict)
    if (counts > 1).any():
        shared = rows.loc[counts > 1]
        differing = shared.groupby("invoice_number")[SAME_INVOICE].nunique().gt(1).any(axis=1)
        for number in differing[differing].index:
            listed = shared.loc[shared["invoice_number"] == number]
            for source, name in zip(listed["_source"], listed["_file"]):
                others = sorted(set(listed["_file"]) - {name})
                conflicts[source][number] = (
                    f"invoice_number appears in another export of the same day "
                    f"({', '.join(others)}) with different amounts or details")
        rows = rows.loc[~rows["invoice_number"].isin(list(differing[differing].index))]
    rows = (rows.sort_values(["_fec", "_order"], kind="stable")
            .drop_duplicates("invoice_number", keep="first")
            .sort_values("_order", kind="stable")
            .drop(columns=["_source", "_file", "_fec", "_order"])
            .reset_index(drop=True))
    return DayRows(rows=rows, conflicts=dict(conflicts))


def impute_credits(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[Imputation]]:
    """Lower the open invoices by the open credits of the same debtor and currency."""
    if rows.empty or "document_type" not in rows.columns:
        return rows, []
    rows = rows.assign(set_off=ZERO)  # what unlettered credits took off each invoice
    credit = rows["document_type"].ne("invoice") & rows["open_amount"].map(lambda v: v < 0)
    if not credit.any():
        return rows, []
    imputations: list[Imputation] = []
    pairs = set(zip(rows.loc[credit, "account"], rows.loc[credit, "currency"]))
    concerned = rows.loc[[pair in pairs for pair in zip(rows["account"], rows["currency"])]]
    for (account, currency), mine in concerned.groupby(["account", "currency"], sort=True):
        credits = mine.loc[credit[mine.index]].sort_values(["issue_date", "invoice_number"])
        owed = mine.loc[mine["document_type"].eq("invoice")
                        & mine["open_amount"].map(lambda v: v > 0)]
        queue = list(owed.sort_values(["due_date", "issue_date", "invoice_number"]).index)
        for c_index in credits.index:
            left = -rows.at[c_index, "open_amount"]
            while left > 0 and queue:
                i_index = queue[0]
                take = min(left, rows.at[i_index, "open_amount"])
                rows.at[i_index, "open_amount"] = rows.at[i_index, "open_amount"] - take
                rows.at[i_index, "set_off"] = rows.at[i_index, "set_off"] + take
                left -= take
                imputations.append(Imputation(rows.at[c_index, "invoice_number"],
                                              rows.at[i_index, "invoice_number"], take, account,
                                              rows.at[c_index, "document_type"], currency))
                if rows.at[i_index, "open_amount"] == 0:
                    queue.pop(0)
            rows.at[c_index, "open_amount"] = -left if left else ZERO
    return rows, imputations
