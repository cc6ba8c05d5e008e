"""The log file of commands: where tracebacks go, so that the user reads one line.

`$RECOUVREMENT_HOME/logs/recouvrement.log`, owner-only, appended to. A command
that meets an error it did not expect prints `error: …` and where the details
are; the flow's own errors, which Prefect would print with their tracebacks,
are written there too (the command says the same in one line).
"""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path

LOG_NAME = "recouvrement.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_path(home: Path) -> Path:
    return Path(home) / "logs" / LOG_NAME


def _open(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))


def write_exception(home: Path, command: str, exc: BaseException) -> Path:
    """Append the traceback of `exc` to the log; where it went."""
    path = log_path(home)
    _open(path)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"--- recouvrement {command}: {type(exc).__name__}\n")
        handle.write("".join(traceback.format_exception(exc)))
    return path


class _BelowError(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR


def errors_to_log_file(home: Path) -> Path:
    """Prefect's console shows warnings but no errors (nor their tracebacks): those go to
    the log file. For commands that report failures themselves, in one line."""
    from prefect.logging import configuration
    from prefect.logging.handlers import PrefectConsoleHandler

    if not configuration.PROCESS_LOGGING_CONFIG:
        configuration.setup_logging()
    path = log_path(home)
    _open(path)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter(_FORMAT))
    to_file.setLevel(logging.WARNING)
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)]
    for logger in loggers:
        consoles = [h for h in logger.handlers if isinstance(h, PrefectConsoleHandler)]
        for handler in consoles:
            if not any(isinstance(f, _BelowError) for f in handler.filters):
                handler.addFilter(_BelowError())
        if consoles and not any(getattr(h, "baseFilename", None) == str(path)
                                for h in logger.handlers):
            logger.addHandler(to_file)
    return path
