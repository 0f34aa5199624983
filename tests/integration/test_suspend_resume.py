"""Suspended human steps survive a worker kill and a server restart; every notice goes out once.

Chapter 1 is started through the API as the UI does; each answer is a `resume_flow_run` with the
form's input. While chapter 2 is suspended at C2.S2 the worker is SIGKILLed and a new one started;
while it is suspended at C2.S5 the server is restarted. The replays after each resume must not
repeat a notice: the outbox and the mailbox both hold each one exactly once.
"""

from __future__ import annotations

from collections import Counter

from prefect.client.orchestration import get_client

from flows.runtime import runtime
from tests.flows import scenarios as s
from tests.integration.conftest import Stack
from tests.integration.driving import (
    answer,
    chapter_run,
    declare,
    delivery,
    wait_completed,
    wait_paused,
)


def test_suspended_runs_survive_worker_kill_and_server_restart(stack: Stack) -> None:
    with get_client(sync_client=True) as client:
        first, number = declare(client, s.declaration())
        assert "訓練" not in first.tags
        classification = {"emergency_class": "障害", "reason": "CS の機器故障"}
        answer(client, first.id, "C1.2#1", s.OPERATOR, classification)

        second = chapter_run(client, number, "第2章").id
        answer(client, second, "C2.S1.1#1", s.OPERATOR, s.IDENTIFICATION)
        answer(client, second, "C2.S1.3#1", s.OFFICER, {"remarks": "なし"})

        wait_paused(client, second, "C2.S2#1")
        stack.kill_worker()
        stack.start_worker()
        assert wait_paused(client, second, "C2.S2#1").state_name == "Suspended"
        answer(client, second, "C2.S2#1", s.CHIEF, s.JUDGEMENT_SHORT)

        answer(client, second, "C2.S4.r1.1#1", s.OFFICER, s.REPAIRED)
        answer(client, second, "C2.S5.r1.integrity.1#1", s.OFFICER, s.CONSISTENT)

        wait_paused(client, second, "C2.S5.r1#1")
        stack.restart_server()
        answer(client, second, "C2.S5.r1#1", s.CHIEF, s.RESUME)

        answer(client, second, "C2.3#1", s.OFFICER, s.PREVENTION)
        assert wait_completed(client, second).state_name == "Completed"
        assert wait_completed(client, first.id).state_name == "Completed"

    store = runtime().store
    incident = store.incident(number)
    assert incident.state == "終結"
    notices = store.notices(incident.id)
    assert len({n.key for n in notices}) == len(notices)
    sent = delivery(stack.mailbox, number)
    assert sent.exactly_once, sent
    mails = [m for m in stack.mailbox.messages() if number in m.get_content()]
    assert Counter(str(m["Subject"]) for m in mails) == Counter(n.subject for n in notices)
    assert store.verify_chain().ok
