"""回答待ちの督促 — a scheduled flow: a human step waiting longer than its interval (per clause in
town.yaml `escalation`, shorter in a drill) is reminded to the role's holders, then escalated to
its deputies, then to セキュリティ統括責任者 — each once, each recorded under the step's clause.

Stage n is reached after n intervals: 1 督促 (holders, and their deputies too when every holder
is registered absent), 2 上申 (deputies, who may then answer: jukinet/deputies.py), 3 上申 (the
chief and the chief's deputies; for the chief's own steps stage 2 already reached them). Pause timeouts are
not used (DESIGN.md §3); a step whose run is no longer paused is closed instead of reminded.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.logging import get_run_logger

from flows.runtime import run_url, runtime, serving, town_prefix, towns
from jukinet.notices.recipients import Recipient, for_deputies, for_role
from jukinet.plan import Role, clause_title
from jukinet.store.models import Ask, Incident, utcnow
from tasks.notify import in_outbox, notify


@dataclass(frozen=True)
class Stage:
    number: int
    kind: str  # audit record kind
    label: str  # shown in the reminder


STAGES = (
    Stage(1, "督促", "担当者への督促"),
    Stage(2, "上申", "代理者への上申"),
    Stage(3, "上申", "セキュリティ統括責任者への上申"),
)


def _recipients(stage: Stage, role: Role) -> list[Recipient]:
    config = runtime().config
    if stage.number == 1:
        absent = {a.person_id for a in runtime().store.absences(utcnow())}
        everyone_away = all(p.id in absent for p in config.roster.holders(role))
        # holders registered absent: their deputies may answer at once, so they hear it now
        return for_role(config, role) + (for_deputies(config, role) if everyone_away else [])
    if stage.number == 2:
        return for_deputies(config, role)
    if role is Role.CHIEF:
        return []
    return for_role(config, Role.CHIEF) + for_deputies(config, Role.CHIEF)


def _still_paused(ask: Ask) -> bool:
    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(ask.flow_run_id)  # type: ignore[arg-type]
        except ObjectNotFound:
            return False
    return bool(run.state and run.state.is_paused())


def _remind(incident: Incident, ask: Ask, stage: Stage, waited: float) -> bool:
    """One stage of one waiting step, once; True when it went out now."""
    rt = runtime()
    role = Role(ask.role)
    event_key = f"{incident.number}|escalation|{ask.ask_key}|{stage.number}"
    suffix = f"#{ask.ask_key}#{stage.number}"
    to = _recipients(stage, role)
    done = bool(rt.store.audit_records_by_key(event_key))
    if done and (not to or in_outbox(incident, "answer_reminder", suffix)):
        return False  # recorded and in the outbox (a crash between the two is completed below)
    names = "、".join(r.name for r in to) or "なし"
    rt.store.audit(
        incident.id,
        ask.clause,
        stage.kind,
        f"{role.label}への問い（{ask.ask_key}）が {waited:.0f} 分回答されていないため、"
        f"{stage.label}を行いました（宛先: {names}）",
        event_key=event_key,
        details={"ask_key": ask.ask_key, "stage": stage.number},
    )
    if to:
        holders = "、".join(p.name for p in rt.config.roster.holders(role))
        notify(
            incident,
            "C2.1",
            "answer_reminder",
            to,
            f"{rt.config.town.municipality.name} 緊急時対応システム",
            {
                "stage_label": stage.label,
                "step": {
                    "clause": ask.clause,
                    "clause_title": clause_title(ask.clause),
                    "role": role.label,
                    "asked_at": ask.asked_at,
                    "waited_minutes": f"{waited:.0f}",
                    "holders": holders,
                },
                "run_url": run_url(ask.flow_run_id),
            },
            key_suffix=suffix,
        )
    return not done


@flow(name="回答待ちの督促", flow_run_name="回答待ちの督促", log_prints=False)
def escalate_waiting() -> dict[str, int]:
    """Every town served: remind or escalate every step waiting past its interval; returns the
    totals."""
    totals = {"waiting": 0, "reminded": 0, "closed": 0}
    for code in towns():
        with serving(code):
            for name, count in _escalate_town().items():
                totals[name] += count
    return totals


def _escalate_town() -> dict[str, int]:
    rt = runtime()
    logger = get_run_logger()
    escalation = rt.config.town.escalation
    now = utcnow()
    done = {"waiting": 0, "reminded": 0, "closed": 0}
    for ask in rt.store.waiting_asks():
        incident = rt.store.incident_by_id(ask.incident_id)
        if incident.closed_at is not None or not _still_paused(ask):
            rt.store.update_ask(ask.id, answered_at=now)  # the run ended or moved on
            done["closed"] += 1
            continue
        done["waiting"] += 1
        interval = escalation.interval(ask.clause, incident.drill)
        waited = (now - ask.asked_at).total_seconds() / 60
        reached = min(len(STAGES), int(waited // interval))
        for stage in STAGES[:reached]:
            done["reminded"] += _remind(incident, ask, stage, waited)
    logger.info(
        "%s回答待ち %d 件、督促・上申 %d 件、終了済みとして閉じた問い %d 件",
        town_prefix(),
        done["waiting"],
        done["reminded"],
        done["closed"],
    )
    return done
