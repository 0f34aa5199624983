"""Driving an incident through the session stack as the UI does, and checking what it sent.

    first, number = declare(client, s.declaration())            # chapter 1, paused at C1.2
    answer(client, first.id, "C1.2#1", s.OPERATOR, {...})        # the Resume dialog's input
    second = chapter_run(client, number, "第2章").id
    wait_paused(client, second, "C2.S1.1#1")
    assert delivery(stack.mailbox, number).losses == 0

A step is named as the flow tests' Driver names it: the `ask` step and its attempt (`C2.S4.r1.1#1`).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment

from flows.runtime import runtime
from jukinet.mailbox import Mailbox
from jukinet.notices.outbox import digest, message_key
from tests.conftest import CODES

CHAPTER1 = "第1章 緊急時対応/緊急時対応"
RESEND = "未送付通知の再送/未送付通知の再送"
REAL = "本番（実際の緊急時）"
TIMEOUT = 120.0
POLL = 0.25
ENDED_BADLY = (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)


def read(client: SyncPrefectClient, run_id: Any) -> FlowRun:
    """The run, asserted not to have ended badly."""
    run = client.read_flow_run(run_id)
    assert run.state is not None
    assert run.state.type not in ENDED_BADLY, f"{run.name}: {run.state.name} {run.state.message}"
    return run


def pause_suffix(step: str) -> str:
    """`C2.S4.r1.1#1` → `--c2-s4-r1-1--1`, how the run's pause key ends (flows.human.pause_key)."""
    name, attempt = step.split("#")
    return "--" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + f"--{attempt}"


def wait_paused(client: SyncPrefectClient, run_id: Any, step: str) -> FlowRun:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        run = read(client, run_id)
        assert run.state is not None
        key = run.state.state_details.pause_key or ""
        if run.state.type is StateType.PAUSED and key.endswith(pause_suffix(step)):
            return run
        time.sleep(POLL)
    raise AssertionError(f"{run_id} did not suspend at {step}")


def wait_completed(client: SyncPrefectClient, run_id: Any) -> FlowRun:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        run = read(client, run_id)
        if run.state and run.state.type is StateType.COMPLETED:
            return run
        time.sleep(POLL)
    raise AssertionError(f"{run_id} did not complete")


def declare(client: SyncPrefectClient, report: dict[str, Any]) -> tuple[FlowRun, str]:
    """Start chapter 1 as the UI's custom run does; its run paused at C1.2 and the incident number."""
    started = run_deployment(CHAPTER1, parameters={"report": report, "mode": REAL}, timeout=0)
    assert isinstance(started, FlowRun)
    first = wait_paused(client, started.id, "C1.2#1")
    number = first.name.split(" ")[0]
    assert number in first.tags
    return first, number


def chapter_run(client: SyncPrefectClient, number: str, chapter: str) -> FlowRun:
    """The one run of `chapter` (its tag, e.g. 第2章) that chapter 1 started for the incident."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[number, chapter]))
        )
        if runs:
            assert len(runs) == 1, [r.name for r in runs]
            return runs[0]
        time.sleep(POLL)
    raise AssertionError(f"no {chapter} run for {number}")


def answer(
    client: SyncPrefectClient, run_id: Any, step: str, answerer: str, values: dict[str, Any]
) -> None:
    """Resume the run suspended at `step` with the form's input, as the UI's Resume dialog does.

    Prefect sets the Suspended state just before it saves the form's schema: a resume in between
    is rejected ("Run input schema not found") and is simply sent again.
    """
    run = wait_paused(client, run_id, step)
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


def resend(client: SyncPrefectClient) -> FlowRun:
    """Run 未送付通知の再送 now (as its 5-minute schedule would) and wait for it to complete."""
    started = run_deployment(RESEND, timeout=0)
    assert isinstance(started, FlowRun)
    return wait_completed(client, started.id)


def undelivered(number: str) -> set[str]:
    """Keys of the incident's notices the store does not call sent."""
    store = runtime().store
    return {n.key for n in store.notices(store.incident(number).id) if n.status != "sent"}


@dataclass(frozen=True)
class Delivery:
    """An incident's notices in the store against the mails the mailbox received."""

    expected: int  # notices (outbox rows) of the incident
    sent: int  # of them, status sent
    delivered: int  # distinct expected Message-IDs received
    duplicates: int  # copies received beyond the first
    losses: int  # expected Message-IDs never received
    strays: int  # mails naming the incident whose Message-ID belongs to no notice of it

    @property
    def exactly_once(self) -> bool:
        return (
            self.expected > 0
            and self.sent == self.delivered == self.expected
            and self.duplicates == self.losses == self.strays == 0
        )


def delivery(mailbox: Mailbox, number: str) -> Delivery:
    store = runtime().store
    notices = store.notices(store.incident(number).id)
    expected = {digest(message_key(n)) for n in notices}
    assert len(expected) == len(notices)
    received: Counter[str] = Counter()
    strays = 0
    for mail in mailbox.messages():
        mid = str(mail["Message-ID"]).strip("<>").split("@")[0]
        if mid in expected:
            received[mid] += 1
        elif number in mail.get_content():
            strays += 1
    return Delivery(
        expected=len(notices),
        sent=sum(n.status == "sent" for n in notices),
        delivered=len(received),
        duplicates=sum(c - 1 for c in received.values()),
        losses=len(expected - set(received)),
        strays=strays,
    )
