"""A wheel built from the repository carries what it needs: installed on its own, away from
the checkout, it renders a reminder, a letter's PDF and the dossier, migrates a new ledger,
and its CLI answers and runs the demo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

CHECK = r'''
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import recouvrement
from recouvrement.domain.model import Debtor, DebtorKind
from recouvrement.domain.policy import load_policy
from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES, Creditor, InvoiceRow, render_reminder
from recouvrement.adapters.pdf import WeasyPrintRenderer
from recouvrement.queries import dossier_view
target = Path(sys.argv[1]).resolve()
assert Path(recouvrement.__file__).resolve().is_relative_to(target), recouvrement.__file__
assert DEFAULT_TEMPLATES.resolve().is_relative_to(target), DEFAULT_TEMPLATES
policy = load_policy()
debtor = Debtor(account="411DUPONT", name="Dupont SARL", kind=DebtorKind.B2B,
                email="compta@dupont.example.fr", address="1 rue de la Paix", postcode="75002",
                city="Paris")
rows = [InvoiceRow(number="F-1", issue_date=date(2026, 1, 2), due_date=date(2026, 2, 1),
                   amount=Decimal("100.00"), open_amount=Decimal("100.00"), currency="EUR",
                   days_late=10, interest=Decimal("1.00"), fixed_fee=Decimal("40.00"))]
creditor = Creditor(name="Exemple SAS", sender="relances@creancier.example.com")
reminder = render_reminder(level=1, debtor=debtor, invoices=rows, as_of=date(2026, 2, 11),
                           creditor=creditor, template=policy.level(1).template)
assert "F-1" in reminder.text and "Dupont SARL" in reminder.html
notice = policy.level(policy.formal_notice_level)
letter = render_reminder(level=notice.level, debtor=debtor, invoices=rows,
                         as_of=date(2026, 2, 11), creditor=creditor, letter=True,
                         deadline=date(2026, 2, 19), template=notice.template,
                         formal_notice=True, registered=notice.registered)
pdf = WeasyPrintRenderer().render(letter.html)
assert pdf.startswith(b"%PDF") and len(pdf) > 2000
# The dossier, the report and the validation pages load from the installed package.
env = dossier_view._environment((str(DEFAULT_TEMPLATES),))
for name in ("dossier/dossier.html", "report/report.html", "reports/validation_fr.html"):
    env.get_template(name)
for name in ("dossier/dossier.css", "report/report.css", "report/labels.yaml"):
    assert (DEFAULT_TEMPLATES / name).is_file(), name
# The ledger's migrations come with it: a new ledger is made and migrated from the wheel.
from recouvrement.adapters.db import MIGRATIONS, Database
assert MIGRATIONS.resolve().is_relative_to(target), MIGRATIONS
Database(f"sqlite:///{target.parent / 'ledger-from-wheel.db'}").dispose()
print("installed package OK")
'''


def test_a_wheel_installed_alone_renders_and_runs(tmp_path):
    # Build from a copy of the sources, so the checkout gets no build/ folder.
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("recouvrement", "flows", "tasks"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "installed", tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)], check=True,
                   capture_output=True, timeout=300)
    [wheel] = wheels.glob("recouvrement-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "recouvrement/templates/email/fr/level3.html" in names
    assert "recouvrement/adapters/db/migrations/env.py" in names
    assert "recouvrement/adapters/db/migrations/versions/0018_debtor_status_indexes.py" in names
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)

    env = {**os.environ, "PYTHONPATH": str(target), "PREFECT_HOME": str(tmp_path / "prefect"),
           "RECOUVREMENT_HOME": str(tmp_path / "home")}
    checked = subprocess.run([sys.executable, "-c", CHECK, str(target)], cwd=elsewhere, env=env,
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "installed package OK" in checked.stdout

    helped = subprocess.run([sys.executable, "-m", "recouvrement.entrypoints.cli", "demo", "--help"],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert helped.returncode == 0, helped.stderr[-3000:]
    assert "--days" in helped.stdout

    # And the demo runs from it: two simulated days, its own sinks and local Prefect server.
    cli = [sys.executable, "-m", "recouvrement.entrypoints.cli"]
    try:
        demo = subprocess.run([*cli, "demo", "--days", "2", "--debtors", "20"], cwd=elsewhere,
                              env=env, capture_output=True, text=True, timeout=600)
    finally:
        subprocess.run([*cli, "server", "stop"], cwd=elsewhere, env=env, capture_output=True,
                       timeout=120)
    assert demo.returncode == 0, (demo.stdout[-2000:], demo.stderr[-3000:])
    assert "Done: " in demo.stdout and "e-mails" in demo.stdout, demo.stdout[-2000:]
