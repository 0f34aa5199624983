"""`python -m jukinet.devstack` brings the stack up and takes down exactly what it started.

Each test runs its own stack on free ports with JUKINET_HOME in a tmp dir, so a developer's
running `make up` is never touched; processes are found by that tmp path in /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from ruamel.yaml import YAML

from jukinet.devstack import process_table
from jukinet.mailbox import Mailbox, free_port
from jukinet.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

READY_LINE = "Ctrl-C で停止します"

SLEEPY_FLOW = """
import time

from prefect import flow


@flow
def sleepy() -> None:
    time.sleep(600)
"""

DEPLOY_AND_RUN = """
import sys

from prefect import flow
from prefect.deployments import run_deployment

flow.from_source(source=sys.argv[1], entrypoint="sleepy.py:sleepy").deploy(
    name="sleepy", work_pool_name="jukinet", print_next_steps=False, ignore_warnings=True
)
run_deployment("sleepy/sleepy", timeout=0)
"""


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    home: Path
    output: Path
    prefect_port: int
    smtp_port: int

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}/api"

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def store_env(self) -> dict[str, str]:
        """What a process needs to open this stack's store as the product does."""
        return {"JUKINET_HOME": str(self.home)}

    def wait_ready(self, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while READY_LINE not in self.text():
            assert self.process.poll() is None, f"devstack が終了しました:\n{self.text()}"
            assert time.monotonic() < deadline, f"devstack が起動しません:\n{self.text()}"
            time.sleep(0.5)


def processes_mentioning(marker: str) -> dict[int, int]:
    """pid → start time of live processes whose environment or command line contains `marker`."""
    table = process_table()
    needle = marker.encode()
    found: dict[int, int] = {}
    for pid, info in table.items():
        if info.state in ("Z", "X") or pid == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if needle in environ or needle in cmdline:
            found[pid] = info.start
    return found


def still_alive(pids: dict[int, int]) -> dict[int, int]:
    table = process_table()
    return {
        pid: start
        for pid, start in pids.items()
        if (info := table.get(pid)) is not None
        and info.start == start
        and info.state not in ("Z", "X")
    }


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def two_free_ports() -> tuple[int, int]:
    first = free_port()
    second = free_port()
    while second == first:
        second = free_port()
    return first, second


def start_stack(tmp_path: Path, **extra_env: str) -> Stack:
    home = tmp_path / "home"
    prefect_port, smtp_port = two_free_ports()
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("PREFECT_", "JUKINET_")):
            del env[name]
    env.update(
        JUKINET_HOME=str(home),
        JUKINET_PREFECT_PORT=str(prefect_port),
        JUKINET_SMTP_PORT=str(smtp_port),
    )
    env.update(extra_env)
    output = tmp_path / "devstack.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jukinet.devstack"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=PROJECT_ROOT,
        )
    ports = (int(env["JUKINET_PREFECT_PORT"]), int(env["JUKINET_SMTP_PORT"]))
    return Stack(process, home, output, *ports)


def stop_stack(stack: Stack) -> None:
    """Kill `make up` and whatever it left running (found by its home in /proc)."""
    if stack.process.poll() is None:
        stack.process.kill()
        stack.process.wait()
    for pid in processes_mentioning(str(stack.home)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    started = start_stack(tmp_path)
    try:
        yield started
    finally:
        stop_stack(started)


def start_flow_run(stack: Stack, tmp_path: Path) -> None:
    """Deploy a flow that sleeps and start a run: the worker puts it in a session of its own."""
    source = tmp_path / "flows"
    source.mkdir()
    (source / "sleepy.py").write_text(SLEEPY_FLOW, encoding="utf-8")
    env = dict(os.environ)
    env.update(PREFECT_API_URL=stack.api_url, PREFECT_HOME=str(stack.home / "prefect"))
    subprocess.run(
        [sys.executable, "-c", DEPLOY_AND_RUN, str(source)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_ctrl_c_stops_everything_it_started(stack: Stack, tmp_path: Path) -> None:
    stack.wait_ready()

    assert port_accepts(stack.smtp_port)
    with httpx.Client(base_url=stack.api_url, timeout=10, trust_env=False) as api:
        assert api.get("/health").status_code == 200
        pool = api.get("/work_pools/jukinet")
        assert pool.status_code == 200
        assert pool.json()["type"] == "process"
        assert pool.json()["status"] == "READY"
        if (PROJECT_ROOT / "prefect.yaml").exists():
            deployments = api.post("/deployments/filter", json={})
            assert deployments.status_code == 200
            registered = {d["name"] for d in deployments.json()}
            declared = {
                d["name"]
                for d in YAML(typ="safe").load(PROJECT_ROOT / "prefect.yaml")["deployments"]
            }
            assert declared == {
                "緊急時対応",
                "機器障害",
                "不正行為",
                "通報受付",
                "不在の登録",
                "事後承認",
                "整合性確認",
                "アクセスログ解析",
                "未送付通知の再送",
                "回答待ちの督促",
                "中断した実行の再開",
            }
            assert declared <= registered, "prefect deploy --all が一部のデプロイを登録していません"
            intervals = {
                d["name"]: [s["schedule"].get("interval") for s in d["schedules"] if s["active"]]
                for d in deployments.json()
            }
            assert intervals["未送付通知の再送"] == [300]
            assert intervals["中断した実行の再開"] == [60]
            assert intervals["回答待ちの督促"] == [120]

        # every flow run takes its result storage from the server: the home's shared folder
        storage = api.get("/admin/storage").json()["default_result_storage_block_id"]
        block = api.get(f"/block_documents/{storage}").json()
        assert block["name"] == "jukinet-results"
        assert block["data"]["basepath"] == str(stack.home / "prefect" / "storage")

    msg = EmailMessage()
    msg["From"] = "juki@town.taga.example"
    msg["To"] = "ops@example.org"
    msg["Subject"] = "動作確認"
    msg.set_content("メールボックスの動作確認です。\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)
    assert Mailbox(stack.home / "mailbox").messages()[0]["Subject"] == "動作確認"

    start_flow_run(stack, tmp_path)
    deadline = time.monotonic() + 90
    while not any(
        "prefect.engine" in command_line(pid) for pid in processes_mentioning(str(stack.home))
    ):
        assert time.monotonic() < deadline, "ワーカーがフロー実行を始めません"
        time.sleep(0.5)

    children = processes_mentioning(str(stack.home))
    commands = [command_line(pid) for pid in children]
    assert stack.process.pid in children
    for part in ("jukinet.mailbox", "server start", "worker start", "prefect.engine"):
        assert any(part in c for c in commands), f"{part} が起動していません: {commands}"
    for name in ("mailbox.log", "server.log", "worker.log", "deploy.log"):
        assert (stack.home / "logs" / name).exists()
    drill_logs = sorted(p.name for p in (stack.home / "access-logs").iterdir())
    assert drill_logs == ["cs_ops.csv", "fw_log.csv", "terminal_ops.jsonl"]  # for drills of 手順5

    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(timeout=60) == 0, stack.text()
    assert "停止しました" in stack.text()

    survivors = {**still_alive(children), **processes_mentioning(str(stack.home))}
    assert not survivors, [command_line(pid) for pid in survivors]
    assert not port_accepts(stack.prefect_port)
    assert not port_accepts(stack.smtp_port)


def test_a_child_that_dies_stops_the_rest(stack: Stack) -> None:
    stack.wait_ready()
    children = processes_mentioning(str(stack.home))
    (mailbox,) = [pid for pid in children if "jukinet.mailbox" in command_line(pid)]

    os.kill(mailbox, signal.SIGKILL)

    assert stack.process.wait(timeout=60) == 1, stack.text()
    assert "メールボックスが予期せず終了しました" in stack.text()
    assert str(stack.home / "logs" / "mailbox.log") in stack.text()
    survivors = {**still_alive(children), **processes_mentioning(str(stack.home))}
    assert not survivors, [command_line(pid) for pid in survivors]


def test_invalid_configuration_starts_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    for path in (PROJECT_ROOT / "deployments" / "config").glob("*.yaml"):
        (config / path.name).write_bytes(path.read_bytes())
    (config / "town.yaml").write_text("municipality: {}\n", encoding="utf-8")

    stack = start_stack(tmp_path, JUKINET_CONFIG_DIR=str(config))

    assert stack.process.wait(timeout=60) == 2
    assert "town.yaml" in stack.text()
    assert "設定に誤りがあります" in stack.text()
    assert not (stack.home / "logs").exists()


def test_busy_port_is_reported_before_starting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        stack = start_stack(tmp_path, JUKINET_PREFECT_PORT=str(busy))
        assert stack.process.wait(timeout=60) == 1
    assert f"ポート {busy} は既に使われています" in stack.text()
    assert not (stack.home / "logs").exists()
