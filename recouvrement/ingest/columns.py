"""The canonical columns of each export, as the README documents them."""

from __future__ import annotations

CUSTOMER_COLUMNS = (
    "account", "name", "email", "phone", "kind", "siren", "language", "address",
    "postcode", "city", "country", "payment_terms_days",
    "collective_proceedings_since", "blocked", "legal_form", "trader",
)
CUSTOMER_REQUIRED = ("account", "name", "kind")
# document_type is optional: `invoice` (the default) or `credit_note` (avoir).
INVOICE_COLUMNS = (
    "invoice_number", "account", "issue_date", "due_date", "amount",
    "open_amount", "currency", "export_date", "document_type",
)
INVOICE_REQUIRED = ("invoice_number", "account", "issue_date", "due_date",
                    "amount", "open_amount", "export_date")

COLUMNS = {"customers": CUSTOMER_COLUMNS, "invoices": INVOICE_COLUMNS}
REQUIRED = {"customers": CUSTOMER_REQUIRED, "invoices": INVOICE_REQUIRED}

LINE = "_line"  # the row's line number in its file, kept through every step
SHAPE = "_shape"  # why a row's fields do not line up with the header, if they don't

# The ledger's column sizes: a longer value is quarantined, never truncated.
MAX_LENGTH = {
    "account": 64, "name": 300, "email": 320, "phone": 50, "siren": 20, "address": 500,
    "postcode": 20, "city": 200, "country": 100, "invoice_number": 100, "legal_form": 60,
}
