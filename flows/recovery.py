"""中断した実行の再開 — a scheduled flow: a run whose process or machine died mid-step is run
again on any worker, and the restart is recorded in its incident's 経過記録.

The open-source server leaves a run whose process died where it was (prefect#16746): Running
when the process died inside a step, Pending when the worker died between taking the run and
the process starting it. A Running process sends a heartbeat event every
PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (none when the setting is unset; at least 30). So every
minute this flow marks Crashed, in the `jukinet` work pool,
- a Running run without a heartbeat for MISSED_HEARTBEATS periods (only when heartbeats are on),
- a Pending run that has not started for PENDING_LIMIT seconds (or three heartbeat periods),
and schedules every run that crashed in the last day again, under the state name 「再実行」, at
most MAX_RESTARTS times per run. (An automation on the heartbeat events, as Prefect's guide
"detect zombie flows" builds it, arms only after a heartbeat it has seen: it missed both a run
killed in its first seconds and every Pending one; measured in tests/integration/test_workers.py.)

The replay is safe by construction: steps recorded done are skipped (flows/runtime.run_step),
answers already given are read back, and every notice and record is keyed (DESIGN.md §4). A run
suspended for an answer has no process and is not affected by a dead worker at all: any worker
takes it up when it is resumed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.events.filters import (
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventResourceFilter,
)
from prefect.logging import get_run_logger
from prefect.states import Crashed, Scheduled

from flows.runtime import MUNICIPALITY_PARAMETER, runtime
from jukinet.store.models import utcnow

WORK_POOL = "jukinet"
RESTART_STATE = "再実行"
MAX_RESTARTS = 3
LOOKBACK = timedelta(days=1)
MISSED_HEARTBEATS = 3
PENDING_LIMIT = timedelta(seconds=120)
HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"
LoggerLike = logging.Logger | logging.LoggerAdapter[Any]


def heartbeat_seconds() -> int | None:
    """The flow runs' heartbeat period (Prefect's setting, at least 30 s); None: no heartbeats."""
    value = os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "").strip()
    return max(30, int(value)) if value.isdigit() else None


def _in_pool(client: SyncPrefectClient, *types: StateType) -> list[FlowRun]:
    return client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(types)))
        ),
        work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[WORK_POOL])),
    )


def _last_heartbeat(client: SyncPrefectClient, run: FlowRun, since: datetime) -> datetime | None:
    page = client.read_events(
        EventFilter(
            occurred=EventOccurredFilter(since=since, until=utcnow()),
            event=EventNameFilter(name=[HEARTBEAT_EVENT]),
            resource=EventResourceFilter(id=[f"prefect.flow-run.{run.id}"]),
        ),
        limit=1,
    )
    return max((e.occurred for e in page.events), default=None)


def silent_runs(
    client: SyncPrefectClient, now: datetime | None = None
) -> Iterator[tuple[FlowRun, str]]:
    """Runs whose process is gone as of `now`, with the reason (Japanese, for the Crashed
    state)."""
    now = now or utcnow()
    period = heartbeat_seconds()
    pending_limit = max(PENDING_LIMIT, timedelta(seconds=(period or 0) * MISSED_HEARTBEATS))
    for run in _in_pool(client, StateType.PENDING):
        if run.state and now - run.state.timestamp > pending_limit:
            yield (
                run,
                (
                    f"ワーカーが受け取ってから {int(pending_limit.total_seconds())} 秒たっても"
                    "始まりませんでした（ワーカーの停止）"
                ),
            )
    if period is None:
        return
    quiet = timedelta(seconds=period * MISSED_HEARTBEATS)
    for run in _in_pool(client, StateType.RUNNING):
        if not run.state or now - run.state.timestamp <= quiet:
            continue
        if _last_heartbeat(client, run, now - quiet) is None:
            yield (
                run,
                (
                    f"ハートビートが {int(quiet.total_seconds())} 秒途絶えました"
                    "（ワーカーの機械またはプロセスの停止）"
                ),
            )


def _restarts(client: SyncPrefectClient, run: FlowRun) -> int:
    return sum(1 for s in client.read_flow_run_states(run.id) if s.name == RESTART_STATE)


def _crashed_runs(client: SyncPrefectClient) -> list[FlowRun]:
    """Runs of the pool that crashed in the last day (older ones are left to the staff)."""
    since = utcnow() - LOOKBACK
    return [
        run
        for run in _in_pool(client, StateType.CRASHED)
        if run.state and run.state.timestamp >= since
    ]


def _record(run: FlowRun, attempt: int, *, restarted: bool) -> None:
    """The restart (or the refusal to restart again) in the incident's audit trail."""
    parameters: dict[str, Any] = run.parameters or {}
    rt = runtime(str(parameters.get(MUNICIPALITY_PARAMETER) or "") or None)
    number = parameters.get("incident_number")
    incident = (
        rt.store.incident(str(number)) if number else rt.store.incident_by_origin(str(run.id))
    )
    records = rt.store.audit_records(incident.id) if incident else []
    clause = records[-1].clause if records else "C1.1"
    if restarted:
        kind = "中断からの再実行"
        summary = (
            f"フロー実行「{run.name}」の処理が中断した（ワーカーの停止）ため、再実行しました"
            f"（{attempt} 回目。記録済みの手順は繰り返しません）"
        )
    else:
        kind = "再実行の上限"
        summary = (
            f"フロー実行「{run.name}」が {MAX_RESTARTS} 回再実行しても中断したため、"
            "再実行を止めました。システム管理者が原因を確認してください"
        )
    rt.store.audit(
        incident.id if incident else None,
        clause,
        kind,
        summary,
        event_key=f"restart|{run.id}|{attempt}",
        details={"flow_run_id": str(run.id), "attempt": attempt},
    )


@flow(name="中断した実行の再開", flow_run_name="中断した実行の再開", log_prints=False)
def resume_interrupted() -> dict[str, int]:
    """Mark the runs whose process is gone Crashed; schedule again every run that crashed in the
    last day (at most MAX_RESTARTS times)."""
    with get_client(sync_client=True) as client:
        return recover(client, get_run_logger())


def recover(
    client: SyncPrefectClient, logger: LoggerLike, now: datetime | None = None
) -> dict[str, int]:
    """One pass of 中断した実行の再開 as of `now` (a test looks minutes ahead instead of
    waiting): counts of the runs marked crashed, scheduled again and given up."""
    done = {"crashed": 0, "restarted": 0, "given_up": 0}
    for run, reason in list(silent_runs(client, now)):
        client.set_flow_run_state(run.id, Crashed(message=reason), force=True)
        done["crashed"] += 1
        logger.warning("実行「%s」を Crashed にしました: %s", run.name, reason)
    for run in _crashed_runs(client):
        attempt = _restarts(client, run) + 1
        if attempt > MAX_RESTARTS:
            _record(run, attempt, restarted=False)
            done["given_up"] += 1
            continue
        _record(run, attempt, restarted=True)
        client.set_flow_run_state(
            run.id,
            Scheduled(
                name=RESTART_STATE,
                message=f"中断したため再実行します（{attempt} 回目）",
            ),
            force=True,
        )
        done["restarted"] += 1
        logger.warning("中断した実行「%s」を再実行します（%d 回目）", run.name, attempt)
    return done
