"""A dossier ID prefix with SQL wildcards, and an export aimed at a link or a file."""

from __future__ import annotations

import os
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import LitigationDossier
from tests.conftest import BACKENDS
from tests.dossier_builders import escalate_on, export, ladder
from tests.factories import customer, invoice

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DAY, NOTICE = date(2026, 11, 4), date(2026, 10, 26)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def dossier(home, database_url):
    db = open_database(database_url)
    export(db, home, DAY, [customer("411DUPONT")], [invoice("F1", "411DUPONT", date(2026, 10, 1))])
    ladder(db, "411DUPONT", ["F1"], NOTICE)
    [queued] = escalate_on(db, DAY)
    return db, queued["id"]


def status(db, dossier_id):
    with db.session() as session:
        return session.scalar(select(LitigationDossier.status)
                              .where(LitigationDossier.id == dossier_id))


@pytest.mark.parametrize("wildcard", ["_", "%"])
def test_wildcards_in_an_id_prefix_match_nothing(dossier, wildcard):
    db, dossier_id = dossier
    prefix = dossier_id[:3] + wildcard * 5  # 8 characters, as a shortened id may be
    result = run("litigation", "close", prefix, "--outcome", "abandoned")
    assert result.exit_code == 2, result.output
    assert f"no dossier {prefix!r}" in result.output
    assert status(db, dossier_id) == "queued"
    assert run("litigation", "show", dossier_id[:8]).exit_code == 0  # a real prefix still works


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def target(out, dossier_id):
    return out / f"dossier-411DUPONT-{dossier_id[:8]}"


def test_an_export_onto_a_symlink_is_refused_and_writes_nothing(dossier, tmp_path):
    db, dossier_id = dossier
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    target(out, dossier_id).symlink_to(elsewhere, target_is_directory=True)
    result = run("litigation", "export", dossier_id, "--out", out)
    assert result.exit_code == 2, result.output
    assert "symbolic link" in result.output and "Traceback" not in result.output
    assert leftovers(out) == [] and list(elsewhere.iterdir()) == []
    assert status(db, dossier_id) == "queued"  # nothing recorded either


def test_an_export_onto_a_file_is_refused_and_leaves_no_copy(dossier, tmp_path):
    db, dossier_id = dossier
    out = tmp_path / "out"
    out.mkdir()
    target(out, dossier_id).write_text("someone's file")
    result = run("litigation", "export", dossier_id, "--out", out)
    assert result.exit_code == 2, result.output
    assert "is a file" in result.output and "Traceback" not in result.output
    assert leftovers(out) == []
    assert target(out, dossier_id).read_text() == "someone's file"
    zipped = out / f"{target(out, dossier_id).name}.zip"
    zipped.mkdir()
    result = run("litigation", "export", dossier_id, "--out", out, "--zip")
    assert result.exit_code == 2 and "not a zip file" in result.output
    assert leftovers(out) == [] and status(db, dossier_id) == "queued"


def test_out_itself_a_symlink_or_a_file_is_refused(dossier, tmp_path):
    _db, dossier_id = dossier
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    result = run("litigation", "export", dossier_id, "--out", tmp_path / "link")
    assert result.exit_code == 2 and "symbolic link" in result.output
    assert list(real.iterdir()) == []
    (tmp_path / "plain").write_text("x")
    result = run("litigation", "export", dossier_id, "--out", tmp_path / "plain")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_an_export_replaces_the_older_one_owner_only_and_leaves_nothing_hidden(dossier, tmp_path):
    _db, dossier_id = dossier
    out = tmp_path / "out"
    for _ in range(2):
        result = run("litigation", "export", dossier_id, "--out", out)
        assert result.exit_code == 0, result.output
    folder = target(out, dossier_id)
    assert leftovers(out) == []
    assert os.stat(folder).st_mode & 0o077 == 0
    assert all(os.stat(p).st_mode & 0o077 == 0 for p in folder.rglob("*"))
