"""Ingest the inbox and score the debtors."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from recouvrement.context import run_context
from recouvrement.ingest.load import ingest_inbox
from recouvrement.ingest.sheets import WorkbookLimits
from recouvrement.adapters.ledger import require_debtor
from recouvrement.queries.reports import ledger_kpis
from recouvrement.adapters.risk_store import train_and_store
from recouvrement.services.scoring import score_ledger
from recouvrement.adapters.shards import Shard, hand_back
from tasks.retries import SAFE_RETRIES


@task(name="ingest-exports", cache_policy=NO_CACHE, **SAFE_RETRIES)
def ingest_exports(as_of: date, actor: str, run_id: str | None, debtor: str | None) -> dict:
    """Read the new exports of the inbox into the ledger; bad rows to quarantine."""
    ctx = run_context()
    with ctx.db.session() as session:
        require_debtor(session, debtor)
        report = ingest_inbox(session, ctx.settings.inbox, actor=actor, run_id=run_id, today=as_of,
                              home=ctx.settings.home,
                              workbook_limits=WorkbookLimits.from_settings(ctx.settings))
    loaded = [f for f in report.files if not f["skipped"]]
    logger = get_run_logger()
    for refused in report.refused:
        logger.warning("Not read: %s (%s)", refused["file"], refused["reason"])
    logger.info(
        "Read %d new export(s) (%d already known): %d invoices new, %d settled, %d rows "
        "quarantined", len(loaded), len(report.files) - len(loaded), report.invoices_created,
        len(report.invoices_settled), len(report.quarantined))
    for f in loaded:
        if f.get("control"):
            c = f["control"]
            logger.info("Control total of %s: file %s, ledger %s, %d account(s), %d differ",
                        f["file"], c["file_balance"], c["ledger_balance"], c["accounts"],
                        c["differ"])
    for held in report.held:
        logger.warning("%s held back, nothing from it applied: %s. To take it as it is: %s",
                       held["file"], "; ".join(held["reasons"]), held["confirm"])
    return asdict(report)


@task(name="train-risk-model", cache_policy=NO_CACHE, **SAFE_RETRIES)
def train_risk_model(as_of: date) -> dict:
    """Learn the risk score from the ledger's history, once a day, when it holds enough."""
    ctx = run_context()
    with ctx.db.session() as session:
        result = train_and_store(session, today=as_of,
                                 min_examples=ctx.settings.risk_model_min_examples,
                                 timezone_name=ctx.settings.timezone)
    logger = get_run_logger()
    if result["status"] == "trained":
        logger.info("Risk model learned from %d examples: %s", result["metrics"]["examples"],
                    {k: v for k, v in result["metrics"].items() if k.startswith("holdout")})
    elif result["status"] == "not_enough_history":
        logger.info("Risk: %d examples in the ledger's history, %d needed to learn the score; "
                    "the hand-set score is used", result["examples"], result["min_examples"])
    return result


@task(name="score-debtors", cache_policy=NO_CACHE, **SAFE_RETRIES)
def score_debtors(as_of: date, actor: str, debtor: str | None, shard: Shard | None = None) -> dict:
    """Score each debtor's risk from the ledger."""
    ctx = run_context()
    with ctx.db.session() as session:
        classes = score_ledger(session, today=as_of, actor=actor, account=debtor, shard=shard,
                               timezone_name=ctx.settings.timezone)
    get_run_logger().info("Scored %d debtor(s): %s", sum(classes.values()), dict(classes))
    return dict(classes)


@task(name="day-figures", cache_policy=NO_CACHE, **SAFE_RETRIES)
def day_figures(as_of: date) -> dict:
    """The ledger's KPIs at the end of the run."""
    with run_context().db.session() as session:
        return ledger_kpis(session, as_of)


@task(name="hand-back-summary", cache_policy=NO_CACHE, **SAFE_RETRIES)
def hand_back_summary(parent: str, part: Shard, run_id: str, steps: dict) -> None:
    """Keep a shard's summary in the ledger for the daily run that started it."""
    with run_context().db.session() as session:
        hand_back(session, parent_run_id=parent, shard=part, run_id=run_id, summary=steps)
