"""The README's examples write no personal data into the repository's working tree."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_examples_write_where_git_does_not_look():
    """Every `--out` of the README goes under data/ (which .gitignore keeps out) or /tmp."""
    outs = [o.rstrip("]`)") for o in re.findall(r"--out[ =](\S+)",
                                                   README.read_text(encoding="utf-8"))]
    assert outs
    # a real path under data/ or /tmp, or a placeholder the reader fills in (DIR, FILE.csv)
    assert all(o.startswith(("data/", "/tmp/")) or re.fullmatch(r"[A-Z]+(\.[a-z]+)?", o)
               for o in outs), outs
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text()
    assert "/data/*" in ignored.splitlines()
