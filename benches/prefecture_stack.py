"""The prefecture bench's stack: `python -m jukinet.devstack --profile production` as a child
process group, its workers, and the API it serves.

    stack = DevStack.start(home, config_root, workers=2)    # waits for 「…起動しました」
    stack.workers()                                         # worker pids (`prefect worker start`)
    stack.http.get("/flow_run_states/", flow_run_id=...)   # basic auth (+ CSRF token on POST)
    stack.close()                                           # SIGTERM the group, SIGKILL stragglers

Everything listens on 127.0.0.1 on ports picked free; the auth string is generated and handed
to the children only through their environment. `extra_worker()` starts one more worker with
the stack's own worker's environment and command (`python -m jukinet.cli worker`), in a process
group of its own that the devstack does not supervise.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benches.harness import processes_with_env
from jukinet.localpg import STORE_DATABASE, Cluster
from jukinet.mailbox import free_port
from jukinet.profile import basic_token
from jukinet.settings import PROJECT_ROOT

HOST = "127.0.0.1"
STARTED = "起動しました"  # devstack's last line once every child is up
START_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0
WORKER_COMMANDS = (b"jukinet.cli\0worker", b"prefect\0worker\0start", b"worker\0start")
# the bench's own environment must not leak into the stack (another stack's API, database, …)
DROPPED = ("PREFECT_", "JUKINET_")


class StackFailed(RuntimeError):
    """The stack did not start, or stopped on its own; the message holds its log's tail."""


def wait_for(condition: Callable[[], bool], timeout: float, tick: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(tick)
    return True


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


class Http:
    """The Prefect API as the drill runner reaches it: basic auth, a CSRF token on POST."""

    def __init__(self, api_url: str, auth_string: str) -> None:
        headers = {"Authorization": f"Basic {basic_token(auth_string)}"}
        self.client = httpx.Client(base_url=api_url, headers=headers, timeout=60.0)
        self.csrf_client = str(uuid.uuid4())
        self.csrf: dict[str, str] | None = None

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any) -> Any:
        if self.csrf is None:
            token = self.get("/csrf-token", client=self.csrf_client)["token"]
            self.csrf = {"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": self.csrf_client}
        response = self.client.post(path, json=body, headers=self.csrf)
        response.raise_for_status()
        return response.json()

    def healthy(self) -> bool:
        try:
            return self.client.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def online_workers(self) -> list[str]:
        body = {"workers": {}, "limit": 50}
        found = self.post("/work_pools/jukinet/workers/filter", body)
        return [w["name"] for w in found if w.get("status") == "ONLINE"]


def _spawn(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`args` in a new session, appending to `log`, from the project's root."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )


@dataclass
class DevStack:
    home: Path
    process: subprocess.Popen[bytes]
    api_url: str
    auth_string: str = field(repr=False)
    cluster: Cluster
    http: Http
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.home / "devstack.out"

    @property
    def store_url(self) -> str:
        """The local cluster's store, as docs/production.md gives it (the password stays in
        its pgpass)."""
        return self.cluster.url(STORE_DATABASE, "psycopg")

    @classmethod
    def start(cls, home: Path, config_root: Path, workers: int) -> DevStack:
        auth = f"bench:{secrets.token_urlsafe(18)}"
        prefect_port, smtp_port, pg_port = free_port(), free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed product caches its bytecode
        env.update(
            {
                "JUKINET_HOME": str(home),
                "JUKINET_CONFIG_DIR": str(config_root),
                "JUKINET_AUTH_STRING": auth,
                "JUKINET_PREFECT_PORT": str(prefect_port),
                "JUKINET_SMTP_PORT": str(smtp_port),
                "JUKINET_PG_PORT": str(pg_port),
            }
        )
        command = [sys.executable, "-m", "jukinet.devstack", "--profile", "production"]
        process = _spawn([*command, "--workers", str(workers)], home / "devstack.out", env)
        api_url = f"http://{HOST}:{prefect_port}/api"
        stack = cls(
            home, process, api_url, auth, Cluster(home / "postgresql", pg_port), Http(api_url, auth)
        )
        try:
            stack.wait_started()
        except BaseException:
            stack.close()
            raise
        return stack

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_started(self) -> None:
        started = wait_for(lambda: STARTED in self.text() or not self.alive(), START_TIMEOUT)
        if not started or not self.alive():
            raise StackFailed(f"the stack did not start:\n{self.text()[-3000:]}")
        if not wait_for(self.healthy_and_ready, 60.0):
            raise StackFailed(f"work pool not READY:\n{self.text()[-3000:]}")

    def healthy_and_ready(self) -> bool:
        if not self.http.healthy():
            return False
        return bool(self.http.get("/work_pools/jukinet").get("status") == "READY")

    def workers(self) -> list[int]:
        """The stack's worker processes (its children running `prefect worker start`), then
        the ones `extra_worker` started."""
        own = [
            pid
            for pid in children_of(self.process.pid)
            if any(c in command_line(pid) for c in WORKER_COMMANDS)
        ]
        return sorted(own) + [p.pid for p in self.extra if p.poll() is None]

    def extra_worker(self) -> int:
        """One more worker, outside the devstack's supervision, with the environment and the
        command of the stack's first worker."""
        first = self.workers()[0]
        raw = Path(f"/proc/{first}/environ").read_bytes()
        env = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
        log = self.home / "logs" / "worker-bench.log"
        process = _spawn([sys.executable, "-m", "jukinet.cli", "worker"], log, env)
        self.extra.append(process)
        return process.pid

    def close(self) -> None:
        """SIGTERM the devstack's group (it stops its children and the cluster), then the extra
        worker; SIGKILL whatever of this home still runs; stop the cluster if it was left."""
        for process in self.extra:
            _signal_group(process.pid, signal.SIGTERM)
        if self.alive():
            _signal_group(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT)
        _signal_group(self.process.pid, signal.SIGKILL)
        for process in self.extra:
            _signal_group(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        for pid in processes_with_env(f"JUKINET_HOME={self.home}"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.cluster.running():
            self.cluster.stop()

    def postgres_version(self) -> str:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.store_url)
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar())
        finally:
            engine.dispose()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
