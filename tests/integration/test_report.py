"""The report's figures on a small ledger built in the test, checked against hand computations."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli
from recouvrement.queries.dashboard import compute_report
from recouvrement.domain.policy import load_policy
from tests.conftest import BACKENDS
from tests.report_builders import AS_OF, ledger  # noqa: F401 (a fixture)

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def test_figures_match_the_hand_computation(ledger):
    with ledger.session() as session:
        report = compute_report(session, load_policy(), as_of=AS_OF, start=date(2026, 3, 1))
    head = report["headline"]
    assert head["receivables"] == D("26000.00")  # 3,000 + 1,000 + 12,000 + 10,000
    assert head["overdue"] == D("16000.00")       # all but MAR1, due 4 April
    # Countback on 31 March: March sales 10,000 (31 days), February 12,000 (28),
    # January 9,000 (31). 26,000 - 10,000 - 12,000 = 4,000 left after 59 days;
    # 4,000 / 9,000 x 31 = 13.78: 72.78 -> 72.8 days.
    assert head["dso"] == D("72.8")
    # CEI of March: opening (28 Feb) 21,000, invoiced 10,000, closing 26,000, of which
    # 10,000 not yet due: (21,000 + 10,000 - 26,000) / (21,000 + 10,000 - 10,000) = 23.8 %.
    march = report["cei"][-1]
    assert (march["opening"], march["sales"], march["closing"], march["closing_current"]) == (
        D("21000.00"), D("10000.00"), D("26000.00"), D("10000.00"))
    assert march["cei"] == D("23.8")
    aged = report["aged_balance"]["by_kind"]
    # BND, due 1 March, is exactly 30 days late on 31 March: 1-30, not 31-60.
    assert aged["B2B"] == {"not_due": D("10000.00"), "1-30": D("1000.00"),
                           "31-60": D("3000.00"), "61-90": D("0.00"), "90+": D("0.00")}
    assert aged["B2C"]["1-30"] == D("12000.00")
    # The level-2 reminder of 10 March chased JAN1's 8,000; the export of 20 March
    # shows 3,000 left: 5,000 paid within 15 days, 62.5 %. FEB1's level 1 of
    # 13 March recovered nothing (12,000 still open on the 28th).
    recovery = {r["level"]: r for r in report["recovery"]}
    assert (recovery[2]["chased"], recovery[2]["recovered"], recovery[2]["share"]) == (
        D("8000.00"), D("5000.00"), D("62.5"))
    assert (recovery[1]["chased"], recovery[1]["recovered"], recovery[1]["share"]) == (
        D("12000.00"), D("0.00"), D("0.0"))
    assert [r["account"] for r in report["top_debtors"]] == ["411B", "411A"]


def test_a_past_day_is_seen_as_the_ledger_knew_it(ledger):
    with ledger.session() as session:
        report = compute_report(session, load_policy(), as_of=date(2026, 2, 28),
                                start=date(2026, 2, 1))
    # On 28 February: JAN1 8,000 (19 days late), BND 1,000 (not due), FEB1 12,000 (not due);
    # MAR1 not issued yet.
    assert report["headline"]["receivables"] == D("21000.00")
    assert report["aged_balance"]["total"]["1-30"] == D("8000.00")
    assert report["aged_balance"]["total"]["not_due"] == D("13000.00")


def test_report_command_writes_json_html_and_pdf(ledger, home, database_url, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["report", "--as-of", "2026-03-31", "--from", "2026-03-01",
                                 "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["headline"]["receivables"] == "26000.00"  # money as two-decimal strings
    assert figures["headline"]["dso"] == "72.8"
    out = tmp_path / "dashboard.pdf"
    result = runner.invoke(cli, ["report", "--as-of", "2026-03-31", "--from", "2026-03-01",
                                 "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Balance âgée" in text and "Tableau de bord du recouvrement" in text
    assert "26 000,00" in text.replace("\u202f", " ").replace("\u00a0", " ")
    html = tmp_path / "dashboard.html"
    result = runner.invoke(cli, ["report", "--as-of", "2026-03-31", "--lang", "en",
                                 "--out", str(html)], catch_exceptions=False)
    assert result.exit_code == 0 and "Aged balance" in html.read_text()
    assert oct(html.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("args, message", [
    (["--as-of", "2099-01-01"], "later than today"),
    (["--as-of", "2026-03-31", "--from", "2026-04-01"], "is after --as-of"),
    (["--out", "report.txt"], ".html or a .pdf"),
])
def test_report_command_refuses_a_wrong_request(home, args, message):
    result = CliRunner().invoke(cli, ["report", *args])
    assert result.exit_code == 2 and message in result.output
