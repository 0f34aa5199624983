"""Suspended human steps survive a worker kill and a server restart; every notice goes out once.

Chapter 1 is started through the API as the UI does; each answer is a `resume_flow_run` with the
form's input. While chapter 2 is suspended at C2.S2 the worker is SIGKILLed and a new one started;
while it is suspended at C2.S5 the server is restarted. The replays after each resume must not
repeat a notice: the outbox and the mailbox both hold each one exactly once.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment

from flows.human import pause_key
from flows.runtime import runtime
from tests.conftest import CODES
from tests.flows import scenarios as s
from tests.integration.conftest import Stack

CHAPTER1 = "第1章 緊急時対応/緊急時対応"
TIMEOUT = 120.0
ENDED_BADLY = (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)


def read(client: SyncPrefectClient, run_id: Any) -> FlowRun:
    run = client.read_flow_run(run_id)
    assert run.state is not None
    assert run.state.type not in ENDED_BADLY, f"{run.name}: {run.state.name} {run.state.message}"
    return run


def wait_paused(client: SyncPrefectClient, run_id: Any, key: str) -> FlowRun:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        run = read(client, run_id)
        assert run.state is not None
        if run.state.type is StateType.PAUSED and run.state.state_details.pause_key == key:
            return run
        time.sleep(0.25)
    raise AssertionError(f"{run_id} did not suspend at {key}")


def wait_completed(client: SyncPrefectClient, run_id: Any) -> FlowRun:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        run = read(client, run_id)
        if run.state and run.state.type is StateType.COMPLETED:
            return run
        time.sleep(0.25)
    raise AssertionError(f"{run_id} did not complete")


def chapter2_run(client: SyncPrefectClient, number: str) -> FlowRun:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[number, "第2章"]))
        )
        if runs:
            assert len(runs) == 1, [r.name for r in runs]
            return runs[0]
        time.sleep(0.25)
    raise AssertionError(f"no chapter-2 run for {number}")


def answer(
    client: SyncPrefectClient, run_id: Any, key: str, answerer: str, values: dict[str, Any]
) -> None:
    """Resume the run suspended at `key` with the form's input, as the UI's Resume dialog does.

    Prefect sets the Suspended state just before it saves the form's schema: a resume in between
    is rejected ("Run input schema not found") and is simply sent again.
    """
    run = wait_paused(client, run_id, key)
    assert run.state is not None and run.state.name == "Suspended"
    payload = {"answerer": answerer, "approval_code": CODES[answerer], **values}
    deadline = time.monotonic() + 10
    while True:
        result = client.resume_flow_run(run.id, run_input=payload)
        reason = str(getattr(result.details, "reason", ""))
        if "schema not found" not in reason or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert result.status.value == "ACCEPT", result.details


def test_suspended_runs_survive_worker_kill_and_server_restart(stack: Stack) -> None:
    with get_client(sync_client=True) as client:
        started = run_deployment(
            CHAPTER1,
            parameters={"report": s.declaration(), "mode": "本番（実際の緊急時）"},
            timeout=0,
        )
        assert isinstance(started, FlowRun)
        first = wait_paused(client, started.id, pause_key("C1.2", "C1.2", 1))
        number = first.name.split(" ")[0]
        assert number in first.tags
        assert "訓練" not in first.tags
        answer(
            client,
            first.id,
            pause_key("C1.2", "C1.2", 1),
            s.OPERATOR,
            {"emergency_class": "障害", "reason": "CS の機器故障"},
        )

        second = chapter2_run(client, number).id
        answer(client, second, pause_key("C2.S1.1", "C2.S1.1", 1), s.OPERATOR, s.IDENTIFICATION)
        answer(client, second, pause_key("C2.S1.3", "C2.S1.3", 1), s.OFFICER, {"remarks": "なし"})

        at_judgement = pause_key("C2.S2.1", "C2.S2", 1)
        wait_paused(client, second, at_judgement)
        stack.kill_worker()
        stack.start_worker()
        assert wait_paused(client, second, at_judgement).state_name == "Suspended"
        answer(client, second, at_judgement, s.CHIEF, s.JUDGEMENT_SHORT)

        answer(client, second, pause_key("C2.S4", "C2.S4.r1.1", 1), s.OFFICER, s.REPAIRED)
        integrity = pause_key("C2.S5", "C2.S5.r1.integrity.1", 1)
        answer(client, second, integrity, s.OFFICER, s.CONSISTENT)

        at_resumption = pause_key("C2.S5", "C2.S5.r1", 1)
        wait_paused(client, second, at_resumption)
        stack.restart_server()
        answer(client, second, at_resumption, s.CHIEF, s.RESUME)

        answer(client, second, pause_key("C2.3", "C2.3", 1), s.OFFICER, s.PREVENTION)
        assert wait_completed(client, second).state_name == "Completed"
        assert wait_completed(client, first.id).state_name == "Completed"

    store = runtime().store
    incident = store.incident(number)
    assert incident.state == "終結"
    notices = store.notices(incident.id)
    assert notices
    assert [n.key for n in notices if n.status != "sent"] == []
    assert len({n.key for n in notices}) == len(notices)
    assert store.verify_chain().ok

    mails = [m for m in stack.mailbox.messages() if number in m.get_content()]
    per_message_id = Counter(str(m["Message-ID"]) for m in mails)
    assert [mid for mid, n in per_message_id.items() if n > 1] == []
    assert len(per_message_id) == len(notices)
    subjects = Counter(str(m["Subject"]) for m in mails)
    assert subjects == Counter(n.subject for n in notices)
