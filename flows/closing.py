"""The close of an incident waits for its notices: when some are still undelivered (the mail
server or a receiver is down), the chapter's run waits — suspended under a deployment, so no
worker is held and restarts lose nothing — and 未送付通知の再送 resumes it once everything of the
incident went out; the close is then tried again. Staff may also resume it from the UI at once.

    close_when_delivered(incident, "C2.3", close_incident, number)
"""

from __future__ import annotations

from typing import Any

from prefect import pause_flow_run, suspend_flow_run
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.logging import get_run_logger
from prefect.tasks import Task

from flows.human import PAUSE_TIMEOUT_SECONDS, POLL_SECONDS, pause_key
from flows.runtime import current_flow_run_id, in_deployment, publish_journal, run_step, runtime
from jukinet.store.models import Incident

WAITING = "送付待ち"
RESUMED = "送付待ちの再開"


def _wait_for_delivery(incident: Incident, clause: str, attempt: int, undelivered: int) -> None:
    key = pause_key(clause, "CLOSE-WAIT", attempt)
    runtime().store.audit(
        incident.id,
        clause,
        WAITING,
        f"未送付の通知が {undelivered} 件あるため、終結を待っています。"
        "「未送付通知の再送」が送付できしだい再開します（画面の Resume で今すぐ再試行もできます）",
        event_key=f"{incident.number}|close-wait|{attempt}",
        details={"flow_run_id": current_flow_run_id(), "pause_key": key},
    )
    publish_journal(incident)
    if in_deployment():
        suspend_flow_run(key=key, timeout=None)
    else:  # tests: in-process; the re-send flow resumes it through the API all the same
        pause_flow_run(  # type: ignore[call-overload]
            key=key, timeout=PAUSE_TIMEOUT_SECONDS, poll_interval=POLL_SECONDS
        )


def close_when_delivered(
    incident: Incident, clause: str, close: Task[..., list[str]], *args: Any
) -> None:
    """Run the close task until it closes the incident, waiting for delivery in between."""
    attempt = 1
    while undelivered := run_step(incident, f"close#{attempt}", close, *args):
        _wait_for_delivery(incident, clause, attempt, len(undelivered))
        attempt += 1


def resume_waiting_closes() -> int:
    """Resume each run waiting to close whose incident has nothing undelivered now; returns how
    many (called by 未送付通知の再送 after it delivered)."""
    store = runtime().store
    resumed = 0
    for record in store.audit_records(kind=WAITING):
        incident = store.incident_by_id(record.incident_id or 0)
        if incident.closed_at is not None or store.audit_records_by_key(
            record.event_key.replace("|close-wait|", "|close-resumed|")
        ):
            continue
        if any(n.status != "sent" for n in store.notices(incident.id)):
            continue
        run_id, key = record.details["flow_run_id"], record.details["pause_key"]
        with get_client(sync_client=True) as client:
            try:
                run = client.read_flow_run(run_id)
            except ObjectNotFound:
                continue
            state = run.state
            if not (state and state.is_paused() and state.state_details.pause_key == key):
                continue
            client.resume_flow_run(run_id)
        store.audit(
            incident.id,
            record.clause,
            RESUMED,
            "未送付の通知がすべて送付されたため、終結の手続を再開しました",
            event_key=record.event_key.replace("|close-wait|", "|close-resumed|"),
        )
        get_run_logger().info("事案 %s の終結を再開しました", incident.number)
        resumed += 1
    return resumed
