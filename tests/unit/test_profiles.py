"""Each shipped mapping profile reads an export shaped as its tool writes it.

The fixtures (tests/fixtures/exports/) carry each tool's headers, encoding,
separator, date and number formats; the profile must be guessed from the
header row alone, and the amounts must come out to the cent.
"""

from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest

from recouvrement.ingest.profiles import ProfileError, load_profile, load_profiles
from recouvrement.ingest.readers import kind_of, read_export, ExportFile
from recouvrement.ingest.validation import check_customers, check_invoices

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"
TODAY = date(2026, 12, 1)
D = Decimal

INVOICE_EXPORTS = [
    ("csv/invoices_20261102_sage100.csv", "sage100", date(2026, 11, 2), {
        "FA26-0101": (D("1234.56"), D("1234.56"), "invoice"),
        "FA26-0102": (D("2400.00"), D("900.00"), "invoice"),
        "FA26-0103": (D("3600.00"), D("3600.00"), "invoice"),
        "AV26-0007": (D("-150.00"), D("-150.00"), "credit_note"),
    }),
    ("xlsx/invoices_ebp.xlsx", "ebp", TODAY, {
        "E-2026-0501": (D("1500.00"), D("1500.00"), "invoice"),
        "E-2026-0502": (D("100.00"), D("100.00"), "invoice"),
    }),
    ("profiles/invoices_20261130_quadra.txt", "cegid_quadra", date(2026, 11, 30), {
        "FA2611-014": (D("1440.00"), D("1440.00"), "invoice"),
        "FA2610-087": (D("2160.00"), D("660.00"), "invoice"),
        "FA2609-112": (D("312.50"), D("312.50"), "invoice"),
        "FA2611-020": (D("96.00"), D("96.00"), "invoice"),
    }),
    ("profiles/invoices_20261130_pennylane.csv", "pennylane", date(2026, 11, 30), {
        "F-2026-0412": (D("1200.00"), D("1200.00"), "invoice"),
        "F-2026-0418": (D("546.60"), D("246.60"), "invoice"),
        "F-2026-0425": (D("84.00"), D("84.00"), "invoice"),
        "A-2026-0009": (D("-120.00"), D("-120.00"), "credit_note"),
    }),
    ("profiles/invoices_20261130_odoo.xlsx", "odoo", date(2026, 11, 30), {
        "FAC/2026/00311": (D("2880.00"), D("2880.00"), "invoice"),
        "FAC/2026/00342": (D("1560.00"), D("560.00"), "invoice"),
        "FAC/2026/00350": (D("89.90"), D("89.90"), "invoice"),
        "RFAC/2026/00014": (D("-240.00"), D("-240.00"), "credit_note"),
    }),
    ("profiles/invoices_20261130_odoo_import_compatible.csv", "odoo", date(2026, 11, 30), {
        "FAC/2026/00311": (D("2880.00"), D("2880.00"), "invoice"),
        "FAC/2026/00342": (D("1560.00"), D("560.00"), "invoice"),
        "RFAC/2026/00014": (D("-240.00"), D("-240.00"), "credit_note"),
    }),
    ("profiles/invoices_20261130_dolibarr.csv", "dolibarr", date(2026, 11, 30), {
        "FA2610-0031": (D("1200.00"), D("1200.00"), "invoice"),
        "FA2611-0007": (D("450.00"), D("150.00"), "invoice"),
        "FA2611-0015": (D("300.00"), D("300.00"), "invoice"),
        "AV2611-0002": (D("-100.00"), D("-100.00"), "credit_note"),
    }),
]

CUSTOMER_EXPORTS = [
    ("csv/customers_sage100.csv", "sage100", {"411DUPONT": "B2B", "411MARTIN": "B2C"}),
    ("profiles/customers_quadra.txt", "cegid_quadra", {"9DUPONT": "B2B", "9LEBLANC": "B2C"}),
    ("profiles/customers_pennylane.csv", "pennylane", {"30071": "B2B", "30088": "B2B"}),
    ("profiles/customers_odoo.csv", "odoo", {"C00017": "B2B", "C00023": "B2C"}),
    ("profiles/customers_dolibarr.csv", "dolibarr", {"CU2604-00012": "B2B", "CU2605-00020": "B2B"}),
]


def read(name: str):
    path = EXPORTS / name
    return read_export(ExportFile(path, kind_of(path), "0" * 64), today=TODAY,
                       profiles=load_profiles())


@lru_cache(maxsize=None)
def open_items(name: str):
    """The file read and checked once for the tests that look at it (GX takes seconds)."""
    raw = read(name)
    return raw, check_invoices(raw, set(raw["account"]))


@pytest.mark.parametrize("name, profile, export_date, expected", INVOICE_EXPORTS,
                         ids=[Path(e[0]).stem for e in INVOICE_EXPORTS])
def test_an_open_items_export_is_read_with_its_profile_and_its_amounts(name, profile,
                                                                        export_date, expected):
    raw, checked = open_items(name)
    assert raw.attrs["profile"] == profile  # guessed from the header row alone
    good = checked.good.set_index("invoice_number")
    read_back = {n: (r.amount, r.open_amount, r.document_type) for n, r in good.iterrows()}
    assert read_back == expected
    assert set(good["export_date"]) == {export_date}
    assert set(good["currency"]) == {"EUR"}


def test_the_amounts_of_each_export_add_up_to_the_cent():
    """Open amounts summed from each file as its tool writes them (commas, points, floats)."""
    totals = {}
    for name, profile, _date, _expected in INVOICE_EXPORTS:
        totals[Path(name).stem] = sum(open_items(name)[1].good["open_amount"])
    assert totals == {"invoices_20261102_sage100": D("5584.56"), "invoices_ebp": D("1600.00"),
                      "invoices_20261130_quadra": D("2508.50"),
                      "invoices_20261130_pennylane": D("1410.60"),
                      "invoices_20261130_odoo": D("3289.90"),
                      "invoices_20261130_odoo_import_compatible": D("3200.00"),
                      "invoices_20261130_dolibarr": D("1550.00")}


@pytest.mark.parametrize("name, profile, kinds", CUSTOMER_EXPORTS,
                         ids=[e[1] for e in CUSTOMER_EXPORTS])
def test_a_customers_export_is_read_with_its_profile(name, profile, kinds):
    raw = read(name)
    assert raw.attrs["profile"] == profile
    good = check_customers(raw).good.set_index("account")
    assert dict(good["kind"]) == kinds
    assert good["name"].notna().all() and good["email"].notna().all()


def test_the_french_details_of_each_tool_come_through():
    quadra = check_customers(read("profiles/customers_quadra.txt")).good.set_index("account")
    assert quadra.at["9DUPONT", "siren"] == "732829320"  # SIRET with spaces gives its SIREN
    assert quadra.at["9DUPONT", "name"] == "DUPONT & FILS"
    dolibarr = check_customers(read("profiles/customers_dolibarr.csv")).good.set_index("account")
    assert dolibarr.at["CU2605-00020", "name"] == "Garage Lefèvre, SAS"  # ISO-8859-1, quoted
    assert dolibarr.at["CU2604-00012", "siren"] == "552100554"
    odoo = check_customers(read("profiles/customers_odoo.csv")).good.set_index("account")
    assert odoo.at["C00017", "language"] == "fr" and odoo.at["C00017", "siren"] == "732829320"


def test_every_shipped_profile_says_where_its_columns_come_from():
    profiles = load_profiles()
    assert {"sage100", "ebp", "cegid_quadra", "pennylane", "odoo", "dolibarr"} <= set(profiles)
    for profile in profiles.values():
        assert profile.sources, f"{profile.name} has no source"


def test_a_source_must_be_text(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nsource: {a: 1}\ninvoices:\n  columns: {account: [Compte]}\n",
                    encoding="utf-8")
    with pytest.raises(ProfileError, match="source"):
        load_profile(path)
