"""The one error a reader raises: a file that cannot be read at all."""

from __future__ import annotations

from pathlib import Path


class InputFileError(Exception):
    """A file of the inbox that cannot be read; the run stops and changes nothing."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class FilesHeld(Exception):
    """Files of the inbox were held back whole: the run stops before deciding anything.

    `report` is the ingest's report (what was read, the control totals, the files held).
    """

    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report or {}

    def __reduce__(self):
        return (type(self), (str(self), self.report))
