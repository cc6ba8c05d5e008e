"""What the Prefect UI shows for a run: a summary a credit manager reads at a glance.

Account numbers only: no names, addresses or e-mail addresses in artifacts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from prefect.artifacts import create_markdown_artifact, create_table_artifact

def _key(name: str) -> str:
    """The artifact's key; in agency mode one per creditor, so that the UI's latest
    "daily-summary-<code>" is always that creditor's."""
    from recouvrement.config.settings import load_settings

    code = load_settings().creditor_code
    return f"{name}-{code}" if code else name


def _euros(amount) -> str:
    return f"{Decimal(amount):,.2f} €".replace(",", " ")


def _amounts(amounts: dict[str, str]) -> str:
    return " + ".join(f"{Decimal(v):,.2f} {c}".replace(",", " ")
                      for c, v in amounts.items()) or "0.00"


def controls_markdown(ingest: dict) -> list[str]:
    """Per file read: what the file shows, what the ledger holds, the accounts that differ."""
    files = [f for f in ingest.get("files", []) if not f["skipped"] and f.get("control")]
    if not files:
        return []
    lines = ["", "## Control totals of the exports read", "",
             "| file | state | in the file | in the ledger | accounts | differ | quarantined |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for f in files:
        c = f["control"]
        state = "held back" if f.get("held") else "confirmed" if f.get("confirmed_despite") \
            else "loaded"
        lines.append(f"| {f['file']} | {state} | {_amounts(c['file_balance'])} | "
                     f"{_amounts(c['ledger_balance'])} | {c['accounts']} | {c['differ']} | "
                     f"{c['quarantined_rows']} ({c['quarantined_percent']} %) |")
    return lines


def held_markdown(held: list[dict]) -> list[str]:
    if not held:
        return []
    lines = ["", "## Files held back: nothing from them was applied", ""]
    for h in held:
        lines.append(f"- **{h['file']}**: {'; '.join(h['reasons'])}")
        for d in (h.get("control") or {}).get("first_differences", []):
            lines.append(f"  - {d['account']}: the file shows {d['file']} {d['currency']}, "
                         f"the ledger would hold {d['ledger']}")
        lines.append(f"  - fix the export and drop it again, or take it as it is: "
                     f"`{h['confirm']}`")
    return lines


def summary_markdown(summary: dict, level_names: dict[int, str] | None = None) -> str:
    """The run's summary; ``level_names``: what the policy calls each level."""
    level_names = level_names or {}
    ingest = summary.get("ingest", {})
    if summary.get("held"):
        title = "Dry run" if summary["dry_run"] else "Daily run"
        return "\n".join([f"# {title} of {summary['as_of']}: stopped, files held back", "",
                          "Nothing was decided or sent: the ledger is not known to be up to "
                          "date until these files are fixed or confirmed.",
                          *held_markdown(summary["held"]), *controls_markdown(ingest)])
    plan, send = summary["plan"], summary["send"]
    debtors, amounts = Counter(), defaultdict(Decimal)
    for p in plan["planned"]:
        debtors[p["level"]] += 1
        amounts[p["level"]] += Decimal(p.get("open_amount", 0))
    sent_levels = Counter(s["level"] for s in send["sent"])
    failed_levels = Counter(f["level"] for f in send["failed"])
    title = "Dry run" if summary["dry_run"] else "Daily run"
    scope = f" for {summary['debtor']}" if summary.get("debtor") else ""
    shards = f" ({summary['shards']} shards)" if summary.get("shards", 1) > 1 else ""
    lines = [f"# {title} of {summary['as_of']}{scope}{shards}", "",
             "| level | debtors | amount chased | sent | failed |", "|---|---:|---:|---:|---:|"]
    for level in sorted(set(debtors) | set(sent_levels) | set(failed_levels)):
        lines.append(f"| {level} {level_names.get(level, '')} | {debtors[level]} | "
                     f"{_euros(amounts[level])} | {sent_levels[level]} | {failed_levels[level]} |")
    given_up = sum(1 for f in send["failed"] if f.get("given_up"))
    lines += ["", f"- failed sends: {len(send['failed']) - given_up} (retried on the next run)",
              f"- needing attention (refused for good, or tries spent): {given_up} "
              "(`recouvrement outbox list`)",
              f"- SMS waiting for the hours they may go in: {len(send.get('deferred', []))}",
              f"- channels that could not carry a reminder (no mobile, STOP...): "
              f"{len(send.get('skipped', []))}",
              f"- letters in the print queue: {len(send.get('letters', []))}",
              "- cancelled (no longer due: paid, disputed, or a later reminder): "
              f"{len(send['cancelled'])}",
              f"- debtors skipped: {len(plan['skipped'])}",
              f"- debtors with nothing due: {plan['nothing_due']}",
              f"- rows quarantined: {len(ingest.get('quarantined', []))}",
              f"- dossiers queued for litigation: {len(summary['litigation'])}",
              f"- dossiers held back, not ready: {summary.get('not_ready', 0)}"]
    lines += calls_markdown(summary.get("calls"))
    reasons = Counter(s["reason"] for s in plan["skipped"])
    if reasons:
        lines += ["", "## Why debtors were skipped", "", "| reason | debtors |", "|---|---|"]
        lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
    lines += carried_markdown(summary.get("calls"))
    lines += controls_markdown(ingest)
    return "\n".join(lines)


def calls_markdown(calls: dict | None) -> list[str]:
    """The collectors' phone tasks: those of the day and those carried, still to work."""
    if not calls:
        return []
    return [f"- phone tasks to work: {calls['open'] + calls['carried']} "
            f"({calls['open']} of the day, {calls['carried']} carried from an earlier day, "
            f"{calls['carried_today']} of them carried this morning) (`recouvrement calls`)",
            f"- phone tasks cancelled, nothing left to chase: {calls['cancelled']}"]


def carried_markdown(calls: dict | None) -> list[str]:
    """The phone tasks still not worked after their day, oldest first."""
    carried = sorted((calls or {}).get("carried_tasks", []),
                     key=lambda t: (t["due_on"], t["account"]))
    if not carried:
        return []
    return ["", "## Phone tasks carried over, not worked yet", "",
            "| account | level | due on | days waiting |", "|---|---:|---|---:|",
            *(f"| {t['account']} | {t['level']} | {t['due_on']} | {t['age_days']} |"
              for t in carried)]


def kpis_markdown(kpis: dict) -> str:
    return "\n".join([
        f"# The ledger on {kpis['as_of']}", "",
        "| figure | value |", "|---|---:|",
        f"| open invoices | {kpis['open_invoices']} |",
        f"| debtors with open invoices | {kpis['debtors']} |",
        f"| open receivables | {_euros(kpis['open_amount'])} |",
        f"| overdue | {_euros(kpis['overdue_amount'])} ({kpis['overdue_share']} %) |",
        f"| overdue by more than 60 days | {_euros(kpis['overdue_60_amount'])} |",
        f"| disputed | {_euros(kpis['disputed_amount'])} |",
        f"| dossiers in litigation | {kpis['litigation_dossiers']} "
        f"({_euros(kpis['litigation_amount'])}) |",
        f"| dossiers not ready for litigation | {kpis['not_ready']} |",
        f"| reminders sent today | {kpis['sent_today']} |",
        f"| reminders failed, to retry | {kpis['failed_pending']} |",
        f"| reminders needing attention, for a person (`recouvrement outbox list`) | "
        f"{kpis.get('given_up', 0)} |",
    ])


def publish_summary(summary: dict) -> None:
    from recouvrement.context import current_policy

    policy = current_policy()
    names = {level.level: policy.level_name(level.level) for level in policy.levels}
    create_markdown_artifact(key=_key("daily-summary"), markdown=summary_markdown(summary, names),
                             description="Reminders, skips, quarantine and litigation of the run")
    quarantined = summary.get("ingest", {}).get("quarantined", [])
    if quarantined:
        create_table_artifact(
            key=_key("quarantined-rows"),
            table=[{"file": q["file"], "line": q["line"], "account": q["raw"].get("account", ""),
                    "reasons": "; ".join(q["reasons"])} for q in quarantined],
            description="Rows of the exports that failed validation")
    if summary.get("litigation"):
        create_table_artifact(key=_key("litigation-queued"), table=summary["litigation"],
                              description="Dossiers added to the litigation queue")


def publish_kpis(kpis: dict) -> None:
    create_markdown_artifact(key=_key("daily-kpis"), markdown=kpis_markdown(kpis),
                             description="The ledger's figures at the end of the run")


def publish_dashboard(markdown: str) -> None:
    create_markdown_artifact(key=_key("collection-dashboard"), markdown=markdown,
                             description="The credit manager's figures, and where the report is")


def publish_creditors(summary: dict) -> None:
    """Agency mode: one line per creditor of the day's run (each has its own run and artifacts)."""
    lines = [f"# Run of {summary['as_of']}: {len(summary['creditors'])} creditor(s)", "",
             "| creditor | result | sent | litigation |", "|---|---|---|---|"]
    for code, result in summary["creditors"].items():
        one = result.get("summary") or {}
        sent = len(one.get("send", {}).get("sent", []))
        queued = len(one.get("litigation", []))
        state = ("ok" if not result["exit"] else
                 ("refused: " if result["exit"] == 2 else "FAILED: ")
                 + (result["error"] or "some sends failed")[:200].replace("|", "/"))
        lines.append(f"| {code} | {state} | {sent} | {queued} |")
    create_markdown_artifact(key="daily-creditors", markdown="\n".join(lines),
                             description="The day's run of each creditor of the agency")
