"""Type the rows of an export and check them with Great Expectations.

Every row ends either in `ValidatedRows.good` (typed, ready for the ledger) or in
`ValidatedRows.quarantined` with all of its reasons. An expectation that errors
instead of answering, or fails without naming its rows, stops the run: rows
must never slip through unchecked.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Callable, Iterable

import pandas as pd
import pycountry

from recouvrement.ingest.columns import LINE, MAX_LENGTH, SHAPE
from recouvrement.ingest.parsing import decimals, parse_amount, parse_amounts, parse_dates  # noqa: F401
from recouvrement.ingest.profiles import fold

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)

EMAIL_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$"
KINDS = ["B2B", "B2C", "PUBLIC"]
LANGUAGES = ["fr", "en"]
CURRENCIES = sorted(c.alpha_3 for c in pycountry.currencies)
DOCUMENT_TYPES = ["invoice", "credit_note", "payment"]
# What a spreadsheet would run (OWASP "CSV injection") or a browser would render.
FORMULA_PATTERN = r"^[=+\-@\t\r]"
HTML_PATTERN = r"<\s*[A-Za-z!/?][^>]*>"
FREE_TEXT = ("name", "address", "city")
# A control character (a line break forges a line of the run's output or of a
# log; others move a terminal's cursor) has no place in any value an export
# holds, but for the line breaks of a postal address. C0, DEL, C1 (NEL) and
# the Unicode line and paragraph separators.
CONTROL_PATTERN = r"[\x00-\x1f\x7f-\x9f\u2028\u2029]"
CONTROL_IN_ADDRESS = r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]"
MULTI_LINE = ("address",)
# An account number is never a path: accounting software writes letters and
# digits (411DUPONT, C0042), not `/`, `\\` or `..`.
PATH_PATTERN = r"[/\\]|\.\."
CONTROL_REASON = "{column} contains a control character (line break, tab...)"
PATH_REASON = "{column} contains / \\ or .. : an account number is not a path"
# The columns that make two rows of one invoice number the same invoice.
IDENTITY = ["invoice_number", "account", "issue_date", "due_date", "amount_f", "open_amount_f",
            "currency", "document_type"]
_DOCUMENT_ALIASES = {
    "": "invoice", "invoice": "invoice", "facture": "invoice", "fa": "invoice", "f": "invoice",
    "credit note": "credit_note", "avoir": "credit_note", "av": "credit_note",
    "payment": "payment", "reglement": "payment", "acompte": "payment", "paiement": "payment",
}


class ValidationError(RuntimeError):
    """Great Expectations could not evaluate an expectation."""


@dataclass
class ValidatedRows:
    good: pd.DataFrame
    quarantined: pd.DataFrame  # columns: _line, raw (dict), reasons (list[str])
    validations: list = field(default_factory=list)  # GX results, for the file's report


# --- parsing helpers: record a reason for each value that is not what it should be

def _typed_column(frame, column, parsed: pd.Series, reasons: pd.Series, label: str) -> None:
    """Record a reason for every non-empty value that did not parse."""
    bad = frame[column].ne("") & parsed.isna()
    for index in bad[bad].index:
        reasons[index].append(f"{column} {_shown(frame.at[index, column])} is not {label}")


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _new_reasons(frame: pd.DataFrame) -> pd.Series:
    reasons = pd.Series([[] for _ in range(len(frame))], index=frame.index, dtype=object)
    for index in frame.index[frame[SHAPE].ne("")]:
        reasons[index].append(f"row {frame.at[index, SHAPE]}")
    return reasons


def _blank_to_null(series: pd.Series) -> pd.Series:
    return series.mask(series.eq(""))


# --- Great Expectations

@lru_cache(maxsize=1)
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@lru_cache(maxsize=None)
def _validation(name: str, build: Callable[[], list]):
    import great_expectations as gx

    context = _context()
    source = context.data_sources.add_or_update_pandas(f"{name}-source")
    batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name=name))
    pairs = build()
    for expectation, _reason in pairs:
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite))
    return definition, suite, [reason for _expectation, reason in pairs]


def run_expectations(name: str, build: Callable[[], list], frame: pd.DataFrame,
                     parameters: dict | None = None, results: list | None = None
                     ) -> dict[int, list[str]]:
    """Line number -> the reasons of the expectations that row fails.

    `results`, when given, receives the GX validation result (for Data Docs).
    """
    definition, suite, reasons_in_order = _validation(name, build)
    result = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters or {},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [LINE]},
    )
    if results is not None:
        results.append(result)
    by_id = {e.id: reason for e, reason in zip(suite.expectations, reasons_in_order)}
    failures: dict[int, list[str]] = {}
    for outcome in result.results:
        kind = outcome.expectation_config.type
        problem = _raised(outcome.exception_info)
        if problem is not None:
            raise ValidationError(f"{name}: {kind} could not be checked: {problem}")
        if outcome.success:
            continue
        hits = outcome.result.get("unexpected_index_list")
        count = outcome.result.get("unexpected_count")
        if not hits or (count is not None and len(hits) != count):
            raise ValidationError(f"{name}: {kind} failed without naming every failing row "
                                  f"({len(hits or [])} of {count})")
        reason = by_id[outcome.expectation_config.id]
        for hit in hits:
            failures.setdefault(int(hit[LINE]), []).append(reason)
    return failures


def _raised(info) -> str | None:
    """The message of an exception GX caught, wherever in `exception_info` it sits."""
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        return (info.get("exception_message") or "error") if info["raised_exception"] else None
    if isinstance(info, dict):
        for value in info.values():
            found = _raised(value) if isinstance(value, dict) else None
            if found:
                return found
    return None


def _text_expectations(columns: Iterable[str]) -> list:
    import great_expectations.expectations as gxe

    checks = []
    for column in columns:
        control = CONTROL_IN_ADDRESS if column in MULTI_LINE else CONTROL_PATTERN
        checks.append((gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=control),
                       CONTROL_REASON.format(column=column)))
        if column == "account":
            checks += _account_expectations(column, column)
        if column in MAX_LENGTH:
            checks.append((gxe.ExpectColumnValueLengthsToBeBetween(
                column=column, max_value=MAX_LENGTH[column]),
                f"{column} is longer than {MAX_LENGTH[column]} characters"))
        if column in FREE_TEXT:
            checks.append((gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=FORMULA_PATTERN),
                           f"{column} starts like a spreadsheet formula (= + - @)"))
            checks.append((gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=HTML_PATTERN),
                           f"{column} contains HTML markup"))
    return checks


def _account_expectations(column: str, label: str) -> list:
    """An account goes into file names, headers and spreadsheets: never a path, nor a formula."""
    import great_expectations.expectations as gxe

    return [(gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=PATH_PATTERN),
             PATH_REASON.format(column=label)),
            (gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=FORMULA_PATTERN),
             f"{label} starts like a spreadsheet formula (= + - @)")]


def _customer_expectations() -> list:
    import great_expectations.expectations as gxe

    return [
        (gxe.ExpectColumnValuesToNotBeNull(column="account"), "account is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="name"), "name is missing"),
        (gxe.ExpectColumnValuesToBeUnique(column="account"), "account appears twice in the file"),
        (gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=KINDS),
         "kind must be B2B, B2C or PUBLIC"),
        (gxe.ExpectColumnValuesToBeInSet(column="language", value_set=LANGUAGES),
         "language must be fr or en"),
        (gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL_PATTERN),
         "email is not an e-mail address"),
        (gxe.ExpectColumnValuesToBeBetween(column="payment_terms_days", min_value=0, max_value=365),
         "payment_terms_days must be between 0 and 365"),
        (gxe.ExpectColumnValuesToMatchRegex(column="siren", regex=r"^\d{9}$"),
         "siren must be 9 digits (or a 14-digit SIRET)"),
        (gxe.ExpectColumnValuesToBeInSet(column="siren_luhn", value_set=[0]),
         "siren fails its check digit (Luhn): a typing error?"),
        *_text_expectations(("account", "name", "email", "phone", "siren", "address",
                             "postcode", "city", "country", "legal_form")),
    ]


def luhn_remainder(digits: pd.Series) -> pd.Series:
    """The Luhn sum modulo 10 of strings of 9 digits (0 = valid SIREN); NaN otherwise."""
    ok = digits.str.fullmatch(r"\d{9}").fillna(False).astype(bool)
    total = pd.Series(0, index=digits.index, dtype="int64")
    padded = digits.where(ok, "000000000")
    for position in range(9):
        digit = padded.str[position].astype("int64")
        if position % 2 == 1:  # from the right of 9 digits, every second one is doubled
            digit = digit * 2
            digit = digit - 9 * (digit > 9)
        total += digit
    return (total % 10).astype("float64").where(ok)


def normalise_siren(siren: pd.Series) -> pd.Series:
    """Spaces and dots out; a 14-digit SIRET gives its SIREN (the first 9 digits)."""
    compact = siren.str.replace(r"[\s.\u00a0]", "", regex=True)
    return compact.mask(compact.str.fullmatch(r"\d{14}").fillna(False).astype(bool),
                         compact.str[:9])


YES, NO = ("yes", "oui", "true", "1"), ("no", "non", "false", "0")


def _yes_no(raw: pd.DataFrame, column: str, reasons: pd.Series) -> pd.Series:
    """yes / no (oui / non, true / false, 1 / 0) as True / False, blank as None."""
    flag = raw[column].str.strip().str.lower()
    for index in flag.index[~flag.isin(("", *YES, *NO))]:
        reasons[index].append(f"{column} {_shown(raw.at[index, column])} is not yes or no")
    return flag.map(lambda v: True if v in YES else False if v in NO else None).astype(object)


def check_customers(raw: pd.DataFrame, results: list | None = None) -> ValidatedRows:
    reasons = _new_reasons(raw)
    typed = pd.DataFrame({LINE: raw[LINE]})
    for column in ("account", "name", "email", "phone", "address", "postcode", "city", "country"):
        typed[column] = _blank_to_null(raw[column])
    typed["siren"] = _blank_to_null(normalise_siren(raw["siren"]))
    typed["siren_luhn"] = luhn_remainder(typed["siren"].fillna(""))
    typed["kind"] = raw["kind"].str.upper()
    typed["language"] = raw["language"].str.lower().mask(raw["language"].eq(""), "fr")
    terms = pd.to_numeric(raw["payment_terms_days"].mask(raw["payment_terms_days"].eq(""), "30"),
                          errors="coerce")
    _typed_column(raw, "payment_terms_days", terms, reasons, "a whole number of days")
    typed["payment_terms_days"] = terms
    since = parse_dates(raw["collective_proceedings_since"])
    _typed_column(raw, "collective_proceedings_since", since, reasons, "a date")
    typed["collective_proceedings_since"] = since.dt.date
    typed["blocked"] = _yes_no(raw, "blocked", reasons).fillna(False).astype(bool)
    typed["legal_form"] = _blank_to_null(raw["legal_form"])
    # Blank: the export does not say; the legal form decides (domain/courts.py).
    typed["trader"] = _yes_no(raw, "trader", reasons)

    failures = run_expectations("customers", _customer_expectations, typed, results=results)
    _merge(reasons, typed, failures)
    bad, quarantined = _quarantine(raw, reasons)
    good = typed.loc[~bad].drop(columns=["siren_luhn"])
    good["payment_terms_days"] = good["payment_terms_days"].astype(int)
    return ValidatedRows(good=good, quarantined=quarantined, validations=results or [])


def _invoice_expectations() -> list:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    invoice, credit = Column("document_type") == "invoice", Column("document_type") != "invoice"
    return [
        (gxe.ExpectColumnValuesToNotBeNull(column="invoice_number"), "invoice_number is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="account"), "account is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="issue_date"), "issue_date is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="due_date"), "due_date is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="export_date"), "export_date is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="amount_f"), "amount is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="open_amount_f"), "open_amount is missing"),
        # Only the first of identical rows carries the number: the same invoice
        # listed twice is one invoice; listed twice differently, it is a conflict.
        (gxe.ExpectColumnValuesToBeUnique(column="distinct_number"),
         "invoice_number appears more than once in the file with different amounts or details"),
        (gxe.ExpectColumnValuesToBeBetween(column="amount_f", min_value=0,
                                           row_condition=invoice), "amount is negative"),
        (gxe.ExpectColumnValuesToBeBetween(column="open_amount_f", min_value=0,
                                           row_condition=invoice),
         "open_amount is negative and the row is not a credit note"),
        (gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="amount_f", column_B="open_amount_f", or_equal=True,
            ignore_row_if="either_value_is_missing", row_condition=invoice),
         "open_amount is greater than amount"),
        (gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="due_date", column_B="issue_date", or_equal=True,
            ignore_row_if="either_value_is_missing"), "due_date is before issue_date"),
        (gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=CURRENCIES),
         "currency is not an ISO 4217 code"),
        # A flag computed beside the rows: a value set of every known account
        # would be copied by GX for each check (slow with 100,000 debtors).
        (gxe.ExpectColumnValuesToBeBetween(column="account_known", min_value=1),
         "account is not a known debtor (absent from the customers exports)"),
        (gxe.ExpectColumnValuesToBeInSet(column="document_type", value_set=DOCUMENT_TYPES),
         "document_type must be invoice, credit_note or payment (facture, avoir, règlement)"),
        (gxe.ExpectColumnValuesToBeBetween(column="open_amount_f", max_value=0,
                                           row_condition=credit),
         "a credit note's or payment's open amount must not be owed by the debtor"),
        (gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="open_amount_f", column_B="amount_f", or_equal=True,
            ignore_row_if="either_value_is_missing", row_condition=credit),
         "a credit note's open amount is more than its amount"),
        (gxe.ExpectColumnValuesToBeBetween(column="amount_decimals", max_value=2),
         "amount has more than two decimals"),
        (gxe.ExpectColumnValuesToBeBetween(column="open_amount_decimals", max_value=2),
         "open_amount has more than two decimals"),
        (gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="export_date", column_B="issue_date", or_equal=True,
            ignore_row_if="either_value_is_missing"), "issue_date is after export_date"),
        *_text_expectations(("invoice_number", "account")),
    ]


def document_types(raw: pd.Series) -> pd.Series:
    """`invoice`, `credit_note` or `payment` from the spellings exports use; others as given."""
    unique = raw.unique()
    return raw.map({u: _DOCUMENT_ALIASES.get(fold(u), u) for u in unique})


def type_invoices(raw: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """The invoice rows typed for the ledger, with the helper columns the expectations read."""
    typed = pd.DataFrame({LINE: raw[LINE]})
    typed["invoice_number"] = _blank_to_null(raw["invoice_number"])
    typed["account"] = _blank_to_null(raw["account"])
    for column in ("issue_date", "due_date", "export_date"):
        parsed = parse_dates(raw[column])
        _typed_column(raw, column, parsed, reasons, "a date (YYYY-MM-DD or DD/MM/YYYY)")
        typed[column] = parsed
    typed["document_type"] = document_types(raw["document_type"])
    amounts, ambiguous = parse_amounts({c: raw[c] for c in ("amount", "open_amount")})
    credit = typed["document_type"].isin(["credit_note", "payment"])
    for column in ("amount", "open_amount"):
        values = amounts[column]
        for index in ambiguous[column][ambiguous[column]].index:
            reasons[index].append(f"{column} {_shown(raw.at[index, column])} is ambiguous: "
                                  "thousands separator or decimal mark?")
        values = values.mask(ambiguous[column], None)
        unparsed = raw[column].ne("") & values.isna() & ~ambiguous[column]
        for index in unparsed[unparsed].index:
            reasons[index].append(f"{column} {_shown(raw.at[index, column])} is not an amount")
        # Exports write a credit note as a positive amount or a negative one:
        # the ledger keeps it negative, what the creditor owes back.
        values = values.where(~credit, values.map(lambda v: -abs(v) if v is not None else None))
        typed[column] = values
        typed[f"{column}_f"] = values.map(lambda v: float(v) if v is not None else None).astype(float)
        typed[f"{column}_decimals"] = values.map(decimals).astype(float)
    typed["currency"] = raw["currency"].str.upper().mask(raw["currency"].eq(""), "EUR")
    repeated = typed.duplicated(subset=IDENTITY, keep="first")
    typed["distinct_number"] = typed["invoice_number"].mask(repeated)
    return typed


def check_invoices(raw: pd.DataFrame, known_accounts: Iterable[str],
                   results: list | None = None) -> ValidatedRows:
    reasons = _new_reasons(raw)
    typed = mark_known(type_invoices(raw, reasons), known_accounts)
    failures = run_expectations("invoices", _invoice_expectations, typed, results=results)
    _spread_conflicts(typed, failures)
    _merge(reasons, typed, failures)
    bad, quarantined = _quarantine(raw, reasons)
    good = finish_invoices(typed.loc[~bad])
    return ValidatedRows(good=good, quarantined=quarantined, validations=results or [])


def mark_known(typed: pd.DataFrame, known_accounts: Iterable[str]) -> pd.DataFrame:
    """`account_known`: 1 for a known debtor, 0 for another, empty without an account."""
    known = typed["account"].isin(set(known_accounts)).astype(float)
    typed["account_known"] = known.where(typed["account"].notna())
    return typed


def finish_invoices(typed: pd.DataFrame) -> pd.DataFrame:
    """Drop the helper columns and the repeats of identical rows; dates as `date`."""
    good = typed.loc[~typed.duplicated(subset=IDENTITY, keep="first")].drop(
        columns=["amount_f", "open_amount_f", "amount_decimals", "open_amount_decimals",
                 "distinct_number", "account_known"], errors="ignore")
    for column in ("issue_date", "due_date", "export_date"):
        good[column] = good[column].dt.date
    return good


def _spread_conflicts(typed: pd.DataFrame, failures: dict[int, list[str]]) -> None:
    """A number listed with different values: every row of it is in conflict, repeats too."""
    reason = "invoice_number appears more than once in the file with different amounts or details"
    lines = [line for line, found in failures.items() if reason in found]
    if not lines:
        return
    numbers = set(typed.loc[typed[LINE].isin(lines), "invoice_number"])
    for line in typed.loc[typed["invoice_number"].isin(numbers), LINE]:
        found = failures.setdefault(int(line), [])
        if reason not in found:
            found.append(reason)


RAW_VALUE_LIMIT = 2000  # characters of one raw value kept in quarantine


def _quarantine(raw: pd.DataFrame, reasons: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    bad = reasons.map(bool)
    columns = [c for c in raw.columns if c not in (LINE, SHAPE)]
    quarantined = pd.DataFrame({
        LINE: raw.loc[bad, LINE].astype(int),
        "raw": [dict(zip(columns, map(clip, values)))
                for values in raw.loc[bad, columns].itertuples(index=False)],
        "reasons": reasons[bad],
    })
    return bad, quarantined


def clip(value: str) -> str:
    """A raw value short enough to keep: a 10 MB field is shown by its start and its size."""
    if not isinstance(value, str) or len(value) <= RAW_VALUE_LIMIT:
        return value
    return f"{value[:200]}… [{len(value)} characters in the file]"


def _merge(reasons: pd.Series, frame: pd.DataFrame, failures: dict[int, list[str]]) -> None:
    if not failures:
        return
    for index, line in zip(frame.index, frame[LINE]):
        for reason in failures.get(int(line), ()):
            if reason not in reasons[index]:
                reasons[index].append(reason)


def export_date_of(good: pd.DataFrame, fallback: date) -> date:
    """The snapshot's date: the latest export_date of its valid rows."""
    return max(good["export_date"], default=fallback)


def amount_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"
