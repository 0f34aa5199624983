"""不在の登録 — who of the roster is away (C2.1: the contact network must know who can act).

While everyone ahead of a deputy (the role's holders, then earlier deputies) is registered absent,
that deputy may answer in their place at once (jukinet/deputies.py); otherwise only after the
step has waited until 回答待ちの督促 turns to the deputies. Any person of the roster registers
(or ends) an absence with their own approval code; each registration is in the audit chain.
"""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger

from flows.human import identify, pause_key, redact_form, wait_for_form
from flows.runtime import Municipality, current_flow_run_id, resident_index, runtime, town_key
from jukinet.forms.common import Form, personal_data_problems, with_answerer
from jukinet.forms.staffing import ABSENT_FIELD, AbsenceAction, absence_form
from jukinet.forms.staffing import Absence as AbsenceForm
from jukinet.journal import inline_text
from jukinet.store.models import Absence, AuditRecord, utcnow
from jukinet.wareki import JST, to_wareki_datetime

CLAUSE = "C2.1"
REFUSED = "回答拒否"


def absences_markdown() -> str:
    rt = runtime()
    now = utcnow()
    rows = [
        f"| {inline_text(rt.config.roster.person(a.person_id).label)} "
        f"| {to_wareki_datetime(a.starts_at)} | {to_wareki_datetime(a.ends_at)} "
        f"| {inline_text(a.reason)} | {inline_text(a.registered_by)} |"
        for a in rt.store.absences(now)
        if a.person_id in {p.id for p in rt.config.roster.people}
    ]
    table = ["| 職員 | 開始 | 終了（予定） | 理由 | 登録者 |", "|---|---|---|---|---|", *rows]
    return "\n".join(
        [f"### 不在の職員（{to_wareki_datetime(now)} 現在）", "", *(table if rows else ["なし"])]
    )


def _header(refusals: list[str]) -> str:
    lines = [
        "### 不在の登録（C2.1）",
        "",
        "**お尋ねすること**: 不在になる職員（または戻った職員）と期間を登録してください。",
        "",
        "**根拠**: 担当者が不在の間は、次の順位の代理者が代わりに回答できます。"
        "登録は経過記録（監査記録）に残ります。",
        "",
        "**回答できる人**: 名簿の職員（ご本人の承認コードで登録します）",
        "",
        absences_markdown(),
    ]
    if refusals:
        lines += ["", f"> **前回の回答は受け付けられませんでした**: {refusals[-1]}"]
    return "\n".join(lines)


def absence_defaults() -> dict[str, object]:
    now = utcnow().astimezone(JST)
    return {
        "starts_on": now.date(),
        "starts_at": now.strftime("%H:%M"),
        "ends_on": now.date(),
        "ends_at": "23:59",
    }


def _record(raw: Form, run_id: str, attempt: int, event_key: str) -> AuditRecord:
    """Judge the answer and act on it; the audit record (kept once) says what happened."""
    rt = runtime()
    now = utcnow()
    identity = identify(raw, None, CLAUSE, f"absence:{run_id}#{attempt}", "名簿の職員")
    problems = list(identity.problems) or personal_data_problems(raw, resident_index())
    absent = rt.config.roster.by_label(str(getattr(raw, ABSENT_FIELD).value))
    assert absent is not None and isinstance(raw, AbsenceForm)  # built by absence_form
    starts, ends = raw.starts, raw.ends
    if not problems and raw.action is AbsenceAction.REGISTER:
        if ends <= starts:
            problems.append("「不在の終了日」「不在の終了時刻」は開始より後にしてください")
        elif ends <= now:
            problems.append("「不在の終了日」「不在の終了時刻」が過ぎています")
    if problems:
        return rt.store.audit(
            None,
            CLAUSE,
            REFUSED,
            f"不在の登録を受け付けませんでした: {'。'.join(problems)}",
            event_key=event_key,
            actor=identity.label,
        )
    if raw.action is AbsenceAction.END:
        ended = rt.store.end_absences(absent.id, now)
        return rt.store.audit(
            None,
            CLAUSE,
            "不在の取消",
            f"{absent.label} の不在の登録を取り消しました（{ended} 件、{to_wareki_datetime(now)}）",
            event_key=event_key,
            actor=identity.label,
            details={"person_id": absent.id, "ended": ended},
        )
    reason = raw.reason
    rt.store.register_absence(
        Absence(
            registration_key=f"{run_id}#{attempt}",
            person_id=absent.id,
            starts_at=starts,
            ends_at=ends,
            reason=reason,
            registered_by=identity.label,
            registered_at=now,
        )
    )
    return rt.store.audit(
        None,
        CLAUSE,
        "不在の登録",
        f"{absent.label} の不在を登録しました（{to_wareki_datetime(starts)} から "
        f"{to_wareki_datetime(ends)} まで、理由: {reason}）",
        event_key=event_key,
        actor=identity.label,
        details={
            "person_id": absent.id,
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
        },
    )


@flow(name="不在の登録", flow_run_name="不在の登録", log_prints=False)
def register_absence(municipality_code: Municipality = "") -> str:
    """Ask who is away and until when; returns the record's summary."""
    rt = runtime()
    people = [p.label for p in rt.config.roster.people]
    model = with_answerer(absence_form(people), people)
    run_id = current_flow_run_id()
    refusals: list[str] = []
    attempt = 1
    while True:
        event_key = f"absence|{run_id}|{attempt}"
        done = rt.store.audit_records_by_key(event_key)
        if not done:
            key = pause_key(CLAUSE, "ABSENCE", attempt)
            raw = wait_for_form(model, _header(refusals), key, absence_defaults())
            done = [_record(raw, run_id, attempt, event_key)]
            redact_form(key, raw)
        record = done[0]
        if record.kind != REFUSED:
            create_markdown_artifact(
                key=town_key("absences"), markdown=absences_markdown(), description="不在の職員"
            )
            get_run_logger().info("%s", record.summary)
            return record.summary
        get_run_logger().warning("%s", record.summary)
        refusals.append(record.summary)
        attempt += 1
