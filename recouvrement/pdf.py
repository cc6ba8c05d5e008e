"""HTML to PDF behind a small interface: WeasyPrint for real, a fake for tests.

Used by the litigation dossier and, later, the registered letters. The
renderer never fetches anything from the network: a remote image or
stylesheet in a template is left out instead of being fetched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol


class PdfRenderer(Protocol):
    def render(self, html: str, *, base_url: str | None = None) -> bytes:
        """The PDF of this HTML page; relative URLs resolve against `base_url` (a folder)."""


class WeasyPrintRenderer:
    """The real renderer (WeasyPrint, on pango and cairo)."""

    def render(self, html: str, *, base_url: str | None = None) -> bytes:
        from weasyprint import HTML  # slow to import: only when a PDF is made

        # Its warnings here are a font-subsetting hint (HarfBuzz-Subset missing)
        # repeated on every PDF: only its errors reach the run's log.
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        from weasyprint.urls import URLFetcher

        local_only = URLFetcher(allowed_protocols=("file", "data"))
        return HTML(string=html, base_url=base_url, url_fetcher=local_only).write_pdf()


@dataclass
class FakePdfRenderer:
    """Keeps the HTML it was given; returns a tiny stand-in document."""

    pages: list[str] = field(default_factory=list)

    def render(self, html: str, *, base_url: str | None = None) -> bytes:
        self.pages.append(html)
        return b"%PDF-1.4\n% fake PDF made by FakePdfRenderer\n%%EOF\n"


def default_renderer() -> PdfRenderer:
    return WeasyPrintRenderer()
