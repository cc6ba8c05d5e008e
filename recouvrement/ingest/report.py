"""A validation report per file: Great Expectations' Data Docs page, written under the home folder.

GX's page inserts the failing values as they are: a debtor name holding
`<script>` would run in the credit manager's browser. The values are escaped
(and the long lists cut) on a copy of the results before rendering.
"""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path

from recouvrement.adapters.private_files import private_dir, write_private

SHOWN_VALUES = 200  # failing values listed per expectation in the page


def report_folder(home: Path | None) -> Path | None:
    return None if home is None else home / "reports" / "validation"


def write_report(results: list, folder: Path | None, file_name: str, sha256: str) -> Path | None:
    """Render the file's validation results as one Data Docs page; its path, or None."""
    if folder is None or not results:
        return None
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    outcomes = [_safe(outcome) for result in results for outcome in result.results]
    first = results[0]
    meta = dict(first.meta or {})
    meta["batch_parameters"] = {"file": file_name}
    evaluated = len(outcomes)
    passed = sum(1 for o in outcomes if o.success)
    combined = ExpectationSuiteValidationResult(
        success=passed == evaluated, results=outcomes,
        suite_name=" + ".join(r.suite_name for r in results), meta=meta,
        statistics={"evaluated_expectations": evaluated, "successful_expectations": passed,
                    "unsuccessful_expectations": evaluated - passed,
                    "success_percent": 100.0 * passed / evaluated if evaluated else 100.0})
    page = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(combined))
    private_dir(folder)  # the failing values are debtors' data: owner-only
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(file_name).stem)[:100]
    return write_private(folder / f"{stem}-{sha256[:12]}.html", page)


def _safe(outcome):
    outcome = copy.copy(outcome)
    outcome.result = _escaped(outcome.result or {})
    return outcome


def _escaped(value):
    if isinstance(value, str):
        return html.escape(value if len(value) <= 300 else value[:300] + "…")
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in list(value)[:SHOWN_VALUES]]
    return value
