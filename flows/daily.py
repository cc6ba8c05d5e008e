"""The daily dunning run: exports -> ledger -> score -> plan -> send -> escalate.

With `shards=N` (N > 1), the run reads the exports itself, does the first
shard's steps itself and hands the other N - 1 to runs of the deployment
`daily-shard/shard`, which the workers of the pool pick up side by side, then
waits for them all: N shards need room for N runs at once on the workers. A
debtor belongs to exactly one shard (`recouvrement/adapters/shards.py`) and each step locks
the debtors it decides about, so a shard, a rerun for one debtor and a retry
never send the same reminder twice. The shards hand their summaries back
through the ledger (`shard_results`, keyed by this run's id and the shard),
so that workers on other machines need only the database, the Prefect API
and the SMTP relay.
"""

from __future__ import annotations

import time
from datetime import date

from prefect import flow, get_run_logger, runtime, task, unmapped
from prefect.client.orchestration import get_client
from prefect.client.schemas.responses import SetStateStatus
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment
from prefect.futures import wait
from prefect.states import Cancelled

from flows.artifacts import publish_creditors, publish_dashboard, publish_kpis, publish_summary
from recouvrement.services.agency.selection import registered, using_creditor
from recouvrement.adapters.audit import current_actor
from recouvrement.adapters.memory import give_back
from recouvrement.domain.calendar import today_in
from recouvrement.domain.policy import PolicyError
from recouvrement.ingest.errors import FilesHeld
from recouvrement.ingest.manual import held_message
from recouvrement.ingest.readers import InputFileError
from recouvrement.adapters.ledger import UnknownDebtor
from recouvrement.config.settings import (IdentityIncomplete, load_agency_settings, load_settings,
                                   require_identity)
from recouvrement.context import run_context
from recouvrement.adapters.shards import Shard, handed_back
from tasks.agency import creditor_obligations
from tasks.dry_run import dry_run as dry_run_task
from tasks.dunning import carry_calls, escalate_dossiers, plan, send, without_addresses
from tasks.ledger import (day_figures, hand_back_summary, ingest_exports, score_debtors,
                          train_risk_model)
from tasks.report import write_dashboard

SHARD_DEPLOYMENT = "daily-shard/shard"


class StepFailed(RuntimeError):
    """A step of the run failed: which one and why; the next run takes up what it left."""

    def __init__(self, step: str, error: BaseException | str) -> None:
        why = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        super().__init__(f"the run stopped at step {step}: {why}. What the steps before it did "
                         "is kept; the next run (or a rerun) takes up the rest.")
        self.step = step


class ShardFailed(StepFailed):
    """A shard of the daily run did not complete."""


class CreditorsFailed(RuntimeError):
    """The run of every creditor ended, some of them failed: `summary` holds them all."""

    def __init__(self, summary: dict) -> None:
        failed = {c: r for c, r in summary["creditors"].items() if r["exit"]}
        super().__init__("; ".join(f"creditor {c}: {r['error'] or 'some sends failed'}"
                                   for c, r in failed.items()))
        self.summary = summary


# What the user must fix in the input: reported as such (exit 2), not as a failed step.
INPUT_ERRORS = (InputFileError, PolicyError, UnknownDebtor, FilesHeld, IdentityIncomplete)


def _step(task_, *args):
    """Run a step; a failure names the step it happened in. What the step freed goes back to
    the system before the next one starts, so that their peaks do not add up."""
    try:
        return task_(*args)
    except INPUT_ERRORS:
        raise
    except Exception as exc:
        raise StepFailed(task_.name, exc) from exc
    finally:
        give_back()


def _run_name() -> str:
    params = runtime.flow_run.parameters
    creditor = f"{params['creditor']}-" if params.get("creditor") else ""
    if params.get("debtor") not in (None, ""):
        return f"rerun-{creditor}{params['debtor']}"
    as_of = params.get("as_of") or today_in(load_agency_settings().timezone)
    prefix = "dry-run" if params.get("dry_run") else "daily"
    return f"{prefix}-{creditor}{as_of}"


def _shard_run_name() -> str:
    params = runtime.flow_run.parameters
    creditor = f"{params['creditor']}-" if params.get("creditor") else ""
    return (f"daily-{creditor}{params['as_of']}-shard-"
            f"{Shard(params['shard'], params['shards']).slug}")


@flow(name="daily-dunning", flow_run_name=_run_name, log_prints=True)
def daily_dunning(as_of: date | None = None, debtor: str | int | None = None,
                  dry_run: bool = False, shards: int = 1,
                  shard_start_minutes: float = 10, creditor: str | None = None) -> dict:
    """Run the day's dunning, for every debtor or for one account.

    `shards` > 1 splits the debtors over that many shards, the first run here
    and the others by the workers side by side (a rerun for one debtor or a
    dry run is never split); a shard no worker takes within
    `shard_start_minutes` fails the run.

    Agency mode: `creditor` is the code of the creditor whose ledger is run; without
    it, once creditors are registered, every active creditor is run, each in its own
    flow run, one creditor's failure leaving the others to run.
    """
    creditor = creditor or None
    with using_creditor(creditor):
        if creditor is None and (codes := [r.code for r in registered(
                load_agency_settings(), active_only=True)]):
            if debtor not in (None, ""):
                raise UnknownDebtor(f"{len(codes)} creditors are registered ({', '.join(codes)})"
                                    ": a rerun for one debtor names its creditor")
            return every_creditor(codes, as_of, dry_run, shards, shard_start_minutes)
        return _one_ledger(as_of, debtor, dry_run, shards, shard_start_minutes, creditor)


def every_creditor(codes: list[str], as_of: date | None, dry_run: bool, shards: int,
                   shard_start_minutes: float) -> dict:
    """The day's run of each creditor, one flow run each; the worst exit of them all."""
    as_of = as_of or today_in(load_agency_settings().timezone)
    results = {}
    for code in codes:
        state = daily_dunning(as_of=as_of, dry_run=dry_run, shards=shards,
                              shard_start_minutes=shard_start_minutes, creditor=code,
                              return_state=True)
        if state.is_completed():
            summary = state.result()
            results[code] = {"exit": 1 if summary["send"]["failed"] else 0, "error": None,
                             "summary": summary}
        else:
            error = state.result(raise_on_failure=False)
            if not isinstance(error, BaseException):
                error = RuntimeError(state.message or state.name)
            held = error.report if isinstance(error, FilesHeld) else None
            results[code] = {"exit": 2 if isinstance(error, INPUT_ERRORS) else 1,
                             "error": without_addresses(str(error)), "held": held,
                             "summary": None}
    summary = {"as_of": as_of.isoformat(), "dry_run": dry_run, "creditors": results}
    publish_creditors(summary)
    if any(r["error"] for r in results.values()):
        raise CreditorsFailed(summary)
    return summary


def _one_ledger(as_of: date | None, debtor: str | int | None, dry_run: bool, shards: int,
                shard_start_minutes: float, creditor: str | None) -> dict:
    as_of = as_of or today_in(load_settings().timezone)
    account = None if debtor in (None, "") else str(debtor)
    run_id = str(runtime.flow_run.id)
    actor = current_actor(run_id)
    if shards < 1:
        raise ValueError(f"shards must be 1 or more, not {shards}")
    if dry_run:
        result = _step(dry_run_task, as_of, actor, account)
        _stop_if_held(as_of, account, True, result["ingest"])
        summary = {"as_of": as_of.isoformat(), "debtor": account, "dry_run": True, **result,
                   "send": {"sent": [], "failed": [], "cancelled": []}}
    else:
        # Before anything changes: no letter goes out without the creditor's identity.
        require_identity(load_settings())
        ingest = _step(ingest_exports, as_of, actor, run_id, account)
        _stop_if_held(as_of, account, False, ingest)
        # The model is learned on the whole ledger, once, before the shards score with it.
        risk = _step(train_risk_model, as_of)["status"] if account is None else None
        if shards > 1 and account is None:
            # The other shards go to the workers; this run does the first one itself.
            futures = run_shard.map(unmapped(as_of), range(1, shards), unmapped(shards),
                                    unmapped(shard_start_minutes), unmapped(creditor))
            own = daily_shard(as_of=as_of, shard=0, shards=shards, creditor=creditor,
                              return_state=True)
            wait(futures)
            failed = [str(f.state.message) for f in futures if f.state.is_failed()]
            if not own.is_completed():
                failed.insert(0, f"shard {Shard(0, shards)}: {own.message}")
            if failed:
                raise ShardFailed("run-shard", "; ".join(failed))
            steps = merge_summaries([own.result(), *(f.result() for f in futures)])
        else:
            steps = dunning_steps(as_of, actor, run_id, account)
        summary = {"as_of": as_of.isoformat(), "debtor": account, "dry_run": False,
                   "shards": shards if account is None else 1, "ingest": ingest,
                   "risk_model": risk, **steps}
    publish_summary(summary)
    if account is None:  # one debtor's rerun does not read the whole ledger for its figures
        _figures(summary, as_of)
    if not dry_run and account is None and load_settings().daily_report:
        summary["report"] = _dashboard(as_of)
    if creditor is not None and not dry_run and account is None:  # agency mode (R124-5, -6)
        summary["agency"] = _step(creditor_obligations, creditor, as_of, actor)
    return summary


def _figures(summary: dict, as_of: date) -> None:
    try:  # the day's work is done: figures that fail to come do not fail it
        summary["kpis"] = day_figures(as_of)
    except Exception as exc:
        get_run_logger().warning("The ledger's figures of the day could not be computed: %s",
                                 type(exc).__name__)
    else:
        publish_kpis(summary["kpis"])


def _dashboard(as_of: date) -> str | None:
    """Write the day's report and sum it up in the UI; a report that fails does not fail the run."""
    try:
        written = write_dashboard(as_of)
    except Exception as exc:
        get_run_logger().warning("The day's report could not be written: %s",
                                 type(exc).__name__)
        return None
    publish_dashboard(written["markdown"])
    return written["files"][0]


def _stop_if_held(as_of: date, account: str | None, dry_run: bool, ingest: dict) -> None:
    """A file held back stops the run before anything is decided: the ledger is not known to
    be up to date. The other files are loaded; the summary says which was held, and how to
    confirm it."""
    if not ingest.get("held"):
        return
    publish_summary({"as_of": as_of.isoformat(), "debtor": account, "dry_run": dry_run,
                     "ingest": ingest, "held": ingest["held"]})
    raise FilesHeld(held_message(ingest["held"]), ingest)


def dunning_steps(as_of: date, actor: str, run_id: str, account: str | None,
                  shard: Shard | None = None) -> dict:
    """Everything after the ingest, for every debtor, one account or one shard."""
    _step(score_debtors, as_of, actor, account, shard)
    planned = _step(plan, as_of, actor, run_id, account, shard)
    sent = _step(send, as_of, actor, run_id, account, shard)
    litigation = _step(escalate_dossiers, as_of, actor, account, shard)
    calls = _step(carry_calls, as_of, actor, account, shard)
    return {"plan": planned, "send": sent, "litigation": litigation["queued"],
            "not_ready": litigation["not_ready"], "calls": calls}


@flow(name="daily-shard", flow_run_name=_shard_run_name, log_prints=True)
def daily_shard(as_of: date, shard: int, shards: int, parent: str | None = None,
                creditor: str | None = None) -> dict:
    """One shard of a daily run (started by `daily_dunning` with `shards`).

    Its summary goes back to the daily run `parent` through the ledger, in the
    shard's last transaction. `creditor`: the creditor's ledger (agency mode).
    """
    run_id = str(runtime.flow_run.id)
    part = Shard(shard, shards)
    with using_creditor(creditor or None):
        steps = dunning_steps(as_of, current_actor(run_id), run_id, None, part)
        # The summary goes into the daily run's artifacts: no e-mail address in it.
        for item in steps["send"]["failed"] + steps["send"]["switched"]:
            item["error"] = without_addresses(item["error"])
        if parent is not None:
            _step(hand_back_summary, parent, part, run_id, steps)
    return steps



def _shard_task_name() -> str:
    params = runtime.task_run.parameters
    return f"start-shard-{Shard(params['index'], params['shards']).slug}"


@task(name="run-shard", cache_policy=NO_CACHE, task_run_name=_shard_task_name)
def run_shard(as_of: date, index: int, shards: int, start_minutes: float,
              creditor: str | None = None) -> dict:
    """Start one shard on the workers and wait for it; its summary, or the reason it failed.

    A shard that no worker takes within `start_minutes` is cancelled (unless a
    worker took it meanwhile) and fails the daily run, rather than keeping it,
    and the mornings queued behind it, waiting forever.
    """
    part = Shard(index, shards)
    parent = str(runtime.flow_run.id)
    run = run_deployment(SHARD_DEPLOYMENT, timeout=0, parameters={
        "as_of": as_of, "shard": index, "shards": shards, "parent": parent,
        "creditor": creditor})
    deadline = time.monotonic() + start_minutes * 60
    with get_client(sync_client=True) as client:
        while not (run.state and run.state.is_final()):
            if run.state and run.state.is_scheduled() and time.monotonic() > deadline:
                answer = client.set_flow_run_state(run.id, Cancelled(
                    message=f"no worker took it within {start_minutes:g} min"))
                if answer.status == SetStateStatus.ACCEPT:
                    raise ShardFailed(f"shard {part} ({run.name})", (
                        f"no worker took it within {start_minutes:g} min: start more workers "
                        f"(room for {shards} runs at once) or lower `shards`; the next run "
                        "takes up its debtors"))
            time.sleep(1)
            run = client.read_flow_run(run.id)
    if not run.state.is_completed():
        raise ShardFailed(f"shard {part} ({run.name})",
                          f"ended {run.state.name}: {run.state.message or ''}")
    with run_context().db.session() as session:
        summary = handed_back(session, parent_run_id=parent, shard=part)
    if summary is None:
        raise ShardFailed(f"shard {part} ({run.name})", "completed without handing its summary "
                          "back (a worker of an older version?)")
    return summary


def merge_summaries(parts: list[dict]) -> dict:
    """The shards' summaries as one: lists joined, counts added."""
    first = parts[0]
    if isinstance(first, dict):
        keys = dict.fromkeys(k for part in parts for k in part)
        return {k: merge_summaries([p[k] for p in parts if k in p]) for k in keys}
    if isinstance(first, list):
        return [item for part in parts for item in part]
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        return sum(parts)
    return first
