"""Everything a run would decide, in a transaction that is thrown away."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from recouvrement.context import run_context
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.ledger import require_debtor
from recouvrement.services.litigation import escalate
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.scoring import score_ledger


@task(name="dry-run", cache_policy=NO_CACHE)
def dry_run(as_of: date, actor: str, debtor: str | None) -> dict:
    """Ingest, score, decide and escalate, then roll it all back: nothing sent or recorded."""
    ctx = run_context()
    with ctx.db.rolled_back_session() as session:
        require_debtor(session, debtor)
        # The creditor's own mapping profiles apply as in a real run (its
        # validation reports are written too; the ledger is left untouched).
        ingest = ingest_inbox(session, ctx.settings.inbox, actor=actor, run_id=None, today=as_of,
                              home=ctx.settings.home)
        score_ledger(session, today=as_of, actor=actor, account=debtor)
        plan = plan_reminders(session, today=as_of, policy=ctx.policy,
                              creditor=ctx.settings.creditor, actor=actor, run_id=None,
                              account=debtor, templates=ctx.template_dirs)
        queued = escalate(session, today=as_of, policy=ctx.policy, actor=actor,
                          creditor_is_trader=ctx.settings.creditor_is_trader, account=debtor)
    get_run_logger().info("Dry run: %d reminder(s) would be sent, %d dossier(s) queued; "
                          "nothing was recorded", len(plan.planned), len(queued))
    return {"ingest": asdict(ingest), "plan": asdict(plan), "litigation": queued}
