"""The stack's supervisor starts a dead worker again, a bounded number of times; any other child
that dies stops the stack. Real child processes (`sleep`), killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jukinet import devstack
from jukinet.devstack import Failed, Supervisor

SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    sup = Supervisor(dict(os.environ), tmp_path, tmp_path)
    try:
        yield sup
    finally:
        for child in sup.children:
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait()


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def test_a_killed_worker_is_started_again_with_its_command_and_log(
    supervisor: Supervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    worker = supervisor.spawn(
        "ワーカー2", SLEEP, "worker-2.log", restart=True, extra_env={"X": "1"}
    )
    first = worker.process.pid
    kill(first)
    worker.process.wait()

    supervisor.check()

    assert worker.process.pid != first
    assert worker.process.poll() is None
    assert worker.log.read_text().count(f"$ {' '.join(SLEEP)}") == 2
    environ = Path(f"/proc/{worker.process.pid}/environ").read_bytes()
    assert b"X=1\0" in environ
    out = capsys.readouterr().out
    assert "ワーカー2が終了しました（終了コード -9）。起動し直します（1 回目" in out


def test_a_worker_dying_again_and_again_stops_the_stack(
    supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devstack, "RESTART_LIMIT", 2)
    worker = supervisor.spawn("ワーカー", SLEEP, "worker.log", restart=True)
    for _ in range(2):
        kill(worker.process.pid)
        worker.process.wait()
        supervisor.check()
    kill(worker.process.pid)
    worker.process.wait()

    with pytest.raises(Failed, match="ワーカーが予期せず終了しました（終了コード -9）"):
        supervisor.check()


def test_any_other_child_that_dies_stops_the_stack(supervisor: Supervisor) -> None:
    server = supervisor.spawn("Prefect サーバー", SLEEP, "server.log")
    kill(server.process.pid)
    server.process.wait()

    with pytest.raises(Failed, match="Prefect サーバーが予期せず終了しました"):
        supervisor.check()
    assert server.process.poll() == -signal.SIGKILL
