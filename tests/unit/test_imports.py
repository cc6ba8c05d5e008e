"""What a command pays for before it does anything: the modules a run imports.

A rerun for one debtor, or a run with nothing new in the inbox, reads no export
and writes no report: importing the daily flow must not import the report's
charts (Altair) or the export validation (Great Expectations), nor the ingest's
reading of the inbox pandas.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def imported_by(module: str, watched: list[str]) -> list[str]:
    code = (f"import sys, {module}; "
            f"print(' '.join(m for m in {watched!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    return out.split()


def test_the_daily_flow_imports_neither_the_charts_nor_the_validation():
    assert imported_by("flows.daily", ["altair", "great_expectations", "alembic",
                                       "weasyprint"]) == []


def test_listing_the_inbox_imports_no_pandas():
    assert imported_by("recouvrement.ingest.load", ["pandas", "great_expectations"]) == []


def test_the_daily_flow_imports_no_pandas_nor_numpy_until_a_step_needs_them():
    # Scoring by the hand-set rules is plain Python; the learned model, the export's
    # reading and the report bring pandas with them when they run.
    assert imported_by("flows.daily", ["pandas", "numpy", "sklearn"]) == []
