"""第3章 手順5・手順6・2: the cause and recovery, integrity, resumption, and the 恒久対策."""

from __future__ import annotations

from flows.runtime import runtime, step_task
from jukinet.forms.chapter2 import IntegrityConfirmation
from jukinet.forms.chapter3 import Findings, PermanentMeasures, ResumptionMeasures
from jukinet.plan import Body, Role, ThreatLevel
from tasks.common import staff_sender, to_bodies, to_roles, town_sender
from tasks.notify import notify


def round_suffix(n: int) -> str:
    return "" if n == 1 else f"#第{n}回"


@step_task("手順5 原因の究明と復旧措置 (C3.S5)")
def record_findings(
    number: str, findings: Findings, convened: bool, round_no: int, answerer: str
) -> None:
    """The chief's findings go to セキュリティ管理者, who confirms integrity next (C3.S6.1)."""
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C3.S5",
        "原因究明・復旧",
        f"原因: {findings.cause}。根拠: {findings.evidence}。影響の範囲: {findings.scope}。"
        f"復旧措置: {findings.recovery}",
        event_key=f"{number}|C3.S5|{round_no}",
        actor=answerer,
        details={"consulted": [c.value for c in findings.consulted]},
    )
    roles = [Role.SEC_ADMIN, Role.SYS_ADMIN, *([Role.MEETING] if convened else [])]
    notify(
        incident,
        "C3.S5",
        "findings_report",
        to_roles(*roles),
        staff_sender(Role.CHIEF, answerer),
        {"findings": findings},
        key_suffix=round_suffix(round_no),
    )


@step_task("手順6① 復旧状況・整合性の報告 (C3.S6.1)")
def report_integrity(
    number: str,
    findings: Findings,
    integrity: IntegrityConfirmation,
    by_meeting: bool,
    round_no: int,
    answerer: str,
) -> None:
    """To the chief for approval, or to the meeting where it ordered a stop."""
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C3.S6.1",
        "integrity_report",
        to_roles(Role.MEETING if by_meeting else Role.CHIEF),
        staff_sender(Role.SEC_ADMIN, answerer),
        {
            "findings": findings,
            "integrity": integrity,
            "decision_by": "運用再開の決定" if by_meeting else "運用再開の承認",
        },
        key_suffix=round_suffix(round_no),
    )


@step_task("手順6② 運用の再開 (C3.S6.2)")
def resume_operation(number: str, measures: ResumptionMeasures, answerer: str) -> None:
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C3.S6.2",
        "運用再開",
        f"運用を再開（{measures.resumed.strftime('%Y-%m-%d %H:%M')} 日本時間）。"
        f"アクセス権限の設定変更: {measures.access_rights}。町民サービスの停止解除: {measures.services}",
        event_key=f"{number}|C3.S6.2",
        actor=answerer,
        details={"at": measures.resumed.isoformat()},
    )
    store.set_incident(incident.id, state="運用再開")


@step_task("手順6③ 町長への報告 (C3.S6.3)")
def report_resumption_to_mayor(
    number: str,
    findings: Findings,
    integrity: IntegrityConfirmation,
    measures: ResumptionMeasures,
    resumption_by: str,
    chief: str,
) -> None:
    """The chief who approved (or chaired the meeting that decided) reports to the mayor."""
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C3.S6.3",
        "resumption_mayor_report",
        to_roles(Role.MAYOR),
        staff_sender(Role.CHIEF, chief),
        {
            "findings": findings,
            "integrity": integrity,
            "measures": measures,
            "resumption_by": resumption_by,
        },
    )


@step_task("手順6④ 関係機関への連絡 (C3.S6.4)")
def notify_resumption(
    number: str,
    integrity: IntegrityConfirmation,
    measures: ResumptionMeasures,
    resumption_by: str,
    level: int,
) -> None:
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C3.S6.4",
        "unauthorized_resumption_notice",
        to_bodies(Body.CENTER, Body.PREFECTURE, Body.MUNICIPALITIES),
        town_sender(),
        {
            "integrity": integrity,
            "measures": measures,
            "resumption_by": resumption_by,
            "level_label": ThreatLevel(level).label,
        },
    )


@step_task("2 恒久対策の実施 (C3.2)")
def report_permanent_measures(number: str, plan: PermanentMeasures, answerer: str) -> None:
    store = runtime().store
    incident = store.incident(number)
    for m in plan.measures:
        if m.adopt:
            store.audit(
                incident.id,
                "C3.2",
                "恒久対策",
                f"{m.title}: {m.content}（担当 {m.owner}、期限 {m.due}）",
                event_key=f"{number}|permanent|{m.title}",
                actor=f"セキュリティ会議（議長 {answerer}）",
            )
    notify(
        incident,
        "C3.2",
        "permanent_measures_report",
        to_roles(Role.MAYOR, Role.MEETING),
        staff_sender(Role.CHIEF, answerer),
        {"plan": plan},
    )
