"""中断した実行の再開 — a scheduled flow: a run whose process or machine died mid-step is run
again on any worker, and the restart is recorded in its incident's 経過記録.

A flow-run process sends a heartbeat every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (180 by
default, at least 30). The open-source server leaves a run whose process died in Running
(prefect#16746) and never retries a Crashed run. So this flow makes sure the automation
`ZOMBIE_AUTOMATION` exists (no heartbeat for three periods → Crashed, as Prefect's guide
"detect zombie flows" does it), and schedules each run of the `jukinet` work pool that crashed
in the last day again, under the state name 「再実行」, at most MAX_RESTARTS times per run.

The replay is safe by construction: steps recorded done are skipped (flows/runtime.run_step),
answers already given are read back, and every notice and record is keyed (DESIGN.md §4). A run
suspended for an answer has no process and is not affected by a dead worker at all: any worker
takes it up when it is resumed.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.logging import get_run_logger
from prefect.states import Scheduled

from flows.runtime import MUNICIPALITY_PARAMETER, runtime
from jukinet.store.models import utcnow

WORK_POOL = "jukinet"
ZOMBIE_AUTOMATION = "停止した実行の検出（ハートビートの途絶）"
RESTART_STATE = "再実行"
MAX_RESTARTS = 3
LOOKBACK = timedelta(days=1)
MISSED_HEARTBEATS = 3


def heartbeat_seconds() -> int:
    """The flow runs' heartbeat period (Prefect's setting, at least 30 s)."""
    value = os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "180")
    return max(30, int(value)) if value.isdigit() else 180


def ensure_zombie_automation(client: SyncPrefectClient) -> bool:
    """Create the automation that marks a silent run Crashed, unless it exists; True if created."""
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    if client.read_automations_by_name(ZOMBIE_AUTOMATION):
        return False
    client.create_automation(
        AutomationCore(
            name=ZOMBIE_AUTOMATION,
            description="ハートビートが途絶えた実行（処理中にワーカーの機械やプロセスが停止したもの）を"
            "Crashed にします。「中断した実行の再開」がその実行を再実行します。",
            trigger=EventTrigger(
                after={"prefect.flow-run.heartbeat"},
                expect={
                    "prefect.flow-run.heartbeat",
                    "prefect.flow-run.Completed",
                    "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled",
                    "prefect.flow-run.Crashed",
                    "prefect.flow-run.Suspended",
                    "prefect.flow-run.Paused",
                },
                match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
                for_each={"prefect.resource.id"},
                posture=Posture.Proactive,
                threshold=1,
                within=timedelta(seconds=heartbeat_seconds() * MISSED_HEARTBEATS),
            ),
            actions=[
                ChangeFlowRunState(
                    state=StateType.CRASHED,
                    message="ハートビートが途絶えました（ワーカーの機械またはプロセスの停止）",
                )
            ],
        )
    )
    return True


def _restarts(client: SyncPrefectClient, run: FlowRun) -> int:
    return sum(1 for s in client.read_flow_run_states(run.id) if s.name == RESTART_STATE)


def _crashed_runs(client: SyncPrefectClient) -> list[FlowRun]:
    return client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED])),
            start_time=FlowRunFilterStartTime(after_=utcnow() - LOOKBACK),
        ),
        work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[WORK_POOL])),
    )


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
    """Schedule again every run that crashed in the last day (at most MAX_RESTARTS times)."""
    logger = get_run_logger()
    done = {"restarted": 0, "given_up": 0}
    with get_client(sync_client=True) as client:
        if ensure_zombie_automation(client):
            logger.info("自動化「%s」を作成しました", ZOMBIE_AUTOMATION)
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
