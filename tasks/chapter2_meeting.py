"""第2章 手順3 セキュリティ会議: convening, the decisions D1–D8, and what they set in motion."""

from __future__ import annotations

from typing import Any

from flows.runtime import runtime, step_task
from jukinet.forms.chapter2 import (
    FailureIdentification,
    MeetingConvening,
    MeetingResult,
    Publicity,
    PublicityApproval,
)
from jukinet.forms.common import jst_datetime
from jukinet.meeting import decision_lines, decision_texts, meeting_agenda
from jukinet.plan import MEETING_ITEMS_CH2, Role
from jukinet.store.models import Incident
from tasks.common import (
    discovered_at,
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

MEASURES = "データ保護等の措置"  # the measures the meeting approves (C2.S3.2)
MATTER = "住基ネットの障害"
DOCUMENTS = DecisionDocuments(
    prefix="C2.S3",
    carried_out_by=(Role.SEC_OFFICER, Role.OPERATOR),
    notification="body_notification",
    support="support_request",
    publicity={
        Publicity.HOMEPAGE: "homepage_notice",
        Publicity.INFO: "info_sheet",
        Publicity.PRESS: "press_release",
    },
)


@step_task("手順3① セキュリティ会議の招集 (C2.S3.1)")
def convene_meeting(
    number: str, convening: MeetingConvening, ident: FailureIdentification, answerer: str
) -> None:
    store = runtime().store
    incident = store.incident(number)
    when = jst_datetime(convening.meeting_on, convening.meeting_at)
    store.audit(
        incident.id,
        "C2.S3.1",
        "会議招集",
        f"セキュリティ会議を招集（{when.strftime('%Y-%m-%d %H:%M')} 日本時間、{convening.place}）",
        event_key=f"{number}|C2.S3.1",
        actor=answerer,
    )
    notify(
        incident,
        "C2.S3.1",
        "meeting_convening",
        to_roles(Role.MEETING),
        staff_sender(Role.CHIEF, answerer),
        {
            "convening": convening,
            "meeting_time": when,
            "matter": MATTER,
            "agenda": meeting_agenda(
                "障害の状況・原因・支障の程度の報告", MEASURES, MEETING_ITEMS_CH2
            ),
            "summary": f"{ident.failure_type.value}（{ident.location}）",
        },
    )


def _decision_texts(result: MeetingResult) -> dict[str, str]:
    return {
        **decision_texts(result, DOCUMENTS.prefix),
        "C2.S3.D8": result.d8_resumption.value,
    }


@step_task("手順3②③ セキュリティ会議の審議結果 (C2.S3.2・C2.S3.3)")
def record_meeting(number: str, result: MeetingResult, answerer: str) -> None:
    """Each decision item is its own record under its clause ID."""
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C2.S3.2",
        "措置の承認",
        f"データ保護等の措置: {result.measures_approval.value}（{result.measures_opinion}）",
        event_key=f"{number}|C2.S3.2",
        actor=f"セキュリティ会議（議長 {answerer}）",
    )
    texts = _decision_texts(result)
    for item in MEETING_ITEMS_CH2:
        store.audit(
            incident.id,
            item.clause,
            "会議決定",
            f"{item.title}: {texts[item.clause]}",
            event_key=f"{number}|{item.clause}",
            actor=f"セキュリティ会議（議長 {answerer}）",
        )


@step_task("手順3 決定事項の実施 (C2.S3.D1・D2・D3・D6)")
def carry_out_decisions(
    number: str, result: MeetingResult, ident: FailureIdentification, answerer: str
) -> None:
    """D1 orders the measure, D2 notifies, D3 requests support, D6 drafts the public texts."""
    incident = runtime().store.incident(number)
    send_decisions(incident, result, DOCUMENTS, _data(incident, result, ident, answerer), answerer)


def _data(
    incident: Incident, result: MeetingResult, ident: FailureIdentification, chair: str
) -> dict[str, Any]:
    return {
        "result": result,
        "ident": ident,
        "discovered": discovered_at(incident),
        "ordered_by": f"{Role.CHIEF.label} {chair}",
    }


def publicity_preview_text(
    number: str, result: MeetingResult, ident: FailureIdentification, chair: str
) -> str:
    incident = runtime().store.incident(number)
    ids = publicity_to_approve(result, DOCUMENTS)
    return publicity_preview(incident, ids, DOCUMENTS, _data(incident, result, ident, chair), chair)


@step_task("手順3 D6 広報文の承認と送付 (C2.S3.D6)")
def publish_publicity(
    number: str,
    result: MeetingResult,
    ident: FailureIdentification,
    chair: str,
    approval: PublicityApproval,
    approver: str,
) -> None:
    incident = runtime().store.incident(number)
    send_publicity(
        incident,
        DOCUMENTS,
        publicity_to_approve(result, DOCUMENTS),
        _data(incident, result, ident, chair),
        approval,
        approver,
        APPROVERS[result.d6_approver],
        chair,
    )


@step_task("手順3③ 町長への結果報告 (C2.S3.3)")
def report_meeting_to_mayor(number: str, result: MeetingResult, answerer: str) -> None:
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C2.S3.3",
        "meeting_result_report",
        to_roles(Role.MAYOR),
        staff_sender(Role.CHIEF, answerer),
        {
            "matter": MATTER,
            "decisions": decision_lines(
                result, MEASURES, MEETING_ITEMS_CH2, _decision_texts(result)
            ),
        },
    )
