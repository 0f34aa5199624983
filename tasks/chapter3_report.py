"""第3章 手順1 状況の把握: the report (staff or outside notification) and the report up the chain."""

from __future__ import annotations

from prefect.logging import get_run_logger

from flows.runtime import redact_parameters, resident_index, runtime, step_task
from jukinet.forms.chapter3 import (
    NotificationAnalysis,
    OutsideNotification,
    UnauthorizedReport,
    examples_of,
)
from jukinet.forms.common import personal_data_problems
from jukinet.plan import Body, EmergencyClass, LevelSuggestion, Role, ThreatLevel, suggest_level
from jukinet.store.models import Incident
from tasks.chapter1 import send_discovery
from tasks.common import staff_sender, to_bodies, to_roles
from tasks.notify import notify


class PersonalDataInNotification(ValueError):
    """The notification carries what looks like 本人確認情報; nothing was recorded."""


def notification_of(incident: Incident) -> OutsideNotification | None:
    """The outside notification an incident was opened from (C3.S1.3), or None for a staff report."""
    if incident.declaration.get("origin") != "notification":
        return None
    return OutsideNotification.model_validate(incident.declaration["notification"])


def suggestion_for(report: UnauthorizedReport) -> LevelSuggestion:
    return suggest_level(examples_of(report.examples))


@step_task("手順1③ 通報の受付 (C3.S1.3)")
def register_notification(notification: OutsideNotification, drill: bool, origin_key: str) -> str:
    """Open the incident from a notification by 国, 滋賀県 or 全国センター; returns its number."""
    problems = personal_data_problems(notification, resident_index())
    if problems:
        redact_parameters("notification", notification)
        raise PersonalDataInNotification("通報を受け付けられません: " + "。".join(problems))
    store = runtime().store
    incident = store.open_incident(
        origin_key=origin_key,
        drill=drill,
        declared_class=EmergencyClass.UNAUTHORIZED.value,
        summary=f"{notification.notifier.value}からの通報: {notification.content}"[:200],
        declaration={
            "origin": "notification",
            "notification": notification.model_dump(mode="json"),
        },
    )
    store.set_incident(
        incident.id, emergency_class=EmergencyClass.UNAUTHORIZED.value, state="対応中"
    )
    store.audit(
        incident.id,
        "C3.S1.3",
        "通報受付",
        f"{'【訓練】' if drill else ''}{notification.notifier.value}（{notification.notifier_detail}）"
        f"からの不正行為に係る通報を受け付けました（受信者 {notification.received_by}）",
        event_key=f"{incident.number}|opened",
        actor=notification.received_by,
        details={"notification": notification.model_dump(mode="json")},
    )
    get_run_logger().info("事案 %s を受け付けました（通報）", incident.number)
    return incident.number


@step_task("手順1③ 通報の担当者への報告 (C3.S1.3)")
def report_notification(number: str, notification: OutsideNotification, run_url: str) -> None:
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C3.S1.3",
        "notification_received",
        to_roles(Role.OPERATOR, Role.SEC_OFFICER),
        f"{runtime().config.town.municipality.name} 緊急時対応システム（受信者 {notification.received_by}）",
        {"notification": notification, "run_url": run_url},
    )


@step_task("手順1① セキュリティ責任者への報告 (C3.S1.1)")
def inform_officer(number: str, run_url: str) -> None:
    """The discoverer's report reaches セキュリティ責任者 at once: sent now unless 第1章 already did."""
    rt = runtime()
    incident = rt.store.incident(number)
    officers = to_roles(Role.SEC_OFFICER)
    sent = [
        n
        for n in rt.store.notices(incident.id)
        if n.document == "discovery_report" and any(n.recipient_id == r.id for r in officers)
    ]
    if not sent:
        send_discovery(incident, "C3.S1.1", officers, run_url)
        return
    rt.store.audit(
        incident.id,
        "C3.S1.1",
        "報告",
        "発見報告はセキュリティ責任者へ送付済みです（"
        + "、".join(n.doc_number for n in sent)
        + "）",
        event_key=f"{number}|C3.S1.1",
    )


@step_task("手順1② 不正行為の報告 (C3.S1.2)")
def record_report(number: str, report: UnauthorizedReport, answerer: str) -> None:
    """Record ア〜エ and the suggested level; the report goes to セキュリティ責任者."""
    store = runtime().store
    incident = store.incident(number)
    suggestion = suggestion_for(report)
    store.audit(
        incident.id,
        "C3.S1.2",
        "不正行為の報告",
        f"{report.device}（{report.device_location}）: {report.act}",
        event_key=f"{number}|C3.S1.2",
        actor=answerer,
        details={
            "found": report.found.isoformat(),
            "occurred": report.occurred.isoformat(),
            "examples": [e.key for e in examples_of(report.examples)],
        },
    )
    _record_suggestion(incident, "C3.S1.2", suggestion)
    notify(
        incident,
        "C3.S1.2",
        "unauthorized_report",
        to_roles(Role.SEC_OFFICER),
        staff_sender(Role.OPERATOR, answerer),
        {
            "report": report,
            "suggestion": suggestion,
            "notification": None,
            "via": "",
            "remarks": "",
        },
    )


def _record_suggestion(incident: Incident, clause: str, suggestion: LevelSuggestion) -> None:
    level = suggestion.level.label if suggestion.level else "提案なし"
    runtime().store.audit(
        incident.id,
        "C3.A",
        "脅威度の提案",
        f"{level}（{suggestion.reason}）",
        event_key=f"{incident.number}|suggestion|{clause}",
    )


@step_task("手順1③ 情報の集約・調査分析 (C3.S1.3)")
def record_analysis(number: str, analysis: NotificationAnalysis, answerer: str) -> None:
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C3.S1.3",
        "情報の集約",
        f"（ア）{analysis.device}（{analysis.device_location}）: {analysis.act}",
        event_key=f"{number}|C3.S1.3.a",
        actor=answerer,
        details={"examples": [e.key for e in examples_of(analysis.examples)]},
    )
    store.audit(
        incident.id,
        "C3.S1.3",
        "調査・分析",
        f"（イ）{analysis.analysis}。見込み: {analysis.likely_level.value}"
        + (f"（理由: {analysis.likely_reason}）" if analysis.likely_reason else ""),
        event_key=f"{number}|C3.S1.3.i",
        actor=answerer,
    )
    _record_suggestion(incident, "C3.S1.3", suggestion_for(analysis))


@step_task("手順1③（ウ） 滋賀県・全国センターとの連絡調整 (C3.S1.3)")
def request_coordination(
    number: str, analysis: NotificationAnalysis, notification: OutsideNotification, answerer: str
) -> None:
    """Where level 2 or 3 is likely, ask 滋賀県 and 全国センター to help grasp the damage."""
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C3.S1.3",
        "coordination_request",
        to_bodies(Body.PREFECTURE, Body.CENTER),
        staff_sender(Role.OPERATOR, answerer),
        {"report": analysis, "notification": notification},
    )


def coordination_needed(analysis: NotificationAnalysis) -> bool:
    return analysis.likely_level.level >= ThreatLevel.L2


@step_task("手順1④ システム管理者・セキュリティ統括責任者への報告 (C3.S1.4)")
def report_up_the_chain(
    number: str, report: UnauthorizedReport, remarks: str, answerer: str
) -> None:
    """セキュリティ責任者 reports through システム管理者 to the chief; 本人確認情報管理責任者 is
    informed at the same time so that they grasp the situation (C3.S6.4)."""
    store = runtime().store
    incident = store.incident(number)
    notify(
        incident,
        "C3.S1.4",
        "unauthorized_report",
        to_roles(Role.SYS_ADMIN, Role.CHIEF, Role.ID_MANAGER),
        staff_sender(Role.SEC_OFFICER, answerer),
        {
            "report": report,
            "suggestion": suggestion_for(report),
            "notification": notification_of(incident),
            "via": Role.SYS_ADMIN.label,
            "remarks": remarks,
        },
    )
    store.audit(
        incident.id,
        "C3.S6.4",
        "状況の把握",
        f"{Role.ID_MANAGER.label}へ不正行為の報告を送付し、状況の把握と緊急措置を求めました",
        event_key=f"{number}|C3.S6.4.id-manager",
    )
