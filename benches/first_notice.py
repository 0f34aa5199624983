"""Run created → first notice in the mailbox: chapter 1 versus a bare one-task mail flow.

    .venv/bin/python -m benches.first_notice [--repeat 5] [--warmup 1]

Product: `run_deployment("第1章 緊急時対応/緊急時対応", timeout=0)` with the scenario's discovery
report (tests/flows/scenarios.py); the first message that reaches the mailbox is the chapter-1
discovery report (C1.1.report → 住基ネットの緊急時事象の発見について（報告）). Yardstick: the
`bench-bare-mail` deployment (benches/bare_flows.py), one task sending one mail with smtplib to
the same mailbox. Both go to the same work pool and worker of one stack, and alternate.

Start: the flow run's `created` (server). End: the receive time of the first new message, as
stamped by the mailbox in its file name. The run's first Running state (worker pick-up +
engine start) is recorded too, to split the total into "to Running" and "Running → mail".
After each trial the bench waits until the run is suspended (C1.2) or finished and its process
has exited, so trials never overlap.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.schemas.objects import StateType

from benches.harness import (
    Summary,
    arguments,
    deploy_bare_mail,
    machine,
    poll,
    print_table,
    start_deployment,
    state_since,
    ts,
    wait_final,
    wait_paused,
    write_results,
)
from flows.emergency import Mode
from flows.human import pause_key
from jukinet.mailbox import Mailbox, read_message
from tests.flows.scenarios import declaration
from tests.integration.conftest import Stack

CHAPTER1 = "第1章 緊急時対応/緊急時対応"
DISCOVERY_SUBJECT = "住基ネットの緊急時事象の発見について（報告）"
C12_KEY = pause_key("C1.2", "C1.2", 1)


@dataclass
class Trial:
    kind: str  # "product" | "bare"
    measured: bool
    flow_run_id: str
    created: float  # flow run created (server)
    pending: float | None  # worker submitted it
    running: float | None  # engine in the new process has loaded the flow
    first_mail: float  # mailbox stored the first new message
    subject: str

    @property
    def total(self) -> float:
        return self.first_mail - self.created

    def since_created(self, t: float | None) -> float | None:
        return None if t is None else t - self.created

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "total_s": self.total,
            "to_pending_s": self.since_created(self.pending),
            "to_running_s": self.since_created(self.running),
            "running_to_mail_s": None if self.running is None else self.first_mail - self.running,
        }


def received_at(path: Path) -> float:
    """The mailbox names files `<UTC %Y%m%dT%H%M%S%f>Z-<n>.eml` when it stores them."""
    stamp = path.name.split("-", 1)[0]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC).timestamp()


def first_new_mail(mailbox: Mailbox, before: set[Path]) -> Path:
    def probe() -> Path | None:
        new = [p for p in mailbox.paths() if p not in before]
        return min(new, key=received_at) if new else None

    return poll(probe, "first notice in the mailbox")


def trial(
    stack: Stack,
    kind: str,
    measured: bool,
    deployment: str,
    parameters: dict[str, Any],
    expect: str,
    settle: Callable[[UUID], object],
) -> Trial:
    before = set(stack.mailbox.paths())
    run = start_deployment(deployment, parameters)
    mail = first_new_mail(stack.mailbox, before)
    subject = str(read_message(mail)["Subject"])
    if expect not in subject:
        raise RuntimeError(f"{kind}: the first new mail is not the expected one: {subject}")
    settle(run.id)
    assert run.created is not None
    created = ts(run.created)
    return Trial(
        kind,
        measured,
        str(run.id),
        created,
        state_since(run.id, StateType.PENDING, created),
        state_since(run.id, StateType.RUNNING, created),
        received_at(mail),
        subject,
    )


def product_trial(stack: Stack, measured: bool) -> Trial:
    parameters = {"report": declaration(), "mode": Mode.REAL.value}
    return trial(
        stack,
        "product",
        measured,
        CHAPTER1,
        parameters,
        DISCOVERY_SUBJECT,
        lambda run_id: wait_paused(run_id, C12_KEY, stack),
    )


def bare_trial(stack: Stack, deployment: str, measured: bool, n: int) -> Trial:
    marker = f"{n}-{time.time_ns()}"
    parameters = {"host": stack.mailbox.host, "port": stack.mailbox.port, "marker": marker}
    return trial(
        stack,
        "bare",
        measured,
        deployment,
        parameters,
        marker,
        lambda run_id: wait_final(run_id, stack),
    )


def main(argv: list[str] | None = None) -> int:
    from benches.harness import running_stack

    parser = arguments(__doc__.splitlines()[0] if __doc__ else "", repeat=5)
    args = parser.parse_args(argv)
    trials: list[Trial] = []
    started = time.monotonic()
    host = machine()
    with running_stack(keep=args.keep) as stack:
        bare = deploy_bare_mail()
        for i in range(args.warmup + args.repeat):
            measured = i >= args.warmup
            # alternate which goes first, so neither always follows the other
            order = ("product", "bare") if i % 2 == 0 else ("bare", "product")
            for kind in order:
                trial = (
                    product_trial(stack, measured)
                    if kind == "product"
                    else bare_trial(stack, bare, measured, i)
                )
                trials.append(trial)
                tag = "" if measured else " (warm-up)"
                pending = trial.since_created(trial.pending) or float("nan")
                running = trial.since_created(trial.running) or float("nan")
                print(
                    f"round {i + 1} {kind:>7}: created → mail {trial.total:5.2f} s"
                    f" (→ Pending {pending:4.2f} s, → Running {running:4.2f} s){tag}",
                    flush=True,
                )

    def values(kind: str, pick: Callable[[Trial], float | None]) -> list[float]:
        out = [pick(t) for t in trials if t.measured and t.kind == kind]
        return [v for v in out if v is not None]

    def total(t: Trial) -> float:
        return t.total

    def to_pending(t: Trial) -> float | None:
        return t.since_created(t.pending)

    def to_running(t: Trial) -> float | None:
        return t.since_created(t.running)

    def in_run(t: Trial) -> float | None:
        return None if t.running is None else t.first_mail - t.running

    product = Summary.of(values("product", total))
    baseline = Summary.of(values("bare", total))
    rows = [
        ("chapter 1: created → discovery report received", product),
        ("bare mail flow: created → mail received", baseline),
        (
            "chapter 1: created → Pending (worker picked up)",
            Summary.of(values("product", to_pending)),
        ),
        ("bare mail flow: created → Pending", Summary.of(values("bare", to_pending))),
        ("chapter 1: created → Running (flow loaded)", Summary.of(values("product", to_running))),
        ("bare mail flow: created → Running", Summary.of(values("bare", to_running))),
        ("chapter 1: Running → discovery report received", Summary.of(values("product", in_run))),
        ("bare mail flow: Running → mail received", Summary.of(values("bare", in_run))),
    ]
    print_table("created → first notice received", rows)
    ratio = product.median / baseline.median
    in_run_ratio = rows[6][1].median / rows[7][1].median
    print(
        f"\nratio of medians (chapter 1 / bare): {ratio:.2f}; Running → mail only: {in_run_ratio:.2f}"
    )
    print(f"wall time: {time.monotonic() - started:.0f} s")
    write_results(
        "first_notice",
        {
            "benchmark": "first_notice",
            "command": "python -m benches.first_notice "
            f"--repeat {args.repeat} --warmup {args.warmup}",
            "machine": host,
            "loadavg_at_end": list(os.getloadavg()),
            "summary": {label: s.as_dict() for label, s in rows},
            "ratio_of_medians": ratio,
            "ratio_of_medians_running_to_mail": in_run_ratio,
            "trials": [t.as_dict() for t in trials],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
