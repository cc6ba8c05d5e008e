"""Decide the reminders, send them, escalate to litigation."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from recouvrement.services.calls import carry_call_tasks
from recouvrement.context import run_context
from recouvrement.services.litigation import count_not_ready, escalate
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.adapters.mail.relay_slots import RelaySlot
from recouvrement.adapters.mail.letters import PrintQueue
from recouvrement.adapters.pdf import default_renderer
from recouvrement.services.sending import Pacing, Post, channels_from_settings, send_outbox
from recouvrement.adapters.shards import Shard
from tasks.progress import progress_reporter
from tasks.retries import SAFE_RETRIES


@task(name="plan-reminders", cache_policy=NO_CACHE, **SAFE_RETRIES)
def plan(as_of: date, actor: str, run_id: str | None, debtor: str | None,
         shard: Shard | None = None) -> dict:
    """Decide each debtor's reminder and record it in the outbox."""
    ctx = run_context()
    with ctx.db.session() as session:
        report = plan_reminders(session, today=as_of, policy=ctx.policy,
                                creditor=ctx.settings.creditor, actor=actor, run_id=run_id,
                                account=debtor, templates=ctx.template_dirs, shard=shard,
                                progress=progress_reporter(_described("Debtors decided", shard)))
    get_run_logger().info("Planned %d reminder(s); %d debtor(s) skipped; %d with nothing due",
                          len(report.planned), len(report.skipped), report.nothing_due)
    return asdict(report)


_ADDRESS = re.compile(r"[^\s<>()\[\];:,'\"]+@[^\s<>()\[\];:,'\"]+")


def without_addresses(text: str) -> str:
    """A relay's answer fit for the run's log: the debtor's e-mail address taken out.

    The logs name debtors by account only; the full answer is in the audit log.
    """
    return _ADDRESS.sub("<address>", text)


def _described(what: str, shard: Shard | None) -> str:
    return f"{what}, shard {shard}" if shard is not None and shard.count > 1 else what


# How many runs talk to the relay at once (RECOUVREMENT_SMTP_CONNECTIONS, 1 by
# default) is kept by locks that die with their run, on the ledger's database
# (recouvrement/adapters/mail/relay_slots.py), not by a Prefect global concurrency limit,
# whose slot a killed run kept for ever.


@task(name="send-reminders", cache_policy=NO_CACHE, **SAFE_RETRIES)
def send(as_of: date, actor: str, run_id: str | None, debtor: str | None,
         shard: Shard | None = None) -> dict:
    """Send the outbox over one SMTP connection; never twice the same reminder."""
    ctx = run_context()
    s = ctx.settings
    logger = get_run_logger()
    with RelaySlot(ctx.db, slots=s.smtp_connections, run_id=run_id,
                   on_wait=logger.warning) as slot:
        report = send_outbox(ctx.db, ctx.mailer, today=as_of, sender=s.sender, actor=actor,
                             run_id=run_id, lease_minutes=s.sending_lease_minutes,
                             account=debtor, shard=shard, max_attempts=s.send_max_attempts,
                             pacing=Pacing(s.smtp_retries, s.smtp_backoff_seconds,
                                           s.smtp_rate_per_second),
                             post=Post(PrintQueue(s.letters_dir),
                                       default_renderer(ctx.template_dirs), ctx.policy),
                             progress=progress_reporter(_described("Reminders sent", shard)),
                             is_dead=slot.is_dead, channels=channels_from_settings(s))
    logger.info("Sent %d reminder(s) (%d letter(s) in the print queue), %d failed, %d cancelled",
                len(report.sent), len(report.letters), len(report.failed), len(report.cancelled))
    for switched in report.switched:
        logger.warning("E-mail to %s not sent (%s): a letter instead", switched["account"],
                       without_addresses(switched["error"]))
    for waiting in report.deferred + report.skipped:
        logger.info("%s for %s (level %s) not sent now: %s", waiting["channel"],
                    waiting["account"], waiting["level"], without_addresses(waiting["why"]))
    for failure in report.failed:
        logger.warning("Reminder for %s (level %s) not sent: %s", failure["account"],
                       failure["level"], without_addresses(failure["error"]))
    return asdict(report)


@task(name="escalate-to-litigation", cache_policy=NO_CACHE, **SAFE_RETRIES)
def escalate_dossiers(as_of: date, actor: str, debtor: str | None,
                      shard: Shard | None = None) -> dict:
    """Queue the dossiers whose formal notice deadline has passed; count those held back."""
    ctx = run_context()
    with ctx.db.session() as session:
        queued = escalate(session, today=as_of, policy=ctx.policy, actor=actor,
                          creditor_is_trader=ctx.settings.creditor_is_trader, account=debtor,
                          shard=shard)
        not_ready = count_not_ready(session, account=debtor, shard=shard)
    get_run_logger().info("Queued %d dossier(s) for litigation; %d held back, not ready "
                          "(`recouvrement litigation not-ready`)", len(queued), not_ready)
    return {"queued": queued, "not_ready": not_ready}


@task(name="carry-phone-tasks", cache_policy=NO_CACHE, **SAFE_RETRIES)
def carry_calls(as_of: date, actor: str, debtor: str | None, shard: Shard | None = None) -> dict:
    """Carry the phone tasks not worked on their day; count those the collectors have to do."""
    with run_context().db.session() as session:
        counts = carry_call_tasks(session, today=as_of, actor=actor, account=debtor, shard=shard)
    get_run_logger().info("Phone tasks to work: %d of the day, %d carried from an earlier day "
                          "(`recouvrement calls`)", counts["open"], counts["carried"])
    return counts
