"""The dossier as a French reader sees it: rows formatted here, worded by templates/dossier/.

Python formats every amount, date and rate; the templates only lay them out
(Jinja2 with autoescape: names and addresses come from the creditor's
exports and are never trusted).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES, NBSP, format_amount, format_date
from recouvrement.domain.events import event_label
from recouvrement.domain.rates import load_rates
from recouvrement.queries.dossier_words import (
    CHAIN_PROBLEM_NAMES,
    OUTCOME_NAMES,
    STATUS_NAMES,
    actor_fr,
    channel_fr,
    details_fr,
    letter_proof_fr,
    since_rows,
    warnings_fr,
)
from recouvrement.adapters.pdf import PdfRenderer

PROCEDURE_NAMES = {
    "injonction_de_payer": "Injonction de payer",
    "petites_creances": "Procédure simplifiée de recouvrement des petites créances",
    "refere_provision": "Référé-provision",
    "declaration_de_creance": "Déclaration de créance",
}
KIND_NAMES = {"B2B": "professionnel", "B2C": "consommateur", "PUBLIC": "personne publique"}


def eur(value: str | Decimal | None) -> str:
    return "" if value is None else format_amount(Decimal(value), "EUR", "fr")


def day(value: str | None) -> str:
    return "" if not value else format_date(date.fromisoformat(value[:10]), "fr")


def rate(value: str) -> str:
    return f"{Decimal(value).normalize():f}".replace(".", ",") + f"{NBSP}%"


def view(data: dict[str, Any]) -> dict[str, Any]:
    """The template's context: the dossier's data, every figure formatted in French."""
    claim, d = data["claim"], data["dossier"]
    invoices = []
    for line in claim["invoices"]:
        invoices.append({
            "number": line["invoice"], "issue_date": day(line["issue_date"]),
            "due_date": day(line["due_date"]), "amount": eur(line["amount"]),
            "paid_before": eur(line["paid_before_queueing"]),
            "has_paid_before": Decimal(line["paid_before_queueing"]) > 0,
            "principal": eur(line["principal"]), "interest": eur(line["interest"]),
            "interest_until": day(line["interest_until"]),
            "formal_notice_on": day(line["formal_notice_on"]),
            "limitation_ends_on": day(line["limitation_ends_on"]),
            "periods": [{"start": day(p["start"]), "end": day(p["end"]), "days": p["days"],
                         "year_days": p["year_days"], "rate": rate(p["rate"]),
                         "principal": eur(p.get("principal") or line["principal"]),
                         "amount": eur(p["amount"]), "provisional": p["provisional"]}
                        for p in line["periods"]],
            "imputations": [{"date": day(i["on"]), "date_known": i["date_known"],
                             "payment": eur(i["payment"]),
                             "interest_due": eur(i["interest_due"]),
                             "to_interest": eur(i["to_interest"]),
                             "to_principal": eur(i["to_principal"]),
                             "principal_after": eur(i["principal_after"]),
                             "after_queueing": i.get("after_queueing", False)}
                            for i in line.get("imputations", [])],
            "interest_paid": (eur(line["interest_paid_by_imputation"])
                              if Decimal(line.get("interest_paid_by_imputation") or 0) else None),
            "rounding": eur(line["rounding"]) if Decimal(line["rounding"]) else None,
            "fixed_fee": eur(line["fixed_fee"]),
            "payments": [{"date": day(p["received_on"]), "amount": eur(p["amount"])}
                         for p in line["payments_after_queueing"]],
            "balance": eur(line["balance"]), "notes": line["notes"],
        })
    chain = data["audit_trail"]["chain"]
    return {
        "dossier": {**d, "queued_on": day(d["queued_on"]), "exported_on": day(d["exported_on"]),
                    "closed_on": day(d["closed_on"]),
                    "status": STATUS_NAMES.get(d["status"], d["status"]),
                    "outcome": OUTCOME_NAMES.get(d["outcome"], d["outcome"] or "")},
        "generated_on": day(data["generated_on"]),
        "as_of": day(data.get("as_of") or data["generated_on"]),
        "since": since_rows(data.get("since_queued", [])),
        "warnings": warnings_fr(data.get("warnings", [])),
        "creditor": data["creditor"],
        "agency": None if not data.get("agency") else {
            **data["agency"], "mandate_signed_on": day(data["agency"]["mandate_signed_on"])},
        "debtor": {**data["debtor"], "kind_name": KIND_NAMES.get(data["debtor"]["kind"], ""),
                   "collective_proceedings_since": day(
                       data["debtor"]["collective_proceedings_since"])},
        "claim": {"invoices": invoices, "principal": eur(claim["principal"]),
                  "interest": eur(claim["interest"]), "fixed_fees": eur(claim["fixed_fees"]),
                  "total": eur(claim["total"]),
                  "principal_and_interest": eur(Decimal(claim["principal"])
                                                + Decimal(claim["interest"])),
                  "urgent_until": day(min((i["limitation_ends_on"] for i in claim["invoices"]
                                           if i["limitation_ends_on"]), default=None)),
                  "payments": eur(claim["payments_after_queueing"]),
                  "at_queueing": {k: eur(v) for k, v in claim.get("at_queueing", {}).items()
                                  if k != "queued_on"},
                  "has_payments": Decimal(claim["payments_after_queueing"]) != 0,
                  "balance": eur(claim["balance"]), "interest_basis": claim["interest_basis"],
                  "fee_basis": claim["fee_basis"], "interest_after": claim["interest_after"]},
        "procedure": {**data["procedure"],
                      "name": PROCEDURE_NAMES.get(data["procedure"]["recommended"],
                                                  data["procedure"]["recommended"]),
                      "ceiling": eur(load_rates().small_claims_ceiling)},
        "request": {**data["payment_order_request"], "to_complete": data[
            "payment_order_request"].get("to_complete_fr", [])},
        # The contacts are the letters' table; the chronology adds what else happened.
        "events": [{"date": day(i["date"]), "what": event_label(i["what"]),
                    "proof": _entry_proof(i["proof"]), "invoices": ", ".join(i["invoices"])}
                   for i in data["chronology"] if i["kind"] == "event"],
        "letters": [{"date": day(x["sent_on"]), "level": x["level"],
                     "level_name": x["level_name"],
                     "channel": channel_fr(x["channel"]), "recipient": x["recipient"] or "",
                     "subject": x["subject"], "message_id": x["message_id"],
                     "proof": letter_proof_fr(x, n),
                     "invoices": ", ".join(x["invoices"])}
                    for n, x in enumerate(data["letters"], start=1)],
        "max_level": max((x["level"] for x in data["letters"]), default=None),
        "chain": {**chain, "head_hash": chain["head_hash"] or "",
                  "problems": [{**p, "kind": CHAIN_PROBLEM_NAMES.get(p["kind"], p["kind"])}
                               for p in chain["problems"]]},
        "algorithm": data["audit_trail"]["algorithm"],
        "audit": _audit_rows(data["audit_trail"]["entries"]),
    }


def _audit_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every entry; a run of the same daily decision is shown once, with how many."""
    rows: list[dict[str, Any]] = []
    for e in entries:
        details = "[effacé]" if e["redacted"] else details_fr(e["details"] or {}, e["event"])
        last = rows[-1] if rows else None
        if (last and e["event"].startswith("decision.") and last["code"] == e["event"]
                and last["details"] == details):
            last["count"] += 1
            last["last_id"], last["until"] = e["id"], day(e["at"])
            continue
        # Long run ids and keys are cut here; audit_trail.json has them whole.
        rows.append({"id": e["id"], "last_id": e["id"],
                     "at": day(e["at"]), "time": e["at"][11:16], "until": day(e["at"]),
                     "actor": _cut(actor_fr(e["actor"]), 22), "event": event_label(e["event"]),
                     "code": e["event"],
                     "subject": _cut(e["subject"] or "", 20), "details": details, "count": 1,
                     "hash": e["hash"][:16]})
    return rows


def _entry_proof(proof: str) -> str:
    """`audit entry #12 (user:x)` as the dossier words it."""
    match = re.match(r"audit entry #(\d+) \((.*)\)$", proof or "")
    if not match:
        return proof
    return f"journal d'audit, entrée n° {match[1]} ({actor_fr(match[2])})"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def render_html(data: dict[str, Any], templates: Sequence[Path] | None = None) -> str:
    folders = tuple(str(f) for f in (templates or ())) + (str(DEFAULT_TEMPLATES),)
    return _environment(folders).get_template("dossier/dossier.html").render(view(data))


def render_pdf(data: dict[str, Any], renderer: PdfRenderer,
               templates: Sequence[Path] | None = None) -> bytes:
    return renderer.render(render_html(data, templates),
                           base_url=str(DEFAULT_TEMPLATES / "dossier"))


@lru_cache(maxsize=4)
def _environment(folders: tuple[str, ...]) -> Environment:
    return Environment(loader=FileSystemLoader(list(folders)),
                       autoescape=select_autoescape(enabled_extensions=("html",), default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
