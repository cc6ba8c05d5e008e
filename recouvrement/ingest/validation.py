"""Type the rows of an export and check them with Great Expectations.

Every row ends either in `Checked.good` (typed, ready for the ledger) or in
`Checked.quarantined` with all of its reasons. An expectation that errors
instead of answering stops the run: rows must never slip through unchecked.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Callable, Iterable

import pandas as pd
import pycountry

from recouvrement.ingest.readers import LINE, SHAPE

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)

EMAIL_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$"
KINDS = ["B2B", "B2C", "PUBLIC"]
LANGUAGES = ["fr", "en"]
CURRENCIES = sorted(c.alpha_3 for c in pycountry.currencies)


class ValidationError(RuntimeError):
    """Great Expectations could not evaluate an expectation."""


@dataclass
class Checked:
    good: pd.DataFrame
    quarantined: pd.DataFrame  # columns: _line, raw (dict), reasons (list[str])


# --- parsing: text to typed values, with a reason for each value that is not one

def parse_dates(text: pd.Series) -> pd.Series:
    """ISO `YYYY-MM-DD`, or French `DD/MM/YYYY` / `DD/MM/YY`; NaT when neither."""
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    french = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    short = pd.to_datetime(text, format="%d/%m/%y", errors="coerce")
    return iso.fillna(french).fillna(short)


def parse_amount(text: str) -> Decimal | None:
    """`1 234,56`, `1.234,56`, `1,234.56` or `1234.56` as a Decimal; None if not a number."""
    cleaned = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "")
    if not cleaned:
        return None
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    else:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _typed_column(frame, column, parsed: pd.Series, reasons: pd.Series, label: str) -> None:
    """Record a reason for every non-empty value that did not parse."""
    bad = frame[column].ne("") & parsed.isna()
    for index in bad[bad].index:
        reasons[index].append(f"{column} {frame.at[index, column]!r} is not {label}")


def _new_reasons(frame: pd.DataFrame) -> pd.Series:
    reasons = pd.Series([[] for _ in range(len(frame))], index=frame.index, dtype=object)
    for index in frame.index[frame[SHAPE].ne("")]:
        reasons[index].append(f"row {frame.at[index, SHAPE]}")
    return reasons


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
    for expectation, _reason in build():
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite))
    reasons = [reason for _expectation, reason in build()]
    return definition, suite, reasons


def run_expectations(name: str, build: Callable[[], list], frame: pd.DataFrame,
                     parameters: dict | None = None) -> dict[int, list[str]]:
    """Line number -> the reasons of the expectations that row fails."""
    definition, suite, reasons_in_order = _validation(name, build)
    result = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters or {},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [LINE]},
    )
    by_id = {e.id: reason for e, reason in zip(suite.expectations, reasons_in_order)}
    failures: dict[int, list[str]] = {}
    for outcome in result.results:
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise ValidationError(f"{outcome.expectation_config.type} could not be checked: "
                                  f"{outcome.exception_info.get('exception_message')}")
        if outcome.success:
            continue
        reason = by_id[outcome.expectation_config.id]
        for hit in outcome.result.get("unexpected_index_list") or []:
            failures.setdefault(int(hit[LINE]), []).append(reason)
    return failures


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
    ]


def _invoice_expectations() -> list:
    import great_expectations.expectations as gxe

    return [
        (gxe.ExpectColumnValuesToNotBeNull(column="invoice_number"), "invoice_number is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="account"), "account is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="issue_date"), "issue_date is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="due_date"), "due_date is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="export_date"), "export_date is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="amount_f"), "amount is missing"),
        (gxe.ExpectColumnValuesToNotBeNull(column="open_amount_f"), "open_amount is missing"),
        (gxe.ExpectColumnValuesToBeUnique(column="invoice_number"),
         "invoice_number appears more than once in the file"),
        (gxe.ExpectColumnValuesToBeBetween(column="amount_f", min_value=0), "amount is negative"),
        (gxe.ExpectColumnValuesToBeBetween(column="open_amount_f", min_value=0),
         "open_amount is negative"),
        (gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="amount_f", column_B="open_amount_f", or_equal=True,
            ignore_row_if="either_value_is_missing"), "open_amount is greater than amount"),
        (gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="due_date", column_B="issue_date", or_equal=True,
            ignore_row_if="either_value_is_missing"), "due_date is before issue_date"),
        (gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=CURRENCIES),
         "currency is not an ISO 4217 code"),
        (gxe.ExpectColumnValuesToBeInSet(column="account", value_set={"$PARAMETER": "accounts"}),
         "account is not a known debtor (absent from the customers exports)"),
    ]


def _quarantine(raw: pd.DataFrame, reasons: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    bad = reasons.map(bool)
    columns = [c for c in raw.columns if c not in (LINE, SHAPE)]
    quarantined = pd.DataFrame({
        LINE: raw.loc[bad, LINE].astype(int),
        "raw": [dict(zip(columns, values)) for values in raw.loc[bad, columns].itertuples(index=False)],
        "reasons": reasons[bad],
    })
    return bad, quarantined


def _merge(reasons: pd.Series, frame: pd.DataFrame, failures: dict[int, list[str]]) -> None:
    if not failures:
        return
    for index, line in zip(frame.index, frame[LINE]):
        for reason in failures.get(int(line), ()):
            if reason not in reasons[index]:
                reasons[index].append(reason)


def _blank_to_null(series: pd.Series) -> pd.Series:
    return series.mask(series.eq(""))


def check_customers(raw: pd.DataFrame) -> Checked:
    reasons = _new_reasons(raw)
    typed = pd.DataFrame({LINE: raw[LINE]})
    for column in ("account", "name", "email", "phone", "siren", "address", "postcode",
                   "city", "country"):
        typed[column] = _blank_to_null(raw[column])
    typed["kind"] = raw["kind"].str.upper()
    typed["language"] = raw["language"].str.lower().mask(raw["language"].eq(""), "fr")
    terms = pd.to_numeric(raw["payment_terms_days"].mask(raw["payment_terms_days"].eq(""), "30"),
                          errors="coerce")
    _typed_column(raw, "payment_terms_days", terms, reasons, "a whole number of days")
    typed["payment_terms_days"] = terms
    since = parse_dates(raw["collective_proceedings_since"])
    _typed_column(raw, "collective_proceedings_since", since, reasons, "a date")
    typed["collective_proceedings_since"] = since.dt.date
    blocked = raw["blocked"].str.lower()
    unknown_flag = ~blocked.isin(["", "yes", "no", "oui", "non", "true", "false", "1", "0"])
    for index in blocked.index[unknown_flag]:
        reasons[index].append(f"blocked {raw.at[index, 'blocked']!r} is not yes or no")
    typed["blocked"] = blocked.isin(["yes", "oui", "true", "1"])

    _merge(reasons, typed, run_expectations("customers", _customer_expectations, typed))
    bad, quarantined = _quarantine(raw, reasons)
    good = typed.loc[~bad].copy()
    good["payment_terms_days"] = good["payment_terms_days"].astype(int)
    return Checked(good=good, quarantined=quarantined)


def check_invoices(raw: pd.DataFrame, known_accounts: Iterable[str]) -> Checked:
    reasons = _new_reasons(raw)
    typed = pd.DataFrame({LINE: raw[LINE]})
    typed["invoice_number"] = _blank_to_null(raw["invoice_number"])
    typed["account"] = _blank_to_null(raw["account"])
    for column in ("issue_date", "due_date", "export_date"):
        parsed = parse_dates(raw[column])
        _typed_column(raw, column, parsed, reasons, "a date (YYYY-MM-DD or DD/MM/YYYY)")
        typed[column] = parsed
    for column in ("amount", "open_amount"):
        values = raw[column].map(parse_amount)
        _typed_column(raw, column, values, reasons, "an amount")
        for index in values.index[values.map(lambda v: v is not None and v.as_tuple().exponent < -2)]:
            reasons[index].append(f"{column} {raw.at[index, column]!r} has more than two decimals")
        typed[column] = values
        typed[f"{column}_f"] = values.map(lambda v: float(v) if v is not None else None).astype(float)
    typed["currency"] = raw["currency"].str.upper().mask(raw["currency"].eq(""), "EUR")

    failures = run_expectations("invoices", _invoice_expectations, typed,
                                {"accounts": sorted(set(known_accounts))})
    _merge(reasons, typed, failures)
    bad, quarantined = _quarantine(raw, reasons)
    good = typed.loc[~bad].drop(columns=["amount_f", "open_amount_f"])
    for column in ("issue_date", "due_date", "export_date"):
        good[column] = good[column].dt.date
    return Checked(good=good, quarantined=quarantined)


def export_date_of(good: pd.DataFrame, fallback: date) -> date:
    """The snapshot's date: the latest export_date of its valid rows."""
    return max(good["export_date"], default=fallback)
