"""中断した実行の再開 against a real Prefect server: runs of the `jukinet` pool left behind by a dead
worker (Pending that never started; Running without heartbeats) are marked Crashed and scheduled
again, at most MAX_RESTARTS times, each restart in the audit trail once; live runs are left alone.

The server stamps a state with its own clock, so a run is left Pending or Running now and the
pass looks five minutes ahead (`recover(..., now=…)`), as the scheduled flow sees it then.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.exceptions import ObjectAlreadyExists
from prefect.states import Crashed, Pending, Running

from flows import recovery
from flows.recovery import MAX_RESTARTS, RESTART_STATE, recover, silent_runs
from flows.runtime import runtime
from jukinet.store.models import utcnow

LOGGER = logging.getLogger("tests.recovery")


@flow(name="回復の試験")
def idle() -> None:
    """Never run here: only its deployment's runs are created."""


@pytest.fixture
def client(product: Path) -> Iterator[SyncPrefectClient]:
    with get_client(sync_client=True) as c:
        with contextlib.suppress(ObjectAlreadyExists):  # from an earlier test of the session
            c.create_work_pool(WorkPoolCreate(name=recovery.WORK_POOL, type="process"))
        yield c


def a_run(client: SyncPrefectClient) -> FlowRun:
    """A run of a deployment in the `jukinet` pool, as `run_deployment` creates it."""
    flow_id = client.create_flow(idle)
    deployment_id = client.create_deployment(
        flow_id=flow_id,
        name=f"回復の試験-{uuid.uuid4().hex[:8]}",
        work_pool_name=recovery.WORK_POOL,
        entrypoint="tests/flows/test_recovery.py:idle",
    )
    return client.create_flow_run_from_deployment(deployment_id)


def left(client: SyncPrefectClient, state_type: StateType) -> FlowRun:
    """A run left Pending (taken by a worker) or Running (its process started), as of now."""
    run = a_run(client)
    state: State[Any] = Pending() if state_type is StateType.PENDING else Running()
    client.set_flow_run_state(run.id, state, force=True)
    return client.read_flow_run(run.id)


def test_a_run_left_pending_or_silent_is_crashed_and_run_again(
    client: SyncPrefectClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "30")
    stuck = left(client, StateType.PENDING)
    silent = left(client, StateType.RUNNING)

    fresh = {run.id for run, _ in silent_runs(client)}
    assert stuck.id not in fresh and silent.id not in fresh  # just taken, just started
    later = utcnow() + timedelta(minutes=5)
    found = {run.id: reason for run, reason in silent_runs(client, later)}
    assert "120 秒たっても始まりませんでした" in found[stuck.id]
    assert "ハートビートが 90 秒途絶えました" in found[silent.id]

    done = recover(client, LOGGER, later)
    assert done["crashed"] >= 2 and done["restarted"] >= 2
    for run in (stuck, silent):
        history = client.read_flow_run_states(run.id)
        assert [s.type for s in history][-2:] == [StateType.CRASHED, StateType.SCHEDULED]
        assert history[-1].name == RESTART_STATE
    recover(client, LOGGER, later)  # the next minute's pass: the runs wait for a worker
    assert client.read_flow_run(stuck.id).state_name == RESTART_STATE
    records = runtime().store.audit_records(None, kind="中断からの再実行")
    assert sum(r.details.get("flow_run_id") == str(stuck.id) for r in records) == 1


def test_without_heartbeats_a_running_run_is_never_taken_for_dead(
    client: SyncPrefectClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    long_step = left(client, StateType.RUNNING)
    later = utcnow() + timedelta(minutes=30)

    assert long_step.id not in {run.id for run, _ in silent_runs(client, later)}


def test_a_run_that_keeps_crashing_is_given_up_after_the_limit(
    client: SyncPrefectClient,
) -> None:
    run = a_run(client)
    for _ in range(MAX_RESTARTS + 1):
        client.set_flow_run_state(run.id, Crashed(message="ワーカーの停止"), force=True)
        recover(client, LOGGER)

    history = client.read_flow_run_states(run.id)
    assert [s.name for s in history].count(RESTART_STATE) == MAX_RESTARTS
    assert history[-1].type is StateType.CRASHED
    given_up = runtime().store.audit_records(None, kind="再実行の上限")
    assert [r for r in given_up if r.details.get("flow_run_id") == str(run.id)]
