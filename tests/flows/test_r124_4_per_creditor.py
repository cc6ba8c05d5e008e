"""CPCE R124-4 for each creditor of an agency, read back as the debtor reads it: the e-mail
received by a real SMTP server on loopback (text and HTML), the registered letter's PDF and
the litigation dossier through pdftotext, for two creditors whose debtors share an account."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from recouvrement.domain.identity import L111_8_PARAGRAPHS_2_3
from tests.factories import invoice, write_invoices
from tests.flows.test_agency_run import agency, read, run  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.flow]

DAYS = [date(2026, 10, 1), date(2026, 10, 16), date(2026, 10, 26), date(2026, 11, 5), date(2026, 11, 16)]
CREDITORS = {
    "atelier-nord": {"name": "Atelier du Nord SAS", "address": ["4 rue des Tisserands", "59000 Lille"],
                     "iban": "FR76 3000 4000 0312 3456 7890 143", "siren": "732 829 320",
                     "sender": "relances-atelier-nord@agence.example.com",
                     "mandate": "MDT-2026-014", "signed_on": "01/09/2026", "fee": "12,50"},
    "sud-bureautique": {"name": "Sud Bureautique SARL",
                        "address": ["18 boulevard de la Corderie", "13007 Marseille"],
                        "iban": "FR14 2004 1010 0505 0001 3M02 606", "siren": "552 100 554",
                        "sender": "relances-sud-bureautique@agence.example.com",
                        "mandate": "MDT-2026-021", "signed_on": "15/10/2026", "fee": "9,00"},
}
AGENCY = ("Agence Centrale de Recouvrement", "5 quai de Seine", "75019 Paris")


def pdf_text(path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils) is needed to read the letters back"
    done = subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True, check=True)
    return read(done.stdout.decode("utf-8"))


def html_words(message) -> str:
    body = message.get_body(("html",)).get_content()
    return read(html.unescape(re.sub(r"<[^>]+>", " ", body)))


def assert_r124_4(text: str, code: str, *, first: tuple[str, str] | None) -> None:
    mine = CREDITORS[code]
    other = CREDITORS[next(c for c in CREDITORS if c != code)]
    for mention in (*AGENCY, "ecouvrement amiable", mine["name"], *mine["address"],
                    mine["iban"], "Principal restant dû", "Intérêts de retard",
                    "Indemnités forfaitaires pour frais de recouvrement",
                    *L111_8_PARAGRAPHS_2_3):
        assert mention in text, (code, mention)
    for leak in (other["name"], other["iban"], *other["address"]):
        assert leak not in text, (code, leak)
    # The agency's own fee is the creditor's to pay (L111-8 §2): never asked of the debtor.
    assert f"{mine['fee']} %" not in text and "honoraires" not in text.lower()
    if first is not None:
        assert f"Suite à notre lettre du {first[0]}, référence {first[1]}" in text, code


def test_every_form_of_each_creditor_s_letters_carries_r124_4(agency, sink):
    for day in DAYS:
        if day == DAYS[-1]:  # litigation needs amounts of the day: a fresh export of each
            for code, amount in (("atelier-nord", "1200.00"), ("sud-bureautique", "480.00")):
                write_invoices(agency / "creditors" / code / "inbox", day,
                               [invoice("F2026-001", "411DUPONT", DAYS[0], amount)])
        result = run("run", "--as-of", day)
        assert result.exit_code == 0, result.output
    mail = {code: [m for m in sink.messages if m["From"] == c["sender"]]
            for code, c in CREDITORS.items()}
    for code, messages in mail.items():
        levels = [m["X-Recouvrement-Level"] for m in messages]
        assert levels == ["1", "2", "3"], (code, levels)
        first_ref = messages[0]["Message-ID"].strip().strip("<>")
        for position, message in enumerate(messages):
            first = None if position == 0 else ("01/10/2026", first_ref)
            text = read(message.get_body(("plain",)).get_content())
            assert_r124_4(text, code, first=first)
            assert_r124_4(html_words(message), code, first=first)
        # The registered letters (levels 2 and 3), as they go to the print queue.
        letters = sorted((agency / "creditors" / code / "letters").rglob("*.pdf"))
        assert len(letters) == 2, letters
        for letter in letters:
            text = pdf_text(letter)
            assert_r124_4(text, code, first=("01/10/2026", first_ref))
            assert "Lettre recommandée avec accusé de réception" in text
    assert not (agency / "letters").exists()  # nothing in the agency's own home

    for code, mine in CREDITORS.items():
        listed = run("--creditor", code, "litigation", "list", "--format", "json")
        rows = json.loads(listed.output)
        assert len(rows) == 1, (code, run("--creditor", code, "litigation", "not-ready").output)
        dossier = rows[0]
        out = agency / "out" / code
        exported = run("--creditor", code, "litigation", "export", dossier["id"], "--out", out)
        assert exported.exit_code == 0, exported.output
        [pdf] = list(out.rglob("dossier.pdf"))
        text = pdf_text(pdf)
        for mention in (mine["name"], AGENCY[0], "recouvrement amiable",
                        f"Mandat n° {mine['mandate']} du {mine['signed_on']}"):
            assert mention in text, (code, mention)
        other = CREDITORS[next(c for c in CREDITORS if c != code)]
        assert other["name"] not in text and other["mandate"] not in text
