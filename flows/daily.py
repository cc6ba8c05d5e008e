"""The daily dunning run: exports -> ledger -> score -> plan -> send -> escalate."""

from __future__ import annotations

from datetime import date

from prefect import flow, runtime

from flows.artifacts import publish_summary
from recouvrement.audit import current_actor
from recouvrement.domain.calendar import today_in
from recouvrement.settings import load_settings
from tasks.dry_run import dry_run as dry_run_task
from tasks.dunning import escalate_dossiers, plan, send
from tasks.ledger import ingest_exports, score_debtors


def _run_name() -> str:
    params = runtime.flow_run.parameters
    if params.get("debtor") not in (None, ""):
        return f"rerun-{params['debtor']}"
    as_of = params.get("as_of") or today_in(load_settings().timezone)
    prefix = "dry-run" if params.get("dry_run") else "daily"
    return f"{prefix}-{as_of}"


@flow(name="daily-dunning", flow_run_name=_run_name, log_prints=True)
def daily_dunning(as_of: date | None = None, debtor: str | int | None = None,
                  dry_run: bool = False) -> dict:
    """Run the day's dunning, for every debtor or for one account."""
    as_of = as_of or today_in(load_settings().timezone)
    account = None if debtor in (None, "") else str(debtor)
    run_id = str(runtime.flow_run.id)
    actor = current_actor(run_id)
    if dry_run:
        result = dry_run_task(as_of, actor, account)
        summary = {"as_of": as_of.isoformat(), "debtor": account, "dry_run": True, **result,
                   "send": {"sent": [], "failed": [], "cancelled": []}}
    else:
        ingest = ingest_exports(as_of, actor, run_id, account)
        score_debtors(as_of, actor, account)
        planned = plan(as_of, actor, run_id, account)
        sent = send(as_of, actor, run_id, account)
        queued = escalate_dossiers(as_of, actor, account)
        summary = {"as_of": as_of.isoformat(), "debtor": account, "dry_run": False,
                   "ingest": ingest, "plan": planned, "send": sent, "litigation": queued}
    publish_summary(summary)
    return summary
