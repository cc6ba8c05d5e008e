"""Read a FEC (Fichier des Écritures Comptables, LPF art. A47 A-1) and check its customer lines.

The 18 columns of the decree, in order, tab or `|` separated (`;` and `,`
too), `YYYYMMDD` dates, decimal comma; Debit/Credit or the Montant/Sens
variant. Tools differ: padded fields, leading or trailing signs, CRLF, a
header in another case, extra columns after the 18 (CodeEtablissement…), a
placeholder PieceRef. Only the customer lines (`411…`, see `fec_accounts.py`)
matter here; `fec_items.py` turns them into open items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from recouvrement.ingest.columns import LINE, MAX_LENGTH, SHAPE
from recouvrement.ingest.dialect import decode, read_rows, sniff_separator
from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.fec_accounts import (
    CUSTOMER_PREFIXES,
    customers,
    entry_ids,
    invoice_numbers,
    only_collective,
    pieces,
    treasury_lines,
)
from recouvrement.ingest.inbox import read_regular
from recouvrement.ingest.parsing import decimals, parse_amounts, parse_dates
from recouvrement.ingest.profiles import fold
from recouvrement.ingest.readers import file_date
from recouvrement.ingest.validation import (
    CONTROL_PATTERN,
    CONTROL_REASON,
    CURRENCIES,
    FORMULA_PATTERN,
    HTML_PATTERN,
    _account_expectations,
    _new_reasons,
    clip,
    run_expectations,
)

FEC_COLUMNS = ("JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum",
               "CompteLib", "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib",
               "Debit", "Credit", "EcritureLet", "DateLet", "ValidDate", "Montantdevise",
               "Idevise")
VARIANT_COLUMNS = ("Montant", "Sens")  # instead of Debit and Credit
REQUIRED = ("JournalCode", "EcritureNum", "EcritureDate", "CompteNum", "PieceRef", "PieceDate")
# More than this share of the customer lines dated after the export date: the date is wrong.
AFTER_EXPORT_SHARE = 0.5

_KEYS = {fold(c).replace(" ", ""): c for c in (*FEC_COLUMNS, *VARIANT_COLUMNS)}
# The long French labels some tools write instead of the field names.
_LABELS = {
    "code journal": "JournalCode", "libelle journal": "JournalLib",
    "numero d ecriture": "EcritureNum", "n ecriture": "EcritureNum",
    "date de comptabilisation": "EcritureDate", "date d ecriture": "EcritureDate",
    "numero de compte": "CompteNum", "n compte": "CompteNum", "libelle de compte": "CompteLib",
    "numero de compte auxiliaire": "CompAuxNum", "compte auxiliaire": "CompAuxNum",
    "libelle compte auxiliaire": "CompAuxLib", "libelle de compte auxiliaire": "CompAuxLib",
    "reference de la piece": "PieceRef", "date de la piece": "PieceDate",
    "libelle de l ecriture": "EcritureLib", "montant au debit": "Debit",
    "montant au credit": "Credit", "lettrage": "EcritureLet", "code de lettrage": "EcritureLet",
    "date de lettrage": "DateLet", "date de validation": "ValidDate",
    "montant en devise": "Montantdevise", "identifiant de la devise": "Idevise",
}
_SENS = {"d": 1, "debit": 1, "+1": 1, "1": 1, "+": 1, "c": -1, "credit": -1, "-1": -1, "-": -1}


@dataclass
class FecLines:
    """The customer lines of a FEC, typed, and the lines quarantined or ignored."""

    lines: pd.DataFrame  # every customer line, typed
    raw: pd.DataFrame  # every line as text (FEC column names), with _line and _shape
    reasons: pd.Series  # index of raw -> reasons (empty list when fine)
    customer: pd.Series  # index of raw -> is a customer line
    validations: list
    notes: list[str]  # what the file held besides customers' lines (collective, clearing)


def _column_of(name: str) -> str | None:
    folded = fold(name)
    return _KEYS.get(folded.replace(" ", "")) or _LABELS.get(folded)


def read_fec(path: Path) -> pd.DataFrame:
    """Every line of the FEC as text, under the decree's column names, with its line number."""
    text = decode(path, read_regular(path))
    rows, lines = read_rows(path, text, sniff_separator(path, text))
    header = [_column_of(c) for c in rows[0]]
    if _usable(header):
        data, data_lines, width = rows[1:], lines[1:], len(rows[0])
    elif len(rows[0]) >= len(FEC_COLUMNS) and _looks_like_date(rows[0][3]):
        # No header line: the decree's order is the only key.
        header = list(FEC_COLUMNS) + [None] * (len(rows[0]) - len(FEC_COLUMNS))
        data, data_lines, width = rows, lines, len(rows[0])
    else:
        found = [c for c in header if c]
        missing = [c for c in REQUIRED if c not in found]
        if not ({"Debit", "Credit"} <= set(found) or {"Montant", "Sens"} <= set(found)):
            missing.append("Debit and Credit (or Montant and Sens)")
        raise InputFileError(path, f"line {lines[0]}: not a FEC header: missing "
                                   f"{', '.join(missing)} (found: {', '.join(c.strip() for c in rows[0])})")
    if not data:
        raise InputFileError(path, f"line {lines[0]}: a header but no entries under it")
    columns = {}
    for index, name in enumerate(header):
        if name and name not in columns:
            columns[name] = [(row[index] if index < len(row) else "").strip() for row in data]
    frame = pd.DataFrame(columns, dtype=str)
    for name in (*FEC_COLUMNS, *VARIANT_COLUMNS):
        if name not in frame.columns:
            frame[name] = ""
    frame.insert(0, LINE, pd.array(data_lines, dtype="int64"))
    frame[SHAPE] = pd.Series(
        ["" if len(row) == width or (len(row) > width and not any(c.strip() for c in row[width:]))
         else f"has {len(row)} fields where the header has {width}" for row in data], dtype=str)
    frame.attrs["amounts"] = "debit_credit" if "Debit" in columns else "montant_sens"
    if not frame["CompteNum"].str.startswith(CUSTOMER_PREFIXES).any():
        # Read as an empty snapshot, it would settle every open invoice.
        raise InputFileError(path, "no customer line (CompteNum 411…) in the FEC: "
                                   "is it the right company's file?")
    problem = only_collective(frame)
    if problem:
        raise InputFileError(path, problem)
    return frame


def _usable(header: list[str | None]) -> bool:
    names = set(h for h in header if h)
    return set(REQUIRED) <= names and ({"Debit", "Credit"} <= names or {"Montant", "Sens"} <= names)


def _looks_like_date(text: str) -> bool:
    return not pd.isna(parse_dates(pd.Series([text.strip()[:10]], dtype=str))[0])


def export_date_of_fec(path: Path, today: date, raw: pd.DataFrame | None = None,
                       given: date | None = None) -> date:
    """The day the FEC is as of.

    `given` (`ingest --export-date`) when the user says it. Otherwise the date
    in the name (the closing date) unless the file shows later entries: a FEC
    exported mid-year or misnamed is as of its latest entry. Never after
    `today`. Refused when the entries contradict the date, since every line
    would then be "after the export date".
    """
    latest = _latest_entry(raw)
    if given is not None:
        if latest is not None and latest > given:
            raise InputFileError(path, f"entries are dated up to {latest.isoformat()}, after the "
                                       f"export date given ({given.isoformat()}): give the day "
                                       "the file was exported (--export-date)")
        return given
    named = file_date(path)
    shown = max(d for d in (named, latest) if d is not None) if (named or latest) else today
    as_of = min(shown, today)
    if raw is not None and latest is not None and latest > as_of:
        customer = raw["CompteNum"].str.startswith(CUSTOMER_PREFIXES)
        days = parse_dates(raw.loc[customer, "EcritureDate"]).dropna()
        after = int((days > pd.Timestamp(as_of)).sum())
        if len(days) and after > AFTER_EXPORT_SHARE * len(days):
            raise InputFileError(path, f"{after} of {len(days)} customer lines are dated after "
                                       f"{as_of.isoformat()} (up to {latest.isoformat()}): the "
                                       "export date cannot be told; read it on a later day "
                                       "(--as-of) or say the day it was exported (--export-date)")
    return as_of


def _latest_entry(raw: pd.DataFrame | None) -> date | None:
    if raw is None or raw.empty:
        return None
    days = parse_dates(raw["EcritureDate"]).dropna()
    return days.max().date() if len(days) else None


def check_lines(raw: pd.DataFrame, export_date: date, results: list | None = None) -> FecLines:
    """Type the customer lines and check each one; the other lines are ignored unless malformed."""
    reasons = _new_reasons(raw)
    customer, notes = customers(raw)
    sub = raw.loc[customer]
    typed = pd.DataFrame({LINE: sub[LINE]})
    typed["account"] = sub["CompAuxNum"].mask(sub["CompAuxNum"].eq(""), sub["CompteNum"])
    # With a subsidiary ledger, CompteLib names the collective account ("Clients"):
    # only a detailed 411 account without CompAuxNum is named by its CompteLib.
    typed["name"] = sub["CompAuxLib"].mask(sub["CompAuxNum"].eq(""), sub["CompteLib"])
    typed["name"] = typed["name"].mask(typed["name"].eq(""))
    typed["journal"] = sub["JournalCode"]
    typed["journal_label"] = sub["JournalLib"]
    # A partial lettering: lower case in some tools (kept apart from the upper-case
    # code), a trailing `*` in others (the same group). The amounts decide.
    typed["letter"] = sub["EcritureLet"].str.rstrip("*").str.strip()
    typed["treasury"] = treasury_lines(raw).loc[sub.index]
    typed["piece"], typed["piece_from_entry"] = pieces(sub, typed["account"],
                                                       entry_ids(raw).loc[sub.index])
    typed["invoice_number"] = invoice_numbers(typed["account"], typed["piece"])
    typed["entry_date"] = parse_dates(sub["EcritureDate"])
    _reason_unparsed(sub, "EcritureDate", typed["entry_date"], reasons, "a date (YYYYMMDD)")
    piece_date = parse_dates(sub["PieceDate"])
    _reason_unparsed(sub, "PieceDate", piece_date, reasons, "a date (YYYYMMDD)")
    typed["piece_date"] = piece_date.fillna(typed["entry_date"].where(sub["PieceDate"].eq("")))
    _type_amounts(raw.attrs.get("amounts", "debit_credit"), sub, typed, reasons)
    typed["export_date"] = pd.Timestamp(export_date)

    failures = run_expectations("fec-lines", _line_expectations, typed,
                                {"currencies": CURRENCIES}, results=results)
    for index, line in zip(typed.index, typed[LINE]):
        for reason in failures.get(int(line), ()):
            if reason not in reasons[index]:
                reasons[index].append(reason)
    return FecLines(lines=typed, raw=raw, reasons=reasons, customer=customer,
                    validations=results if results is not None else [], notes=notes)


def _reason_unparsed(sub, column, parsed, reasons, label) -> None:
    bad = sub[column].ne("") & parsed.isna()
    for index in bad[bad].index:
        reasons[index].append(f"{column} {clip(sub.at[index, column])!r} is not {label}")


def _type_amounts(layout: str, sub: pd.DataFrame, typed: pd.DataFrame, reasons: pd.Series) -> None:
    """`net_cents` (debit positive), the currency and `cur_cents` in that currency."""
    names = ("Debit", "Credit") if layout == "debit_credit" else ("Montant",)
    parsed, ambiguous = parse_amounts({c: sub[c] for c in (*names, "Montantdevise")})
    for column in (*names, "Montantdevise"):
        bad = (sub[column].ne("") & parsed[column].isna()) | ambiguous[column]
        for index in bad[bad].index:
            reasons[index].append(f"{column} {clip(sub.at[index, column])!r} is not an amount")
    if layout == "debit_credit":
        debit = parsed["Debit"].where(sub["Debit"].ne(""), 0)
        credit = parsed["Credit"].where(sub["Credit"].ne(""), 0)
        net = [None if d is None or c is None else d - c for d, c in zip(debit, credit)]
        debit_side = debit
        places = [max(decimals(d), decimals(c)) if d is not None and c is not None else 0
                  for d, c in zip(debit, credit)]
    else:
        sens = sub["Sens"].map(_sens)
        for index in sens[sens.isna()].index:
            reasons[index].append(f"Sens {clip(sub.at[index, 'Sens'])!r} is not D or C")
        net = [None if m is None or pd.isna(s) else m * int(s)
               for m, s in zip(parsed["Montant"], sens)]
        debit_side = pd.Series([m if s == 1 else 0 for m, s in zip(parsed["Montant"], sens)],
                               index=sub.index, dtype=object)
        places = [decimals(m) if m is not None else 0 for m in parsed["Montant"]]
    net = pd.Series(net, index=sub.index, dtype=object)
    typed["net_decimals"] = pd.Series(places, index=sub.index, dtype=float)
    typed["net_cents"] = _cents(net)
    # What the debit side says, reversals (negative debits) included: the gross
    # amount of an invoice is its debits, not its lines' absolute values.
    typed["debit_cents"] = _cents(debit_side.where(debit_side.notna(), 0)).fillna(0)
    typed["currency"] = sub["Idevise"].str.upper().mask(sub["Idevise"].eq(""), "EUR")
    foreign = typed["currency"].ne("EUR")
    in_currency = [None if not f else (None if m is None or n is None else
                                       (abs(m) if n >= 0 else -abs(m)))
                   for f, m, n in zip(foreign, parsed["Montantdevise"], net)]
    in_currency = pd.Series(in_currency, index=sub.index, dtype=object)
    typed["cur_decimals"] = in_currency.map(decimals).astype(float)
    typed["cur_cents"] = _cents(in_currency).where(foreign, typed["net_cents"])
    typed["cur_debit_cents"] = typed["debit_cents"].where(
        ~foreign, typed["cur_cents"].where(typed["debit_cents"].ne(0), 0))


def _cents(values: pd.Series) -> pd.Series:
    """Whole cents for grouping; a value with more decimals is quarantined by its own check."""
    return pd.Series([None if v is None or v is pd.NA
                      else int((Decimal(v) * 100).to_integral_value(ROUND_HALF_UP))
                      for v in values], index=values.index, dtype="Int64")


def _sens(text: str) -> float:
    key = text.strip().lower()
    return _SENS.get(key, _SENS.get(fold(key), float("nan")))


def _line_expectations() -> list:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    foreign = Column("currency") != "EUR"
    return [
        (gxe.ExpectColumnValuesToNotBeNull(column="entry_date"), "EcritureDate is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="piece_date"), "PieceDate is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="net_cents"),
         "Debit/Credit (or Montant/Sens) is missing or not an amount in cents"),
        (gxe.ExpectColumnValuesToBeBetween(column="net_decimals", max_value=2),
         "Debit/Credit (or Montant) has more than two decimals"),
        (gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="export_date", column_B="entry_date", or_equal=True,
            ignore_row_if="either_value_is_missing"), "EcritureDate is after the export date"),
        (gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="export_date", column_B="piece_date", or_equal=True,
            ignore_row_if="either_value_is_missing"), "PieceDate is after the export date"),
        (gxe.ExpectColumnValuesToBeInSet(column="currency", value_set={"$PARAMETER": "currencies"}),
         "Idevise is not an ISO 4217 code"),
        (gxe.ExpectColumnValuesToNotBeNull(column="cur_cents", row_condition=foreign),
         "Montantdevise is missing for a line in a foreign currency"),
        (gxe.ExpectColumnValuesToBeBetween(column="cur_decimals", max_value=2),
         "Montantdevise has more than two decimals"),
        (gxe.ExpectColumnValueLengthsToBeBetween(column="account", max_value=MAX_LENGTH["account"]),
         f"CompAuxNum is longer than {MAX_LENGTH['account']} characters"),
        (gxe.ExpectColumnValueLengthsToBeBetween(column="invoice_number",
                                                 max_value=MAX_LENGTH["invoice_number"]),
         f"PieceRef is longer than {MAX_LENGTH['invoice_number']} characters"),
        (gxe.ExpectColumnValueLengthsToBeBetween(column="name", max_value=MAX_LENGTH["name"]),
         f"CompAuxLib is longer than {MAX_LENGTH['name']} characters"),
        (gxe.ExpectColumnValuesToNotMatchRegex(column="name", regex=FORMULA_PATTERN),
         "CompAuxLib starts like a spreadsheet formula (= + - @)"),
        (gxe.ExpectColumnValuesToNotMatchRegex(column="name", regex=HTML_PATTERN),
         "CompAuxLib contains HTML markup"),
        *((gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=CONTROL_PATTERN),
           CONTROL_REASON.format(column=label))
          for column, label in (("account", "CompAuxNum"), ("piece", "PieceRef"),
                                ("name", "CompAuxLib"), ("journal", "JournalCode"))),
        *_account_expectations("account", "CompAuxNum"),
    ]
