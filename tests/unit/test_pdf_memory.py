"""The renderer keeps one font configuration for every PDF it makes: a run that prints two
thousand letters does not keep the system's font libraries' memory of each one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from recouvrement.adapters.memory import _trim

# Letters after the first few, each in the process that prints them, as the send step does.
PROGRAM = """
from recouvrement.adapters.memory import give_back
from recouvrement.adapters.pdf import WeasyPrintRenderer

def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) // 1024 for l in status if l.startswith("VmRSS"))

html = ("<html><body><h1>Mise en demeure</h1><p style='font-family: serif'>Madame, "
        "Monsieur,</p><p style='font-family: monospace'>FR76 3000 6000 0112 3456 7890 189</p>"
        "<table><tr><td>F2026-000{n}</td><td><b>1 234,56 €</b></td></tr></table></body></html>")
renderer = WeasyPrintRenderer()
for n in range(10):
    assert renderer.render(html.format(n=n)).startswith(b"%PDF")
give_back()
before = rss()
for n in range(60):
    renderer.render(html.format(n=n))
give_back()
print(rss() - before)
"""


@pytest.mark.skipif(_trim() is None or not sys.platform.startswith("linux"),
                    reason="the pages are counted after glibc's malloc_trim")
def test_sixty_letters_more_keep_no_memory_of_each_letter():
    grown = int(subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                               check=True).stdout.split()[-1])
    # A font configuration per document kept some 300 KB of each: 18 MiB for sixty.
    assert grown < 8, f"{grown} MiB kept by sixty letters"


def test_the_renderer_gives_every_document_the_same_font_configuration(monkeypatch):
    import weasyprint

    from recouvrement.adapters.pdf import WeasyPrintRenderer

    given = []
    monkeypatch.setattr(weasyprint.HTML, "write_pdf",
                        lambda self, **kw: given.append(kw.get("font_config")) or b"%PDF")
    renderer = WeasyPrintRenderer()
    renderer.render("<p>un</p>")
    renderer.render("<p>deux</p>")
    assert given[0] is not None and given[0] is given[1]
