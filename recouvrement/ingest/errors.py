"""The one error a reader raises: a file that cannot be read at all."""

from __future__ import annotations

from pathlib import Path


class InputFileError(Exception):
    """A file of the inbox that cannot be read; the run stops and changes nothing."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
