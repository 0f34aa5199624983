"""The real product on free ports in a tmp dir, controllable from tests (the `stack` fixture).

    def test_x(stack: Stack) -> None:
        run_deployment("第1章 緊急時対応/緊急時対応", ..., timeout=0)
        stack.kill_worker(); stack.start_worker()          # a new worker picks up resumed runs
        stack.restart_server()                              # same port, same SQLite database
        stack.stop_smtp(); stack.start_smtp()               # mail refused meanwhile
        stack.heal()                                        # whatever is down starts again

Like `make up` (jukinet/devstack.py): a mailbox, `prefect server start`, the work pool,
`prefect deploy --all` in the project root and a process worker; every child in its own process
group with its log in <home>/logs. While the fixture is active, the test process reads the same
store and talks to the same API (os.environ and Prefect's settings context, both restored after).
Teardown stops exactly what it started: the children's groups, then any process whose
environment names this stack's home (flow runs the worker started in sessions of their own).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.runtime import reset_runtime
from jukinet.devstack import process_table
from jukinet.mailbox import Mailbox, free_port
from jukinet.settings import PROJECT_ROOT
from tests.conftest import copy_config, restore_environ

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
POOL = "jukinet"
HEALTH_TIMEOUT = 120.0
WORKER_TIMEOUT = 60.0
STOP_GRACE = 15.0


# One-line summaries a test leaves for the end of the run (`config.stash[SUMMARIES].append(...)`).
SUMMARIES = pytest.StashKey[list[str]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    for line in config.stash.get(SUMMARIES, []):
        terminalreporter.write_line(line)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} が {timeout:.0f} 秒以内に整いませんでした")
        time.sleep(0.2)


def processes_mentioning(marker: str) -> list[int]:
    """Live processes (not this one) whose environment or command line names the path `marker`."""
    needles = (marker.encode() + b"\0", marker.encode() + b"/")
    found = []
    for pid, info in process_table().items():
        if pid == os.getpid() or info.state in ("Z", "X"):
            continue
        try:
            text = Path(f"/proc/{pid}/environ").read_bytes()
            text += Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if any(n in text for n in needles):
            found.append(pid)
    return found


def stop_group(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> None:
    """Signal the child's process group; SIGKILL it if it is not gone after STOP_GRACE."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_GRACE)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers left in the group


class Stack:
    """Server, worker and mailbox of one test session; see the module docstring."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.mailbox = Mailbox(home / "mailbox")
        self.port = free_port(HOST)
        while self.port == self.mailbox.port:
            self.port = free_port(HOST)
        self.api_url = f"http://{HOST}:{self.port}/api"
        self.logs = home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.config_dir = home / "config"
        self.server: subprocess.Popen[bytes] | None = None
        self.smtp_up = False
        self.worker: subprocess.Popen[bytes] | None = None
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        prefect_home = self.home / "prefect"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "JUKINET_"))}
        env.update(
            PREFECT_HOME=str(prefect_home),
            PREFECT_API_URL=self.api_url,
            PREFECT_UI_API_URL=self.api_url,
            PREFECT_SERVER_API_HOST=HOST,
            PREFECT_SERVER_API_PORT=str(self.port),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_CLIENT_MAX_RETRIES="10",  # as jukinet/devstack.py: SQLite's 503 under load
            PREFECT_WORKER_QUERY_SECONDS="1",
            PREFECT_WORKER_PREFETCH_SECONDS="1",
            PREFECT_LOGGING_LEVEL="INFO",
            PREFECT_RESULTS_PERSIST_BY_DEFAULT="true",
            PREFECT_LOCAL_STORAGE_PATH=str(prefect_home / "storage"),
            JUKINET_HOME=str(self.home),
            JUKINET_CONFIG_DIR=str(self.config_dir),
            JUKINET_SMTP_PORT=str(self.mailbox.port),
            JUKINET_UI_URL=f"http://{HOST}:{self.port}",
            PYTHONUNBUFFERED="1",
        )
        return env

    # --- children ------------------------------------------------------------------------

    def _prefect(self, *args: str) -> list[str]:
        return [str(Path(sys.executable).with_name("prefect")), *args]

    def _spawn(
        self, args: list[str], log_name: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = self.logs / log_name
        with log.open("ab") as out:
            out.write(f"\n$ {' '.join(args)}  # {datetime.now(UTC).isoformat()}\n".encode())
            out.flush()
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**self.env, **(env or {})},
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )

    def _run(self, args: list[str], log_name: str, timeout: float = 180.0) -> None:
        process = self._spawn(args, log_name)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(process, signal.SIGKILL)
            raise
        if code != 0:
            tail = (self.logs / log_name).read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(args[1:])} が失敗しました（{code}）:\n{tail}")

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.api_url}/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def start_server(self) -> None:
        assert self.server is None or self.server.poll() is not None, "server already running"
        args = self._prefect("server", "start", "--host", HOST, "--port", str(self.port))
        self.server = self._spawn(args, "server.log")
        server = self.server
        wait_for(
            lambda: self.healthy() or server.poll() is not None, HEALTH_TIMEOUT, "Prefect サーバー"
        )
        assert server.poll() is None, self.tail("server.log")

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            stop_group(self.server)
        self.server = None

    def restart_server(self) -> None:
        """Stop the server gracefully, start it again on the same port and database."""
        self.stop_server()
        wait_for(lambda: not self.healthy(), STOP_GRACE, "サーバーの停止")
        self.start_server()

    def _worker_heartbeats(self) -> list[datetime]:
        try:
            response = httpx.post(
                f"{self.api_url}/work_pools/{POOL}/workers/filter", json={}, timeout=5.0
            )
        except httpx.HTTPError:
            return []
        if response.status_code != 200:
            return []
        return [
            datetime.fromisoformat(w["last_heartbeat_time"])
            for w in response.json()
            if w.get("last_heartbeat_time")
        ]

    def start_worker(self) -> None:
        """Start a process worker and wait until it has reported to the server."""
        assert self.worker is None or self.worker.poll() is not None, "worker already running"
        since = datetime.now(UTC)
        args = self._prefect("worker", "start", "--pool", POOL, "--type", "process")
        self.worker = self._spawn(args, "worker.log")
        worker = self.worker
        wait_for(
            lambda: any(t >= since for t in self._worker_heartbeats()) or worker.poll() is not None,
            WORKER_TIMEOUT,
            "ワーカー",
        )
        assert worker.poll() is None, self.tail("worker.log")

    def kill_worker(self) -> None:
        """SIGKILL the worker's process group (flow runs in their own sessions are not in it)."""
        if self.worker is not None:
            stop_group(self.worker, signal.SIGKILL)
        self.worker = None

    def stop_smtp(self) -> None:
        """Stop the mailbox: deliveries fail (connection refused) until `start_smtp`."""
        self.mailbox.stop()
        self.smtp_up = False

    def start_smtp(self) -> None:
        """Start the mailbox again on its port, keeping what it received."""
        if not self.smtp_up:
            self.mailbox.start()
            self.smtp_up = True

    def heal(self) -> None:
        """Start whatever of the mailbox, the server and the worker is down (after a fault)."""
        self.start_smtp()
        if self.server is None or self.server.poll() is not None:
            self.start_server()
        if self.worker is None or self.worker.poll() is not None:
            self.start_worker()

    def tail(self, log_name: str, chars: int = 4000) -> str:
        return (self.logs / log_name).read_text(encoding="utf-8", errors="replace")[-chars:]

    # --- the whole stack -------------------------------------------------------------------

    def start(self) -> None:
        self.start_smtp()
        copy_config(self.config_dir, self.mailbox.port, ui_url=f"http://{HOST}:{self.port}")
        self.start_server()
        self._run(self._prefect("work-pool", "create", POOL, "--type", "process"), "deploy.log")
        # as jukinet/devstack.py: the results folder becomes the server's default result storage
        self._run([sys.executable, "-m", "jukinet.cli", "result-storage"], "deploy.log")
        self._run(self._prefect("--no-prompt", "deploy", "--all"), "deploy.log")
        self.start_worker()

    def close(self) -> None:
        self.kill_worker()
        self.stop_server()
        self.stop_smtp()
        for pid in processes_mentioning(str(self.home)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


PRODUCT_ENV = (
    "JUKINET_HOME",
    "JUKINET_CONFIG_DIR",
    "JUKINET_STORE_URL",
    "JUKINET_SMTP_PORT",
    "JUKINET_UI_URL",
    "PREFECT_API_URL",
)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("stack"))
    saved = {k: os.environ.get(k) for k in PRODUCT_ENV}
    try:
        running.start()
        for k in PRODUCT_ENV:
            os.environ.pop(k, None)
        os.environ.update({k: running.env[k] for k in PRODUCT_ENV if k in running.env})
        reset_runtime()
        with temporary_settings(updates={PREFECT_API_URL: running.api_url}):
            yield running
    finally:
        running.close()
        restore_environ(saved)
        reset_runtime()
