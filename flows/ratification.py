"""事後承認 — セキュリティ統括責任者 approves, after the fact, a measure taken in an emergency
without the approval the plan asks for (as other towns' plans allow). The record keeps both the
time of the act and the time of the approval, under the clause the measure was taken under.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from prefect import flow
from prefect.logging import get_run_logger

from flows.emergency import rename_run
from flows.human import ask
from flows.runtime import Municipality, current_flow_run_id, publish_journal, runtime
from jukinet.forms.common import INCIDENT_NUMBER_HINT, parameter
from jukinet.forms.staffing import Ratification, RatificationDecision
from jukinet.plan import CLAUSE_TITLES, Role, clause_title
from jukinet.store.models import Incident, utcnow
from jukinet.wareki import to_wareki_datetime

FUTURE_SLACK = timedelta(minutes=5)


def _checks(answer: Ratification) -> list[str]:
    problems = []
    if answer.acted > utcnow() + FUTURE_SLACK:
        problems.append("「措置を行った日」「措置を行った時刻」が未来になっています")
    if answer.decision is RatificationDecision.REFUSE and not answer.opinion.strip():
        problems.append("承認しない場合は「意見・理由」を記入してください")
    return problems


def _deputy_answers(incident: Incident) -> str | None:
    """What deputies answered in this incident: the usual things to ratify."""
    lines = [
        f"{to_wareki_datetime(r.recorded_at)} {r.clause} {r.actor}（{r.on_behalf_of}）: {r.summary}"
        for r in runtime().store.audit_records(incident.id)
        if r.kind == "回答" and r.on_behalf_of
    ]
    return "代理者による回答:\n" + "\n".join(lines) if lines else None


@flow(name="事後承認", flow_run_name="事後承認 {incident_number}", log_prints=False)
def ratify(
    incident_number: Annotated[str, parameter("事案番号", INCIDENT_NUMBER_HINT)],
    clause: Annotated[str, parameter("措置の根拠の条項", "例: C3.S2.1（条項の一覧は計画の索引）")],
    municipality_code: Municipality = "",
) -> str:
    """Ask the chief to approve (or not) one measure already taken; returns the record's summary."""
    store = runtime().store
    incident = store.incident(incident_number.strip())
    clause = clause.strip()
    if clause not in CLAUSE_TITLES:
        raise ValueError(f"「措置の根拠の条項」{clause} は計画の条項にありません（例: C3.S2.1）")
    if incident.closed_at is not None:
        raise ValueError(
            f"事案 {incident.number} は終結しています。事後承認は終結の前に記録してください"
        )
    rename_run(f"{incident.number} 事後承認", [incident.number, "事後承認"])
    step = f"RATIFY.{current_flow_run_id()[:8]}"
    answered = ask(
        incident,
        step,
        clause,
        Role.CHIEF,
        Ratification,
        question=f"緊急のため承認を得ずに行った措置（{clause_title(clause)}）を承認しますか。",
        why="緊急の場合に先に行った措置は、セキュリティ統括責任者が事後に承認します。",
        checks=_checks,
        exhibit=_deputy_answers(incident),
    )
    r = answered.value
    approved = r.decision is RatificationDecision.APPROVE
    now = utcnow()
    record = store.audit(
        incident.id,
        clause,
        "事後承認" if approved else "事後承認の拒否",
        f"{r.acted_by} が {to_wareki_datetime(r.acted)} に行った措置「{r.measure}」を"
        f"{'承認しました' if approved else '承認しませんでした'}"
        f"（{'承認' if approved else '判断'} {to_wareki_datetime(now)}）"
        + (f"。意見・理由: {r.opinion}" if r.opinion.strip() else ""),
        event_key=f"{incident.number}|ratify|{step}",
        actor=f"{answered.answerer} {answered.capacity}",
        details={
            "measure": r.measure,
            "acted_by": r.acted_by,
            "acted_at": r.acted.isoformat(),
            "approved_at": now.isoformat(),
            "decision": r.decision.value,
        },
    )
    publish_journal(incident)
    get_run_logger().info("%s", record.summary)
    return record.summary
