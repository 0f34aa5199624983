"""What both benchmarks share: one real stack, the bare deployments, and timing helpers.

The stack is the integration tests' `Stack` (tests/integration/conftest.py): mailbox in this
process, `prefect server start`, the `jukinet` process work pool, `prefect deploy --all` of the
project and one process worker (PREFECT_WORKER_QUERY_SECONDS=1), all in a fresh tmp dir. The
bare flows (benches/bare_flows.py) go to the same pool, so the same worker runs everything.

All times are wall-clock seconds on this machine: the server, the worker, the flow-run
processes and this process share one clock, so server timestamps (a run's `created`, a task
run's `start_time`) and local ones (`resume_flow_run` returned, a mail file's name) compare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import prefect
from prefect import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType, TaskRun
from prefect.settings import PREFECT_API_URL, temporary_settings

from benches.bare_flows import BARE_MAIL, BARE_SUSPEND
from jukinet.settings import PROJECT_ROOT
from tests.integration.conftest import PRODUCT_ENV, Stack

RESULTS = Path(__file__).resolve().parent / "results"
TIMEOUT = 120.0
POLL = 0.05

T = TypeVar("T")

TERMINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


# --- the stack -------------------------------------------------------------------------------


@contextmanager
def running_stack(keep: bool = False) -> Iterator[Stack]:
    """A started Stack, with this process pointed at it (as the `stack` fixture does)."""
    home = Path(tempfile.mkdtemp(prefix="jukinet-bench-"))
    stack = Stack(home)
    # Flow-run processes import the project's modules on every start (and on every resume);
    # an installed product caches their bytecode, so let them do so here too (a sandbox may set
    # PYTHONDONTWRITEBYTECODE). The warm-up round pays for the first compilation.
    stack.env.pop("PYTHONDONTWRITEBYTECODE", None)
    saved = {k: os.environ.get(k) for k in PRODUCT_ENV}
    try:
        t0 = time.monotonic()
        stack.start()
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"stack ready in {time.monotonic() - t0:.1f} s ({home}); load {load}", flush=True)
        for k in PRODUCT_ENV:
            os.environ.pop(k, None)
        os.environ.update({k: stack.env[k] for k in PRODUCT_ENV if k in stack.env})
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
            yield stack
    finally:
        stack.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if keep:
            print(f"kept {home}", flush=True)
        else:
            shutil.rmtree(home, ignore_errors=True)


def start_deployment(name: str, parameters: dict[str, Any]) -> FlowRun:
    """Create a flow run of deployment `name` and return at once (the worker picks it up)."""
    from prefect.deployments import run_deployment

    run = run_deployment(name, parameters=parameters, timeout=0)
    assert isinstance(run, FlowRun)
    return run


def deploy_bare(flow_name: str, entrypoint: str) -> str:
    """Deploy one flow of benches/bare_flows.py to the product's pool; returns 'flow/deployment'."""
    from prefect import flow

    source = flow.from_source(source=str(PROJECT_ROOT), entrypoint=entrypoint)
    source.deploy(  # type: ignore[union-attr]
        name=flow_name, work_pool_name="jukinet", print_next_steps=False, ignore_warnings=True
    )
    return f"{flow_name}/{flow_name}"


def deploy_bare_mail() -> str:
    return deploy_bare(BARE_MAIL, "benches/bare_flows.py:bare_mail")


def deploy_bare_suspend() -> str:
    return deploy_bare(BARE_SUSPEND, "benches/bare_flows.py:bare_suspend")


# --- waiting ---------------------------------------------------------------------------------


def poll(probe: Callable[[], T | None], what: str, timeout: float = TIMEOUT) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: nothing after {timeout:.0f} s")
        time.sleep(POLL)


def ts(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def read_run(run_id: UUID) -> FlowRun:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def check_alive(run: FlowRun, stack: Stack) -> None:
    if run.state is not None and run.state.type in (StateType.FAILED, StateType.CRASHED):
        raise RuntimeError(
            f"flow run {run.name} ({run.id}) is {run.state.name}: {run.state.message}\n"
            + stack.tail("worker.log")
        )


def wait_paused(run_id: UUID, pause_key: str, stack: Stack) -> FlowRun:
    """Wait until the run is suspended at `pause_key` and its process has exited."""

    def probe() -> FlowRun | None:
        run = read_run(run_id)
        check_alive(run, stack)
        state = run.state
        paused = state is not None and state.type is StateType.PAUSED
        if paused and state is not None and state.state_details.pause_key == pause_key:
            return run
        return None

    run = poll(probe, f"run {run_id} suspended at {pause_key}")
    wait_process_gone(run_id)
    return run


def wait_final(run_id: UUID, stack: Stack) -> FlowRun:
    def probe() -> FlowRun | None:
        run = read_run(run_id)
        check_alive(run, stack)
        return run if run.state is not None and run.state.type in TERMINAL else None

    run = poll(probe, f"run {run_id} finished")
    wait_process_gone(run_id)
    return run


def processes_with_env(needle: str) -> list[int]:
    """Pids whose environment holds `needle` (e.g. `JUKINET_HOME=<this run's home>`)."""
    raw = f"{needle}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if raw in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def flow_run_processes(run_id: UUID) -> list[int]:
    return processes_with_env(f"PREFECT__FLOW_RUN_ID={run_id}")


def wait_process_gone(run_id: UUID, timeout: float = 60.0) -> None:
    """A suspended or finished run's process exits shortly after the state; wait for it, so
    the next measurement does not share the CPU with a process that is shutting down."""
    poll(lambda: True if not flow_run_processes(run_id) else None, "flow-run process exit", timeout)


def find_run_by_tags(tags: list[str]) -> FlowRun | None:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=tags))
        )
    return runs[0] if runs else None


def state_since(run_id: UUID, kind: StateType, since: float) -> float | None:
    """Timestamp of the run's first state of type `kind` at or after `since`: PENDING when the
    worker submits it, RUNNING when the engine in the new process has loaded the flow."""
    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(run_id)
    later = [ts(s.timestamp) for s in states if s.type is kind and ts(s.timestamp) >= since]
    return min(later) if later else None


def task_started(run_id: UUID, task_name: str, since: float) -> tuple[float, TaskRun] | None:
    """The `start_time` of the first run of task `task_name` in `run_id` that started after
    `since` (task run names are `<task name>-<suffix>`)."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    started = [
        (ts(r.start_time), r)
        for r in runs
        if r.start_time is not None
        and ts(r.start_time) >= since
        and (r.name == task_name or r.name.startswith(task_name + "-"))
    ]
    return min(started, key=lambda p: p[0]) if started else None


def resume(run_id: UUID, payload: dict[str, Any]) -> float:
    """Submit a human answer; returns the time `resume_flow_run` returned."""
    with get_client(sync_client=True) as client:
        result = client.resume_flow_run(run_id, run_input=payload)
    done = time.time()
    if result.status.value != "ACCEPT":
        raise RuntimeError(f"resume of {run_id} refused: {result.details}")
    return done


# --- reporting -------------------------------------------------------------------------------


@dataclass
class Summary:
    n: int
    median: float
    min: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Summary:
        return cls(len(values), statistics.median(values), min(values), max(values))

    def as_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "median": self.median, "min": self.min, "max": self.max}


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def print_table(title: str, rows: list[tuple[str, Summary]]) -> None:
    width = max(display_width(label) for label, _ in rows) + 2
    print(f"\n{title}")
    print(f"{'':{width}}{'n':>3}  {'median':>8}  {'min':>8}  {'max':>8}   (seconds)")
    for label, s in rows:
        pad = " " * (width - display_width(label))
        print(f"{label}{pad}{s.n:>3}  {s.median:>8.2f}  {s.min:>8.2f}  {s.max:>8.2f}")


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "prefect": prefect.__version__,
        "loadavg_1_5_15": list(os.getloadavg()),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults: {path.relative_to(PROJECT_ROOT)}")
    return path


def arguments(description: str, repeat: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeat", type=int, default=repeat, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the stack's tmp dir")
    return parser
