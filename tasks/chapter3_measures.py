"""第3章 手順2 緊急措置の実施: the chief's report and instructions, the system-stop order, and the
住基ネット担当者's measures (cooperation, hearings, the receiving body)."""

from __future__ import annotations

from flows.runtime import runtime, step_task
from jukinet.forms.chapter3 import (
    CooperationBody,
    EmergencyInstruction,
    EmergencyMeasures,
    StopExecution,
    UnauthorizedReport,
)
from jukinet.forms.common import jst_datetime
from jukinet.notices import recipients
from jukinet.plan import Body, Role
from jukinet.store.models import utcnow
from tasks.common import staff_sender, to_bodies, to_roles
from tasks.notify import notify

COOPERATION_BODIES = {
    CooperationBody.CENTER: Body.CENTER,
    CooperationBody.PREFECTURE: Body.PREFECTURE,
    CooperationBody.PLANNING: Body.PLANNING,
    CooperationBody.VENDOR: Body.VENDOR,
}


@step_task("手順2 町長への報告 (C3.S2)")
def report_to_mayor(
    number: str, report: UnauthorizedReport, instruction: EmergencyInstruction, answerer: str
) -> None:
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C3.S2",
        "unauthorized_mayor_report",
        to_roles(Role.MAYOR),
        staff_sender(Role.CHIEF, answerer),
        {"report": report, "instruction": instruction, "reason": "", "level_label": ""},
    )


@step_task("手順2 データ保護等の指示 (C3.S2)")
def instruct_protection(number: str, instruction: EmergencyInstruction, answerer: str) -> None:
    """Through システム管理者 to セキュリティ責任者, and on to 住基ネット担当者 who carries it out."""
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C3.S2",
        "指示",
        f"データ保護等の指示: {instruction.instructions}（{instruction.level3.value}）",
        event_key=f"{number}|C3.S2",
        actor=answerer,
    )
    notify(
        incident,
        "C3.S2",
        "protection_instruction",
        to_roles(Role.SYS_ADMIN, Role.SEC_OFFICER, Role.OPERATOR),
        staff_sender(Role.CHIEF, answerer),
        {
            "instructions": instruction.instructions,
            "judgement_label": "レベル3に該当する可能性",
            "judgement_text": instruction.level3.value,
        },
    )


@step_task("手順2② システムの停止の命令 (C3.S2.2)")
def order_system_stop(number: str, instruction: EmergencyInstruction, answerer: str) -> None:
    """The order is a record (who, when, what) and a notice to those who carry it out."""
    store = runtime().store
    incident = store.incident(number)
    ordered_at = utcnow()
    ordered_by = f"{Role.CHIEF.label} {answerer}"
    store.audit(
        incident.id,
        "C3.S2.2",
        "停止命令",
        f"{instruction.system_stop.value}（対象: {instruction.stop_target}）を命令",
        event_key=f"{number}|C3.S2.2.order",
        actor=answerer,
        details={"measure": instruction.system_stop.value, "ordered_at": ordered_at.isoformat()},
    )
    notify(
        incident,
        "C3.S2.2",
        "system_stop_order",
        to_roles(Role.OPERATOR, Role.SEC_OFFICER),
        staff_sender(Role.CHIEF, answerer),
        {"instruction": instruction, "ordered_by": ordered_by, "ordered_at": ordered_at},
    )


@step_task("手順2② システムの停止の実施 (C3.S2.2)")
def record_stop(number: str, stop: StopExecution, answerer: str) -> None:
    store = runtime().store
    incident = store.incident(number)
    done = jst_datetime(stop.done_on, stop.done_at)
    store.audit(
        incident.id,
        "C3.S2.2",
        "停止実施",
        f"{stop.done}（{done.strftime('%Y-%m-%d %H:%M')} 日本時間）",
        event_key=f"{number}|C3.S2.2.done",
        actor=answerer,
        details={"at": done.isoformat()},
    )
    store.set_incident(incident.id, state="対応中（システム停止中）")


@step_task("手順2①③④ 緊急措置の実施 (C3.S2.1・C3.S2.3・C3.S2.4)")
def carry_out_measures(
    number: str, report: UnauthorizedReport, measures: EmergencyMeasures, answerer: str
) -> None:
    store = runtime().store
    incident = store.incident(number)
    sender = staff_sender(Role.OPERATOR, answerer)
    data = {"report": report, "measures": measures}
    store.audit(
        incident.id,
        "C3.S2.1",
        "緊急措置",
        f"被害拡大の防止: {measures.spread_measures}",
        event_key=f"{number}|C3.S2.1",
        actor=answerer,
    )
    notify(
        incident,
        "C3.S2.1",
        "cooperation_request",
        to_bodies(*(COOPERATION_BODIES[b] for b in measures.cooperation_from)),
        sender,
        data,
    )
    if measures.hearings_result.strip() not in ("", "なし"):
        store.audit(
            incident.id,
            "C3.S2.3",
            "聴収・調査",
            measures.hearings_result,
            event_key=f"{number}|C3.S2.3",
            actor=answerer,
        )
    body = measures.receiving_body.strip()
    if body:
        store.audit(
            incident.id,
            "C3.S2.4",
            "提供先機関への要請",
            f"{body}へ要請: {measures.receiving_request}",
            event_key=f"{number}|C3.S2.4",
            actor=answerer,
        )
        notify(
            incident,
            "C3.S2.4",
            "receiving_body_request",
            recipients.for_receiver(runtime().config, body),
            sender,
            data,
        )
