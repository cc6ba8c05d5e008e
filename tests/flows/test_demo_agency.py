"""`recouvrement demo --agency` end to end on the test harness: two creditors, their own
ledgers and letters, the commands it prints working on each."""

from __future__ import annotations

import json
import os
from email import message_from_bytes

import pytest
from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli

pytestmark = [pytest.mark.flow, pytest.mark.slow]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def demo_home(tmp_path, monkeypatch):
    from prefect.settings import get_current_settings

    for name in [n for n in os.environ if n.startswith("RECOUVREMENT_")
                 and not n.startswith("RECOUVREMENT_TEST")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    monkeypatch.setenv("RECOUVREMENT_HOME", str(home))
    # The harness's server, as PREFECT_API_URL names one; the variables the demo sets
    # are put back after the test.
    monkeypatch.setenv("PREFECT_API_URL", get_current_settings().api.url)
    for name, value in (("RECOUVREMENT_SMTP_HOST", "127.0.0.1"),
                        ("RECOUVREMENT_SMTP_PORT", "8025"),
                        ("RECOUVREMENT_SMTP_SECURITY", "none"),
                        ("RECOUVREMENT_DAILY_REPORT", "false")):
        monkeypatch.setenv(name, value)
    return home


def test_the_agency_demo_runs_two_creditors_end_to_end(demo_home):
    result = run("demo", "--agency", "--days", "40", "--debtors", "30", "--start", "2026-09-01")
    assert result.exit_code == 0, result.output
    assert "2 creditors registered from" in result.output
    assert "the two ledgers share" in result.output
    for code in ("atelier-nord", "sud-bureautique"):
        assert f"recouvrement --creditor {code} debtors" in result.output
        folder = demo_home / "creditors" / code
        assert (folder / "recouvrement.db").is_file() and (folder / "inbox").is_dir()
        debtors = json.loads(run("--creditor", code, "debtors", "--format", "json").output)
        assert len(debtors) >= 30
        assert run("--creditor", code, "audit", "verify").exit_code == 0
        # The agency's money: payments received and receipted, the feed of what it told.
        payments = json.loads(run("--creditor", code, "payment", "list", "--format",
                                  "json").output)
        assert payments and all(p["receipt"] for p in payments)
        assert run("--creditor", code, "feed").exit_code == 0
    assert "trust account (R124-2)" in result.output
    assert list((demo_home / "agency").rglob("*.pdf"))  # receipts, statements
    # The bank statement has one transfer nobody recorded: reconciling says so (exit 1).
    reconciled = run("trust", "reconcile")
    assert reconciled.exit_code == 1 and "12.00" in reconciled.output
    listed = json.loads(run("creditor", "list", "--format", "json").output)
    assert [c["code"] for c in listed] == ["atelier-nord", "sud-bureautique"]
    mails = [message_from_bytes(p.read_bytes()) for p in (demo_home / "maildir").rglob("*")
             if p.is_file() and p.parent.name in ("new", "cur")]
    # Reminders go from each creditor's sender; receipts, digests and reports from the agency.
    assert {m["From"] for m in mails if m["X-Recouvrement-Debtor"]} == {
        "relances-atelier-nord@agence-demo.example",
        "relances-sud-bureautique@agence-demo.example"}
    assert {m["From"] for m in mails if not m["X-Recouvrement-Debtor"]} <= {
        "contact@agence-demo.example"}
    assert run("debtors").exit_code == 2  # which creditor? the demo's home is an agency's
