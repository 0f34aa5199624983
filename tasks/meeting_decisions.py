"""What a meeting's decisions set in motion, the same in both chapters: D1 orders the measure on
the system, D2 notifies the bodies, D3 asks for technical support, D6 drafts the public texts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jukinet.forms.chapter2 import MeetingDecisions, NotifyBody, Publicity, SupportBody
from jukinet.plan import Body, Role, SystemMeasure
from jukinet.store.models import Incident
from tasks.common import staff_sender, to_bodies, to_roles, town_sender
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


@dataclass(frozen=True)
class DecisionDocuments:
    """A chapter's clause prefix, who carries out D1, and its documents for D2, D3 and D6."""

    prefix: str  # "C2.S3" / "C3.S4"
    carried_out_by: tuple[Role, ...]
    notification: str
    support: str
    publicity: dict[Publicity, str]


def decision_texts(result: MeetingDecisions, prefix: str) -> dict[str, str]:
    """`{"C2.S3.D1": "システムの完全停止（CS サーバ）", …, "C2.S3.D7": …}` for D1–D7."""

    def joined(values: list[NotifyBody] | list[SupportBody] | list[Publicity]) -> str:
        return "、".join(v.value for v in values) or "なし"

    return {
        f"{prefix}.D1": f"{result.d1_measure.value}（{result.d1_detail}）",
        f"{prefix}.D2": joined(result.d2_bodies),
        f"{prefix}.D3": joined(result.d3_support),
        f"{prefix}.D4": result.d4_structure,
        f"{prefix}.D5": result.d5_residents,
        f"{prefix}.D6": joined(result.d6_publicity),
        f"{prefix}.D7": result.d7_alternatives,
    }


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
        notify(
            incident,
            f"{docs.prefix}.D6",
            docs.publicity[publicity],
            to_bodies(Body.PLANNING),
            chief,
            data,
        )
