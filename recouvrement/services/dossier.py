"""The litigation dossier a bailiff or a lawyer files from: JSON, PDF, letters, audit trail.

`build_dossier` gathers everything as plain data (money as strings with two
decimals, ISO dates); `write_dossier` lays it out in a folder or a zip:

    dossier.json                  everything below, structured
    payment_order_request.json    what a payment-order request (or the
                                  recommended procedure's form) needs
    dossier.pdf                   the same, readable (statement of claim first)
    letters/NN_DATE_levelL.txt    every reminder sent, with its Message-ID
    letters/NN_DATE_levelL.html
    letters/NN_DATE_levelL.pdf    the registered letter, when one was posted
    invoices.csv                  the invoices claimed
    audit_trail.json              the debtor's audit entries with their hashes
    SHA256SUMS                    a digest of each file above
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import check_chain, read_log
from recouvrement.adapters.db.models import Debtor, Invoice, LitigationDossier, Reminder
from recouvrement.queries.deliveries import Proof, channels_of, proofs_of
from recouvrement.domain.courts import (
    debtor_trader_status,
    filing,
    load_court_rules,
    service_months_from,
)
from recouvrement.domain.events import disputed_since_queueing, since_queueing
from recouvrement.domain.legal import Payment, note_text, payments_since_queueing
from recouvrement.domain.model import DebtorKind, to_cents
from recouvrement.domain.model import Invoice as DomainInvoice
from recouvrement.domain.policy import Policy, load_policy
from recouvrement.adapters.ledger import to_domain_debtor
from recouvrement.services.lifecycle import account_of, balance, payments_of
from recouvrement.services.litigation import dossier_json, notice_proof, statement_line
from recouvrement.domain.identity import compact_siren, identity_check
from recouvrement.adapters.mail.render import Creditor
from recouvrement.adapters.private_files import private_dir, write_private

FORMAT = "recouvrement-dossier/1"
CHAIN_ALGORITHM = (
    "Each entry: payload = sha256(canonical JSON of account, subject, details, salt); "
    "hash = sha256(canonical JSON of prev (the previous entry's hash, 64 zeros for the "
    "first), at (UTC, ISO 8601 with microseconds, no offset), actor, event, payload). "
    "Canonical JSON: keys sorted, separators ',' and ':', UTF-8, non-ASCII kept. "
    "Entries without payload_digest (older) hash account, subject and details in place "
    "of payload. Each entry since migration 0007 is also signed: mac = HMAC-SHA256(audit "
    "key, 'entry' NUL hash), the key kept outside the database by the creditor; signed "
    "checkpoints of the head (entry id, hash, count, time) are kept in the database and in "
    "a file outside it.")

INTEREST_BASIS = {
    DebtorKind.B2B: "Code de commerce L441-10: ECB main refinancing rate in force on 1 January "
                    "or 1 July + 10 points (or the contractual rate, never below 3 x the taux "
                    "légal of each half-year), from the day after the due date; simple "
                    "interest, actual days / 365 (366 in a leap year); each payment goes to the "
                    "interest accrued first, then to the principal (Code civil 1343-1)",
    DebtorKind.PUBLIC: "Code de la commande publique L2192-13 and R2192-31: ECB main "
                       "refinancing rate in force on the first day of the half-year in which "
                       "interest began to run + 8 points, for the whole delay, from the day "
                       "after the due date; each payment goes to the interest accrued first, "
                       "then to the principal (Code civil 1343-1)",
    DebtorKind.B2C: "Code civil 1231-6 and 1344-1: taux d'intérêt légal, from the formal notice; "
                    "each payment goes to the interest accrued first, then to the principal "
                    "(Code civil 1343-1)",
}
FEE_BASIS = {
    DebtorKind.B2B: "Code de commerce L441-10 and D441-5: fixed recovery fee of 40 EUR per "
                    "unpaid invoice",
    DebtorKind.PUBLIC: "Code de la commande publique L2192-13 and D2192-35: fixed recovery fee "
                       "of 40 EUR per unpaid invoice",
    DebtorKind.B2C: "none: recovery costs are not charged to a consumer (CPCE L111-8)",
}


def _money(value: Decimal) -> str:
    return f"{to_cents(Decimal(value)):.2f}"


def where_to_file(dossier: LitigationDossier, debtor: Debtor,
                  creditor_is_trader: bool) -> dict[str, Any]:
    """The court or officer, the form and why: as decided when the dossier was queued.

    A dossier queued before the court was stored is given it by the same rule
    (domain/courts.py), as of its queueing day.
    """
    if dossier.filing:
        return dict(dossier.filing)
    kind = DebtorKind(debtor.kind)
    return filing(dossier.procedure, kind,
                  debtor_trader_status(kind, debtor.legal_form, debtor.trader),
                  creditor_is_trader, debtor.postcode, on=dossier.queued_on).as_dict()


def after_the_order(procedure: str, today: date) -> dict[str, Any] | None:
    """What the creditor must do once an injonction de payer is issued (CPC 1411).

    The order comes after this export, on a day not known yet: the shortest
    service delay that can apply to it is given.
    """
    if procedure != "injonction_de_payer":
        return None
    months = service_months_from(today)
    return {"serve_within_months": months, "source": load_court_rules().service_source,
            "instruction": f"Have the order served by a commissaire de justice within {months} "
                           "months of its date, or it is void (non avenue): note its date and "
                           "last day of service as soon as the court sends it."}


# What a request to the court needs of the claimant (CPC 57: a company's form, name, seat).
CLAIMANT_SETTINGS = {"RECOUVREMENT_CREDITOR_NAME": "la dénomination du créancier",
                     "RECOUVREMENT_CREDITOR_LEGAL_FORM": "la forme juridique du créancier",
                     "RECOUVREMENT_CREDITOR_SIREN": "le SIREN du créancier",
                     "RECOUVREMENT_CREDITOR_ADDRESS": "l'adresse postale du créancier"}


def build_dossier(session: Session, dossier: LitigationDossier, *, creditor: Creditor,
                  creditor_is_trader: bool, today: date, as_of: date | None = None,
                  policy: Policy | None = None) -> dict[str, Any]:
    """Everything about one dossier, as plain JSON-ready data, its claim restated to
    ``as_of`` (default ``today``): interest to that day, every payment seen since the
    queueing imputed interest first (Code civil 1343-1).

    ``policy``: its contractual rate serves a dossier queued before its statement kept
    the rate it was computed at.
    """
    as_of = as_of or today
    debtor = session.get(Debtor, dossier.debtor_id)
    kind = DebtorKind(debtor.kind)
    trail = read_log(session, account=debtor.account, limit=None)
    claim, since, warnings = claim_on(session, dossier, as_of, policy, trail)
    letters = _letters(session, dossier, policy)
    chain = check_chain(session)
    procedure = {"recommended": dossier.procedure, "reasons": list(dossier.reasons),
                 **where_to_file(dossier, debtor, creditor_is_trader),
                 "after_the_order": after_the_order(dossier.procedure, today)}
    data = {
        "format": FORMAT,
        "generated_on": today.isoformat(),
        "as_of": as_of.isoformat(),
        "dossier": {"id": dossier.id, "status": dossier.status,
                    "queued_on": dossier.queued_on.isoformat(),
                    "exported_on": dossier.exported_on.isoformat() if dossier.exported_on else None,
                    "handler": dossier.handler, "handler_reference": dossier.handler_reference,
                    "outcome": dossier.outcome,
                    "closed_on": dossier.closed_on.isoformat() if dossier.closed_on else None},
        "creditor": {"name": creditor.name, "legal_form": creditor.legal_form,
                     "siren": compact_siren(creditor.siren) or None,
                     "address": creditor.address, "phone": creditor.phone,
                     "email": creditor.sender, "iban": creditor.iban, "bic": creditor.bic},
        # Agency mode: who collects, under which written mandate (CPCE R124-3, R124-4 1°).
        "agency": None if not creditor.agency else {
            "name": creditor.agency, "address": creditor.agency_address,
            "mandate_reference": creditor.mandate_reference,
            "mandate_signed_on": (creditor.mandate_signed_on.isoformat()
                                  if creditor.mandate_signed_on else None)},
        "debtor": {"account": debtor.account, "name": debtor.name, "kind": kind.value,
                   "siren": debtor.siren, "address": debtor.address, "postcode": debtor.postcode,
                   "city": debtor.city, "country": debtor.country, "email": debtor.email,
                   "phone": debtor.phone, "legal_form": debtor.legal_form,
                   "trader": debtor.trader,
                   "collective_proceedings_since": (
                       debtor.collective_proceedings_since.isoformat()
                       if debtor.collective_proceedings_since else None)},
        "claim": claim,
        # What happened to the claim after it was queued, and what the claim is contested for.
        "since_queued": since,
        "warnings": warnings,
        "procedure": procedure,
        "chronology": _chronology(letters, trail, dossier),
        "letters": letters,
        "audit_trail": {"algorithm": CHAIN_ALGORITHM,
                        "chain": {"entries": chain.entries, "intact": chain.intact,
                                  "erased_by_purges": chain.redacted,
                                  "head_id": chain.head_id, "head_hash": chain.head_hash,
                                  "checkpoint": chain.checkpoint and {
                                      k: chain.checkpoint[k] for k in (
                                          "at", "entry_id", "entry_hash", "entries", "key_id",
                                          "mac")},
                                  "problems": [{"entry": p.entry_id, "kind": p.kind,
                                                "problem": p.problem} for p in chain.problems],
                                  "verified_on": today.isoformat()},
                        "entries": trail},
    }
    data["payment_order_request"] = _payment_order(data, kind)
    return data


def claim_on(session: Session, dossier: LitigationDossier, as_of: date, policy: Policy | None,
             trail: list[dict] | None = None) -> tuple[dict, list[dict], list[dict]]:
    """The claim stated on ``as_of``, what happened to it since it was queued, and the
    warnings the reader must see (`litigation show` and the export share it)."""
    debtor = session.get(Debtor, dossier.debtor_id)
    invoices = {i.number: i for i in session.scalars(
        select(Invoice).where(Invoice.number.in_(list(dossier.invoice_numbers))))}
    who = to_domain_debtor(debtor)
    claim = restated_claim(dossier, who, invoices, payments_of(session, dossier.id), as_of=as_of,
                           contractual_rate=policy.for_debtor(who).contractual_rate_for(who)
                           if policy is not None else None)
    if trail is None:
        trail = read_log(session, account=debtor.account, limit=None)
    since = since_queueing(trail, dossier.id, set(dossier.invoice_numbers),
                           dossier.queued_on.isoformat())
    return claim, since, claim_warnings(since, invoices)


def restated_claim(dossier: LitigationDossier, debtor, invoices: dict[str, Invoice],
                   payments: list, *, as_of: date,
                   contractual_rate: Decimal | None = None) -> dict[str, Any]:
    """The statement of claim on ``as_of``: each invoice computed again by the ledger's rules
    (`litigation.statement_line`), from its amount and the payments imputed when it was
    queued plus those the exports showed since, up to ``as_of``."""
    count = max(len(dossier.statement), 1)
    fee_each = to_cents(dossier.fixed_fees / count)
    queued_on = dossier.queued_on.isoformat()
    lines, paid_total, excess_total = [], Decimal(0), Decimal(0)
    principal_total, interest_total = Decimal(0), Decimal(0)
    for line in dossier.statement:
        number = line["invoice"]
        ledger = invoices.get(number)
        amount = Decimal(line.get("amount") or (ledger.amount if ledger else line["principal"]))
        ledger_open = Decimal(line.get("ledger_open_amount") or line["principal"])
        due = date.fromisoformat(line["due_date"])
        before = [Payment(date.fromisoformat(i["on"]), Decimal(i["payment"]),
                          i.get("date_known", True)) for i in line.get("imputations", [])]
        if not before and ledger_open < amount:
            # Queued before the statement kept its imputations: the day is not known.
            before = [Payment(due, amount - ledger_open, date_known=False)]
        after = [p for p in payments if p.invoice_number == number and p.received_on <= as_of]
        restated = DomainInvoice(
            number=number, account=debtor.account, due_date=due, amount=amount,
            open_amount=ledger_open, issue_date=date.fromisoformat(line["issue_date"]),
            payments=payments_since_queueing(before, [(p.received_on, p.amount) for p in after]))
        rate = line.get("contractual_rate", contractual_rate)
        fresh = statement_line(
            restated, debtor, today=as_of,
            notice=date.fromisoformat(line["formal_notice_on"]) if line.get(
                "formal_notice_on") else None,
            contractual_rate=Decimal(rate) if rate is not None else None,
            limitation_ends_on=date.fromisoformat(line["limitation_ends_on"]) if line.get(
                "limitation_ends_on") else None)
        principal, interest = Decimal(fresh["principal"]), Decimal(fresh["interest"])
        imputations = [{**i, "after_queueing": i["on"] > queued_on}
                       for i in fresh["imputations"]]
        excess = sum((Decimal(i["payment"]) - Decimal(i["to_interest"])
                      - Decimal(i["to_principal"]) for i in imputations), Decimal(0))
        periods = fresh["periods"]
        shown = sum((Decimal(p["amount"]) for p in periods), Decimal(0))
        paid_to_interest = sum((Decimal(i["to_interest"]) for i in imputations), Decimal(0))
        paid = [{"received_on": p.received_on.isoformat(), "amount": _money(p.amount)}
                for p in after]
        paid_total += sum((p.amount for p in after), Decimal(0))
        excess_total += excess
        principal_total += principal
        interest_total += interest
        lines.append({
            "invoice": number, "issue_date": line["issue_date"], "due_date": line["due_date"],
            "amount": _money(amount), "paid_before_queueing": _money(max(amount - ledger_open, 0)),
            # Each payment, before and after queueing: to the interest accrued, then the
            # principal (Code civil 1343-1).
            "imputations": imputations,
            "principal": _money(principal),
            "interest_from": periods[0]["start"] if periods else None,
            "interest_until": fresh["interest_until"],
            "periods": periods, "interest": _money(interest),
            "interest_paid_by_imputation": _money(paid_to_interest),
            # Periods are shown to the cent; the interest is rounded once, on their exact sum
            # (and at each payment imputed).
            "rounding": _money(interest - (shown - paid_to_interest)),
            "fixed_fee": _money(fee_each),
            "payments_after_queueing": paid,
            "balance": _money(principal + interest + fee_each - excess),
            "formal_notice_on": line.get("formal_notice_on"),
            "limitation_ends_on": line.get("limitation_ends_on"),
            "at_queueing": {"principal": _money(Decimal(line["principal"])),
                            "interest": _money(Decimal(line["interest"])),
                            "interest_until": line.get("interest_until") or queued_on},
            "notes": [note_text(n) for n in fresh["notes"]],
        })
    total = to_cents(principal_total) + to_cents(interest_total) + dossier.fixed_fees
    return {
        "currency": "EUR", "as_of": as_of.isoformat(), "invoices": lines,
        "principal": _money(principal_total), "interest": _money(interest_total),
        "fixed_fees": _money(dossier.fixed_fees), "total": _money(total),
        # Already imputed in the figures above; shown for the record.
        "payments_after_queueing": _money(paid_total),
        "overpaid": _money(excess_total),
        "balance": _money(total - excess_total),
        "at_queueing": {"queued_on": queued_on, "principal": _money(dossier.principal),
                        "interest": _money(dossier.interest),
                        "fixed_fees": _money(dossier.fixed_fees),
                        "total": _money(dossier.total)},
        "interest_basis": INTEREST_BASIS[DebtorKind(debtor.kind)],
        "fee_basis": FEE_BASIS[DebtorKind(debtor.kind)],
        "interest_after": "interest keeps running on the principal still due, at the rate of "
                          "each half-year, from the day after the interest_until date",
    }


def claim_warnings(since: list[dict], invoices: dict[str, Invoice]) -> list[dict[str, Any]]:
    """What the reader must know before filing: an invoice of the claim disputed now."""
    opened = disputed_since_queueing(since)
    return [{"warning": "disputed", "invoice": number,
             "since": opened[number]["on"] if number in opened else None,
             "reason": invoices[number].dispute_reason}
            for number in sorted(invoices) if invoices[number].disputed]


def _letters(session: Session, dossier: LitigationDossier,
             policy: Policy | None) -> list[dict[str, Any]]:
    """Every reminder sent to the debtor that chased an invoice of the dossier, with what
    the policy calls its level (the default ladder's words without a policy)."""
    policy = policy or load_policy()
    claimed = set(dossier.invoice_numbers)
    rows = [r for r in session.scalars(select(Reminder).where(
        Reminder.debtor_id == dossier.debtor_id, Reminder.status == "sent")
        .order_by(Reminder.sent_on, Reminder.id)) if claimed & set(r.invoice_numbers)]
    channels = channels_of(session, [r.id for r in rows])
    proofs = proofs_of(session, [r.id for r in rows])
    return [{"sent_on": r.sent_on.isoformat() if r.sent_on else None, "level": r.level,
             "level_name": policy.level_name(r.level, "fr"),
             "channel": ",".join(channels.get(r.id, [])), "recipient": r.recipient,
             "subject": r.subject, "message_id": r.message_id,
             "letter_file": proofs.get(r.id, Proof()).letter_file,
             "proof": notice_proof(proofs.get(r.id, Proof())),
             "invoices": list(r.invoice_numbers), "body_text": r.body_text,
             "body_html": r.body_html}
            for r in rows]


CHRONOLOGY_EVENTS = ("invoice.", "litigation.", "promise.", "plan.")


def _chronology(letters: list[dict], trail: list[dict], dossier: LitigationDossier) -> list[dict]:
    """Contacts with their proof, and what else happened to the claim, by date."""
    claimed = set(dossier.invoice_numbers)
    items = [{"date": letter["sent_on"], "kind": "contact",
              "what": f"reminder level {letter['level']} sent by {letter['channel']}"
              + (f" to {letter['recipient']}" if letter["recipient"] else ""),
              "proof": letter["proof"] or "none on file", "invoices": letter["invoices"]}
             for letter in letters]
    for entry in trail:
        if not entry["event"].startswith(CHRONOLOGY_EVENTS):
            continue
        if entry["event"].startswith("invoice.") and entry["subject"] not in claimed:
            continue
        if entry["event"].startswith("litigation.") and entry["subject"] not in (dossier.id, None):
            continue
        items.append({"date": entry["at"][:10], "kind": "event", "what": entry["event"],
                      "proof": f"audit entry #{entry['id']} ({entry['actor']})",
                      "invoices": [entry["subject"]] if entry["subject"] in claimed else []})
    return sorted(items, key=lambda i: i["date"] or "")


def _payment_order(data: dict[str, Any], kind: DebtorKind) -> dict[str, Any]:
    """What the request (Cerfa 12946 / 12948, or the recommended route's form) asks for."""
    claim, debtor = data["claim"], data["debtor"]
    top = max((x["level"] for x in data["letters"]), default=None)
    notices = sorted({(letter["sent_on"], letter["proof"]) for letter in data["letters"]
                      if letter["level"] == top and letter["proof"]})
    basis = [f"unpaid invoice {line['invoice']} of {line['issue_date']}, due {line['due_date']}, "
             f"{line['principal']} EUR unpaid" for line in claim["invoices"]]
    basis += [f"late interest: {claim['interest_basis']}", f"fixed fee: {claim['fee_basis']}"]
    basis += [f"formal notice sent on {sent} ({proof})" for sent, proof in notices]
    # The claimant's identity, as the settings give it (a run refuses without it; an export
    # made with settings changed since says what the request lacks).
    missing = [(f"the creditor's {setting.removeprefix('RECOUVREMENT_CREDITOR_').lower()} "
                f"({setting})", CLAIMANT_SETTINGS[setting]) for setting in identity_check(
                    data["creditor"], agency=False).missing_settings
               if setting in CLAIMANT_SETTINGS]
    missing += [labels for labels, value in (
        (("the debtor's postal address", "l'adresse postale du débiteur"),
         debtor["address"] and debtor["city"]),
        (("the debtor's SIREN", "le SIREN du débiteur"),
         debtor["siren"] or kind is DebtorKind.B2C)) if not value]
    if data["procedure"].get("to_check"):
        missing.append((f"the court: {data['procedure']['reason']}",
                        "la juridiction compétente, à vérifier (voir la procédure recommandée)"))
    to_complete = [en for en, _ in missing]
    return {
        "to_complete": to_complete,
        "to_complete_fr": [fr for _, fr in missing],  # the dossier's own words
        "procedure": data["procedure"]["recommended"], "court": data["procedure"]["court"],
        "form": data["procedure"]["form"], "court_to_check": data["procedure"]["to_check"],
        "after_the_order": data["procedure"]["after_the_order"],
        "creditor": {k: data["creditor"][k] for k in ("name", "legal_form", "siren", "address",
                                                       "email", "phone")},
        "debtor": {k: debtor[k] for k in ("name", "kind", "siren", "address", "postcode", "city",
                                          "country")},
        "claim": {"currency": claim["currency"], "principal": claim["principal"],
                  "interest": claim["interest"],
                  "interest_until": max((i["interest_until"] for i in claim["invoices"]),
                                        default=None),
                  "fixed_fees": claim["fixed_fees"],
                  "payments_after_queueing": claim["payments_after_queueing"],
                  "total": claim["balance"]},
        "basis": basis,
        "documents": ["invoices (copies from the accounting software)", "invoices.csv",
                      "letters/ (reminders and formal notice with their Message-ID)",
                      "dossier.pdf (statement of claim)", "audit_trail.json"],
    }


# --- files --------------------------------------------------------------------------


def folder_name(data: dict[str, Any]) -> str:
    account = re.sub(r"[^A-Za-z0-9_-]+", "_", data["debtor"]["account"])[:40]
    return f"dossier-{account}-{data['dossier']['id'][:8]}"


def dossier_files(data: dict[str, Any], pdf: bytes) -> dict[str, bytes]:
    """File name -> content, the manifest last."""
    files: dict[str, bytes] = {
        "dossier.json": _json(data),
        "payment_order_request.json": _json(data["payment_order_request"]),
        "dossier.pdf": pdf,
        "invoices.csv": _invoices_csv(data),
        "audit_trail.json": _json(data["audit_trail"]),
    }
    for n, letter in enumerate(data["letters"], start=1):
        stem = f"letters/{n:02d}_{letter['sent_on']}_level{letter['level']}"
        header = (f"Message-ID: {letter['message_id']}\nDate: {letter['sent_on']}\n"
                  f"To: {letter['recipient'] or ''}\nSubject: {letter['subject']}\n"
                  f"Invoices: {', '.join(letter['invoices'])}\n\n")
        files[f"{stem}.txt"] = (header + letter["body_text"]).encode("utf-8")
        files[f"{stem}.html"] = letter["body_html"].encode("utf-8")
        posted = Path(letter["letter_file"]) if letter["letter_file"] else None
        if posted is not None and posted.is_file():  # the registered letter as printed
            files[f"{stem}.pdf"] = posted.read_bytes()
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(content).hexdigest()}  {name}\n"
                                  for name, content in files.items()).encode("utf-8")
    return files


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _neutral(value: Any) -> str:
    """A cell a spreadsheet shows as text: no formula from debtor-supplied data."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _invoices_csv(data: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["invoice_number", "issue_date", "due_date", "amount", "principal",
                     "interest", "fixed_fee", "payments_after_queueing", "balance"])
    for line in data["claim"]["invoices"]:
        paid = sum((Decimal(p["amount"]) for p in line["payments_after_queueing"]), Decimal(0))
        writer.writerow([_neutral(line["invoice"]), line["issue_date"], line["due_date"],
                         line["amount"], line["principal"], line["interest"], line["fixed_fee"],
                         _money(paid), line["balance"]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8 right


class ExportRefused(ValueError):
    """The dossier cannot go where it was asked to: nothing was written."""


def check_as_of(dossier: LitigationDossier, as_of: date) -> date:
    """The day a claim is stated on: not before the dossier was queued."""
    if as_of < dossier.queued_on:
        raise ExportRefused(f"--as-of {as_of.isoformat()} is before the dossier was queued "
                            f"({dossier.queued_on.isoformat()}): give that day or a later one")
    return as_of


def _refuse_target(out: Path, target: Path, *, as_zip: bool) -> None:
    if out.is_symlink():
        raise ExportRefused(f"--out {out} is a symbolic link: give the folder itself")
    if out.exists() and not out.is_dir():
        raise ExportRefused(f"--out {out} is a file, not a folder")
    if target.is_symlink():
        raise ExportRefused(f"{target} is a symbolic link: remove it or export elsewhere "
                            "(a dossier is never written through a link)")
    if target.exists() and as_zip and not target.is_file():
        raise ExportRefused(f"{target} exists and is not a zip file: remove it or export "
                            "elsewhere")
    if target.exists() and not as_zip and not target.is_dir():
        raise ExportRefused(f"{target} exists and is a file, not a dossier folder: remove it "
                            "or export elsewhere")


def write_dossier(files: dict[str, bytes], out: Path, name: str, *, as_zip: bool) -> Path:
    """Write the files under `out` as a folder (or a zip) called `name`, replacing an older one.

    Written in a private folder beside the target first (owner-only), then moved
    into place: a reader never sees half a dossier, and a failure leaves no copy
    behind. A symbolic link or a file of the wrong kind where the dossier goes
    is refused (`ExportRefused`) before anything is written.
    """
    target = out / (f"{name}.zip" if as_zip else name)
    _refuse_target(out, target, as_zip=as_zip)
    private_dir(out)  # a dossier is personal data: owner-only (GDPR art. 32)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=f".{name}-"))
    try:
        if as_zip:
            built = staging / "dossier.zip"
            fd = os.open(built, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                    for file_name, content in files.items():
                        archive.writestr(f"{name}/{file_name}", content)
            os.replace(built, target)
            return target
        built = staging / name
        for file_name, content in files.items():
            private_dir((built / file_name).parent)
            write_private(built / file_name, content)
        os.chmod(built, 0o700)
        if target.exists():  # the older export goes into the staging folder, then away
            os.rename(target, staging / "replaced")
        os.rename(built, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export_dossier(session: Session, ref: str, out: Path, *, today: date, actor: str,
                   creditor: Creditor, creditor_is_trader: bool, renderer,
                   as_zip: bool = False, templates: list[Path] | None = None,
                   as_of: date | None = None, policy: Policy | None = None,
                   warnings: list | None = None) -> tuple[Path, list[str]]:
    """`litigation export`: payments brought up to date, files written, the export audited.

    The claim is stated on ``as_of`` (default ``today``), never before the queueing day.
    Returns where it went and what the request still lacks (see `to_complete`);
    ``warnings``, when given, receives what the reader must know (a claim disputed).
    """
    from recouvrement.queries.dossier_view import render_pdf
    from recouvrement.domain.dossier import after_export
    from recouvrement.services.lifecycle import find_dossier, mark_exported, reconcile_payments

    dossier = find_dossier(session, ref)
    as_of = check_as_of(dossier, as_of or today)
    reconcile_payments(session, today=today, actor=actor, dossier_id=dossier.id)
    data = build_dossier(session, dossier, creditor=creditor,
                         creditor_is_trader=creditor_is_trader, today=today, as_of=as_of,
                         policy=policy)
    if warnings is not None:
        warnings.extend(data["warnings"])
    # The files show the dossier as it stands once this export is recorded.
    data["dossier"].update(status=after_export(dossier.status), exported_on=today.isoformat())
    files = dossier_files(data, render_pdf(data, renderer, templates))
    path = write_dossier(files, Path(out), folder_name(data), as_zip=as_zip)
    mark_exported(session, dossier, today=today, actor=actor, out=str(path.resolve()),
                  sha256sums=hashlib.sha256(files["SHA256SUMS"]).hexdigest())
    return path, list(data["payment_order_request"]["to_complete"])


def dossier_detail(session: Session, dossier: LitigationDossier, *, as_of: date | None = None,
                   policy=None) -> dict[str, Any]:
    """`litigation show`: the queue's row, where the dossier stands now, the claim stated on
    ``as_of`` (default: the queueing day) and what happened since it was queued."""
    claim, since, warnings = claim_on(session, dossier,
                                      check_as_of(dossier, as_of or dossier.queued_on), policy)
    paid = payments_of(session, dossier.id)
    received = sum((p.amount for p in paid), Decimal(0))
    return {**dossier_json(dossier, account_of(session, dossier)), "status": dossier.status,
            "outcome": dossier.outcome,
            "exported_on": dossier.exported_on.isoformat() if dossier.exported_on else None,
            "handler": dossier.handler, "handler_reference": dossier.handler_reference,
            "closed_on": dossier.closed_on.isoformat() if dossier.closed_on else None,
            "payments": [{"invoice": p.invoice_number, "received_on": p.received_on.isoformat(),
                          "amount": f"{p.amount:.2f}"} for p in paid],
            "balance": f"{dossier.total - received:.2f}",
            "principal_balance": f"{balance(session, dossier):.2f}",
            "reasons": list(dossier.reasons),
            "as_of": {"as_of": claim["as_of"], **{k: claim[k] for k in (
                "principal", "interest", "fixed_fees", "total", "payments_after_queueing",
                "balance")}, "invoices": [{k: line[k] for k in (
                    "invoice", "principal", "interest", "interest_until", "balance")}
                    for line in claim["invoices"]]},
            "since_queued": since, "warnings": warnings}
