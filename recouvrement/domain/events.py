"""Every kind of audit event the pipeline writes, with its label in each language.

The audit log stores the kind's code (``invoice.settled``): that text is part
of each entry's hash and never changes. Readers — the litigation dossier,
``audit show`` — print the label instead, so no raw code reaches a bailiff.
``record`` accepts only the kinds listed here: a new event needs its labels
first.
"""

from __future__ import annotations

from enum import Enum


class UnknownEventKind(ValueError):
    """An audit event whose kind is not in the catalogue."""


class EventKind(str, Enum):
    """The code stored in the log, and its French and English labels."""

    def __new__(cls, code: str, fr: str, en: str) -> "EventKind":
        member = str.__new__(cls, code)
        member._value_ = code
        member.labels = {"fr": fr, "en": en}
        return member

    # Imports of the accounting exports
    FILE_LOADED = ("import.file_loaded", "export comptable chargé", "accounting export loaded")
    FILE_CONFIRMED = ("import.file_confirmed", "export comptable confirmé",
                      "accounting export confirmed")
    FILE_HELD = ("import.file_held", "export comptable mis en attente",
                 "accounting export held")
    ROW_QUARANTINED = ("import.row_quarantined", "ligne d'export mise en quarantaine",
                       "export row quarantined")
    QUARANTINE_RELEASED = ("quarantine.released", "ligne de quarantaine réintégrée",
                           "quarantined row released")
    QUARANTINE_SUPERSEDED = ("quarantine.superseded", "ligne de quarantaine remplacée",
                             "quarantined row superseded")
    # The ledger
    DEBTOR_CREATED = ("debtor.created", "débiteur créé", "debtor created")
    DEBTOR_UPDATED = ("debtor.updated", "fiche du débiteur modifiée", "debtor updated")
    INVOICE_SETTLED = ("invoice.settled", "facture soldée", "invoice settled")
    INVOICE_REOPENED = ("invoice.reopened", "facture rouverte", "invoice reopened")
    OPEN_AMOUNT_CHANGED = ("invoice.open_amount_changed", "reste dû modifié (paiement partiel)",
                           "open amount changed (part payment)")
    AMOUNT_CHANGED = ("invoice.amount_changed", "montant de la facture modifié",
                      "invoice amount changed")
    CURRENCY_CHANGED = ("invoice.currency_changed", "devise de la facture modifiée",
                        "invoice currency changed")
    DEBTOR_CHANGED = ("invoice.debtor_changed", "facture rattachée à un autre débiteur",
                      "invoice moved to another debtor")
    CREDIT_OPEN = ("invoice.credit_open", "avoir ou paiement non lettré en compte",
                   "unmatched credit on the account")
    CREDIT_SET_OFF = ("invoice.credit_set_off", "avoir ou paiement imputé (compensation)",
                      "credit set off")
    DISPUTE_OPENED = ("invoice.dispute_opened", "contestation ouverte", "dispute opened")
    DISPUTE_CLOSED = ("invoice.dispute_closed", "contestation close", "dispute closed")
    DEBT_ACKNOWLEDGED = ("invoice.debt_acknowledged", "reconnaissance de dette",
                         "debt acknowledged")
    # Pauses agreed with the debtor
    PROMISE_RECORDED = ("promise.recorded", "promesse de paiement", "promise to pay")
    PLAN_AGREED = ("plan.agreed", "échéancier accordé", "payment plan agreed")
    PLAN_BROKEN = ("plan.broken", "échéancier non respecté", "payment plan broken")
    PLAN_COMPLETED = ("plan.completed", "échéancier exécuté", "payment plan completed")
    # Risk, decisions and reminders
    RISK_CLASS_CHANGED = ("risk.class_changed", "classe de risque modifiée",
                          "risk class changed")
    NOTHING_DUE = ("decision.nothing_due", "aucune relance due", "nothing due")
    SKIPPED = ("decision.skipped", "relance écartée", "reminder skipped")
    REMINDER_PLANNED = ("reminder.planned", "relance programmée", "reminder planned")
    REMINDER_SENT = ("reminder.sent", "relance envoyée", "reminder sent")
    REMINDER_FAILED = ("reminder.failed", "échec d'envoi d'une relance", "reminder failed")
    REMINDER_GIVEN_UP = ("reminder.given_up", "envoi de relance abandonné", "reminder given up")
    REMINDER_NEEDS_ATTENTION = ("reminder.needs_attention",
                                "relance à reprendre par une personne (refus définitif)",
                                "reminder needs attention (refused for good)")
    DELIVERY_DEFERRED = ("delivery.deferred", "envoi reporté (SMS hors des heures permises)",
                         "delivery deferred (SMS outside the allowed hours)")
    SMS_OPTED_OUT = ("sms.opted_out", "le débiteur refuse les SMS (STOP)",
                     "debtor opted out of SMS (STOP)")
    SMS_OPTED_IN = ("sms.opted_in", "le débiteur accepte de nouveau les SMS",
                    "debtor opted in to SMS again")
    REMINDER_RETRIED = ("reminder.retried", "relance remise en envoi", "reminder retried")
    REMINDER_CANCELLED = ("reminder.cancelled", "relance annulée", "reminder cancelled")
    REMINDER_CLAIM_RELEASED = ("reminder.claim_released", "relance rendue à la file d'envoi",
                               "reminder released unsent")
    # The litigation queue
    NOT_READY = ("litigation.not_ready", "dossier non prêt pour le contentieux",
                 "dossier not ready for litigation")
    HOLD_LIFTED = ("litigation.hold_lifted", "dossier de nouveau examiné",
                   "dossier hold lifted")
    QUEUED = ("litigation.queued", "mis en file contentieux", "queued for litigation")
    JOINED = ("litigation.joined", "facture jointe au dossier en file",
              "invoice joined to the queued dossier")
    STATUS_CHANGED = ("litigation.status_changed", "changement d'état du dossier",
                      "dossier status changed")
    EXPORTED = ("litigation.exported", "dossier exporté", "dossier exported")
    PAYMENT_RECEIVED = ("litigation.payment_received", "paiement reçu après mise en file",
                        "payment received after queueing")
    PAYMENT_REVERSED = ("litigation.payment_reversed", "paiement annulé après mise en file",
                        "payment reversed after queueing")
    DOSSIER_REOPENED = ("litigation.reopened",
                        "dossier rouvert : la facture réapparaît impayée",
                        "dossier reopened: the invoice is unpaid again")
    # Phone calls
    CALL_TASK_CREATED = ("call.task_created", "appel à passer créé", "phone task created")
    CALL_CARRIED = ("call.carried", "appel reporté au lendemain", "phone task carried over")
    CALL_CANCELLED = ("call.cancelled", "appel annulé", "phone task cancelled")
    CALL_LOGGED = ("call.logged", "appel passé", "call logged")
    # Retention (GDPR)
    ARCHIVED = ("retention.archived", "dossier archivé (RGPD)", "archived (GDPR)")
    REACTIVATED = ("retention.reactivated", "débiteur de nouveau actif (RGPD)",
                   "debtor active again (GDPR)")
    PURGED = ("retention.purged", "données personnelles effacées (RGPD)",
              "personal data erased (GDPR)")
    # The agency's register of creditors (its own ledger, not the creditors')
    CREDITOR_REGISTERED = ("creditor.registered", "mandant enregistré (mandat de recouvrement)",
                           "creditor registered (collection mandate)")
    CREDITOR_UPDATED = ("creditor.updated", "fiche du mandant modifiée", "creditor updated")

    # The agency's money (CPCE R124-2 to R124-6)
    AGENCY_PAYMENT_RECEIVED = ("agency.payment_received",
                               "paiement reçu par l'agence (quittance délivrée)",
                               "payment received by the agency (receipt issued)")
    AGENCY_PAYMENT_BOOKED = ("agency.payment_booked",
                             "paiement reçu par l'agence, comptabilisé par le créancier",
                             "agency payment booked by the creditor")
    AGENCY_RECEIPT_SENT = ("agency.receipt_sent", "quittance envoyée au débiteur",
                           "receipt sent to the debtor")
    AGENCY_REMITTANCE_MADE = ("agency.remittance_made", "relevé de reversement établi",
                              "remittance statement made")
    AGENCY_REMITTANCE_PAID = ("agency.remittance_paid", "fonds reversés au créancier",
                              "remittance paid to the creditor")
    AGENCY_TRUST_IMPORTED = ("agency.trust_imported", "relevé du compte séparé importé",
                             "trust account statement imported")
    AGENCY_FEED_SENT = ("agency.feed_sent", "information du créancier envoyée (R124-5)",
                        "creditor informed (R124-5)")
    AGENCY_REPORT_SENT = ("agency.report_sent", "rapport envoyé au créancier",
                          "report sent to the creditor")

    def label(self, language: str = "fr") -> str:
        return self.labels.get(language, self.labels["fr"])


def event_kind(code: str) -> EventKind:
    """The catalogued kind of ``code``, or UnknownEventKind."""
    try:
        return EventKind(code)
    except ValueError:
        raise UnknownEventKind(
            f"audit event {code!r} is not in the catalogue (recouvrement/domain/events.py): "
            "add it there with its labels") from None


def event_label(code: str, language: str = "fr") -> str:
    """What a reader sees for a stored code; an entry older than the catalogue keeps its code."""
    try:
        return EventKind(code).label(language)
    except ValueError:
        return code


# --- what happened to a queued claim ------------------------------------------------------

# The events that change what a dossier's claim is, or whether it can be pursued, once
# queued: the dossier shows them on its first page, and `litigation show` lists them.
SINCE_QUEUEING = (
    EventKind.DISPUTE_OPENED, EventKind.DISPUTE_CLOSED, EventKind.PROMISE_RECORDED,
    EventKind.PLAN_AGREED, EventKind.PLAN_BROKEN, EventKind.PLAN_COMPLETED,
    EventKind.PAYMENT_RECEIVED, EventKind.PAYMENT_REVERSED, EventKind.CREDIT_SET_OFF,
    EventKind.DEBT_ACKNOWLEDGED, EventKind.DOSSIER_REOPENED,
)
_DEBTOR_WIDE = ("promise.", "plan.")


def since_queueing(entries: list[dict], dossier_id: str, claimed: set[str],
                   queued_on: str) -> list[dict]:
    """The entries of the debtor's audit trail (``audit.entry_row`` rows, oldest first)
    written after the dossier was queued that concern its claim, as plain rows.

    After the dossier's own `litigation.queued` entry; for a dossier without one, after
    the day it was queued. An invoice's event counts for the claimed invoices only, a
    dossier's for this dossier only; promises and payment plans concern the whole debtor.
    """
    codes = {k.value for k in SINCE_QUEUEING}
    mark = next((e["id"] for e in entries if e["event"] == EventKind.QUEUED.value
                 and e["subject"] == dossier_id), None)
    found = []
    for e in entries:
        if (e["id"] <= mark) if mark is not None else (e["at"][:10] <= queued_on):
            continue
        if e["event"] not in codes or e.get("redacted"):
            continue
        details = e["details"] or {}
        if e["event"].startswith("invoice."):
            if e["subject"] not in claimed:
                continue
            invoice = e["subject"]
        elif e["event"].startswith("litigation."):
            if e["subject"] != dossier_id:
                continue
            invoice = details.get("invoice")
        elif e["event"].startswith(_DEBTOR_WIDE):
            invoice = None
        else:
            continue
        # A payment or a set-off dates from the export that showed it, not from its entry.
        on = str(details.get("received_on") or details.get("export_date") or e["at"])[:10]
        found.append({"entry": e["id"], "on": on, "recorded_on": e["at"][:10],
                      "event": e["event"],
                      "label": event_label(e["event"]), "invoice": invoice,
                      "details": {k: details[k] for k in _SHOWN.get(e["event"], ())
                                  if details.get(k) is not None}})
    return found


# The details each of them shows (the audit trail keeps them all).
_SHOWN = {
    "invoice.dispute_opened": ("reason",),
    "promise.recorded": ("until",),
    "plan.agreed": ("invoices", "total", "instalments"),
    "plan.broken": ("reason",), "plan.completed": ("reason",),
    "litigation.payment_received": ("amount", "received_on"),
    "litigation.payment_reversed": ("amount", "received_on"),
    "invoice.credit_set_off": ("set_off", "export_date"),
    "invoice.debt_acknowledged": ("on",),
    "litigation.reopened": ("invoices",),
}


def disputed_since_queueing(rows: list[dict]) -> dict[str, dict]:
    """Invoice -> the dispute opened after queueing and not closed since (its row)."""
    open_: dict[str, dict] = {}
    for row in rows:
        if row["event"] == EventKind.DISPUTE_OPENED.value:
            open_[row["invoice"]] = row
        elif row["event"] == EventKind.DISPUTE_CLOSED.value:
            open_.pop(row["invoice"], None)
    return open_
