"""第3章 手順4 セキュリティ会議: convening, the decisions D1–D9, what they set in motion, and the
reviews of the emergency measures (D8) the chair records while the emergency lasts."""

from __future__ import annotations

from typing import Any

from flows.runtime import runtime, step_task
from jukinet.forms.chapter2 import MeetingConvening, Publicity, PublicityApproval
from jukinet.forms.chapter3 import MeetingResult3, Review, UnauthorizedReport
from jukinet.forms.common import jst_datetime
from jukinet.meeting import decision_lines, meeting_agenda
from jukinet.meeting import decision_texts as common_texts
from jukinet.plan import MEETING_ITEMS_CH3, Role, ThreatLevel
from tasks.common import (
    staff_sender,
    to_roles,
)
from tasks.meeting_decisions import (
    APPROVERS,
    DecisionDocuments,
    publicity_preview,
    publicity_to_approve,
    send_decisions,
    send_publicity,
)
from tasks.notify import notify

MEASURES = "緊急の措置等"  # the measures the meeting approves (C3.S4.2)
MATTER = "住基ネットにおける不正行為"
DOCUMENTS = DecisionDocuments(
    prefix="C3.S4",
    carried_out_by=(Role.SEC_ADMIN, Role.OPERATOR),
    notification="unauthorized_notification",
    support="unauthorized_support_request",
    publicity={
        Publicity.HOMEPAGE: "unauthorized_homepage_notice",
        Publicity.INFO: "unauthorized_info_sheet",
        Publicity.PRESS: "unauthorized_press_release",
    },
)


def chair(answerer: str) -> str:
    return f"セキュリティ会議（議長 {answerer}）"


@step_task("手順4① セキュリティ会議の招集 (C3.S4.1)")
def convene_meeting(
    number: str, convening: MeetingConvening, report: UnauthorizedReport, answerer: str
) -> None:
    store = runtime().store
    incident = store.incident(number)
    when = jst_datetime(convening.meeting_on, convening.meeting_at)
    store.audit(
        incident.id,
        "C3.S4.1",
        "会議招集",
        f"セキュリティ会議を招集（{when.strftime('%Y-%m-%d %H:%M')} 日本時間、{convening.place}）",
        event_key=f"{number}|C3.S4.1",
        actor=answerer,
    )
    notify(
        incident,
        "C3.S4.1",
        "meeting_convening",
        to_roles(Role.MEETING),
        staff_sender(Role.CHIEF, answerer),
        {
            "convening": convening,
            "meeting_time": when,
            "matter": MATTER,
            "agenda": meeting_agenda(
                "不正行為の状況・原因・支障の程度の報告", MEASURES, MEETING_ITEMS_CH3
            ),
            "summary": f"{report.device}（{report.device_location}）: {report.act}",
        },
    )


def decision_texts(result: MeetingResult3) -> dict[str, str]:
    return {
        **common_texts(result, DOCUMENTS.prefix),
        "C3.S4.D8": result.d8_review,
        "C3.S4.D9": result.d9_resumption.value,
    }


@step_task("手順4②③ セキュリティ会議の審議結果 (C3.S4.2・C3.S4.3)")
def record_meeting(number: str, result: MeetingResult3, answerer: str) -> None:
    """Each decision item is its own record under its clause ID."""
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C3.S4.2",
        "措置の承認",
        f"緊急の措置等: {result.measures_approval.value}（{result.measures_opinion}）",
        event_key=f"{number}|C3.S4.2",
        actor=chair(answerer),
    )
    texts = decision_texts(result)
    for item in MEETING_ITEMS_CH3:
        store.audit(
            incident.id,
            item.clause,
            "会議決定",
            f"{item.title}: {texts[item.clause]}",
            event_key=f"{number}|{item.clause}",
            actor=chair(answerer),
        )


@step_task("手順4 決定事項の実施 (C3.S4.D1・D2・D3・D6)")
def carry_out_decisions(
    number: str, result: MeetingResult3, report: UnauthorizedReport, level: int, answerer: str
) -> None:
    """D1 orders the measure, D2 notifies, D3 requests support, D6 drafts the public texts."""
    incident = runtime().store.incident(number)
    send_decisions(incident, result, DOCUMENTS, _data(result, report, level, answerer), answerer)


def _data(
    result: MeetingResult3, report: UnauthorizedReport, level: int, chair: str
) -> dict[str, Any]:
    return {
        "result": result,
        "report": report,
        "level_label": ThreatLevel(level).label,
        "ordered_by": f"{Role.CHIEF.label} {chair}",
    }


def publicity_preview_text(
    number: str, result: MeetingResult3, report: UnauthorizedReport, level: int, chair: str
) -> str:
    incident = runtime().store.incident(number)
    ids = publicity_to_approve(result, DOCUMENTS)
    return publicity_preview(incident, ids, DOCUMENTS, _data(result, report, level, chair), chair)


@step_task("手順4 D6 広報文の承認と送付 (C3.S4.D6)")
def publish_publicity(
    number: str,
    result: MeetingResult3,
    report: UnauthorizedReport,
    level: int,
    chair: str,
    approval: PublicityApproval,
    approver: str,
) -> None:
    incident = runtime().store.incident(number)
    send_publicity(
        incident,
        DOCUMENTS,
        publicity_to_approve(result, DOCUMENTS),
        _data(result, report, level, chair),
        approval,
        approver,
        APPROVERS[result.d6_approver],
        chair,
    )


@step_task("手順4③ 町長への報告 (C3.S4.3)")
def report_meeting_to_mayor(number: str, result: MeetingResult3, answerer: str) -> None:
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C3.S4.3",
        "meeting_result_report",
        to_roles(Role.MAYOR),
        staff_sender(Role.CHIEF, answerer),
        {
            "matter": MATTER,
            "decisions": decision_lines(
                result, MEASURES, MEETING_ITEMS_CH3, decision_texts(result)
            ),
        },
    )


@step_task("手順4 D8 緊急措置の見直し判断 (C3.S4.D8)")
def record_review(number: str, review: Review, round_no: int, answerer: str) -> None:
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C3.S4.D8",
        "見直し",
        f"第{round_no}回: 追加措置 {review.additional_measures}。進捗 {review.progress}。"
        f"恒久対策の立案 {review.permanent_planning}",
        event_key=f"{number}|C3.S4.D8|{round_no}",
        actor=chair(answerer),
    )
    notify(
        incident,
        "C3.S4.D8",
        "review_notice",
        to_roles(Role.MEETING),
        staff_sender(Role.CHIEF, answerer),
        {"review": review, "round_no": round_no},
        key_suffix=f"#第{round_no}回",
    )
