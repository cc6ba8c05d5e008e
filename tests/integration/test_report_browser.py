"""The report as its reader sees it: opened in a real headless Chromium, and read back as PDF."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from recouvrement.queries.dashboard import compute_report, write_report
from recouvrement.queries.dashboard.charts import BUCKET_COLOURS, DSO_COLOUR
from recouvrement.domain.policy import load_policy
from tests.report_builders import AS_OF, ledger  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("the browser tests need the system's chromium (apt-get install "
                           "chromium), or RECOUVREMENT_TEST_BROWSER=off to leave them out")
    return found


def screenshot(page: Path, out: Path) -> Image.Image:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--screenshot={out}",
                        "--window-size=1100,4200", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
    return Image.open(out).convert("RGB")


def pixels_of(image: Image.Image, colour: str, tolerance: int = 12) -> int:
    target = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return sum(count for count, rgb in image.getcolors(maxcolors=1 << 24)
               if all(abs(a - b) <= tolerance for a, b in zip(rgb, target)))


def test_the_charts_render_in_a_browser_and_the_pdf_reads_back(ledger, tmp_path):
    with ledger.session() as session:
        report = compute_report(session, load_policy(), as_of=AS_OF, start=date(2026, 3, 1))
    page = write_report(report, tmp_path / "report.html")
    image = screenshot(page, tmp_path / "report.png")
    # Each chart paints its marks in its own colours: the not-due and 31-60 parts of
    # the aged balance, the DSO line and the recovery bars, the litigation funnel.
    # Every colour has a swatch of about 100 pixels in the legend; a bar is far more.
    swatch = pixels_of(image, BUCKET_COLOURS[4])       # nothing over 90 days: the swatch only
    assert 0 < swatch < 400
    assert pixels_of(image, BUCKET_COLOURS[0]) > 10 * swatch   # 10,000 not yet due
    assert pixels_of(image, BUCKET_COLOURS[2]) > 3 * swatch    # 3,000 at 31-60 days
    assert pixels_of(image, DSO_COLOUR) > 10 * swatch          # the DSO line, the recovery bars
    pdf = write_report(report, tmp_path / "report.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    for heading in ("Balance âgée", "DSO", "CEI", "Ce que chaque étape recouvre", "Contentieux",
                    "Prescriptions dans les 90 jours"):
        assert heading in text
    assert "26 000,00" in text.replace("\u202f", " ").replace("\u00a0", " ")
