"""The dossier's French words for what the log and the outbox store as codes.

Channels, proofs, actors, audit details, the events since the queueing and the
warnings: the PDF prints these, never a code, a setting name, a file name or
JSON. `audit_trail.json` keeps every entry exactly as stored.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from recouvrement.adapters.mail.render import format_amount, format_date

CHANNEL_NAMES = {"email": "courriel", "letter": "lettre recommandée", "sms": "SMS",
                 "call": "appel téléphonique"}
STATUS_NAMES = {"queued": "en file d'attente", "exported": "exporté",
                "with_bailiff": "confié à un commissaire de justice",
                "with_lawyer": "confié à un avocat", "closed": "clos"}
OUTCOME_NAMES = {"paid": "payé", "settled": "transigé", "judgment": "jugement",
                 "abandoned": "abandonné"}
CHAIN_PROBLEM_NAMES = {"edited": "entrée modifiée", "deleted": "entrée supprimée",
                       "reordered": "entrées interverties", "inserted": "entrée insérée",
                       "forged": "signature invalide", "truncated": "fin du journal coupée"}
# Keys of the audit entries' details, as a reader of the dossier reads them.
DETAIL_NAMES = {
    "amount": "montant", "balance": "solde", "changes": "modifications", "channel": "canal",
    "debtor": "débiteur", "dossier": "dossier", "error": "erreur", "export_date": "export du",
    "file": "fichier", "flag": "signalé", "from": "de", "grace_days": "jours de grâce",
    "handler": "suivi par", "import": "import n°", "instalments": "échéances",
    "interest": "intérêts", "interest_and_fees_not_recovered": "intérêts et indemnités non "
    "recouvrés", "invoice": "facture", "invoices": "factures", "key": "clé", "kind": "type",
    "level": "niveau", "on": "le", "open_amount": "reste dû", "outcome": "issue",
    "principal": "principal", "procedure": "procédure", "queued_on": "mis en file le",
    "reason": "motif", "reasons": "motifs", "received_on": "reçu le", "reference": "référence",
    "rows": "lignes", "set_off": "montant compensé", "settled_by_absence":
    "soldé par absence de l'export", "total": "total", "to": "à", "until": "jusqu'au",
    "urgent": "urgent", "why": "raison", "fixed_fees": "indemnités", "due": "échéance",
    "out": "dossier écrit", "sha256": "empreinte", "sha256sums": "empreinte des sommes de "
    "contrôle", "note": "note", "risk_class": "classe de risque", "score": "score",
    "last_contact": "dernier contact", "erase_after": "effacement après", "status": "état",
    "invoice_numbers": "factures", "message_id": "Message-ID", "recipient": "destinataire",
    "subject": "objet", "attempts": "tentatives", "letter": "lettre recommandée",
    "letter_file": "lettre recommandée", "id": "n°", "policy": "politique de relance",
    "advances": "niveau franchi", "contact_missing": "coordonnées manquantes",
    "source": "source", "name": "nom", "email": "courriel", "phone": "téléphone",
    "address": "adresse", "postcode": "code postal", "city": "ville", "country": "pays",
    "siren": "SIREN", "language": "langue", "payment_terms_days": "délai de paiement (jours)",
    "collective_proceedings_since": "procédure collective depuis", "blocked": "bloqué",
    "amount_before": "montant avant", "currency": "devise", "previous": "précédent",
}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY = re.compile(r"^-?\d+\.\d{2}$")


def channel_fr(channel: str | None) -> str:
    return " et ".join(CHANNEL_NAMES.get(c, c) for c in (channel or "").split(",") if c)


def actor_fr(actor: str) -> str:
    """`flow-run:…` is the daily run, `user:…` a person who typed a command."""
    who, _, name = actor.partition(":")
    if who == "flow-run":
        return f"traitement quotidien {name[:8]}"
    if who == "user":
        return f"utilisateur {name}"
    return actor


def letter_proof_fr(letter: dict[str, Any], number: int) -> str:
    """What proves a reminder went out, named as the dossier's annex numbers it."""
    proofs = []
    # The proof is read off the deliveries (`dossier._letters`): it names the e-mail's
    # Message-ID only when the e-mail went out.
    if letter["message_id"] and f"Message-ID {letter['message_id']}" in (letter["proof"] or ""):
        proofs.append(f"courriel Message-ID {letter['message_id']}")
    if letter["letter_file"]:
        proofs.append(f"lettre recommandée, pièce n° {number}")
    return " ; ".join(proofs) or "aucune"


def value_fr(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dict):
        return ", ".join(f"{DETAIL_NAMES.get(k, k.replace('_', ' '))} : {value_fr(v)}"
                         for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(value_fr(v) for v in value)
    text = str(value)
    if _ISO_DAY.match(text):
        return format_date(date.fromisoformat(text), "fr")
    if len(text) > 10 and _ISO_DAY.match(text[:10]) and text[10] == "T":
        return format_date(date.fromisoformat(text[:10]), "fr")
    if _MONEY.match(text):
        return format_amount(Decimal(text), "EUR", "fr")
    return STATUS_NAMES.get(text, OUTCOME_NAMES.get(text, VALUE_NAMES.get(text, text)))


# Details that hold the code's own explanations, in English in the log: the PDF points to
# the attached trail for them (section 2 of the dossier gives the procedure's reasons).
CODE_TEXT = ("why", "reasons", "urgent", "error", "notes", "reason")
# Where `reason` is what a person typed (a dispute's), it is shown.
TYPED_REASON = ("invoice.dispute_opened",)
CODE_TEXT_BY_EVENT = {"litigation.not_ready": ("invoices",)}
# Stored values that are codes.
VALUE_NAMES = {"high": "élevé", "medium": "moyen", "low": "faible", "default": "par défaut",
               **CHANNEL_NAMES}
PROCEDURE_CODES = {"injonction_de_payer": "injonction de payer",
                   "petites_creances": "petites créances", "refere_provision": "référé-provision",
                   "declaration_de_creance": "déclaration de créance"}


def details_fr(details: dict[str, Any], event: str | None = None) -> str:
    """An audit entry's details as French `libellé : valeur` pairs."""
    hidden = tuple(k for k in CODE_TEXT if not (k == "reason" and event in TYPED_REASON)
                   ) + CODE_TEXT_BY_EVENT.get(event or "", ())
    pairs = [f"{DETAIL_NAMES.get(k, k.replace('_', ' '))} : {_value(k, v)}"
             for k, v in details.items() if k not in hidden and v not in ({}, [], None, "")]
    if any(k in hidden and v for k, v in details.items()):
        pairs.append("motifs détaillés : journal d'audit joint")
    return " ; ".join(pairs)


def _value(key: str, value: Any) -> str:
    if key == "channel" and isinstance(value, str):
        return channel_fr(value)
    if key in ("letter", "letter_file"):
        return "jointe au dossier"  # the registered letter's file, among the letters
    if isinstance(value, str) and value in PROCEDURE_CODES:
        return PROCEDURE_CODES[value]
    return value_fr(value)


def since_rows(since: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"date": value_fr(e["on"]), "what": e["label"], "invoice": e["invoice"] or "",
             "details": details_fr(e["details"], e["event"]), "entry": str(e["entry"])}
            for e in since]


def warnings_fr(warnings: list[dict[str, Any]]) -> list[str]:
    out = []
    for w in warnings:
        if w["warning"] == "disputed":
            since = f" depuis le {value_fr(w['since'])}" if w.get("since") else ""
            reason = f" (motif : {w['reason']})" if w.get("reason") else ""
            out.append(f"La facture {w['invoice']} est contestée par le débiteur{since}{reason}"
                       " : la créance est litigieuse. Clore la contestation ou retirer cette "
                       "facture avant tout dépôt.")
    return out
