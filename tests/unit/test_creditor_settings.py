"""The creditor's settings: no default identity, env over toml over the home's toml, the demo's own."""

from __future__ import annotations

import os

import click
import pytest

from recouvrement.config.settings import load_settings

IDENTITY = ("NAME", "LEGAL_FORM", "SIREN", "ADDRESS", "PHONE", "IBAN", "BIC")


@pytest.fixture
def clean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("RECOUVREMENT_") and not name.startswith("RECOUVREMENT_TEST"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RECOUVREMENT_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path


def test_no_identity_by_default_and_a_real_run_would_refuse(clean):
    settings = load_settings()
    for name in IDENTITY:
        assert getattr(settings, f"creditor_{name.lower()}") is None
    assert settings.sender == "relances@example.invalid"
    check = settings.identity_check()
    assert check.missing_settings == (
        "RECOUVREMENT_CREDITOR_NAME", "RECOUVREMENT_CREDITOR_LEGAL_FORM",
        "RECOUVREMENT_CREDITOR_SIREN", "RECOUVREMENT_CREDITOR_ADDRESS",
        "RECOUVREMENT_CREDITOR_IBAN", "RECOUVREMENT_SENDER")


def test_env_wins_over_the_working_directory_s_toml_which_wins_over_the_home_s(clean, monkeypatch):
    (clean / "home" / "recouvrement.toml").write_text(
        'creditor_name = "Home SAS"\ncreditor_siren = "123456782"\ncreditor_bic = "HOMEFRPP"\n',
        encoding="utf-8")
    (clean / "recouvrement.toml").write_text(
        'creditor_name = "Here SAS"\ncreditor_siren = "732829320"\n'
        'creditor_address = "1 rue Ici\\n75001 Paris"\n', encoding="utf-8")
    monkeypatch.setenv("RECOUVREMENT_CREDITOR_NAME", "Env SAS")
    settings = load_settings()
    assert settings.creditor_name == "Env SAS"  # env
    assert settings.creditor_siren == "732829320"  # working directory's file
    assert settings.creditor_bic == "HOMEFRPP"  # the home's file
    assert settings.creditor.address == "1 rue Ici\n75001 Paris"
    assert settings.creditor.legal_form is None


def test_a_misspelt_key_in_the_home_s_toml_is_refused(clean):
    from recouvrement.config.settings import SettingsError

    (clean / "home" / "recouvrement.toml").write_text('creditor_sirne = "123456782"\n')
    with pytest.raises(SettingsError, match="creditor_siren"):
        load_settings()


def test_the_demo_writes_its_creditor_into_its_home_and_later_commands_read_it(clean):
    from recouvrement.entrypoints.demo import _reset_home

    _reset_home(clean / "home")
    settings = load_settings()
    assert settings.creditor_name == "Créancier Démo SAS"
    assert settings.identity_check().complete and not settings.identity_check().warnings
    assert settings.creditor.address.splitlines() == ["10 avenue de la Démonstration",
                                                       "75011 Paris"]
    _reset_home(clean / "home")  # a second demo on its own home: fine


def test_the_demo_never_overwrites_settings_it_did_not_write(clean):
    from recouvrement.entrypoints.demo import _reset_home

    mine = clean / "home" / "recouvrement.toml"
    mine.write_text('creditor_name = "Vraie SAS"\n', encoding="utf-8")
    with pytest.raises(click.ClickException, match="did not write"):
        _reset_home(clean / "home")
    assert mine.read_text(encoding="utf-8") == 'creditor_name = "Vraie SAS"\n'
