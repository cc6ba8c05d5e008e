"""SMS through the daily run, as the settings set it up: to a provider on loopback."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from recouvrement.adapters.channels.sms_sink import SmsSink
from recouvrement.entrypoints.cli import main as cli
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.flow]

POLICY = """\
name: texts-first
levels:
  - {level: 1, offset_days: 0, relative_to: due_date, channels: [email, sms], template: level1}
  - {level: 3, offset_days: 8, relative_to: previous_level, channels: [email, letter],
     kind: formal_notice, template: level3}
"""


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_the_daily_run_texts_a_mobile_once_and_says_why_not_a_landline(home, sink, monkeypatch,
                                                                      tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    monkeypatch.setenv("RECOUVREMENT_POLICY", str(tmp_path / "policy.yaml"))
    write_customers(home / "inbox", [
        customer("411MOBILE", phone="06 12 34 56 78", kind="B2C", siren=""),
        customer("411FIXE", phone="01 02 03 04 05")])
    write_invoices(home / "inbox", date(2026, 10, 1), [
        invoice("F1", "411MOBILE", date(2026, 10, 1), "89.90"),
        invoice("F2", "411FIXE", date(2026, 10, 1), "300.00")])
    with SmsSink(tmp_path / "texts", api_key="k") as texts:
        monkeypatch.setenv("RECOUVREMENT_SMS_PROVIDER", "brevo")
        monkeypatch.setenv("RECOUVREMENT_SMS_URL", texts.url)
        monkeypatch.setenv("RECOUVREMENT_SMS_API_KEY", "k")
        # Whatever hour the test runs at: the hours are the service tests' business.
        monkeypatch.setenv("RECOUVREMENT_SMS_QUIET_HOURS", "false")
        first = run("run", "--as-of", "2026-10-01")
        assert first.exit_code == 0, first.output
        assert "sms not sent 411FIXE level 1: '01 02 03 04 05' is a landline" in first.output
        again = run("run", "--as-of", "2026-10-01")
        assert again.exit_code == 0, again.output
        [text] = texts.received
    assert text["recipient"] == "33612345678" and "89,90 €" in text["content"]
    assert "STOP" in text["content"]  # a consumer
    assert [json.loads(p.read_text())["messageId"] for p in (tmp_path / "texts").iterdir()] == [
        text["messageId"]]
    assert sorted(m["X-Recouvrement-Debtor"] for m in sink.messages) == ["411FIXE", "411MOBILE"]
