"""A real Prefect server and process workers, run as a user runs them, on loopback.

The server is `prefect server start` in its own process group, with its own
PREFECT_HOME and its own PostgreSQL database; the CLI and the workers are
`prefect …` subprocesses pointed at it by PREFECT_API_URL. Every process
writes to a log file, so that a failed test can show what it said.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from uuid import UUID

import httpx

REPO = Path(__file__).resolve().parents[2]
POOL = "recouvrement"  # the work pool named in prefect.yaml


def prefect_command() -> list[str]:
    """The `prefect` of the interpreter running the tests (the venv's)."""
    script = Path(sys.executable).with_name("prefect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefect"]


def _stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the process group (the process and the flow runs it started), then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)
    except ProcessLookupError:
        pass


def tail(path: Path, lines: int = 80) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Worker:
    """`prefect worker start --pool recouvrement`, with the creditor's environment it was given."""

    name: str
    log: Path
    process: subprocess.Popen

    def stop(self) -> None:
        _stop(self.process)


@dataclass
class PrefectServer:
    url: str  # the API: http://127.0.0.1:PORT/api
    home: Path  # PREFECT_HOME of the server
    client_home: Path  # PREFECT_HOME of the CLI and the workers
    log: Path
    process: subprocess.Popen | None = None
    workers: list[Worker] = field(default_factory=list)  # running
    started_workers: int = 0

    # --- processes ---------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        """The caller's environment, its Prefect settings replaced by this server's.

        RECOUVREMENT_* variables are kept: a worker started inside a test gets
        the creditor's home, database and SMTP relay that the test set up.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(PREFECT_API_URL=self.url, PREFECT_HOME=str(self.client_home),
                   PREFECT_SERVER_ANALYTICS_ENABLED="false", GX_ANALYTICS_ENABLED="false",
                   COLUMNS="200")  # Rich wraps the CLI's output at 80 columns otherwise
        env.update(extra)
        return env

    def start(self, port: int, database_url: str, timeout: float = 120) -> None:
        env = self.env(PREFECT_HOME=str(self.home),
                       PREFECT_SERVER_DATABASE_CONNECTION_URL=database_url,
                       PREFECT_SERVER_LOGGING_LEVEL="WARNING")
        command = [*prefect_command(), "server", "start", "--host", "127.0.0.1",
                   "--port", str(port), "--no-ui"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, env=env, cwd=self.home, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prefect server exited {self.process.returncode}:\n"
                                   f"{tail(self.log)}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"prefect server not healthy after {timeout} s:\n{tail(self.log)}")

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.process is not None:
            _stop(self.process)

    def cli(self, *args: str, check: bool = True, cwd: Path = REPO,
            timeout: float = 180) -> subprocess.CompletedProcess:
        """`prefect --no-prompt ARGS…` against this server, from the repository root."""
        # prefect.yaml's `{{ $PWD }}` is read from the environment, as a shell sets it:
        # a subprocess's cwd alone does not change it.
        env = self.env(PWD=str(cwd))
        result = subprocess.run([*prefect_command(), "--no-prompt", *args], cwd=cwd, env=env,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"prefect {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def start_worker(self, log_dir: Path, name: str | None = None, *, limit: int | None = None,
                     queues: tuple[str, ...] = (), env: dict[str, str] | None = None,
                     timeout: float = 60) -> Worker:
        """A process worker on the pool, online when this returns; stopped by `stop()`."""
        # Unique in the session: a stopped worker stays ONLINE for the server a while.
        self.started_workers += 1
        name = name or f"worker-{self.started_workers}"
        command = [*prefect_command(), "worker", "start", "--pool", POOL, "--name", name]
        if limit is not None:
            command += ["--limit", str(limit)]
        for queue in queues:
            command += ["--work-queue", queue]
        log = log_dir / f"{name}.log"
        # Poll every second instead of every 10 (PREFECT_WORKER_QUERY_SECONDS): runs start sooner.
        worker_env = self.env(PREFECT_WORKER_QUERY_SECONDS="1", **(env or {}))
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=worker_env, cwd=log_dir, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        worker = Worker(name, log, process)
        self.workers.append(worker)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"worker {name} exited {process.returncode}:\n{tail(log)}")
            if name in self.online_workers():
                return worker
            time.sleep(0.25)
        raise RuntimeError(f"worker {name} not online after {timeout} s:\n{tail(log)}")

    def stop_workers(self) -> None:
        while self.workers:
            self.workers.pop().stop()

    # --- the API -----------------------------------------------------------------------

    @contextmanager
    def client(self) -> Iterator:
        """A synchronous Prefect client of this server (`get_client(sync_client=True)`)."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.url}):
            with get_client(sync_client=True) as client:
                yield client

    def online_workers(self) -> set[str]:
        from prefect.client.schemas.filters import WorkerFilter

        with self.client() as client:
            return {w.name for w in client.read_workers_for_work_pool(
                POOL, worker_filter=WorkerFilter(status={"any_": ["ONLINE"]}))}

    def run_deployment(self, name: str, *params: str) -> UUID:
        """`prefect deployment run NAME --param KEY=VALUE…` (values read as JSON, as by users)."""
        args = ["deployment", "run", name]
        for param in params:
            args += ["--param", param]
        output = self.cli(*args).stdout
        match = re.search(r"UUID: ([0-9a-f-]{36})", output)
        assert match, f"no flow run id in the output of prefect deployment run:\n{output}"
        return UUID(match.group(1))

    def wait(self, flow_run_id: UUID, timeout: float = 180):
        """The flow run once it reached a final state; the workers' logs if it never does."""
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while True:
                flow_run = client.read_flow_run(flow_run_id)
                if flow_run.state is not None and flow_run.state.is_final():
                    return flow_run
                if time.monotonic() > deadline:
                    logs = "\n".join(f"--- {w.name} ---\n{tail(w.log)}" for w in self.workers)
                    raise AssertionError(f"flow run {flow_run.name} still {flow_run.state_name} "
                                         f"after {timeout} s\n{logs}")
                time.sleep(0.25)

    def summary_artifact(self, flow_run_id: UUID) -> str:
        """The markdown of the run's `daily-summary` artifact."""
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

        with self.client() as client:
            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        summaries = [a.data for a in artifacts if a.key == "daily-summary"]
        assert len(summaries) == 1, f"daily-summary artifacts of {flow_run_id}: {artifacts}"
        return summaries[0]

    def scheduled_runs(self, deployment: str, *, wait: float = 0) -> list:
        """The runs the server's scheduler made for a deployment, waiting up to `wait` s for one."""
        from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

        deadline = time.monotonic() + wait
        with self.client() as client:
            deployment_id = client.read_deployment_by_name(deployment).id
            while True:
                runs = [r for r in client.read_flow_runs(deployment_filter=DeploymentFilter(
                    id=DeploymentFilterId(any_=[deployment_id]))) if r.auto_scheduled]
                if runs or time.monotonic() > deadline:
                    return sorted(runs, key=lambda r: r.expected_start_time)
                time.sleep(0.5)

    def cancel_unfinished_runs(self) -> None:
        """Cancel what a failed test left scheduled or running, so the next test's worker
        does not pick it up with that test's creditor."""
        from prefect.client.schemas.filters import (
            FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType)
        from prefect.client.schemas.objects import StateType
        from prefect.states import Cancelled

        unfinished = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING,
                      StateType.PAUSED, StateType.CANCELLING]
        with self.client() as client:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=unfinished))))
            for flow_run in runs:
                client.set_flow_run_state(flow_run.id, Cancelled(message="left by a test"),
                                          force=True)
