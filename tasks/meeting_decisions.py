"""What a meeting's decisions set in motion, the same in both chapters: D1 orders the measure on
the system, D2 notifies the bodies, D3 asks for technical support, D6 sends the public texts to
企画課 — the 情報資料 at once, the homepage notice and the press release only once the official
the meeting named (D6 広報文を承認する者) approved them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.runtime import runtime
from jukinet.forms.chapter2 import (
    MeetingDecisions,
    NotifyBody,
    Publicity,
    PublicityApproval,
    PublicityApprover,
    PublicityDecision,
    SupportBody,
)
from jukinet.notices.documents import DOCUMENTS
from jukinet.notices.outbox import NoticeRequest, render_document
from jukinet.plan import Body, Role, SystemMeasure
from jukinet.store.models import Incident, utcnow
from tasks.common import staff_sender, to_bodies, to_roles, town_sender
from tasks.notify import notify

NOTIFY_BODIES = {
    NotifyBody.CENTER: Body.CENTER,
    NotifyBody.PREFECTURE: Body.PREFECTURE,
    NotifyBody.MUNICIPALITIES: Body.MUNICIPALITIES,
}
APPROVERS = {
    PublicityApprover.CHIEF: Role.CHIEF,
    PublicityApprover.SEC_OFFICER: Role.SEC_OFFICER,
    PublicityApprover.SEC_ADMIN: Role.SEC_ADMIN,
}
SUPPORT_BODIES = {
    SupportBody.CENTER: Body.CENTER,
    SupportBody.PREFECTURE: Body.PREFECTURE,
    SupportBody.VENDOR: Body.VENDOR,
}


@dataclass(frozen=True)
class DecisionDocuments:
    """A chapter's clause prefix, who carries out D1, and its documents for D2, D3 and D6."""

    prefix: str  # "C2.S3" / "C3.S4"
    carried_out_by: tuple[Role, ...]
    notification: str
    support: str
    publicity: dict[Publicity, str]


def send_decisions(
    incident: Incident,
    result: MeetingDecisions,
    docs: DecisionDocuments,
    data: dict[str, Any],
    answerer: str,
) -> None:
    chief = staff_sender(Role.CHIEF, answerer)
    if result.d1_measure is not SystemMeasure.NONE:
        notify(
            incident,
            f"{docs.prefix}.D1",
            "equipment_order",
            to_roles(*docs.carried_out_by),
            chief,
            data,
        )
    if result.d2_bodies:
        notify(
            incident,
            f"{docs.prefix}.D2",
            docs.notification,
            to_bodies(*(NOTIFY_BODIES[b] for b in result.d2_bodies)),
            town_sender(),
            data,
        )
    if result.d3_support:
        notify(
            incident,
            f"{docs.prefix}.D3",
            docs.support,
            to_bodies(*(SUPPORT_BODIES[b] for b in result.d3_support)),
            town_sender(),
            data,
        )
    for publicity in result.d6_publicity:
        if DOCUMENTS[docs.publicity[publicity]].approval:
            continue  # sent by send_publicity once approved
        notify(
            incident,
            f"{docs.prefix}.D6",
            docs.publicity[publicity],
            to_bodies(Body.PLANNING),
            chief,
            data,
        )


def publicity_to_approve(result: MeetingDecisions, docs: DecisionDocuments) -> list[str]:
    """The D6 documents that go out only with the named official's approval."""
    ids = [docs.publicity[p] for p in result.d6_publicity]
    return [i for i in ids if DOCUMENTS[i].approval]


def publicity_preview(
    incident: Incident,
    doc_ids: list[str],
    docs: DecisionDocuments,
    data: dict[str, Any],
    chief: str,
) -> str:
    """The texts as they would go out, shown to the approver (numbered when sent)."""
    rt = runtime()
    planning = to_bodies(Body.PLANNING)[0]
    texts = []
    for doc_id in doc_ids:
        req = NoticeRequest(
            f"{docs.prefix}.D6", DOCUMENTS[doc_id], planning, staff_sender(Role.CHIEF, chief), data
        )
        body = render_document(
            rt.outbox.env,
            rt.config.town,
            incident,
            req,
            doc_number="（送付時に採番）",
            issued=utcnow(),
        )
        texts.append(f"【{DOCUMENTS[doc_id].subject}】\n{body}")
    return "\n\n".join(texts)


def send_publicity(
    incident: Incident,
    docs: DecisionDocuments,
    doc_ids: list[str],
    data: dict[str, Any],
    approval: PublicityApproval,
    approver: str,
    role: Role,
    chief: str,
) -> None:
    """Record the approval (or its refusal); approved texts go to 企画課 with the approval line."""
    clause = f"{docs.prefix}.D6"
    approved = approval.decision is PublicityDecision.APPROVE
    subjects = "、".join(DOCUMENTS[i].subject for i in doc_ids)
    runtime().store.audit(
        incident.id,
        clause,
        "広報文の承認" if approved else "広報文の不承認",
        f"{subjects}: {approval.decision.value}（{approval.opinion}）",
        event_key=f"{incident.number}|{clause}|approval",
        actor=f"{role.label} {approver}",
    )
    if not approved:
        return
    stamp = {"by": f"{role.label} {approver}", "at": utcnow()}
    for doc_id in doc_ids:
        notify(
            incident,
            clause,
            doc_id,
            to_bodies(Body.PLANNING),
            staff_sender(Role.CHIEF, chief),
            {**data, "approval": stamp},
        )
