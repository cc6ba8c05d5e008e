"""HTML to PDF behind a small interface: WeasyPrint for real, a fake for tests.

Used by the litigation dossier and the registered letters. The letter HTML
comes from the outbox, a table that whoever holds the database can rewrite:
the renderer fetches only the templates' own files (and `data:` URLs), never
a host file elsewhere, never the network. What it refuses is left out of the
PDF and named in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit
from urllib.request import url2pathname

from recouvrement.adapters.ports import PdfRenderer  # noqa: F401 (the port, defined with the others)

log = logging.getLogger(__name__)


def _builtin_templates() -> Path:
    from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES

    return DEFAULT_TEMPLATES


def local_fetcher(roots: Iterable[Path]):
    """A WeasyPrint URL fetcher that reads files under `roots` (symlinks resolved) and `data:`."""
    from weasyprint.urls import URLFetcher

    folders = tuple(Path(r).resolve() for r in roots)

    class TemplatesOnly(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = _inside(url, folders)
                if path is not None:
                    return super().fetch(path.as_uri(), headers)
            log.warning("A PDF asked for %s: refused, the renderer reads only the templates' own "
                        "files; it is left out of the document", url[:300])
            raise ValueError(f"refused to fetch {url[:300]!r}: not a file of the templates")

    return TemplatesOnly(allowed_protocols=("file", "data"), allow_redirects=False)


def _inside(url: str, folders: tuple[Path, ...]) -> Path | None:
    """The real path of a `file:` URL when it is a file under one of the folders."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    try:
        path = Path(url2pathname(parts.path)).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if path.is_file() and any(folder in path.parents for folder in folders):
        return path
    return None


class WeasyPrintRenderer:
    """The real renderer (WeasyPrint, on pango and cairo).

    `templates`: the folders it may read files from besides the built-in
    templates (a creditor's own templates, `RECOUVREMENT_TEMPLATES`).
    """

    def __init__(self, templates: Iterable[Path] | None = None):
        self.roots = (*(Path(t) for t in templates or ()), _builtin_templates())
        self._fonts = None
        self._fetcher = None

    def render(self, html: str, *, base_url: str | None = None) -> bytes:
        from weasyprint import HTML  # slow to import: only when a PDF is made
        from weasyprint.text.fonts import FontConfiguration

        # Its warnings here are a font-subsetting hint (HarfBuzz-Subset missing)
        # repeated on every PDF: only its errors reach the run's log.
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        if self._fonts is None:
            # One font configuration for every document: each new one keeps some 300 KB of
            # the system's font libraries for good (2,000 letters: 400 MiB), and costs time.
            self._fonts = FontConfiguration()
            self._fetcher = local_fetcher(self.roots)
        return HTML(string=html, base_url=base_url,
                    url_fetcher=self._fetcher).write_pdf(font_config=self._fonts)


@dataclass
class FakePdfRenderer:
    """Keeps the HTML it was given; returns a tiny stand-in document."""

    pages: list[str] = field(default_factory=list)

    def render(self, html: str, *, base_url: str | None = None) -> bytes:
        self.pages.append(html)
        return b"%PDF-1.4\n% fake PDF made by FakePdfRenderer\n%%EOF\n"


def default_renderer(templates: Iterable[Path] | None = None) -> PdfRenderer:
    return WeasyPrintRenderer(templates)
