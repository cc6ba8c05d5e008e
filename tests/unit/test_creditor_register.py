"""The register of creditors: a file read whole and checked, each mistake named."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from recouvrement.services.agency.creditors import (
    CreditorInvalid,
    check_creditor,
    creditor_database_url,
    creditor_settings,
    schema_name,
)
from recouvrement.services.agency.register_file import CreditorFileError, read_register
from recouvrement.config.settings import Settings

REGISTER = Path(__file__).parents[1] / "fixtures" / "agency" / "creditors.toml"


def test_the_fixture_register_reads_as_two_creditors_with_their_mandates():
    nord, sud = read_register(REGISTER)
    assert (nord.code, sud.code) == ("atelier-nord", "sud-bureautique")
    assert nord.address == "4 rue des Tisserands\n59000 Lille"
    assert nord.mandate.signed_on == date(2026, 9, 1)
    assert nord.mandate.fee_percent == Decimal("12.50") and nord.mandate.fee_minimum == Decimal("15.00")
    assert nord.report_recipients == ("compta@atelier-nord.example.com",)
    assert sud.mandate.fee_percent == Decimal("9.00") and sud.mandate.fee_minimum is None
    assert sud.mandate.remit_within_days == 30  # R124-6: within a month, by default
    assert sud.report_every is None and sud.active


def _write(tmp_path, text, name="creditors.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _replace(old, new):
    return REGISTER.read_text(encoding="utf-8").replace(old, new, 1)


@pytest.mark.parametrize("old, new, message", [
    ('siren = "732 829 320"', 'siren = "732 829 321"',
     "creditor 'atelier-nord': siren: '732 829 321' fails its check digit"),
    ('iban = "FR76 3000 4000 0312 3456 7890 143"', 'iban = "FR76 3000 4000 0312 3456 7890 144"',
     "creditor 'atelier-nord': iban: "),
    ('fee_percent = "12.50"', 'fee_percent = "112"',
     "creditor 'atelier-nord': mandate.fee_percent: Decimal('112.00') is not a percentage between 0 and 100"),
    ('code = "atelier-nord"', 'code = "Atelier_Nord"',
     "creditor 'Atelier_Nord': code: 'Atelier_Nord' is not a code"),
    ('reference = "MDT-2026-014"\n', '',
     "creditor 'atelier-nord': mandate.reference: missing"),
    ('report_every = "monthly"', 'report_every = "daily"',
     "creditor 'atelier-nord': report_every: 'daily' is not one of weekly, monthly"),
    ('bic = "BNPAFRPP"', 'bicc = "BNPAFRPP"',
     "creditor 'atelier-nord': bicc: unknown field (did you mean 'bic'?)"),
    ('signed_on = 2026-10-15', 'signed_on = "15/10/2026"',
     "creditor 'sud-bureautique': mandate.signed_on: '15/10/2026' is not a date"),
    ('code = "sud-bureautique"', 'code = "atelier-nord"',
     "creditor 'atelier-nord': code: given twice in this file"),
    ('reference = "MDT-2026-014"', 'reference = "' + "M" * 201 + '"',
     "creditor 'atelier-nord': mandate.reference: 201 characters, at most 200"),
])
def test_a_bad_register_names_its_file_creditor_and_field(tmp_path, old, new, message):
    path = _write(tmp_path, _replace(old, new))
    with pytest.raises(CreditorFileError) as caught:
        read_register(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_yaml_register_reads_like_the_toml_one(tmp_path):
    path = _write(tmp_path, """
creditors:
  - code: acme
    name: ACME SA
    address: "1 place de la Gare\\n69002 Lyon"
    sender: relances-acme@agence.example.com
    policy: policies/acme.yaml
    mandate: {reference: M-1, signed_on: 2026-01-02, scope: tout, fee_percent: "7,5"}
""", "register.yaml")
    [acme] = read_register(path)
    assert acme.mandate.fee_percent == Decimal("7.50")
    assert acme.policy == (tmp_path / "policies" / "acme.yaml").resolve()  # relative to the file


def test_a_file_of_another_kind_is_refused(tmp_path):
    path = _write(tmp_path, "code,name\n", "creditors.csv")
    with pytest.raises(CreditorFileError, match="a .toml, .yaml or .yml file"):
        read_register(path)


def test_check_creditor_refuses_a_sender_that_never_receives_mail():
    [nord, _] = read_register(REGISTER)
    from dataclasses import replace

    with pytest.raises(CreditorInvalid, match="creditor 'atelier-nord': sender: .*invalid"):
        check_creditor(replace(nord, sender="relances@example.invalid"))


def test_a_creditors_settings_point_at_its_own_ledger_and_identity(tmp_path):
    agency = Settings(home=tmp_path / "agency", sender="agence@agence.example.com",
                      agency_name="Agence Centrale de Recouvrement", smtp_port=2525,
                      creditor_name="Agence Centrale SAS")
    nord, sud = read_register(REGISTER)
    settings = creditor_settings(agency, nord)
    home = tmp_path / "agency" / "creditors" / "atelier-nord"
    assert settings.home == home
    assert settings.database_url == f"sqlite:///{home / 'recouvrement.db'}"
    assert settings.inbox == home / "inbox"
    assert settings.audit_key_file == home / "keys" / "audit.key"
    assert settings.creditor_name == "Atelier du Nord SAS"
    assert settings.creditor_siren == "732 829 320"
    assert settings.sender == "relances-atelier-nord@agence.example.com"
    assert settings.report_recipient_list == ["compta@atelier-nord.example.com"]
    assert (settings.agency_name, settings.smtp_port) == ("Agence Centrale de Recouvrement", 2525)
    other = creditor_settings(agency, sud)
    assert other.database_url != settings.database_url
    assert other.audit_checkpoint_file != settings.audit_checkpoint_file


def test_on_postgresql_a_creditor_is_a_schema_of_the_agency_database(tmp_path):
    agency = Settings(home=tmp_path, database_url="postgresql+psycopg://u:pw@db:5432/agence")
    assert schema_name("sud-bureautique") == "creditor_sud_bureautique"
    assert creditor_database_url(agency, "sud-bureautique") == (
        "postgresql+psycopg://u:pw@db:5432/agence?options=-csearch_path%3Dcreditor_sud_bureautique")


def test_a_creditor_s_own_policy_templates_and_inbox_win_over_the_agency_s(tmp_path):
    from dataclasses import replace

    agency = Settings(home=tmp_path, policy=tmp_path / "agency-policy.yaml",
                      templates=tmp_path / "agency-templates")
    nord, sud = read_register(REGISTER)
    own = creditor_settings(agency, replace(nord, policy=tmp_path / "nord.yaml",
                                            templates=tmp_path / "nord-templates",
                                            inbox=tmp_path / "exports" / "nord"))
    assert (own.policy, own.templates, own.inbox) == (
        tmp_path / "nord.yaml", tmp_path / "nord-templates", tmp_path / "exports" / "nord")
    other = creditor_settings(agency, sud)  # none of its own: the agency's ladder and templates
    assert (other.policy, other.templates) == (agency.policy, agency.templates)
    assert other.mandate_reference == "MDT-2026-021"
    assert other.creditor.mandate_signed_on == date(2026, 10, 15)


def test_a_creditor_that_is_no_trader_says_so_to_its_own_ledger(tmp_path):
    """The court of its dossiers depends on it: never the agency's value for everyone."""
    from dataclasses import replace

    agency = Settings(home=tmp_path, creditor_is_trader=True)
    nord, _ = read_register(REGISTER)
    assert nord.trader is True and creditor_settings(agency, nord).creditor_is_trader is True
    liberal = replace(nord, trader=False)
    assert creditor_settings(agency, liberal).creditor_is_trader is False
