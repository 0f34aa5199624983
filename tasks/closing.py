"""The close of an incident: what is undelivered is tried again, the final report goes to the
mayor and 滋賀県, and the incident is closed only when every notice went out."""

from __future__ import annotations

from typing import Any

from flows.runtime import runtime, step_task
from jukinet.plan import Body, Role
from jukinet.store.models import Incident, utcnow
from tasks.common import to_bodies, to_roles
from tasks.notify import deliver_and_record, notify


class UndeliveredNotices(Exception):
    """Notices of the incident are still undelivered at its close."""


def _retry_undelivered(incident: Incident) -> list[str]:
    still = []
    for notice in runtime().store.notices(incident.id):
        if notice.status == "sent":
            continue
        try:
            deliver_and_record(incident, notice, wait=True)
        except Exception as exc:  # recorded by the caller, then the run fails loudly
            still.append(f"{notice.subject}（{notice.recipient}）: {exc}")
    return still


def final_report_data(incident: Incident, state: str) -> dict[str, Any]:
    """The timeline (without the notices, listed apart) and each document sent, once."""
    store = runtime().store
    timeline = [
        {
            "at": r.recorded_at,
            "clause": r.clause,
            "kind": r.kind,
            "actor": r.actor + (f"（{r.on_behalf_of}）" if r.on_behalf_of else ""),
            "summary": r.summary,
        }
        for r in store.audit_records(incident.id)
        if r.kind != "通知"
    ]
    sent: dict[str, dict[str, str]] = {}
    for n in store.notices(incident.id, status="sent"):
        sent.setdefault(
            n.document_key,
            {"doc_number": n.doc_number, "subject": n.subject, "recipient": n.recipient},
        )
    return {
        "emergency_class": incident.emergency_class or incident.declared_class,
        "closed_at": utcnow(),
        "outcome": state,
        "timeline": timeline,
        "sent": list(sent.values()),
    }


@step_task("緊急時対応の終結")
def close_incident(number: str, clause: str = "C2.3", state: str = "終結") -> None:
    """Re-try what is still undelivered, send the final report, then close the incident."""
    rt = runtime()
    incident = rt.store.incident(number)
    still = _retry_undelivered(incident)
    if not still:
        notify(
            incident,
            clause,
            "final_report",
            [*to_roles(Role.MAYOR), *to_bodies(Body.PREFECTURE)],
            f"{rt.config.town.municipality.name} {Role.CHIEF.label}",
            final_report_data(incident, state),
        )
        still = _retry_undelivered(incident)
    if still:
        rt.store.audit(
            incident.id,
            clause,
            "未送付",
            f"未送付の通知が {len(still)} 件あります",
            event_key=f"{number}|undelivered-at-close|{len(rt.store.audit_records(incident.id))}",
        )
        raise UndeliveredNotices("未送付の通知があります:\n" + "\n".join(still))
    rt.store.set_incident(incident.id, state=state, closed_at=utcnow())
    rt.store.audit(
        incident.id,
        clause,
        "終結",
        f"緊急時対応を終結しました（{state}）",
        event_key=f"{number}|closed",
    )
