"""Human answer submitted → next step running, at the first and the last human step of chapter 2,
versus a bare suspend/resume flow.

    .venv/bin/python -m benches.resume_latency [--repeat 3] [--warmup 1]

Each round drives one incident through the short-outage path of tests/flows/scenarios.py
(C1.2 → C2.S1.1 → C2.S1.3 → C2.S2 → C2.S4 → C2.S5 integrity → C2.S5 approval → C2.3), answering
through the API as the UI does (`resume_flow_run(run_input=…)`, the answerers and CODES of the
tests), and times every answer; the headline pair is C2.S1.1 (first human step of chapter 2 →
the C2.S1.1 task) and C2.3 (last → the C2.3 report task). Yardstick: `bench-bare-suspend`
(benches/bare_flows.py), which suspends once for a tiny model and then runs one task; same
pool, same worker, alternating with the product.

Start: the moment `resume_flow_run` returned in this process. End: the `start_time` of the next
step's task run (the timestamp of its Running state, written by the flow-run process when the
task began and read back from the API) — the first observable start of the next step; no notice
of the step can be sent before it. Also recorded: the flow run's Pending (worker submitted it)
and Running (the new process has loaded the flow; the replay from the top begins) after the
resume, and when this process first saw the task run through the API. Before each answer the
bench waits until the run is suspended at the expected key and its process has exited.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import StateType
from prefect.tasks import Task

from benches.bare_flows import STEP_TASK, SUSPEND_KEY
from benches.harness import (
    Summary,
    arguments,
    deploy_bare_suspend,
    find_run_by_tags,
    machine,
    poll,
    print_table,
    resume,
    start_deployment,
    state_since,
    task_started,
    wait_final,
    wait_paused,
    write_results,
)
from flows.emergency import Mode
from flows.human import pause_key
from tasks.chapter1 import fix_classification
from tasks.chapter2_recovery import (
    record_integrity,
    record_repair,
    record_resumption_decision,
    report_prevention,
)
from tasks.chapter2_report import identify_failure, instruct_data_protection, report_to_chief
from tests.conftest import CODES
from tests.flows import scenarios as s
from tests.integration.conftest import Stack

CHAPTER1 = "第1章 緊急時対応/緊急時対応"
FIRST = "C2.S1.1"
LAST = "C2.3"


@dataclass(frozen=True)
class Step:
    step: str  # ask(step=…)
    clause: str  # ask(clause=…)
    answerer: str
    values: dict[str, Any]
    task: Task[Any, Any]  # the step that runs first after the answer

    @property
    def key(self) -> str:
        return pause_key(self.clause, self.step, 1)

    def payload(self) -> dict[str, Any]:
        return {"answerer": self.answerer, "approval_code": CODES[self.answerer], **self.values}


C12 = Step("C1.2", "C1.2", s.OPERATOR, {"emergency_class": "障害", "reason": "CS の機器故障"}, fix_classification)  # fmt: skip
CHAPTER2 = [
    Step("C2.S1.1", "C2.S1.1", s.OPERATOR, s.IDENTIFICATION, identify_failure),
    Step("C2.S1.3", "C2.S1.3", s.OFFICER, {"remarks": "保守事業者へ連絡済み"}, report_to_chief),
    Step("C2.S2", "C2.S2.1", s.CHIEF, s.JUDGEMENT_SHORT, instruct_data_protection),
    Step("C2.S4.r1.1", "C2.S4", s.OFFICER, s.REPAIRED, record_repair),
    Step("C2.S5.r1.integrity.1", "C2.S5", s.OFFICER, s.CONSISTENT, record_integrity),
    Step("C2.S5.r1", "C2.S5", s.CHIEF, s.RESUME, record_resumption_decision),
    Step("C2.3", "C2.3", s.OFFICER, s.PREVENTION, report_prevention),
]


@dataclass
class Measure:
    kind: str  # "product" | "bare"
    step: str
    measured: bool
    flow_run_id: str
    task_runs_before: int  # task runs the flow run had already finished (Prefect would replay)
    resumed: float  # resume_flow_run returned
    pending: float | None
    running: float | None
    task_start: float
    task_seen: float

    @property
    def latency(self) -> float:
        return self.task_start - self.resumed

    def since(self, t: float | None) -> float | None:
        return None if t is None else t - self.resumed

    @property
    def replay(self) -> float | None:
        """Flow Running → task Running: the replay from the top, judging and recording the
        answer; what re-running from the start costs, without process start-up."""
        return None if self.running is None else self.task_start - self.running

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "latency_s": self.latency,
            "to_pending_s": self.since(self.pending),
            "to_running_s": self.since(self.running),
            "seen_after_s": self.task_seen - self.resumed,
            "replay_s": self.replay,
        }


def task_run_count(run_id: UUID) -> int:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    return sum(1 for r in runs if r.state is not None and r.state.type is StateType.COMPLETED)


def answer_and_time(
    stack: Stack,
    kind: str,
    step: str,
    measured: bool,
    run_id: UUID,
    payload: dict[str, Any],
    task_name: str,
) -> Measure:
    before = task_run_count(run_id)
    resumed = resume(run_id, payload)
    start, _ = poll(lambda: task_started(run_id, task_name, resumed), f"{step}: next task started")
    seen = time.time()
    m = Measure(
        kind,
        step,
        measured,
        str(run_id),
        before,
        resumed,
        state_since(run_id, StateType.PENDING, resumed),
        state_since(run_id, StateType.RUNNING, resumed),
        start,
        seen,
    )
    tag = "" if measured else " (warm-up)"
    print(f"  {kind:>7} {step:<22} answer → task running {m.latency:5.2f} s{tag}", flush=True)
    return m


def product_round(stack: Stack, measured: bool) -> list[Measure]:
    run = start_deployment(CHAPTER1, {"report": s.declaration(), "mode": Mode.REAL.value})
    paused = wait_paused(run.id, C12.key, stack)
    number = paused.name.split(" ")[0]
    out = [
        answer_and_time(stack, "product", C12.step, measured, run.id, C12.payload(), C12.task.name)
    ]
    wait_final(run.id, stack)  # chapter 1 ends after starting chapter 2
    chapter2 = poll(lambda: find_run_by_tags([number, "第2章"]), f"{number}: chapter-2 run")
    for step in CHAPTER2:
        wait_paused(chapter2.id, step.key, stack)
        out.append(
            answer_and_time(
                stack, "product", step.step, measured, chapter2.id, step.payload(), step.task.name
            )
        )
    final = wait_final(chapter2.id, stack)
    if final.state is None or final.state.type is not StateType.COMPLETED:
        raise RuntimeError(f"chapter 2 of {number} ended {final.state}")
    return out


def bare_round(stack: Stack, deployment: str, measured: bool) -> list[Measure]:
    run = start_deployment(deployment, {})
    wait_paused(run.id, SUSPEND_KEY, stack)
    m = answer_and_time(stack, "bare", "bare", measured, run.id, {"ok": True}, STEP_TASK)
    final = wait_final(run.id, stack)
    if final.state is None or final.state.type is not StateType.COMPLETED:
        raise RuntimeError(f"bare run ended {final.state}")
    return [m]


def main(argv: list[str] | None = None) -> int:
    from benches.harness import running_stack

    parser = arguments(__doc__.splitlines()[0] if __doc__ else "", repeat=3)
    args = parser.parse_args(argv)
    measures: list[Measure] = []
    started = time.monotonic()
    host = machine()
    with running_stack(keep=args.keep) as stack:
        bare = deploy_bare_suspend()
        for i in range(args.warmup + args.repeat):
            measured = i >= args.warmup
            print(f"round {i + 1}{'' if measured else ' (warm-up)'}", flush=True)
            order = ("product", "bare") if i % 2 == 0 else ("bare", "product")
            for kind in order:
                if kind == "product":
                    measures += product_round(stack, measured)
                else:
                    measures += bare_round(stack, bare, measured)

    def latencies(kind: str, step: str) -> list[float]:
        return [m.latency for m in measures if m.measured and m.kind == kind and m.step == step]

    def part(kind: str, step: str, pick: Callable[[Measure], float | None]) -> list[float]:
        out = [pick(m) for m in measures if m.measured and m.kind == kind and m.step == step]
        return [v for v in out if v is not None]

    bare_s = Summary.of(latencies("bare", "bare"))
    by_step = {st.step: Summary.of(latencies("product", st.step)) for st in [C12, *CHAPTER2]}
    rows = [("bare suspend/resume flow", bare_s)] + [
        (f"{st.step} → {st.task.name}", by_step[st.step]) for st in [C12, *CHAPTER2]
    ]
    print_table("answer submitted (resume_flow_run returned) → next step's task Running", rows)

    def replay(m: Measure) -> float | None:
        return m.replay

    bare_r = Summary.of(part("bare", "bare", replay))
    replay_by_step = {
        st.step: Summary.of(part("product", st.step, replay)) for st in [C12, *CHAPTER2]
    }
    replay_rows = [("bare suspend/resume flow", bare_r)] + [
        (f"{st.step} → {st.task.name}", replay_by_step[st.step]) for st in [C12, *CHAPTER2]
    ]
    print_table(
        "flow Running after the resume → next step's task Running (the replay)", replay_rows
    )

    breakdown = []
    for kind, step in (("bare", "bare"), ("product", FIRST), ("product", LAST)):
        for label, pick in (
            ("→ Pending (worker)", lambda m: m.since(m.pending)),
            ("→ Running (flow loaded)", lambda m: m.since(m.running)),
            ("→ task Running", lambda m: m.latency),
            ("→ task seen via API", lambda m: m.task_seen - m.resumed),
        ):
            breakdown.append((f"{kind} {step} {label}", Summary.of(part(kind, step, pick))))
    print_table("breakdown (seconds after resume_flow_run returned)", breakdown)

    first, last = by_step[FIRST], by_step[LAST]
    ratios = {
        "first_over_bare": first.median / bare_s.median,
        "last_over_bare": last.median / bare_s.median,
        "last_over_first": last.median / first.median,
        "replay_first_over_bare": replay_by_step[FIRST].median / bare_r.median,
        "replay_last_over_bare": replay_by_step[LAST].median / bare_r.median,
        "replay_last_over_first": replay_by_step[LAST].median / replay_by_step[FIRST].median,
    }
    print(
        f"\nratios of medians: {FIRST}/bare {ratios['first_over_bare']:.2f}, "
        f"{LAST}/bare {ratios['last_over_bare']:.2f}, {LAST}/{FIRST} {ratios['last_over_first']:.2f}"
    )
    print(
        f"replay only: {FIRST}/bare {ratios['replay_first_over_bare']:.2f}, "
        f"{LAST}/bare {ratios['replay_last_over_bare']:.2f}, "
        f"{LAST}/{FIRST} {ratios['replay_last_over_first']:.2f}"
    )
    done_before = {
        st: sorted({m.task_runs_before for m in measures if m.step == st and m.measured})
        for st in (FIRST, LAST)
    }
    print(f"task runs already completed in the chapter-2 run when answering: {done_before}")
    print(f"wall time: {time.monotonic() - started:.0f} s")
    write_results(
        "resume_latency",
        {
            "benchmark": "resume_latency",
            "command": "python -m benches.resume_latency "
            f"--repeat {args.repeat} --warmup {args.warmup}",
            "machine": host,
            "loadavg_at_end": list(os.getloadavg()),
            "summary": {label: sm.as_dict() for label, sm in rows},
            "replay": {label: sm.as_dict() for label, sm in replay_rows},
            "breakdown": {label: sm.as_dict() for label, sm in breakdown},
            "ratios_of_medians": ratios,
            "task_runs_completed_before": done_before,
            "measures": [m.as_dict() for m in measures],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
