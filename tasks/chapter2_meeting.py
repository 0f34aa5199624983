"""第2章 手順3 セキュリティ会議: convening, the decisions D1–D8, and what they set in motion."""

from __future__ import annotations

from flows.runtime import runtime, step_task
from jukinet.forms.chapter2 import (
    FailureIdentification,
    MeetingConvening,
    MeetingResult,
    NotifyBody,
    Publicity,
    SupportBody,
)
from jukinet.forms.common import jst_datetime
from jukinet.plan import MEETING_ITEMS_CH2, Body, Role, SystemMeasure
from tasks.common import (
    decision_lines,
    discovered_at,
    meeting_agenda,
    staff_sender,
    to_bodies,
    to_roles,
    town_sender,
)
from tasks.notify import notify

NOTIFY_BODIES = {
    NotifyBody.CENTER: Body.CENTER,
    NotifyBody.PREFECTURE: Body.PREFECTURE,
    NotifyBody.MUNICIPALITIES: Body.MUNICIPALITIES,
}
SUPPORT_BODIES = {
    SupportBody.CENTER: Body.CENTER,
    SupportBody.PREFECTURE: Body.PREFECTURE,
    SupportBody.VENDOR: Body.VENDOR,
}
MEASURES = "データ保護等の措置"  # the measures the meeting approves (C2.S3.2 / C3.S4.2)
MATTER = "住基ネットの障害"
PUBLICITY_DOCUMENTS = {
    Publicity.HOMEPAGE: "homepage_notice",
    Publicity.INFO: "info_sheet",
    Publicity.PRESS: "press_release",
}


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
    def joined(values: list[NotifyBody] | list[SupportBody] | list[Publicity]) -> str:
        return "、".join(v.value for v in values) or "なし"

    return {
        "C2.S3.D1": f"{result.d1_measure.value}（{result.d1_detail}）",
        "C2.S3.D2": joined(result.d2_bodies),
        "C2.S3.D3": joined(result.d3_support),
        "C2.S3.D4": result.d4_structure,
        "C2.S3.D5": result.d5_residents,
        "C2.S3.D6": joined(result.d6_publicity),
        "C2.S3.D7": result.d7_alternatives,
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
    data = {
        "result": result,
        "ident": ident,
        "discovered": discovered_at(incident),
        "ordered_by": f"{Role.CHIEF.label} {answerer}",
    }
    if result.d1_measure is not SystemMeasure.NONE:
        notify(
            incident,
            "C2.S3.D1",
            "equipment_order",
            to_roles(Role.SEC_OFFICER, Role.OPERATOR),
            staff_sender(Role.CHIEF, answerer),
            data,
        )
    if result.d2_bodies:
        notify(
            incident,
            "C2.S3.D2",
            "body_notification",
            to_bodies(*(NOTIFY_BODIES[b] for b in result.d2_bodies)),
            town_sender(),
            data,
        )
    if result.d3_support:
        notify(
            incident,
            "C2.S3.D3",
            "support_request",
            to_bodies(*(SUPPORT_BODIES[b] for b in result.d3_support)),
            town_sender(),
            data,
        )
    for publicity in result.d6_publicity:
        notify(
            incident,
            "C2.S3.D6",
            PUBLICITY_DOCUMENTS[publicity],
            to_bodies(Body.PLANNING),
            staff_sender(Role.CHIEF, answerer),
            data,
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
