"""Progress of a long step, shown in the Prefect UI as it goes."""

from __future__ import annotations

from typing import Callable

from prefect import get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact


def progress_reporter(description: str, every: float = 2.0) -> Callable[[int, int], None]:
    """A progress artifact, moved forward in steps of `every` percent."""
    artifact_id = create_progress_artifact(0.0, description=description)
    shown = [0.0]

    def report(done: int, total: int) -> None:
        percent = 100.0 * done / total if total else 100.0
        if percent - shown[0] >= every or (done == total and shown[0] < 100.0):
            shown[0] = percent
            try:  # a bar that lags is better than a step that fails mid-send
                update_progress_artifact(artifact_id, percent)
            except Exception as exc:
                get_run_logger().warning("Progress not shown (%s)", type(exc).__name__)

    return report
