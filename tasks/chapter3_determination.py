"""第3章 手順3 脅威度の判定 and its branches: level 1 lifts the emergency, 2 and 3 report the cause,
the chief decides (2) or must convene (3) the meeting; a later step may raise the level."""

from __future__ import annotations

from flows.runtime import runtime, step_task
from jukinet.forms.chapter3 import (
    CauseReport,
    Determination,
    Findings,
    MeetingNeed,
    Review,
    StopExecution,
    UnauthorizedReport,
    examples_of,
)
from jukinet.plan import Role, ThreatLevel
from jukinet.store.models import utcnow
from tasks.common import staff_sender, to_roles
from tasks.notify import notify


def level_state(level: ThreatLevel) -> str:
    return f"対応中（{level.label}）"


@step_task("手順3 脅威度の判定 (C3.S3)")
def record_determination(number: str, det: Determination, answerer: str) -> int:
    store = runtime().store
    incident = store.incident(number)
    level = det.level.level
    store.audit(
        incident.id,
        "C3.S3",
        "脅威度判定",
        f"{level.label}と判定（事例 {'、'.join(e.key for e in examples_of(det.examples))}）。"
        f"理由: {det.reason}",
        event_key=f"{number}|C3.S3",
        actor=answerer,
        details={
            "level": level.value,
            "consulted": [c.value for c in det.consulted],
        },
    )
    store.set_incident(incident.id, state=level_state(level))
    return level.value


@step_task("手順3① レベル1: 庁内報告・緊急時対応の解除 (C3.S3.1)")
def lift_emergency(
    number: str, det: Determination, stop: StopExecution | None, answerer: str
) -> None:
    rt = runtime()
    incident = rt.store.incident(number)
    notify(
        incident,
        "C3.S3.1",
        "level1_report",
        to_roles(Role.CHIEF, Role.SYS_ADMIN, Role.SEC_OFFICER, Role.OPERATOR),
        staff_sender(Role.SEC_ADMIN, answerer),
        {
            "determination": det,
            "stop": stop,
            "determined_by": f"{Role.SEC_ADMIN.label} {answerer}",
        },
    )
    rt.store.audit(
        incident.id,
        "C3.S3.1",
        "解除",
        "レベル1のため、庁内で報告し、緊急時対応を解除しました",
        event_key=f"{number}|C3.S3.1",
        actor=answerer,
    )
    rt.store.set_incident(incident.id, state="解除（レベル1）")


@step_task("手順3② 原因の解明・対策の報告 (C3.S3.2)")
def report_cause(number: str, cause: CauseReport, level: int, answerer: str) -> None:
    """セキュリティ管理者 reports the cause and countermeasures through システム管理者 to the chief."""
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C3.S3.2",
        "原因・対策",
        f"原因: {cause.cause}。対策: {cause.countermeasures}",
        event_key=f"{number}|C3.S3.2",
        actor=answerer,
    )
    notify(
        incident,
        "C3.S3.2",
        "cause_report",
        to_roles(Role.SYS_ADMIN, Role.CHIEF),
        staff_sender(Role.SEC_ADMIN, answerer),
        {"cause": cause, "level_label": ThreatLevel(level).label, "via": Role.SYS_ADMIN.label},
    )


@step_task("脅威度の引上げ (C3.S3)")
def raise_level(
    number: str, answer: CauseReport | Review | Findings, clause: str, answerer: str
) -> int:
    """New facts raise the level to 3; the flow takes level 3's path from here."""
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C3.S3",
        "脅威度引上げ",
        f"{ThreatLevel.L3.label}に引き上げ（{clause} での新たな事実による）。理由: {answer.raise_reason}",
        event_key=f"{number}|raised-to-3",
        actor=answerer,
        details={"level": ThreatLevel.L3.value, "at_clause": clause},
    )
    store.set_incident(incident.id, state=level_state(ThreatLevel.L3))
    return ThreatLevel.L3.value


@step_task("手順3④ レベル3: 町長への報告 (C3.S3.4)")
def report_level3_to_mayor(
    number: str, report: UnauthorizedReport, reason: str, chief: str
) -> None:
    """The chief (who instructed at 手順2) reports to the mayor promptly; the meeting is then
    mandatory."""
    rt = runtime()
    incident = rt.store.incident(number)
    notify(
        incident,
        "C3.S3.4",
        "unauthorized_mayor_report",
        to_roles(Role.MAYOR),
        staff_sender(Role.CHIEF, chief),
        {
            "report": report,
            "instruction": None,
            "reason": reason,
            "level_label": ThreatLevel.L3.label,
        },
    )
    rt.store.audit(
        incident.id,
        "C3.S3.4",
        "会議招集決定",
        "レベル3のため、町長に報告し、セキュリティ会議を招集します（計画書上必須）",
        event_key=f"{number}|C3.S3.4",
        details={"reported_at": utcnow().isoformat()},
    )


@step_task("手順3③ レベル2: セキュリティ会議の招集の判断 (C3.S3.3)")
def record_meeting_need(number: str, need: MeetingNeed, answerer: str) -> None:
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C3.S3.3",
        "会議招集判断",
        f"{need.decision.value}（理由: {need.reason}）",
        event_key=f"{number}|C3.S3.3",
        actor=answerer,
    )
