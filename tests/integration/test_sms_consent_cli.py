"""`recouvrement sms opt-out | opt-in`: audited once, refused for an unknown account."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from sqlalchemy import select

from recouvrement.entrypoints.cli import main
from recouvrement.adapters.db import close_database, open_database
from recouvrement.adapters.db.models import AuditEntry, SmsOptOut
from tests.services.outbox_fakes import add_debtor


def test_a_stop_is_recorded_once_and_lifted_once(tmp_path, monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_HOME", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'recouvrement.db'}"
    try:
        add_debtor(open_database(url), "411CONSO", kind="B2C", due=date(2026, 10, 1))
        runner = CliRunner()
        first = runner.invoke(main, ["sms", "opt-out", "411CONSO", "--source", "reply STOP"])
        again = runner.invoke(main, ["sms", "opt-out", "411CONSO"])
        assert first.exit_code == again.exit_code == 0 and "(already)" in again.output
        with open_database(url).session() as session:
            assert session.scalar(select(SmsOptOut.source)) == "reply STOP"
        assert runner.invoke(main, ["sms", "opt-in", "411CONSO"]).exit_code == 0
        unknown = runner.invoke(main, ["sms", "opt-out", "411NOBODY"])
        assert unknown.exit_code == 2 and "411NOBODY" in unknown.output
        with open_database(url).session() as session:
            kinds = [e.event for e in session.scalars(select(AuditEntry)) if
                     e.event.startswith("sms.")]
            assert kinds == ["sms.opted_out", "sms.opted_in"]
            assert session.scalar(select(SmsOptOut.debtor_id)) is None
    finally:
        close_database(url)
