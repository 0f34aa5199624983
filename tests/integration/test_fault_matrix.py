"""A fault at every human step of a chapter-2 and a chapter-3 incident; each still ends once.

While each step waits, one fault in turn (issue 5, item 5):
  worker_kill     the worker is SIGKILLed and a new one started, then the step is answered;
  server_restart  the Prefect server is restarted, then the step is answered;
  smtp_down       the mailbox is stopped and the step answered, so its notices fail; once the run
                  waits at the next step the mailbox is started again and 未送付通知の再送 is run
                  (what it leaves, the close of the incident re-tries).
After each incident: its runs completed, every notice is sent and was received exactly once (by
Message-ID), and the audit chain verifies. The figures go to
benches/results/fault-matrix-<date>.json and one line at the end of the pytest run.

In chapter 2 the last step (C2.3) falls on smtp_down: the close cannot send the final report, so
the chapter's run waits suspended at CLOSE-WAIT (flows/closing.py) until the re-send has delivered
everything and resumes it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pytest
from prefect.client.orchestration import get_client

from benches.harness import machine, write_results
from flows.runtime import runtime
from tests.flows import scenarios as s
from tests.flows import scenarios3 as t
from tests.integration.conftest import SUMMARIES, Stack
from tests.integration.driving import (
    answer,
    chapter_run,
    declare,
    delivery,
    resend,
    undelivered,
    wait_completed,
    wait_paused,
)

pytestmark = pytest.mark.integration

FAULTS = ("worker_kill", "server_restart", "smtp_down")

Step = tuple[str, str, dict[str, Any]]  # (step, answerer, form values); holders only


@dataclass(frozen=True)
class Scenario:
    name: str
    presumed: str  # the discoverer's presumed class
    chapter: str  # tag of the chapter's run
    steps: list[Step]  # C1.2 first, on chapter 1's run; the rest on the chapter's run
    offset: int = 0  # where the rotation of FAULTS starts


SHORT_OUTAGE = Scenario(
    "chapter2-short-outage",
    "障害",
    "第2章",
    [
        ("C1.2#1", s.OPERATOR, {"emergency_class": "障害", "reason": "CS の機器故障"}),
        ("C2.S1.1#1", s.OPERATOR, s.IDENTIFICATION),
        ("C2.S1.3#1", s.OFFICER, {"remarks": "なし"}),
        ("C2.S2#1", s.CHIEF, s.JUDGEMENT_SHORT),
        ("C2.S4.r1.1#1", s.OFFICER, s.REPAIRED),
        ("C2.S5.r1.integrity.1#1", s.OFFICER, s.CONSISTENT),
        ("C2.S5.r1#1", s.CHIEF, s.RESUME),
        ("C2.3#1", s.OFFICER, s.PREVENTION),
    ],
    offset=1,  # C2.3, the last step, falls on smtp_down: the close waits for the mail
)

LEVEL3_STOP = Scenario(
    "chapter3-level3-stop-meeting",
    "不正行為",
    "第3章",
    [
        ("C1.2#1", s.OPERATOR, {"emergency_class": "不正行為", "reason": "権限外の操作の痕跡"}),
        ("C3.S1.2#1", t.OPERATOR, t.report(t.L3_3)),
        ("C3.S1.4#1", t.OFFICER, t.FORWARD),
        ("C3.S2#1", t.CHIEF, t.instruction(True, "ネットワークからの切り離し", hearings=True)),
        ("C3.S2.2#1", t.OPERATOR, t.STOP_DONE),
        ("C3.S2.1#1", t.OPERATOR, t.measures(hearings_result="窓口職員3名から聴取")),
        ("C3.S3#1", t.SEC_ADMIN, t.determination(3, t.L3_3)),
        ("C3.S3.2#1", t.SEC_ADMIN, t.CAUSE),
        ("C3.S4.1#1", t.CHIEF, t.CONVENING),
        ("C3.S4.3#1", t.CHIEF, t.meeting()),
        ("C3.S4.D6#1", t.CHIEF, t.PUBLICITY_APPROVED),
        ("C3.S4.D8.1#1", t.CHIEF, t.REVIEW_PROCEED),
        ("C3.S5.r1#1", t.CHIEF, t.FINDINGS),
        ("C3.S6.1.r1.integrity.1#1", t.SEC_ADMIN, t.CONSISTENT),
        ("C3.S4.D9.r1#1", t.CHIEF, t.RESUME),  # the meeting approved the stop: it decides
        ("C3.S6.2#1", t.SEC_ADMIN, t.RESUMPTION),
        ("C3.2#1", t.CHIEF, t.PERMANENT),
    ],
)


@dataclass
class Figures:
    steps: dict[str, str]  # step → fault injected while it waited
    faults: dict[str, int]  # by kind
    runs_started: int = 0
    runs_completed: int = 0
    resend_runs: int = 0  # 未送付通知の再送 runs, each completed
    failed_while_smtp_down: int = 0  # notices found undelivered when the mailbox came back
    left_after_resend: int = 0  # of them, still undelivered after the re-send (for the close)
    notices: dict[str, int] | None = None  # the incident's Delivery
    chain_ok: bool | None = None
    seconds: float = 0.0


def inject(stack: Stack, fault: str) -> None:
    """Inject `fault` while a step waits; smtp_down lasts until `stack.start_smtp()`."""
    if fault == "worker_kill":
        stack.kill_worker()
        stack.start_worker()
    elif fault == "server_restart":
        stack.restart_server()
    else:
        stack.stop_smtp()


@pytest.fixture(scope="module")
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, Figures]]:
    """Collects each scenario's figures; writes them and a summary line after the module."""
    collected: dict[str, Figures] = {}
    yield collected
    if not collected:
        return
    total: Counter[str] = Counter()
    for f in collected.values():
        total.update(f.faults)
        total.update(
            runs_started=f.runs_started,
            runs_completed=f.runs_completed,
            resend_runs=f.resend_runs,
            failed_while_smtp_down=f.failed_while_smtp_down,
            left_after_resend=f.left_after_resend,
            **(f.notices or {}),
        )
    name = f"fault-matrix-{date.today().isoformat()}"
    path = write_results(
        name,
        {
            "benchmark": "fault_matrix",
            "command": "pytest tests/integration/test_fault_matrix.py",
            "machine": machine(),
            "scenarios": {k: asdict(f) for k, f in collected.items()},
            "total": dict(total),
        },
    )
    request.config.stash.setdefault(SUMMARIES, []).append(
        f"fault matrix: {sum(total[k] for k in FAULTS)} faults "
        f"({', '.join(f'{k} {total[k]}' for k in FAULTS)}), "
        f"runs {total['runs_completed']}/{total['runs_started']} completed, "
        f"notices {total['delivered']}/{total['expected']} delivered, "
        f"{total['duplicates']} duplicates, {total['losses']} losses → {path.name}"
    )


@pytest.mark.parametrize("scenario", [SHORT_OUTAGE, LEVEL3_STOP], ids=lambda sc: sc.name)
def test_every_human_step_survives_a_fault(
    stack: Stack, scenario: Scenario, figures: dict[str, Figures]
) -> None:
    fig = figures[scenario.name] = Figures(steps={}, faults=dict.fromkeys(FAULTS, 0))
    began = time.monotonic()
    failed: set[str] = set()
    try:
        with get_client(sync_client=True) as client:
            first, number = declare(client, s.declaration(scenario.presumed))
            fig.runs_started = 2

            def run_of(step: str) -> Any:
                return (
                    first.id
                    if step.startswith("C1.")
                    else chapter_run(client, number, scenario.chapter).id
                )

            for i, (step, answerer, values) in enumerate(scenario.steps):
                fault = FAULTS[(i + scenario.offset) % len(FAULTS)]
                run_id = run_of(step)
                wait_paused(client, run_id, step)
                inject(stack, fault)
                answer(client, run_id, step, answerer, values)
                fig.steps[step] = fault
                fig.faults[fault] += 1
                if fault == "smtp_down":  # its notices were tried once the run waits again
                    last = i + 1 == len(scenario.steps)
                    following = "CLOSE-WAIT#1" if last else scenario.steps[i + 1][0]
                    wait_paused(client, run_of(step if last else following), following)
                    failed |= undelivered(number)
                    fig.failed_while_smtp_down = len(failed)
                    stack.start_smtp()
                    resend(client)
                    fig.resend_runs += 1
                    fig.left_after_resend = len(failed & undelivered(number))

            for run_id in (run_of(scenario.steps[-1][0]), first.id):
                wait_completed(client, run_id)
                fig.runs_completed += 1
    finally:
        stack.heal()
        fig.seconds = round(time.monotonic() - began, 1)

    store = runtime().store
    assert store.incident(number).state == "終結"
    sent = delivery(stack.mailbox, number)
    fig.notices = asdict(sent)
    fig.chain_ok = store.verify_chain().ok
    assert sent.exactly_once, sent
    assert fig.chain_ok
