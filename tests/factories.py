"""Small builders of accounting exports for the tests."""

from __future__ import annotations

import csv
import threading
from datetime import date
from pathlib import Path
from typing import Callable

CUSTOMER_HEADER = ["account", "name", "email", "phone", "kind", "siren", "language", "address",
                   "postcode", "city", "country", "payment_terms_days", "blocked",
                   "collective_proceedings_since", "legal_form", "trader"]
# A creditor whose identity is complete: a real run refuses without it (exit 2).
CREDITOR_ENV = {
    "RECOUVREMENT_CREDITOR_NAME": "Créancier Test SAS",
    "RECOUVREMENT_CREDITOR_LEGAL_FORM": "SAS au capital de 10 000 €, RCS Paris",
    "RECOUVREMENT_CREDITOR_SIREN": "123 456 782",
    "RECOUVREMENT_CREDITOR_ADDRESS": "10 avenue des Tests\n75011 Paris",
    "RECOUVREMENT_CREDITOR_PHONE": "01 23 45 67 89",
    "RECOUVREMENT_CREDITOR_IBAN": "FR76 3000 6000 0112 3456 7890 189",
    "RECOUVREMENT_CREDITOR_BIC": "AGRIFRPP",
    "RECOUVREMENT_SENDER": "relances@creancier.example.com",
}
INVOICE_HEADER = ["invoice_number", "account", "issue_date", "due_date", "amount", "open_amount",
                  "currency", "export_date"]


def customer(account: str, **kw) -> dict:
    row = {"account": account, "name": f"{account[3:].title()} SARL",
           "email": f"compta@{account[3:].lower()}.example.com", "phone": "0102030405",
           "kind": "B2B", "siren": "732829320", "language": "fr", "address": "1 rue de la Paix",
           "postcode": "75002", "city": "Paris", "country": "FR", "payment_terms_days": "30"}
    if kw.get("kind", "B2B") == "B2B":
        row["legal_form"] = "SARL"  # as the name says: a trader, whose court is commercial
    row.update(kw)
    return row


def invoice(number: str, account: str, due: date, amount: str = "1200.00",
            open_amount: str | None = None, issued: date | None = None, **kw) -> dict:
    issued = issued or date.fromordinal(due.toordinal() - 30)
    row = {"invoice_number": number, "account": account, "issue_date": issued.isoformat(),
           "due_date": due.isoformat(), "amount": amount,
           "open_amount": amount if open_amount is None else open_amount, "currency": "EUR"}
    row.update(kw)
    return row


def write_csv(path: Path, header: list[str], rows: list[dict], *, sep: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter=sep, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_customers(inbox: Path, rows: list[dict], name: str = "customers.csv") -> Path:
    return write_csv(inbox / name, CUSTOMER_HEADER, rows)


def write_invoices(inbox: Path, day: date, rows: list[dict], name: str | None = None) -> Path:
    rows = [{**r, "export_date": r.get("export_date", day.isoformat())} for r in rows]
    return write_csv(inbox / (name or f"invoices_{day:%Y%m%d}.csv"), INVOICE_HEADER, rows)


def at_once(*calls: Callable[[], object], timeout: float = 180) -> None:
    """Run the calls in threads started together; re-raise the first error any of them hit."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if errors:
        raise errors[0]


FEC_HEADER = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
              "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit",
              "Credit", "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise"]


def fec_entry(journal: str, number: str, day: date, piece: str, account: str, amount: str, *,
              letter: str = "", counterpart: str | None = None, day_text: str | None = None
              ) -> list[list[str]]:
    """One balanced entry: the customer's line (debit when `amount` > 0) and its counterpart.

    `counterpart` defaults to sales (706) for a debit and the bank (512) for a
    credit; `day_text` writes the date as given (to write an unreadable one).
    """
    ymd = day_text or f"{day:%Y%m%d}"
    cents = amount.lstrip("-").replace(".", ",")
    debit = not amount.startswith("-")
    other = counterpart or ("70600000" if debit else "51200000")
    label = {"VT": "Ventes", "BQ": "Banque", "OUV": "A nouveaux"}.get(journal, journal)
    name = f"{account[3:].title()} SARL"
    customer = [journal, label, number, ymd, "41100000", "Clients", account, name, piece, ymd,
                f"{piece} {name}", cents if debit else "0,00", "0,00" if debit else cents,
                letter, ymd if letter else "", ymd, "", ""]
    contra = [journal, label, number, ymd, other, "Contrepartie", "", "", piece, ymd,
              f"{piece} {name}", "0,00" if debit else cents, cents if debit else "0,00", "", "",
              ymd, "", ""]
    return [customer, contra]


def write_fec(path: Path, entries: list[list[list[str]]]) -> Path:
    """A FEC as accounting software writes it: tab-separated, CRLF, decimal comma."""
    lines = ["\t".join(FEC_HEADER)] + ["\t".join(line) for entry in entries for line in entry]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path
