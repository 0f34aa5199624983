"""第2章 手順4・手順5・3: repair, integrity, resumption, and the 再発防止策."""

from __future__ import annotations

from flows.runtime import runtime, step_task
from jukinet.forms.chapter2 import (
    PREVENTION_FIELDS,
    FailureIdentification,
    IntegrityConfirmation,
    MeetingResult,
    NotifyBody,
    PreventionItem,
    PreventionPlan,
    RepairReport,
    RepairStatus,
    ResumptionApproval,
    ResumptionDecision,
)
from jukinet.forms.common import jst_datetime
from jukinet.forms.integrity import ResumptionOverDifferences
from jukinet.plan import PREVENTION_MEASURES, Body, Role
from jukinet.store.models import utcnow
from tasks.common import staff_sender, to_bodies, to_roles, town_sender
from tasks.notify import notify

CHIEF_APPROVALS = ("C2.S5", "C3.S6.1")  # else the meeting decides (C2.S5.MEETING, C3.S4.D9)


def _round(n: int) -> str:
    return "" if n == 1 else f"#第{n}回"


@step_task("手順4 修理・復旧作業の依頼 (C2.S4)")
def request_repair(
    number: str, ident: FailureIdentification, result: MeetingResult | None, round_no: int
) -> None:
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C2.S4",
        "repair_request",
        to_bodies(Body.VENDOR),
        staff_sender(Role.SEC_OFFICER, runtime().config.roster.holders(Role.SEC_OFFICER)[0].label),
        {"ident": ident, "result": result},
        key_suffix=_round(round_no),
    )


@step_task("手順4 保守作業の報告 (C2.S4)")
def record_repair(number: str, repair: RepairReport, answerer: str, key: str) -> bool:
    """Records a progress report or the completion; returns True once repaired."""
    store = runtime().store
    incident = store.incident(number)
    when = jst_datetime(repair.reported_on, repair.reported_at)
    done = repair.status is RepairStatus.DONE
    store.audit(
        incident.id,
        "C2.S4",
        "復旧" if done else "作業経過",
        f"{repair.status.value}（{when.strftime('%Y-%m-%d %H:%M')} 日本時間）: {repair.work}",
        event_key=f"{number}|{key}",
        actor=answerer,
        details={"at": when.isoformat()},
    )
    if done:
        store.set_incident(incident.id, state="復旧")
    return done


@step_task("手順5 本人確認情報の整合性の確認 (C2.S5)")
def record_integrity(
    number: str, integrity: IntegrityConfirmation, answerer: str, key: str, clause: str = "C2.S5"
) -> None:
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        clause,
        "整合性確認",
        f"{integrity.result.value}（確認方法: {integrity.method}、修復: {integrity.repairs}）",
        event_key=f"{number}|{key}",
        actor=answerer,
    )


def related_bodies(result: MeetingResult | None) -> list[Body]:
    """滋賀県 and 全国センター always; 関係市町村 where the meeting notified them (D2)."""
    bodies = [Body.PREFECTURE, Body.CENTER]
    if result and NotifyBody.MUNICIPALITIES in result.d2_bodies:
        bodies.append(Body.MUNICIPALITIES)
    return bodies


@step_task("手順5 関係機関への連絡 (C2.S5)")
def notify_recovery(
    number: str,
    repair: RepairReport,
    integrity: IntegrityConfirmation,
    result: MeetingResult | None,
    resumption_by: str,
    round_no: int,
) -> None:
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C2.S5",
        "recovery_notice",
        to_bodies(*related_bodies(result)),
        town_sender(),
        {
            "repair": repair,
            "repaired": jst_datetime(repair.reported_on, repair.reported_at),
            "integrity": integrity,
            "resumption_by": resumption_by,
        },
        key_suffix=_round(round_no),
    )


@step_task("手順5 運用再開の決定 (C2.S5)")
def record_resumption_decision(
    number: str, clause: str, approval: ResumptionApproval, answerer: str, key: str
) -> bool:
    store = runtime().store
    incident = store.incident(number)
    resume = approval.decision is ResumptionDecision.RESUME
    accepted = resume and isinstance(approval, ResumptionOverDifferences)
    summary = f"{approval.decision.value}（{approval.remarks}）"
    details = None
    if isinstance(approval, ResumptionOverDifferences) and accepted:
        summary += f"。本人確認情報の照合の相違が残っていることを認めて再開（理由: {approval.acceptance_reason}）"
        details = {"accepted_differences": True, "acceptance_reason": approval.acceptance_reason}
    store.audit(
        incident.id,
        clause,
        "再開承認" if resume else "再開不承認",
        summary,
        event_key=f"{number}|{key}",
        actor=answerer if clause in CHIEF_APPROVALS else f"セキュリティ会議（議長 {answerer}）",
        details=details,
    )
    return resume


@step_task("手順5 運用の再開 (C2.S5)")
def resume_operation(
    number: str,
    repair: RepairReport,
    integrity: IntegrityConfirmation,
    result: MeetingResult | None,
    resumption_by: str,
) -> None:
    store = runtime().store
    incident = store.incident(number)
    now = utcnow()
    store.set_incident(incident.id, state="運用再開")
    store.audit(
        incident.id,
        "C2.S5",
        "運用再開",
        f"{resumption_by}を経て運用を再開しました",
        event_key=f"{number}|resumed",
    )
    notify(
        incident,
        "C2.S5",
        "resumption_notice",
        to_bodies(*related_bodies(result)),
        town_sender(),
        {
            "repaired": jst_datetime(repair.reported_on, repair.reported_at),
            "resumed": now,
            "integrity": integrity,
            "resumption_by": resumption_by,
        },
    )


@step_task("3 再発防止策の報告 (C2.3)")
def report_prevention(number: str, plan: PreventionPlan, answerer: str) -> None:
    store = runtime().store
    incident = store.incident(number)
    titles = {m.clause: m.title for m in PREVENTION_MEASURES}
    items: list[dict[str, object]] = []
    for field, clause in PREVENTION_FIELDS.items():
        chosen: PreventionItem = getattr(plan, field)
        items.append({"clause": clause, "title": titles[clause], **chosen.model_dump()})
    items += [{"clause": "C2.3", **o.model_dump()} for o in plan.others]
    for item in items:
        if item["adopt"]:
            store.audit(
                incident.id,
                str(item["clause"]),
                "再発防止策",
                f"{item['title']}: {item['content']}（担当 {item['owner']}、期限 {item['due']}）",
                event_key=f"{number}|prevention|{item['clause']}|{item['title']}",
                actor=answerer,
            )
    notify(
        incident,
        "C2.3",
        "prevention_report",
        to_roles(Role.CHIEF),
        staff_sender(Role.SEC_OFFICER, answerer),
        {"items": items},
    )
