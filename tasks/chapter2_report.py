"""第2章 手順1・手順2: identify the failure, report up the chain, the chief's judgement."""

from __future__ import annotations

from flows.runtime import runtime, step_task
from jukinet.forms.chapter2 import ChiefJudgement, FailureIdentification, HelpBody
from jukinet.plan import Body, Role
from tasks.common import discovered_at, staff_sender, to_bodies, to_roles
from tasks.notify import notify

HELP_BODIES = {
    HelpBody.VENDOR: Body.VENDOR,
    HelpBody.PREFECTURE: Body.PREFECTURE,
    HelpBody.CENTER: Body.CENTER,
}


@step_task("手順1① 障害の特定・原因の究明 (C2.S1.1)")
def identify_failure(number: str, ident: FailureIdentification, answerer: str) -> None:
    """Record type, place, checks and cause; ask the chosen bodies for help where it is hard."""
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C2.S1.1",
        "障害特定",
        f"{ident.failure_type.value}（{ident.location}）。原因: {ident.cause}",
        event_key=f"{number}|C2.S1.1",
        actor=answerer,
        details={"check_methods": [m.value for m in ident.check_methods]},
    )
    if ident.help_from:
        bodies = [HELP_BODIES[h] for h in ident.help_from]
        notify(
            incident,
            "C2.S1.1",
            "help_request",
            to_bodies(*bodies),
            staff_sender(Role.OPERATOR, answerer),
            {"ident": ident},
        )


@step_task("手順1② 保守作業の依頼・セキュリティ責任者への報告 (C2.S1.2)")
def report_to_officer(number: str, ident: FailureIdentification, answerer: str) -> None:
    incident = runtime().store.incident(number)
    sender = staff_sender(Role.OPERATOR, answerer)
    if ident.request_maintenance:
        notify(
            incident,
            "C2.S1.2",
            "maintenance_request",
            to_bodies(Body.VENDOR),
            sender,
            {"ident": ident},
        )
    notify(
        incident,
        "C2.S1.2",
        "failure_report",
        to_roles(Role.SEC_OFFICER),
        sender,
        {"ident": ident, "discovered": discovered_at(incident), "via": "", "remarks": ""},
    )


@step_task("手順1③ セキュリティ統括責任者への報告 (C2.S1.3)")
def report_to_chief(number: str, ident: FailureIdentification, remarks: str, answerer: str) -> None:
    """セキュリティ責任者 reports through システム管理者 to セキュリティ統括責任者."""
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C2.S1.3",
        "failure_report",
        to_roles(Role.SYS_ADMIN, Role.CHIEF),
        staff_sender(Role.SEC_OFFICER, answerer),
        {
            "ident": ident,
            "discovered": discovered_at(incident),
            "via": Role.SYS_ADMIN.label,
            "remarks": remarks,
        },
    )


@step_task("手順2① データ保護等の指示 (C2.S2.1)")
def instruct_data_protection(number: str, judgement: ChiefJudgement, answerer: str) -> None:
    store = runtime().store
    incident = store.incident(number)
    store.audit(
        incident.id,
        "C2.S2.1",
        "指示",
        f"データ保護等の指示: {judgement.instructions}",
        event_key=f"{number}|C2.S2.1",
        actor=answerer,
    )
    store.audit(
        incident.id,
        "C2.S2.2",
        "判断",
        f"{judgement.judgement.value}（理由: {judgement.reason}）",
        event_key=f"{number}|C2.S2.2",
        actor=answerer,
    )
    notify(
        incident,
        "C2.S2.1",
        "protection_instruction",
        to_roles(Role.SYS_ADMIN, Role.SEC_OFFICER),
        staff_sender(Role.CHIEF, answerer),
        {
            "instructions": judgement.instructions,
            "judgement_label": "運用停止に関する判断",
            "judgement_text": judgement.judgement.value,
        },
    )


@step_task("手順2② 町長への報告 (C2.S2.2)")
def report_to_mayor(
    number: str, ident: FailureIdentification, judgement: ChiefJudgement, answerer: str
) -> None:
    incident = runtime().store.incident(number)
    notify(
        incident,
        "C2.S2.2",
        "mayor_report",
        to_roles(Role.MAYOR),
        staff_sender(Role.CHIEF, answerer),
        {"ident": ident, "judgement": judgement},
    )
