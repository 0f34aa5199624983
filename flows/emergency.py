"""第1章 総則 — 緊急時対応: the discoverer's report, the classification, then chapter 2 or 3.

Approval contract: the classification (C1.2) is confirmed by 住基ネット担当者 or a deputy with an
approval code. Chapters 2 and 3 run as their own deployments (a subflow cannot suspend,
DESIGN.md §3), started once per incident by an idempotency key; in tests they run in-process.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from prefect import flow
from prefect.deployments import run_deployment
from prefect.logging import get_run_logger

from flows.failure import equipment_failure
from flows.human import ask
from flows.runtime import (
    MUNICIPALITY_PARAMETER,
    Municipality,
    current_flow_run_id,
    in_deployment,
    rename_run,
    run_step,
    run_url,
    runtime,
    step_task,
    town_tag,
)
from flows.unauthorized import unauthorized_act
from jukinet.forms.chapter1 import Classification, DiscoveryReport
from jukinet.forms.common import MODE_HINT, parameter
from jukinet.plan import EMERGENCY_CLASS_TEXT, EmergencyClass, Role
from tasks.chapter1 import fix_classification, register_incident, report_discovery

CHAPTER2_DEPLOYMENT = "第2章 機器障害/機器障害"
CHAPTER3_DEPLOYMENT = "第3章 不正行為/不正行為"


class Mode(StrEnum):
    REAL = "本番（実際の緊急時）"
    DRILL = "訓練"


def _start_deployment(number: str, drill: bool, deployment: str, chapter: str) -> str:
    """Start a chapter's deployment once for this incident (idempotency key); returns its run id."""
    code = runtime().store.municipality
    run = run_deployment(
        deployment,
        parameters={"incident_number": number, MUNICIPALITY_PARAMETER: code},
        as_subflow=False,
        timeout=0,
        tags=[town_tag(code), number, chapter, *(["訓練"] if drill else [])],
        idempotency_key=f"{code}|{number}|{chapter}",
    )
    return str(run.id)  # type: ignore[union-attr]


def _record_start(number: str, clause: str, chapter: str, run_id: str) -> None:
    store = runtime().store
    store.audit(
        store.incident(number).id,
        clause,
        f"{chapter}開始",
        f"{chapter}の手順を開始しました",
        event_key=f"{number}|{chapter}-started",
        details={"flow_run_id": run_id},
    )


@step_task("第2章 機器障害の開始 (C1.2.FAILURE)")
def start_chapter2(number: str, drill: bool) -> str:
    run_id = _start_deployment(number, drill, CHAPTER2_DEPLOYMENT, "第2章")
    _record_start(number, "C1.2.FAILURE", "第2章", run_id)
    return run_id


@step_task("第3章 不正行為の開始 (C1.2.UNAUTHORIZED・C3.S1.3)")
def start_chapter3(number: str, drill: bool, clause: str = "C1.2.UNAUTHORIZED") -> str:
    run_id = _start_deployment(number, drill, CHAPTER3_DEPLOYMENT, "第3章")
    _record_start(number, clause, "第3章", run_id)
    return run_id


@flow(name="第1章 緊急時対応", flow_run_name="緊急時対応 {report.discovered_on}", log_prints=False)
def emergency_response(
    report: Annotated[
        DiscoveryReport,
        parameter("発見報告", DiscoveryReport.__doc__),
    ],
    mode: Annotated[Mode, parameter("実施区分", MODE_HINT)],
    municipality_code: Municipality = "",
) -> str:
    """Declare an emergency (C1.1), confirm its class (C1.2) and run its chapter."""
    drill = mode is Mode.DRILL
    opened = runtime().store.incident_by_origin(current_flow_run_id())  # a replay after resume
    number = opened.number if opened else register_incident(report, drill, current_flow_run_id())
    incident = runtime().store.incident(number)
    rename_run(
        f"{number} 第1章 緊急時対応 {report.discovered_on.isoformat()}",
        [number, "第1章", *(["訓練"] if drill else [])],
    )
    run_step(incident, "C1.1.report", report_discovery, number, report, run_url())

    answer = ask(
        incident,
        "C1.2",
        "C1.2",
        Role.OPERATOR,
        Classification,
        question="発見報告の内容を確認し、緊急時の区分（障害・不正行為）を確定してください。",
        why="計画書 第1章2: 障害 — "
        + EMERGENCY_CLASS_TEXT[EmergencyClass.FAILURE]
        + "。不正行為 — "
        + EMERGENCY_CLASS_TEXT[EmergencyClass.UNAUTHORIZED]
        + "。",
    )
    cls = EmergencyClass(
        run_step(incident, "C1.2.fix", fix_classification, number, answer.value, answer.answerer)
    )
    if cls is EmergencyClass.UNAUTHORIZED:
        if in_deployment():
            started = run_step(incident, "C1.2.ch3", start_chapter3, number, drill)
            get_run_logger().info("第3章 不正行為を開始しました（フロー実行 %s）", started)
        else:
            unauthorized_act(
                number, runtime().store.municipality
            )  # tests: in-process, where pauses block instead of suspending
        return number
    if in_deployment():
        started = run_step(incident, "C1.2.ch2", start_chapter2, number, drill)
        get_run_logger().info("第2章 機器障害を開始しました（フロー実行 %s）", started)
    else:
        equipment_failure(
            number, runtime().store.municipality
        )  # tests: in-process, where pauses block instead of suspending
    return number
