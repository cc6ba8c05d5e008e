"""What a FEC's lines mean beyond their columns, read the way accounting software writes them.

- Who is a customer. A `411…` line with a sub-ledger account (`CompAuxNum`)
  belongs to that customer; a `411…` account that carries sub-ledger lines is
  the collective account, and its lines without one belong to nobody. A
  detailed `411…` account without sub-ledger is a customer (EBP, Ciel). The
  payment-means clearing accounts some tools keep among the customers
  ("RECETTE CB", "Clients comptant") are not debtors.
- Which reference names an invoice. `PieceRef` does, unless it is a
  placeholder: a word that names nothing (`x`, `sans`, `néant`…), only zeros
  and punctuation (`0000000`, `-`), or one reference carried by many entries
  of many customers (a bank remittance `REM CHQ`, a monthly sales batch
  `VE 0323`). Then the entry is the piece.
- An invoice is (customer account, piece): a piece on several customers is one
  item per customer, numbered `piece-account` so that every number is unique.
- Which entry is a receipt: one that posts to a bank, cash or transfer account
  (51…, 53…, 58…) or to bills receivable (413…), whatever its journal's code.
"""

from __future__ import annotations

import re

import pandas as pd

from recouvrement.ingest.profiles import fold

CUSTOMER_PREFIXES = ("411",)  # PCG: clients; 416 (douteux) stays with the accountant
# PCG 51 banks and cheques to cash, 53 cash, 58 internal transfers, 413 bills receivable.
TREASURY_PREFIXES = ("51", "53", "58", "413")
TREASURY_CODES = ("bq", "bn", "ban", "ca", "cai", "tr", "rg", "reg", "enc")
TREASURY_WORDS = ("banque", "caisse", "reglement", "tresorerie", "encaissement", "virement")
# Folded; a reference made only of zeros, spaces and punctuation is a placeholder too.
PLACEHOLDER_WORDS = frozenset({
    "x", "xx", "xxx", "sans", "sans ref", "sans reference", "sans piece", "sans piece ref",
    "sanspieceref", "pas de piece", "na", "n a", "nc", "nd", "neant", "aucun", "aucune", "none",
    "null", "nul", "vide", "ras"})
SHARED_BY = 3  # a reference on this many customer accounts and entries names a batch, not an invoice
GENERIC_LABELS = frozenset({
    "client", "clients", "clients divers", "client divers", "clients france",
    "clients ordinaires", "clients collectif", "collectif clients", "compte client",
    "compte clients", "comptes clients", "clients etrangers", "clients export",
    "clients et comptes rattaches", "clients ventes de biens ou de prestations de services"})
_PAYMENT_MEANS = re.compile(
    r"^(?:(?:recettes?|encaissements?|ventes?|clients?|reglements?) "
    r"(?:cb|carte|cartes|especes|cheques?|comptant|comptoir|caisse|tpe|tickets?|cash)\b"
    r"|(?:especes|tpe)\b|recettes? )")
_ZEROS_AND_PUNCTUATION = re.compile(r"[\W_0]*")


def entry_keys(raw: pd.DataFrame) -> pd.Series:
    """The entry each line belongs to: journal, number and date (a FEC entry has one date)."""
    return raw["JournalCode"] + "\x1f" + raw["EcritureNum"] + "\x1f" + raw["EcritureDate"]


def entry_ids(raw: pd.DataFrame) -> pd.Series:
    """How an entry is named when it is the piece: `EcritureNum`, qualified when that repeats.

    Tools that number each journal on its own write the same number in
    several journals (the journal then tells them apart); some restart every
    month (the date then does).
    """
    number, journal, day = raw["EcritureNum"], raw["JournalCode"], raw["EcritureDate"]
    journals = raw.groupby("EcritureNum")["JournalCode"].transform("nunique")
    days = raw.groupby(["JournalCode", "EcritureNum"])["EcritureDate"].transform("nunique")
    ids = number.where(journals.le(1), journal + "-" + number)
    ids = ids.where(days.le(1), ids + "-" + day)
    return ids.where(number.ne(""), journal + "-" + day)


def treasury_lines(raw: pd.DataFrame) -> pd.Series:
    """True for the lines of an entry that moves money: a bank, cash or transfer counterpart."""
    keys = entry_keys(raw)
    posts = raw["CompteNum"].str.startswith(TREASURY_PREFIXES)
    by_account = keys.isin(set(keys[posts]))
    return by_account | _per_pair(raw["JournalCode"], raw["JournalLib"], _treasury_journal)


def _per_pair(first: pd.Series, second: pd.Series, rule) -> pd.Series:
    """`rule(a, b)` for each line, computed once per distinct pair (a FEC has few)."""
    pairs = pd.DataFrame({"a": first, "b": second})
    unique = pairs.drop_duplicates()
    verdict = {(a, b): bool(rule(a, b)) for a, b in unique.itertuples(index=False)}
    return pd.Series([verdict[p] for p in zip(first, second)], index=first.index, dtype=bool)


def _treasury_journal(code: str, label: str) -> bool:
    code, label = fold(code), fold(label)
    return code.startswith(TREASURY_CODES) or any(w in label for w in TREASURY_WORDS)


def is_payment_means(label: str) -> bool:
    """A clearing account for till receipts (card, cash, cheques), not a customer."""
    return bool(_PAYMENT_MEANS.match(fold(label) + " "))


def _collective_looking(number: str, label: str) -> bool:
    return number.rstrip("0") in CUSTOMER_PREFIXES or fold(label) in GENERIC_LABELS


def customers(raw: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Which lines are a customer's, and what the others on `411…` accounts were.

    Returns the mask of customer lines and notes for the run's output.
    """
    on_411 = raw["CompteNum"].str.startswith(CUSTOMER_PREFIXES)
    aux = raw["CompAuxNum"].ne("")
    with_sub_ledger = set(raw.loc[on_411 & aux, "CompteNum"])
    detailed = on_411 & ~aux
    labels = raw["CompteLib"].where(detailed, raw["CompAuxLib"])
    collective = detailed & (raw["CompteNum"].isin(with_sub_ledger)
                             | _per_pair(raw["CompteNum"], raw["CompteLib"], _collective_looking))
    clearing = on_411 & ~collective & _per_pair(labels, labels, lambda a, _b: is_payment_means(a))
    notes = []
    if collective.any():
        accounts = ", ".join(sorted(set(raw.loc[collective, "CompteNum"])))
        notes.append(f"{int(collective.sum())} line(s) on the collective account {accounts} "
                     "without a customer sub-ledger account (CompAuxNum): they belong to no "
                     "customer and were not loaded")
    if clearing.any():
        accounts = ", ".join(sorted(set(raw.loc[clearing, "CompAuxNum"].where(
            aux[clearing], raw.loc[clearing, "CompteNum"]))))
        notes.append(f"{int(clearing.sum())} line(s) on payment-means clearing account(s) "
                     f"{accounts} (till receipts), not debtors: not loaded")
    return on_411 & ~collective & ~clearing, notes


def only_collective(raw: pd.DataFrame) -> str | None:
    """Why the file cannot tell who owes what: every customer line on a collective account."""
    on_411 = raw["CompteNum"].str.startswith(CUSTOMER_PREFIXES)
    if not on_411.any() or raw.loc[on_411, "CompAuxNum"].ne("").any():
        return None
    accounts = raw.loc[on_411, ["CompteNum", "CompteLib"]].drop_duplicates("CompteNum")
    if not all(_collective_looking(n, lib) for n, lib in accounts.itertuples(index=False)):
        return None
    named = ", ".join(f"{n} {lib!r}" if lib else n for n, lib in accounts.itertuples(index=False))
    return (f"every customer line is on the collective account {named}, without a customer "
            "sub-ledger account (CompAuxNum): the file cannot tell which customer owes what. "
            "Export the FEC with the customer sub-ledger (comptes auxiliaires), or drop an "
            "open-items export (invoices….csv) instead")


def placeholder_text(reference: str) -> bool:
    return (fold(reference) in PLACEHOLDER_WORDS or reference.upper() == "SANS_PIECE_REF"
            or bool(_ZEROS_AND_PUNCTUATION.fullmatch(reference)))


def pieces(sub: pd.DataFrame, accounts: pd.Series, entries: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each customer line's piece, and whether it is the entry standing in for a placeholder."""
    reference = sub["PieceRef"]
    entry = sub["JournalCode"] + "\x1f" + sub["EcritureNum"] + "\x1f" + sub["EcritureDate"]
    spread = pd.DataFrame({"ref": reference, "account": accounts, "entry": entry})
    by_accounts = spread.groupby("ref")["account"].transform("nunique")
    by_entries = spread.groupby("ref")["entry"].transform("nunique")
    unique = reference.drop_duplicates()
    words = reference.map(dict(zip(unique, unique.map(placeholder_text))))
    placeholder = words | (by_accounts.ge(SHARED_BY) & by_entries.ge(SHARED_BY))
    return reference.mask(placeholder, entries), placeholder


def invoice_numbers(accounts: pd.Series, pieces_: pd.Series) -> pd.Series:
    """The piece, or `piece-account` where the file has that piece on several customers."""
    shared = pd.DataFrame({"a": accounts, "p": pieces_}).groupby("p")["a"].transform("nunique")
    return pieces_.where(shared.le(1), pieces_ + "-" + accounts)

