"""The Prefect server a command reports to, and the local one kept for a home.

Every flow run needs an orchestrator (Prefect's API). In this order:

1. `PREFECT_API_URL` when it is set (the environment or a Prefect profile):
   a production server; waited for up to the start-up timeout.
2. The local server of this `RECOUVREMENT_HOME`, started by
   `recouvrement server start` (or the demo) and kept between commands: its
   own `PREFECT_HOME` under the home (`$RECOUVREMENT_HOME/prefect`), its pid
   and port in `server.json` there, its log in `server.log`.
3. Only then a temporary server in this process, as Prefect starts one
   itself, but with our start-up timeout and a retry: a busy machine that
   takes longer than Prefect's 20 s must not fail the day's run.

No orchestrator at all: `Unreachable`, which the CLI turns into one line and
exit 1 before anything was read or changed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

STATE = "server.json"
LOG = "server.log"


class Unreachable(RuntimeError):
    """No Prefect server could be reached or started."""


@dataclass(frozen=True)
class LocalServer:
    pid: int
    port: int
    started_at: str

    @property
    def url(self) -> str:
        """The UI."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def prefect_home(home: Path) -> Path:
    return Path(home).resolve() / "prefect"


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def wait_healthy(api_url: str, timeout: float, process: subprocess.Popen | None = None) -> bool:
    """True once the API answers its health check; False after `timeout` s (or if `process` ends)."""
    deadline = time.monotonic() + timeout
    while True:
        if healthy(api_url):
            return True
        if time.monotonic() >= deadline or (process is not None and process.poll() is not None):
            return False
        time.sleep(0.25)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a process that ended but was not reaped yet (a child of ours) is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_state(home: Path) -> LocalServer | None:
    try:
        return LocalServer(**json.loads((prefect_home(home) / STATE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def status(home: Path) -> tuple[LocalServer | None, bool]:
    """The recorded local server, and whether it is up (its process alive, its API answering)."""
    state = read_state(home)
    return state, bool(state and _alive(state.pid) and healthy(state.api_url))


def running(home: Path) -> LocalServer | None:
    state, up = status(home)
    return state if up else None


def _prefect_command() -> list[str]:
    script = Path(sys.executable).with_name("prefect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefect"]


def _free_port() -> int:
    from recouvrement.adapters.mail.sink import free_port

    return free_port()


def start(home: Path, *, timeout: float, retries: int = 1) -> tuple[LocalServer, bool]:
    """The local server of `home`, started in the background unless it is up; (server, started).

    A start that does not answer within `timeout` s is stopped and tried again
    (`retries` times, each waiting as long again as the one before).
    """
    up = running(home)
    if up:
        return up, False
    stop(home)  # a server recorded but not answering: start afresh
    root = prefect_home(home)
    root.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_UI_API_URL")}
    env.update(PREFECT_HOME=str(root), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_LOGGING_LEVEL=env.get("PREFECT_SERVER_LOGGING_LEVEL", "WARNING"))
    for attempt in range(retries + 1):
        port = _free_port()
        # The UI asks its API at this address; `--port` alone leaves it at 4200.
        env["PREFECT_SERVER_UI_API_URL"] = f"http://127.0.0.1:{port}/api"
        with (root / LOG).open("ab") as log:
            log.write(f"--- {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} start on port "
                      f"{port}\n".encode())
            log.flush()
            process = subprocess.Popen(
                [*_prefect_command(), "server", "start", "--host", "127.0.0.1", "--port",
                 str(port)], env=env, cwd=root, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        server = LocalServer(process.pid, port,
                             datetime.now(timezone.utc).isoformat(timespec="seconds"))
        # Recorded before it answers: `stop` can end a server that is still starting.
        (root / STATE).write_text(json.dumps(asdict(server)) + "\n")
        if wait_healthy(server.api_url, timeout * (attempt + 1), process):
            return server, True
        stop(home)
    raise Unreachable(f"the local Prefect server did not start within {timeout:g} s "
                      f"({retries + 1} attempt(s)); its log: {root / LOG}")


def stop(home: Path, timeout: float = 20) -> LocalServer | None:
    """Stop the local server of `home` (its whole process group); the one stopped, if any."""
    state = read_state(home)
    if state is None:
        return None
    if _alive(state.pid):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(state.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + timeout
            while _alive(state.pid) and time.monotonic() < deadline:
                _reap(state.pid)
                time.sleep(0.1)
            if not _alive(state.pid):
                break
    _reap(state.pid)
    (prefect_home(home) / STATE).unlink(missing_ok=True)
    return state


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


# --- which orchestrator this process reports to -------------------------------------------

def connect(home: Path, *, timeout: float, retries: int = 1) -> str:
    """Point this process at an orchestrator (see the module's docstring); its API URL.

    Raises `Unreachable` when there is none; nothing was read or changed then.
    """
    from prefect.context import refresh_global_settings_context
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if url:
        if not wait_healthy(url, timeout):
            raise Unreachable(f"no Prefect server answers at {url} (PREFECT_API_URL) within "
                              f"{timeout:g} s")
        return url
    local = running(home)
    if local is None:
        url = _start_temporary(timeout, retries)
    else:
        url = local.api_url
    os.environ["PREFECT_API_URL"] = url
    refresh_global_settings_context()
    return url


def _start_temporary(timeout: float, retries: int) -> str:
    """Prefect's temporary server for this process, with our timeout and retries."""
    from prefect.server.api.server import SubprocessASGIServer

    problem = ""
    for attempt in range(retries + 1):
        server = SubprocessASGIServer()  # the one Prefect's own clients use
        try:
            server.start(timeout=int(timeout * (attempt + 1)))
            return server.api_url
        except RuntimeError as exc:
            problem = str(exc).split(".")[0]
            server.stop()  # stopped and forgotten: the next attempt starts a new one
    raise Unreachable(f"the temporary Prefect server did not start ({problem}, "
                      f"{retries + 1} attempt(s), from {timeout:g} s); start one that stays: "
                      "recouvrement server start")
