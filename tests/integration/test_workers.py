"""Two process workers against one Prefect server on PostgreSQL, the store on PostgreSQL too.

1. While chapter 2 is suspended for an answer, worker A is SIGKILLed: the resumed run goes on
   on worker B, and everything after it too.
2. While the resumed run is working (Running), the machine "dies": worker B and the run's own
   process are SIGKILLed. The run stops sending heartbeats; 中断した実行の再開 marks it Crashed and
   schedules it again (「再実行」); the worker the stack starts in place of the dead one runs it
   to its next question. The restart is in the 経過記録, and every notice went out exactly once.

Each worker has a PREFECT_LOCAL_STORAGE_PATH of its own, as on separate machines: the runs keep
their results in the folder registered as the server's default result storage (jukinet
result-storage), which is what lets any worker resume any run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.settings import PREFECT_API_URL, temporary_settings
from ruamel.yaml import YAML
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from flows.recovery import RESTART_STATE
from flows.runtime import reset_runtime, runtime
from jukinet.devstack import process_table
from tests.conftest import restore_environ
from tests.flows import scenarios as s
from tests.integration.conftest import (
    POOL,
    PRODUCT_ENV,
    WORKER_TIMEOUT,
    Stack,
    stop_group,
    wait_for,
)
from tests.integration.driving import answer, chapter_run, declare, delivery, pause_suffix

RECOVERY_TIMEOUT = 300.0  # three missed 30 s heartbeats, the 1-minute schedule, a new process


class WorkersStack(Stack):
    """The integration stack on PostgreSQL, with named workers (`a`, `b`, …)."""

    def __init__(self, home: Path, prefect_url: str, store_url: str) -> None:
        super().__init__(home)
        self.env.update(
            PREFECT_SERVER_DATABASE_CONNECTION_URL=prefect_url,
            JUKINET_STORE_URL=store_url,
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY="30",
        )
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def machine_storage(self, name: str) -> Path:
        """Worker `name`'s own PREFECT_LOCAL_STORAGE_PATH, as on a machine of its own: the runs
        must not use it, the server names the shared folder instead."""
        return self.home / f"machine-{name}" / "storage"

    def start_worker(self, name: str = "a") -> None:
        since = datetime.now(UTC)
        args = self._prefect(
            "worker", "start", "--pool", POOL, "--type", "process", "--name", f"worker-{name}"
        )
        local = {"PREFECT_LOCAL_STORAGE_PATH": str(self.machine_storage(name))}
        process = self._spawn(args, f"worker-{name}.log", local)
        self.workers[name] = process
        wait_for(
            lambda: self._heartbeat_of(f"worker-{name}", since) or process.poll() is not None,
            WORKER_TIMEOUT,
            f"ワーカー {name}",
        )
        assert process.poll() is None, self.tail(f"worker-{name}.log")

    def _heartbeat_of(self, worker: str, since: datetime) -> bool:
        import httpx

        try:
            response = httpx.post(
                f"{self.api_url}/work_pools/{POOL}/workers/filter", json={}, timeout=5.0
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and any(
            w["name"] == worker
            and w.get("last_heartbeat_time")
            and datetime.fromisoformat(w["last_heartbeat_time"]) >= since
            for w in response.json()
        )

    def kill_worker(self, name: str = "a") -> None:
        """SIGKILL worker `name`'s process group (not the flow runs it started)."""
        process = self.workers.pop(name, None)
        if process is not None:
            stop_group(process, signal.SIGKILL)

    def close(self) -> None:
        for name in list(self.workers):
            self.kill_worker(name)
        super().close()


def flow_run_processes(run_id: Any) -> list[int]:
    """The processes executing flow run `run_id` (Prefect passes its id in the environment)."""
    needle = f"PREFECT__FLOW_RUN_ID={run_id}\0".encode()
    found = []
    for pid, info in process_table().items():
        if info.state in ("Z", "X"):
            continue
        with contextlib.suppress(OSError):
            if needle in Path(f"/proc/{pid}/environ").read_bytes():
                found.append(pid)
    return found


def wait_state(
    client: SyncPrefectClient, run_id: Any, want: StateType, timeout: float, step: str = ""
) -> FlowRun:
    """Wait for the run's state (and pause key), whatever it passes through (Crashed too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.read_flow_run(run_id)
        state = run.state
        key = (state.state_details.pause_key or "") if state else ""
        if state and state.type is want and (not step or key.endswith(pause_suffix(step))):
            return run
        time.sleep(0.5)
    raise AssertionError(f"{run_id} was not {want.value} {step} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def workers_stack(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkersStack]:
    admin = create_engine(
        make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "prefect_workers"'))
        conn.execute(text('CREATE DATABASE "store_workers"'))
    admin.dispose()
    prefect_db = make_url(pg_url).set(database="prefect_workers")
    with create_engine(prefect_db, isolation_level="AUTOCOMMIT", poolclass=NullPool).connect() as c:
        c.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    running = WorkersStack(
        tmp_path_factory.mktemp("workers"),
        prefect_db.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
        make_url(pg_url).set(database="store_workers").render_as_string(hide_password=False),
    )
    saved = {k: os.environ.get(k) for k in PRODUCT_ENV}
    try:
        running.start()  # worker a
        running.start_worker("b")
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


class Tarpit:
    """An SMTP port that accepts connections and never answers: a delivery hangs in it (until the
    town's smtp.timeout_seconds), so the run is reliably Running inside a step."""

    def __init__(self, port: int) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(0.2)
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            with contextlib.suppress(TimeoutError):
                conn, _ = self.server.accept()
                self.held.append(conn)

    def close(self) -> None:
        """Stop listening; reset the held connections (no TIME_WAIT keeps the port from the
        mailbox that takes it back)."""
        self.stopped.set()
        self.thread.join()
        self.server.close()
        for conn in self.held:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()


def set_smtp_timeout(stack: Stack, seconds: int) -> None:
    yaml = YAML()
    path = stack.config_dir / "town.yaml"
    town = yaml.load(path.read_text(encoding="utf-8"))
    town["smtp"]["timeout_seconds"] = seconds
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(town, fh)


def worker_of(stack: WorkersStack, pids: list[int]) -> str:
    """The name of the worker that started these processes (their parent chain reaches it)."""
    table = process_table()
    by_pid = {p.pid: name for name, p in stack.workers.items()}
    for pid in pids:
        while pid in table and pid > 1:
            if pid in by_pid:
                return by_pid[pid]
            pid = table[pid].ppid
    raise AssertionError(f"no worker started {pids}")


def test_a_dead_worker_and_a_dead_run_lose_nothing(workers_stack: WorkersStack) -> None:
    stack = workers_stack
    assert runtime().store.engine.dialect.name == "postgresql"
    with get_client(sync_client=True) as client:
        first, number = declare(client, s.declaration())

        # 1. suspended: worker a dies; b takes the resumed run (and the chapter-2 run it starts)
        stack.kill_worker("a")
        answer(
            client, first.id, "C1.2#1", s.OPERATOR, {"emergency_class": "障害", "reason": "故障"}
        )
        second = chapter_run(client, number, "第2章").id
        wait_state(client, second, StateType.PAUSED, 180, "C2.S1.1#1")
        log_b = stack.tail("worker-b.log", 500_000)
        assert str(first.id) in log_b and str(second) in log_b

        # 2. running: the machine dies inside a step (C2.S1.2's report to セキュリティ責任者 by
        # mail hangs in the tarpit)
        stack.start_worker("c")
        set_smtp_timeout(stack, 90)
        stack.stop_smtp()
        tarpit = Tarpit(stack.mailbox.port)
        try:
            answer(client, second, "C2.S1.1#1", s.OPERATOR, s.IDENTIFICATION)
            wait_state(client, second, StateType.RUNNING, 120)
            wait_for(lambda: bool(flow_run_processes(second)), 60, "再開した実行のプロセス")
            time.sleep(8)  # inside C2.S1.2's delivery; the replay's heartbeat is out
            assert client.read_flow_run(second).state.type is StateType.RUNNING  # type: ignore[union-attr]
            victims = flow_run_processes(second)
            assert victims, "the resumed run's process was not found"
            stack.kill_worker(worker_of(stack, victims))
            for pid in victims:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        finally:
            tarpit.close()
            set_smtp_timeout(stack, 2)
            stack.start_smtp()
        if not stack.workers:
            stack.start_worker("d")
        wait_state(client, second, StateType.PAUSED, RECOVERY_TIMEOUT, "C2.S1.3#1")
        history = client.read_flow_run_states(second)
        crashed = [st for st in history if st.type is StateType.CRASHED]
        assert crashed and "ハートビートが 90 秒途絶えました" in (crashed[-1].message or "")
        assert RESTART_STATE in [st.name for st in history]

        answer(client, second, "C2.S1.3#1", s.OFFICER, {"remarks": "なし"})
        answer(client, second, "C2.S2#1", s.CHIEF, s.JUDGEMENT_SHORT)
        answer(client, second, "C2.S4.r1.1#1", s.OFFICER, s.REPAIRED)
        answer(client, second, "C2.S5.r1.integrity.1#1", s.OFFICER, s.CONSISTENT)
        answer(client, second, "C2.S5.r1#1", s.CHIEF, s.RESUME)
        answer(client, second, "C2.3#1", s.OFFICER, s.PREVENTION)
        wait_state(client, second, StateType.COMPLETED, 180)
        wait_state(client, first.id, StateType.COMPLETED, 60)

    store = runtime().store
    incident = store.incident(number)
    assert incident.state == "終結"
    restarts = store.audit_records(incident.id, kind="中断からの再実行")
    assert len(restarts) == 1 and "1 回目" in restarts[0].summary
    notices = store.notices(incident.id)
    assert "C2.S1.2" in {n.clause for n in notices}
    assert notices and all(n.status == "sent" for n in notices)
    sent = delivery(stack.mailbox, number)
    assert sent.exactly_once, sent
    mails = [m for m in stack.mailbox.messages() if number in m.get_content()]
    assert Counter(str(m["Subject"]) for m in mails) == Counter(n.subject for n in notices)
    assert store.verify_chain().ok

    # the runs kept their results in the registered shared folder, none on a "machine" of its own
    shared = Path(stack.env["PREFECT_LOCAL_STORAGE_PATH"])
    assert sum(1 for p in shared.rglob("*") if p.is_file()) > 0
    for name in "abcd":
        local = stack.machine_storage(name)
        assert not local.exists() or not any(local.rglob("*")), name
