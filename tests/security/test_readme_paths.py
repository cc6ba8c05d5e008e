"""The README's examples write no personal data into the repository's working tree."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_examples_write_where_git_does_not_look():
    """Every `--out` of the README goes under data/ (which .gitignore keeps out) or /tmp."""
    outs = re.findall(r"--out[ =](\S+)", README.read_text(encoding="utf-8"))
    assert outs
    assert all(o.startswith(("data/", "/tmp/")) or o in ("DIR", "FILE.html") for o in outs), outs
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text()
    assert "/data/*" in ignored.splitlines()
