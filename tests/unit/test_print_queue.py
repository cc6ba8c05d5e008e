import csv
from datetime import date

from recouvrement.adapters.mail.letters import PrintQueue


def test_a_letter_written_twice_is_one_file_and_one_manifest_line(tmp_path):
    queue = PrintQueue(tmp_path)
    for _ in range(2):
        path = queue.add(day=date(2026, 10, 1), key="k" * 64, pdf=b"%PDF-1.4", account="411A",
                         name="=HYPERLINK(\"http://x\")", address="1 rue", postcode="75001",
                         city="Paris", country="FR", level=2, registered=True)
    with (tmp_path / "2026-10-01" / "manifest.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert len(rows) == 1 and rows[0]["name"].startswith("'=") and path.exists()
