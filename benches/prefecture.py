"""19 drills at once, one per 市町 of 滋賀県, on the production profile with two workers; one
worker SIGKILLed a third of the way through (issue 9).

    .venv/bin/python -m benches.prefecture                      # 19 towns, a-short-outage, kill on
    .venv/bin/python -m benches.prefecture --towns 3 --no-kill
    .venv/bin/python -m benches.prefecture --scenario scenarios/a-short-outage.yaml \\
        scenarios/k-level1-lifted.yaml                         # scenarios taken in turn by town

1. A temporary JUKINET_HOME with one configuration folder per town (`make_town` of
   jukinet/config/synthetic.py) and each scenario rewritten for the town's staff (彦根 一郎 …).
2. `python -m jukinet.devstack --profile production --workers 2` as a child process group
   (local PostgreSQL, basic auth with a generated JUKINET_AUTH_STRING, free ports).
3. One drill alone (the first town): the baseline. Then one drill per town, all at once, each
   `jukinet.drill.cli.main([...,"--town", code])` in a thread of this process.
4. Once a third of all the answers have been given, SIGKILL one worker process (the one with
   the most flow runs started), not its flow runs and not the rest of the stack.
5. Afterwards, from the Prefect API's state histories: answer accepted (the state after a
   pause) → next pause, p50/p95/max for the baseline and for the towns' drills before and after
   the kill; drills passed, chapter runs completed; per town the store's notices against the
   mailbox's mails (delivered, duplicates by Message-ID and by (To, Subject)), the audit chain.
6. A table on stdout, benches/results/prefecture-<UTC date>.json; the stack stopped, no
   PostgreSQL left running.

`--second-worker stack` (the default): `--workers 2`, the kill takes one of them and the devstack
starts it again (jukinet/devstack.py Supervisor, as systemd's Restart=always does in production).
`--second-worker bench`: the devstack starts one worker and this bench the other (same command and
environment), and the kill takes the bench's, which is not started again. A drill whose run is
left behind never ends: after `--stall` seconds without progress the bench reads the figures,
stops the stack and reports that drill as still running (exit code 4).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from benches.harness import display_width, machine
from benches.prefecture_figures import (
    Answer,
    Delivery,
    FlowRun,
    delivery,
    incident_runs,
    latencies,
    percentiles,
    read_mailbox,
    strays,
    town_mails,
)
from benches.prefecture_stack import DevStack, children_of
from jukinet.config.synthetic import SHIGA, make_town, surname
from jukinet.drill import api as drill_api
from jukinet.drill.scenario import load_scenario
from jukinet.settings import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "deployments" / "config"
DEFAULT_SCENARIO = PROJECT_ROOT / "scenarios" / "a-short-outage.yaml"
RESULTS = Path(__file__).resolve().parent / "results"
TOWN_TAG = "団体:"
NUMBER_LINE = "事案番号 "


# --- 1. the towns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    code: str
    name: str
    scenario: Path  # rewritten for the town's staff


def staff_names(roster: Path) -> dict[str, str]:
    people = YAML().load(roster.read_text(encoding="utf-8"))["people"]
    return {str(p["id"]): str(p["name"]) for p in people}


def rewrite_scenario(
    source: Path, target: Path, example: dict[str, str], town: dict[str, str]
) -> Path:
    """`source` with every example staff name replaced by the town's (same person id)."""
    text = source.read_text(encoding="utf-8")
    for person, name in sorted(example.items(), key=lambda p: -len(p[1])):
        text = text.replace(name, town[person])
    target.write_text(text, encoding="utf-8")
    return target


def prepare(home: Path, count: int, scenarios: list[Path]) -> tuple[Path, list[Town]]:
    config_root = home / "config"
    folder = home / "scenarios"
    folder.mkdir(parents=True)
    example = staff_names(EXAMPLE / "roster.yaml")
    towns = []
    for i, (code, name) in enumerate(SHIGA[:count]):
        make_town(EXAMPLE, config_root / code, code, name)
        staff = staff_names(config_root / code / "roster.yaml")
        assert all(n.startswith(surname(name) + " ") for n in staff.values()), staff
        source = scenarios[i % len(scenarios)]
        target = folder / f"{code}-{source.name}"
        towns.append(Town(code, name, rewrite_scenario(source, target, example, staff)))
    return config_root, towns


# --- 3. the drills --------------------------------------------------------------------------


class AnswerCount:
    """Accepted answers given by the drills of this process (wraps the drill runner's resume)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted = 0
        self.original = drill_api.Api.resume

    def __enter__(self) -> AnswerCount:
        counter, original = self, self.original

        def resume(
            api: drill_api.Api, run: drill_api.Run, run_input: dict[str, Any]
        ) -> tuple[str, str]:
            result = original(api, run, run_input)
            if result[0] == "ACCEPT":
                with counter.lock:
                    counter.accepted += 1
            return result

        drill_api.Api.resume = resume  # type: ignore[method-assign, assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        drill_api.Api.resume = self.original  # type: ignore[method-assign]


@dataclass
class Outcome:
    town: str
    code: int
    started: float
    ended: float
    output: str

    @property
    def number(self) -> str:
        for line in self.output.splitlines():
            if line.startswith(NUMBER_LINE):
                return line.removeprefix(NUMBER_LINE).strip()
        return ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "town": self.town,
            "exit_code": self.code,
            "incident": self.number,
            "seconds": round(self.ended - self.started, 2),
            "output_tail": self.output.splitlines()[-8:] if self.code else [],
        }


@dataclass
class Running:
    """A drill in its thread: its output so far (read while it runs) and, once done, its code."""

    town: Town
    out: io.StringIO = field(default_factory=io.StringIO)
    started: float = 0.0

    def outcome(self, code: int) -> Outcome:
        return Outcome(self.town.code, code, self.started, time.time(), self.out.getvalue())

    def so_far(self) -> Outcome:
        """The drill as it stands (exit code 4: still running when the bench stopped waiting)."""
        return self.outcome(4)


def run_drill(stack: DevStack, drill_: Running, timeout: float) -> Outcome:
    from jukinet.drill.cli import main as drill

    argv = [str(drill_.town.scenario), "--api", stack.api_url, "--town", drill_.town.code]
    drill_.started = time.time()
    try:
        code = drill([*argv, "--timeout", str(timeout)], stdout=drill_.out, stderr=drill_.out)
    except Exception as exc:  # a drill that crashes is a failed drill, not a failed bench
        print(f"例外 / exception: {type(exc).__name__}: {exc}", file=drill_.out)
        code = 3
    return drill_.outcome(code)


@dataclass
class Kill:
    at: float | None = None
    pid: int | None = None
    flow_runs_of_it: int = 0  # its live children (flow-run processes) at that moment
    answers_before: int = 0
    of_answers: int = 0
    stack_alive_after: bool | None = None  # the devstack 10 s after the kill
    workers_online_before: list[str] = field(default_factory=list)
    workers_online_after: list[str] = field(default_factory=list)


def kill_one_worker(stack: DevStack, kill: Kill, only_extra: bool) -> None:
    candidates = [p.pid for p in stack.extra if p.poll() is None] if only_extra else stack.workers()
    if not candidates:
        raise RuntimeError("no worker process to kill")
    pid = max(candidates, key=lambda p: len(children_of(p)))
    kill.workers_online_before = stack.http.online_workers()
    kill.flow_runs_of_it = len(children_of(pid))
    os.kill(pid, signal.SIGKILL)  # the worker only: its flow runs are in sessions of their own
    kill.at, kill.pid = time.time(), pid
    print(
        f"  {time.strftime('%H:%M:%S')} worker {pid} SIGKILLed after {kill.answers_before} of "
        f"{kill.of_answers} answers ({kill.flow_runs_of_it} flow-run processes of it running)",
        flush=True,
    )


def all_at_once(
    stack: DevStack,
    towns: list[Town],
    timeout: float,
    kill: Kill | None,
    only_extra: bool,
    stall: float,
) -> tuple[list[Outcome], list[Future[Outcome]]]:
    """Run the drills; stop waiting when no answer was given and no drill ended for `stall`
    seconds (a run left behind by the kill). Returns the outcomes (those still running as they
    stand, exit code 4) and the futures of the drills still running."""
    total = sum(len(load_scenario(t.scenario).steps) for t in towns)
    threshold = math.ceil(total / 3)
    drills = [Running(t) for t in towns]
    pool = ThreadPoolExecutor(len(towns), thread_name_prefix="drill")
    with AnswerCount() as count:
        futures = [pool.submit(run_drill, stack, d, timeout) for d in drills]
        last, progress = (0, 0), time.monotonic()
        while not all(f.done() for f in futures):
            time.sleep(0.5)
            now = (count.accepted, sum(f.done() for f in futures))
            if now != last:
                if now[0] // 20 != last[0] // 20 or now[1] != last[1]:
                    print(
                        f"  {time.strftime('%H:%M:%S')} answers {now[0]}/{total}, "
                        f"drills done {now[1]}/{len(towns)}",
                        flush=True,
                    )
                last, progress = now, time.monotonic()
            if time.monotonic() - progress > stall:
                print(f"  no progress for {stall:.0f} s: not waiting for the rest", flush=True)
                break
            if kill is not None and kill.at is None and now[0] >= threshold:
                kill.answers_before, kill.of_answers = now[0], total
                kill_one_worker(stack, kill, only_extra)
                time.sleep(10)
                kill.stack_alive_after = stack.alive()
                if not stack.alive():
                    print(
                        "  the devstack stopped after the kill:\n" + stack.text()[-1500:],
                        flush=True,
                    )
    pool.shutdown(wait=False)
    outcomes = [
        f.result() if f.done() else d.so_far() for f, d in zip(futures, drills, strict=True)
    ]
    return outcomes, [f for f in futures if not f.done()]


# --- 5. the figures -------------------------------------------------------------------------


@dataclass
class TownFigures:
    code: str
    name: str
    incident: str
    passed: bool
    chapter_runs: int
    completed: int
    notices: Delivery
    strays: int
    chain_ok: bool
    chain_records: int
    runs: list[str]  # `name: state` of the incident's runs
    stuck: int  # runs Pending/Running whose process is gone


def figures(
    stack: DevStack, towns: list[Town], baseline: Outcome, outcomes: list[Outcome]
) -> tuple[list[Answer], list[Answer], list[TownFigures], Delivery]:
    from jukinet.store.db import make_engine
    from jukinet.store.store import Store

    engine = make_engine(stack.store_url)
    mails = read_mailbox(stack.home / "mailbox")
    single: list[Answer] = []
    many: list[Answer] = []
    per_town: list[TownFigures] = []
    base = Delivery()
    try:
        for town, outcome in zip(towns, outcomes, strict=True):
            by_incident: dict[str, list[FlowRun]] = incident_runs(stack.http, TOWN_TAG + town.code)
            store = Store(engine, town.code)
            mine = town_mails(mails, town.code)
            everything = store.notices()
            if town.code == baseline.town and baseline.number in by_incident:
                single += latencies(town.code, baseline.number, by_incident[baseline.number])
                incident = store.incident(baseline.number)
                base = delivery([n for n in everything if n.incident_id == incident.id], mine)
            runs = by_incident.get(outcome.number, [])
            many += latencies(town.code, outcome.number, runs)
            ids = {store.incident(outcome.number).id} if outcome.number else set()
            chain = store.verify_chain()
            chapter = [r for r in runs if r.chapter]
            per_town.append(
                TownFigures(
                    town.code,
                    town.name,
                    outcome.number,
                    outcome.code == 0,
                    len(chapter),
                    sum(r.state == "COMPLETED" for r in chapter),
                    delivery([n for n in everything if n.incident_id in ids], mine),
                    strays(everything, mine),
                    chain.ok,
                    chain.records,
                    [r.describe() for r in runs],
                    sum(r.stuck for r in runs),
                )
            )
    finally:
        engine.dispose()
    return single, many, per_town, base


# --- 6. the report --------------------------------------------------------------------------


def row(label: str, stats: dict[str, Any]) -> str:
    pad = " " * max(0, 46 - display_width(label))

    def f(v: Any) -> str:
        return "—" if v is None else f"{v:.2f}"

    return f"{label}{pad}{stats['n']:>4}  {f(stats['p50']):>7}  {f(stats['p95']):>7}  {f(stats['max']):>7}"


def report(
    args: argparse.Namespace,
    towns: list[Town],
    single: list[Answer],
    many: list[Answer],
    per_town: list[TownFigures],
    base: Delivery,
    baseline: Outcome,
    outcomes: list[Outcome],
    kill: Kill | None,
    stack_info: dict[str, Any],
    wall: dict[str, float],
) -> dict[str, Any]:
    kill_at = kill.at if kill is not None else None
    before = [a for a in many if kill_at is None or a.resumed < kill_at]
    after = [a for a in many if kill_at is not None and a.resumed >= kill_at]
    straddle = [
        a for a in before if kill_at is not None and a.ended is not None and a.ended > kill_at
    ]
    stats = {
        "single": percentiles(a.seconds for a in single),
        "all": percentiles(a.seconds for a in many),
        "before_kill": percentiles(a.seconds for a in before),
        "after_kill": percentiles(a.seconds for a in after),
        "single_last_answer_to_completed": percentiles(a.to_end for a in single if a.ended is None),
        "all_last_answer_to_completed": percentiles(a.to_end for a in many if a.ended is None),
    }
    total = Delivery()
    for t in per_town:
        total.add(t.notices)
    n = len(towns)
    print(
        "\n応答から次の手順の一時停止まで / answer accepted → next pause (seconds, Prefect states)"
    )
    print(f"{'':46}{'n':>4}  {'p50':>7}  {'p95':>7}  {'max':>7}")
    print(row("単独の訓練 / single drill", stats["single"]))
    print(row(f"{n} の訓練を同時に / {n} drills at once", stats["all"]))
    if kill_at is not None:
        print(row("  ワーカー停止の前 / before the kill", stats["before_kill"]))
        print(row("  ワーカー停止の後 / after the kill", stats["after_kill"]))
        print(
            f"  （停止の前に応答し、停止の後に一時停止: {len(straddle)} 件 / straddling the kill）"
        )
    print(
        row(
            "最後の応答から完了まで（単独）/ last answer → completed",
            stats["single_last_answer_to_completed"],
        )
    )
    print(
        row(
            f"最後の応答から完了まで（{n}）/ last answer → completed",
            stats["all_last_answer_to_completed"],
        )
    )
    passed = sum(o.code == 0 for o in outcomes)
    completed = sum(t.completed for t in per_town)
    chapter = sum(t.chapter_runs for t in per_town)
    lines = [
        (
            "訓練の合格 / drills passed",
            f"{passed}/{n}（単独 / single: {'OK' if baseline.code == 0 else 'NG'}）",
        ),
        ("章の実行の完了 / chapter runs completed", f"{completed}/{chapter}"),
        ("通知（送付済み/記録）/ notices sent/recorded", f"{total.sent}/{total.notices}"),
        (
            "通知（受信/期待）/ delivered/expected",
            f"{total.delivered}/{total.notices}（欠落 / lost {total.losses}）",
        ),
        (
            "重複（0 であること）/ duplicates (must be 0)",
            f"{total.duplicates}（同じ宛先と件名 / same To+Subject: {total.same_recipient_subject}）",
        ),
        ("対応しないメール / strays", str(sum(t.strays for t in per_town))),
        ("取り残された実行 / runs stuck (process gone)", str(sum(t.stuck for t in per_town))),
        ("監査記録の連鎖 / audit chains verified", f"{sum(t.chain_ok for t in per_town)}/{n}"),
        (
            "単独の訓練の通知 / single drill's notices",
            f"{base.delivered}/{base.notices} delivered, {base.duplicates} duplicates",
        ),
        ("所要時間 / wall (single, all at once)", f"{wall['single']:.0f} s, {wall['all']:.0f} s"),
    ]
    if kill is not None:
        alive = {True: "継続 / kept running", False: "停止 / stopped", None: "—"}[
            kill.stack_alive_after
        ]
        lines.append(
            (
                "ワーカーの停止 / worker killed",
                f"pid {kill.pid} after {kill.answers_before}/{kill.of_answers} answers; stack {alive}",
            )
        )
    print()
    for label, value in lines:
        print(f"{label}{' ' * max(0, 46 - display_width(label))}{value}")
    failed = [o for o in [baseline, *outcomes] if o.code != 0]
    for o in failed:
        print(
            f"\n不合格 / failed: {o.town} (exit {o.code})\n  "
            + "\n  ".join(o.output.splitlines()[-6:])
        )

    host = machine()
    host["cores"] = os.cpu_count()
    host["ram_mb"] = ram_mb()
    return {
        "benchmark": "prefecture",
        "command": "python -m benches.prefecture "
        + " ".join(sys.argv[1:] if args.argv is None else args.argv),
        "machine": host,
        "prefect": version("prefect"),
        **stack_info,
        "towns": [
            {"code": t.code, "name": t.name, "scenario": t.scenario.name.split("-", 1)[1]}
            for t in towns
        ],
        "durations_s": wall,
        "kill": None if kill is None else kill.__dict__,
        "latency_s": stats,
        "straddling_the_kill": len(straddle),
        "drills": {"passed": passed, "of": n, "single_passed": baseline.code == 0},
        "chapter_runs": {"completed": completed, "of": chapter},
        "notices": {**total.__dict__, "strays": sum(t.strays for t in per_town)},
        "single_notices": base.__dict__,
        "chains_ok": sum(t.chain_ok for t in per_town),
        "runs_stuck": sum(t.stuck for t in per_town),
        "per_town": [{**t.__dict__, "notices": t.notices.__dict__} for t in per_town],
        "outcomes": {"single": baseline.as_dict(), "towns": [o.as_dict() for o in outcomes]},
        "answers": {"single": [a.as_dict() for a in single], "towns": [a.as_dict() for a in many]},
    }


def ram_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


# --- main -----------------------------------------------------------------------------------


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument(
        "--towns", type=int, default=len(SHIGA), choices=range(1, len(SHIGA) + 1), metavar="1-19"
    )
    parser.add_argument(
        "--scenario", type=Path, nargs="+", default=[DEFAULT_SCENARIO], help="taken in turn by town"
    )
    parser.add_argument(
        "--kill",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="SIGKILL one worker a third of the way (default on)",
    )
    parser.add_argument(
        "--second-worker",
        choices=("stack", "bench"),
        default="stack",
        help="who starts the second worker (see the module docstring)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=2400.0,
        help="each drill's time limit when all run at once (s)",
    )
    parser.add_argument(
        "--stall",
        type=float,
        default=420.0,
        help="stop waiting after this long without an answer or a finished drill (s); more than"
        " a crashed run's way back (heartbeats 90 s, Pending 120 s, the 60 s schedule, a process)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="default benches/results/prefecture-<UTC date>.json",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary JUKINET_HOME (logs, mailbox)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    args.argv = argv
    output = args.output or RESULTS / f"prefecture-{datetime.now(UTC):%Y-%m-%d}.json"
    began = time.time()
    home = Path(tempfile.mkdtemp(prefix="jukinet-pref-"))
    home.chmod(0o755)  # as root, PostgreSQL runs as `postgres` and must pass through
    config_root, towns = prepare(home, args.towns, [p.resolve() for p in args.scenario])
    print(f"{len(towns)} towns, {home}; starting the stack …", flush=True)
    saved = dict(os.environ)
    stack: DevStack | None = None
    try:
        workers = 2 if args.second_worker == "stack" else 1
        stack = DevStack.start(home, config_root, workers)
        if args.second_worker == "bench":
            stack.extra_worker()
        print(f"stack up in {time.time() - began:.0f} s; workers {stack.workers()}", flush=True)
        os.environ.update(
            {
                "JUKINET_HOME": str(home),
                "JUKINET_CONFIG_DIR": str(config_root),
                "JUKINET_STORE_URL": stack.store_url,
                "PREFECT_API_URL": stack.api_url,
                "PREFECT_API_AUTH_STRING": stack.auth_string,
            }
        )
        stack_info: dict[str, Any] = {
            "postgresql": stack.postgres_version(),
            "workers": 2,
            "second_worker": args.second_worker,
        }

        t0 = time.time()
        baseline = run_drill(stack, Running(towns[0]), timeout=900.0)
        wall = {"single": time.time() - t0}
        print(
            f"single drill ({towns[0].name}): exit {baseline.code}, {wall['single']:.0f} s",
            flush=True,
        )

        kill = Kill() if args.kill else None
        t0 = time.time()
        print(f"{len(towns)} drills at once …", flush=True)
        outcomes, unfinished = all_at_once(
            stack, towns, args.timeout, kill, args.second_worker == "bench", args.stall
        )
        wall["all"] = time.time() - t0
        if kill is not None:
            kill.workers_online_after = stack.http.online_workers() if stack.alive() else []
        print(f"{len(towns)} drills done in {wall['all']:.0f} s", flush=True)

        stack_info["stack_alive_at_end"] = stack.alive()
        if stack.alive():
            single, many, per_town, base = figures(stack, towns, baseline, outcomes)
        else:  # nothing left to read the runs and the store from
            stack_info["stack_output_tail"] = stack.text()[-2000:]
            single, many, per_town, base = [], [], [], Delivery()
        wall["bench"] = time.time() - began
        data = report(
            args, towns, single, many, per_town, base, baseline, outcomes, kill, stack_info, wall
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if stack is not None:
            stack.close()
            print(f"stack stopped; PostgreSQL running: {stack.cluster.running()}", flush=True)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
        else:
            print(f"kept {home}")
    data["durations_s"]["with_stop"] = time.time() - began
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    print(f"\nresults: {output}")
    if unfinished:  # their threads wait on a stopped stack; do not wait for their retries
        print(f"{len(unfinished)} drill(s) still waiting: exiting without them", flush=True)
        os._exit(1)
    notices = data["notices"]
    ok = (
        data["drills"]["passed"] == len(towns)
        and data["drills"]["single_passed"]
        and notices["duplicates"] == notices["losses"] == notices["strays"] == 0
        and data["chains_ok"] == len(towns)
        and data["runs_stuck"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
