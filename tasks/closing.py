"""The close of an incident: what is undelivered is tried again, the final report goes to the
mayor and 滋賀県, and the incident is closed only when every notice went out (until then the
chapter's run waits: flows/closing.py); a copy of its audit trail is then kept on the run
(artifact `audit-export-…`) with its digest chained in the store."""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.context import FlowRunContext
from prefect.logging import get_run_logger

from flows.runtime import runtime, step_task
from jukinet import audit_export
from jukinet.plan import Body, Role
from jukinet.store.models import Incident, utcnow
from tasks.common import to_bodies, to_roles
from tasks.notify import deliver_and_record, notify


def _retry_undelivered(incident: Incident) -> list[str]:
    still = []
    for notice in runtime().store.notices(incident.id):
        if notice.status == "sent":
            continue
        try:
            deliver_and_record(incident, notice, wait=True)
        except Exception as exc:  # recorded by the caller, which waits for the delivery
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


def _artifact_exists(key: str) -> bool:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=1
        )
    return bool(found)


def keep_audit_copy(incident: Incident, clause: str) -> None:
    """Chain the digest of the trail as it stands (record 監査記録の写し, once per incident), then
    keep the 経過記録 with that digest as an artifact on the run.

    The record is written first and names the chain head the copy covers, so a replay rebuilds
    the same copy; the artifact is created again only if the first run did not get to it.
    """
    store = runtime().store
    event_key = f"{incident.number}|audit-export"
    key = audit_export.artifact_key(incident)
    kept = store.audit_records_by_key(event_key)
    in_run = FlowRunContext.get() is not None
    if kept and (not in_run or _artifact_exists(key)):
        return
    chained = store.audit_records()
    upto = kept[0].details["head_seq"] if kept else (chained[-1].seq if chained else 0)
    trail = audit_export.collect(store, incident.number, upto=upto)
    digest = audit_export.sha256_hex(audit_export.render(trail, "jsonl"))
    copy = (
        kept[0]
        if kept
        else store.audit(
            incident.id,
            clause,
            audit_export.COPY_KIND,
            "終結時の監査記録の写しを作成しました",
            event_key=event_key,
            details={
                "head_seq": trail.head.seq,
                "head_hash": trail.head.hash,
                "jsonl_sha256": digest,
                "records": len(trail.records),
                "notices": len(trail.notices),
            },
        )
    )
    if not kept and copy.details.get("jsonl_sha256") != digest:
        return  # another process replaying the same close chained its copy first and keeps it
    if in_run:
        create_markdown_artifact(
            markdown=audit_export.closing_copy(trail, digest, copy),
            key=key,
            description="経過記録（終結時の監査記録の写し）",
        )


@step_task("緊急時対応の終結")
def close_incident(number: str, clause: str = "C2.3", state: str = "終結") -> list[str]:
    """Re-try what is still undelivered, send the final report, then close the incident; returns
    what is still undelivered (the incident is then not closed: flows/closing.py waits)."""
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
            f"未送付の通知が {len(still)} 件あるため、送付できるまで終結を待ちます",
            event_key=f"{number}|undelivered-at-close|{len(rt.store.audit_records(incident.id))}",
        )
        get_run_logger().warning("未送付の通知があります:\n%s", "\n".join(still))
        return still
    if incident.closed_at is None:  # a replay keeps the first close time
        rt.store.set_incident(incident.id, state=state, closed_at=utcnow())
    rt.store.audit(
        incident.id,
        clause,
        "終結",
        f"緊急時対応を終結しました（{state}）",
        event_key=f"{number}|closed",
    )
    keep_audit_copy(rt.store.incident(number), clause)
    return []
