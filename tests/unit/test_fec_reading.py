"""How a FEC is read as real software writes it: identity, placeholders, lettering, receipts,
collective accounts, export dates; and what a letter says of a credit set against an invoice."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.model import Debtor, DebtorKind
from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.fec import export_date_of_fec, read_fec
from recouvrement.ingest.fec_accounts import is_payment_means, placeholder_text
from recouvrement.ingest.fec_items import check_fec
from recouvrement.ingest.reconcile import impute_credits
from recouvrement.adapters.mail.render import Creditor, InvoiceRow, render_reminder
from tests.fec_builders import write_fec

DAY = date(2026, 11, 2)


def items(path, known=(), day=DAY):
    result = check_fec(read_fec(path), day, set(known), {})
    good, _ = impute_credits(result.good)
    return result, {r.invoice_number: (r.account, r.document_type, r.open_amount)
                    for r in good.itertuples()}


def line(journal, number, day, account, ref, net, letter="", **kw):
    return {"JournalCode": journal, "JournalLib": kw.pop("label", journal),
            "EcritureNum": number, "EcritureDate": day, "CompteNum": kw.pop("compte", "41100000"),
            "CompteLib": kw.pop("compte_lib", "Clients"), "CompAuxNum": account,
            "CompAuxLib": kw.pop("name", f"Client {account}") if account else "",
            "PieceRef": ref, "Debit": f"{max(net, 0):.2f}".replace(".", ","),
            "Credit": f"{max(-net, 0):.2f}".replace(".", ","), "EcritureLet": letter, **kw}


def bank(number, day, ref, amount, journal="BQ", account="51200000"):
    return line(journal, number, day, "", ref, amount, compte=account, compte_lib="Banque")


def test_one_opening_reference_for_every_customer_is_one_item_each_never_quarantined(tmp_path):
    # Before: "PieceRef RAN is open on several customer accounts", both quarantined,
    # while the payment lettered with it stayed loaded.
    path = write_fec(tmp_path / "FEC.txt", [
        line("AN", "1", "20260101", "411A", "RAN", 100, "AA"),
        line("AN", "1", "20260101", "411B", "RAN", 200),
        line("AN", "1", "20260101", "", "RAN", -300, compte="89000000"),
        line("BQ", "2", "20260110", "411A", "VIR1", -100, "AA"),
        bank("2", "20260110", "VIR1", 100)])
    result, found = items(path)
    assert result.quarantined.empty
    assert found == {"RAN-411A": ("411A", "invoice", Decimal("0.00")),
                     "RAN-411B": ("411B", "invoice", Decimal("200.00"))}


@pytest.mark.parametrize("ref", ["x", "X", "sans", "0000", "0000000", "-", "", "SANS_PIECE_REF",
                                 "néant", "...", "n/a"])
def test_a_placeholder_reference_names_no_invoice_the_entry_does(tmp_path, ref):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VT", "VT1", "20261001", "411A", ref, 50),
        line("VT", "VT2", "20261002", "411A", ref, 70)])
    assert items(path)[1] == {"VT1": ("411A", "invoice", Decimal("50.00")),
                              "VT2": ("411A", "invoice", Decimal("70.00"))}


@pytest.mark.parametrize("ref, expected", [
    ("F2026-0001", False), ("VE  0323", False), ("RAN", False), ("A0", False), ("10", False),
    ("x", True), ("0000000", True), ("--", True), ("Sans pièce", True), ("", True)])
def test_which_texts_are_placeholders(ref, expected):
    assert placeholder_text(ref) is expected


def test_a_batch_reference_on_many_customers_and_entries_falls_back_to_each_entry(tmp_path):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VE", f"VE{i}", "20260331", account, "VE  0323", 10 * i)
        for i, account in enumerate(("411A", "411B", "411C", "411A"), start=1)])
    assert items(path)[1] == {"VE1": ("411A", "invoice", Decimal("10.00")),
                              "VE2": ("411B", "invoice", Decimal("20.00")),
                              "VE3": ("411C", "invoice", Decimal("30.00")),
                              "VE4": ("411A", "invoice", Decimal("40.00"))}


def test_the_same_entry_number_in_two_journals_is_told_apart_by_the_journal(tmp_path):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VT", "1", "20261001", "411A", "", 80),
        line("BQ", "1", "20261005", "411A", "", -30), bank("1", "20261005", "", 30)])
    assert items(path)[1] == {"VT-1": ("411A", "invoice", Decimal("50.00")),
                              "BQ-1": ("411A", "payment", Decimal("0.00"))}


@pytest.mark.parametrize("letter", ["b", "B*", "P12"])
def test_a_partial_lettering_pays_its_own_invoice_not_the_oldest(tmp_path, letter):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VT", "1", "20260901", "411A", "F1", 100),
        line("VT", "2", "20261001", "411A", "F2", 200, letter),
        line("BQ", "3", "20261010", "411A", "REM", -150, letter + ("*" if "*" in letter else "")),
        bank("3", "20261010", "REM", 150)])
    assert items(path)[1] == {"F1": ("411A", "invoice", Decimal("100.00")),
                              "F2": ("411A", "invoice", Decimal("50.00"))}


def test_a_lettering_that_nets_to_zero_settles_every_line_of_the_group(tmp_path):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VT", "1", "20260901", "411A", "F1", 100, "AB"),
        line("VT", "2", "20261001", "411A", "F2", 200, "AB"),
        line("RCH", "3", "20261010", "411A", "REM CHQ", -300, "AB"),
        bank("3", "20261010", "REM CHQ", 300, journal="RCH", account="51120000")])
    assert items(path)[1] == {"F1": ("411A", "invoice", Decimal("0.00")),
                              "F2": ("411A", "invoice", Decimal("0.00"))}


@pytest.mark.parametrize("journal, label, cash", [
    ("CRC CREDIT AGRICOLE", "CREDIT AGRICOLE", "51210000"), ("RCH", "Remises", "51120000"),
    ("CL", "Caisse Lyon", "53000000"), ("CM", "CIC", "58000000"), ("bq", "bq", "51200000")])
def test_a_receipt_is_a_payment_whatever_its_journal_code(tmp_path, journal, label, cash):
    path = write_fec(tmp_path / "FEC.txt", [
        line(journal, "7", "20261005", "411A", "P1", -40, label=label),
        line(journal, "7", "20261005", "", "P1", 40, compte=cash, label=label)])
    assert items(path)[1]["P1"] == ("411A", "payment", Decimal("-40.00"))


def test_a_credit_against_sales_is_a_credit_note(tmp_path):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VT", "7", "20261005", "411A", "AV1", -40),
        line("VT", "7", "20261005", "", "AV1", 40, compte="70900000")])
    assert items(path)[1]["AV1"] == ("411A", "credit_note", Decimal("-40.00"))


def test_lines_on_the_collective_account_belong_to_no_customer(tmp_path):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VT", "1", "20261001", "411A", "F1", 100),
        line("OD", "2", "20261002", "", "OD1", 35)])
    result, found = items(path)
    assert found == {"F1": ("411A", "invoice", Decimal("100.00"))}
    assert (result.lines_loaded, result.lines_ignored) == (1, 1)
    assert result.notes == ["1 line(s) on the collective account 41100000 without a customer "
                            "sub-ledger account (CompAuxNum): they belong to no customer and "
                            "were not loaded"]


@pytest.mark.parametrize("label, clearing", [
    ("RECETTE CB", True), ("Recettes espèces", True), ("Clients comptant", True),
    ("VENTES COMPTOIR", True), ("Encaissements chèques", True), ("Caisse d'Épargne Île-de-France", False),
    ("Dupont SA", False), ("CB Informatique", False), ("Recettor SARL", False)])
def test_till_clearing_accounts_are_not_debtors(label, clearing):
    assert is_payment_means(label) is clearing


def test_a_detailed_account_named_recette_cb_is_not_a_debtor(tmp_path):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VT", "1", "20261001", "", "Z1", 318, compte="411CB", compte_lib="RECETTE CB"),
        line("VT", "2", "20261001", "", "F1", 100, compte="411DUPONT", compte_lib="Dupont SA")])
    result, found = items(path)
    assert found == {"F1": ("411DUPONT", "invoice", Decimal("100.00"))}
    assert "payment-means clearing account(s) 411CB" in result.notes[0]


@pytest.mark.parametrize("compte, label", [("41100000", "CLIENTS"), ("411", "Clients divers"),
                                           ("411000", "Clients")])
def test_a_file_whose_only_customer_account_is_collective_is_refused(tmp_path, compte, label):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VT", "1", "20261001", "", "F1", 100, compte=compte, compte_lib=label)])
    with pytest.raises(InputFileError, match=f"every customer line is on the collective account "
                                             f"{compte} '{label}'"):
        read_fec(path)


def test_one_detailed_customer_account_without_sub_ledger_is_a_customer(tmp_path):
    path = write_fec(tmp_path / "FEC.txt", [
        line("VT", "1", "20261001", "", "F1", 100, compte="411LEGRAND",
             compte_lib="Legrand Transports")])
    assert items(path)[1] == {"F1": ("411LEGRAND", "invoice", Decimal("100.00"))}


@pytest.mark.parametrize("name, latest, given, expected", [
    ("732829320FEC20251231.txt", "20261015", None, date(2026, 10, 15)),  # misnamed: the entries
    ("732829320FEC20251231.txt", "20251130", None, date(2025, 12, 31)),  # a closed year
    ("732829320FEC20261231.txt", "20261015", None, DAY),  # the year still running: today
    ("FEC_export.txt", "20261015", None, date(2026, 10, 15)),  # no date in the name
    ("FEC_export.txt", "20261015", date(2026, 10, 31), date(2026, 10, 31)),  # said by the user
])
def test_the_export_date_is_what_the_file_shows(tmp_path, name, latest, given, expected):
    path = write_fec(tmp_path / name, [line("VT", "1", "20250110", "411A", "F0", 10),
                                       line("VT", "2", latest, "411A", "F1", 10)])
    assert export_date_of_fec(path, DAY, read_fec(path), given) == expected


def test_an_export_date_that_cannot_be_told_is_refused(tmp_path):
    path = write_fec(tmp_path / "FEC.txt", [line("VT", str(i), "20261215", "411A", f"F{i}", 10)
                                            for i in range(3)])
    with pytest.raises(InputFileError, match=r"3 of 3 customer lines are dated after 2026-11-02"):
        export_date_of_fec(path, DAY, read_fec(path))
    with pytest.raises(InputFileError, match=r"after the export date given \(2026-11-30\)"):
        export_date_of_fec(path, DAY, read_fec(path), date(2026, 11, 30))


def test_a_letter_shows_the_customer_s_piece_and_what_a_credit_took_off_it():
    debtor = Debtor(account="411DUPONT", name="Dupont SA", kind=DebtorKind.B2B,
                    email="compta@dupont.example.fr", language="fr")
    rows = [InvoiceRow(number="RAN-411DUPONT", issue_date=date(2026, 1, 1),
                       due_date=date(2026, 1, 31), amount=Decimal("800.00"),
                       open_amount=Decimal("550.00"), currency="EUR", days_late=30,
                       set_off=Decimal("250.00"))]
    creditor = Creditor(name="Outillage Durand SAS", sender="relances@durand.example.com")
    for language, words in (("fr", "imputé sur cette facture, la plus ancienne"),
                            ("en", "applied to this invoice, the oldest due")):
        rendered = render_reminder(level=1, debtor=replace(debtor, language=language),
                                   invoices=rows, as_of=date(2026, 3, 2), creditor=creditor)
        for body in (rendered.text, rendered.html):
            assert words in body and "250,00" in body.replace("250.00", "250,00")
            assert "RAN-411DUPONT" not in body and "RAN" in body
