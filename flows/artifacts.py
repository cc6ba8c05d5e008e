"""What the Prefect UI shows for a run: a summary a credit manager reads at a glance.

Account numbers only: no names, addresses or e-mail addresses in artifacts.
"""

from __future__ import annotations

from collections import Counter

from prefect.artifacts import create_markdown_artifact, create_table_artifact


def summary_markdown(summary: dict) -> str:
    plan, send, ingest = summary["plan"], summary["send"], summary.get("ingest", {})
    levels = Counter(p["level"] for p in plan["planned"])
    sent_levels = Counter(s["level"] for s in send["sent"])
    title = "Dry run" if summary["dry_run"] else "Daily run"
    scope = f" for {summary['debtor']}" if summary.get("debtor") else ""
    lines = [f"# {title} of {summary['as_of']}{scope}", "",
             "| level | planned | sent |", "|---|---|---|"]
    for level in sorted(set(levels) | set(sent_levels)):
        lines.append(f"| {level} | {levels[level]} | {sent_levels[level]} |")
    lines += ["", f"- failed sends: {len(send['failed'])} (retried on the next run)",
              f"- cancelled (paid or disputed since planned): {len(send['cancelled'])}",
              f"- debtors skipped: {len(plan['skipped'])}",
              f"- debtors with nothing due: {plan['nothing_due']}",
              f"- rows quarantined: {len(ingest.get('quarantined', []))}",
              f"- dossiers queued for litigation: {len(summary['litigation'])}"]
    reasons = Counter(s["reason"] for s in plan["skipped"])
    if reasons:
        lines += ["", "## Why debtors were skipped", "", "| reason | debtors |", "|---|---|"]
        lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
    return "\n".join(lines)


def publish_summary(summary: dict) -> None:
    create_markdown_artifact(key="daily-summary", markdown=summary_markdown(summary),
                             description="Reminders, skips, quarantine and litigation of the run")
    quarantined = summary.get("ingest", {}).get("quarantined", [])
    if quarantined:
        create_table_artifact(
            key="quarantined-rows",
            table=[{"file": q["file"], "line": q["line"], "account": q["raw"].get("account", ""),
                    "reasons": "; ".join(q["reasons"])} for q in quarantined],
            description="Rows of the exports that failed validation")
    if summary["litigation"]:
        create_table_artifact(key="litigation-queued", table=summary["litigation"],
                              description="Dossiers added to the litigation queue")
