"""The one place that asks a human.

Contract (DESIGN.md §3): `ask` shows a Japanese form whose header says what is asked, why, under
which clause and what happened so far; it suspends when the run belongs to a deployment (pauses in
tests); it accepts the answer only from a holder of `role` or a registered deputy with the right
approval code, and from nothing that fails `checks`. A refused answer is recorded and the same
question is asked again under the next key (`C2.S4#2`), so a replay after resume reaches the same
point and records nothing twice. The approval code is overwritten in Prefect's copy of the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from prefect import pause_flow_run, suspend_flow_run
from prefect.client.schemas.objects import State
from prefect.input import RunInput
from prefect.input.actions import create_flow_run_input, delete_flow_run_input
from prefect.input.run_input import keyset_from_paused_state
from prefect.logging import get_run_logger
from prefect.states import Paused, Suspended
from pydantic import BaseModel, SecretStr

from flows.runtime import (
    current_flow_run_id,
    in_deployment,
    publish_journal,
    resident_index,
    runtime,
)
from jukinet.codes import verify_code
from jukinet.config.models import Person
from jukinet.deputies import Standing, standing
from jukinet.forms.common import (
    ANSWERER_FIELD,
    CODE_FIELD,
    Form,
    personal_data_problems,
    public_payload,
    redacted,
    with_answerer,
    with_defaults,
)
from jukinet.journal import inline_text
from jukinet.lockout import locked_until, lookback
from jukinet.plan import Role, clause_title
from jukinet.store.models import Answer, Incident, utcnow
from jukinet.wareki import to_wareki_datetime

F = TypeVar("F", bound=Form)

PAUSE_TIMEOUT_SECONDS = 30 * 24 * 3600  # pauses only happen outside deployments (tests)
POLL_SECONDS = 0.25  # pauses only happen in-process (tests); deployments suspend


@dataclass(frozen=True)
class Answered(Generic[F]):
    value: F
    answerer: str  # "大滝 健二（住民課長）"
    capacity: str  # "担当者" or "代理者（第1順位）"


def summarize(answer: BaseModel, limit: int = 80) -> str:
    """`障害の種類: ハードウェアの障害; 原因: 電源ユニット故障` for records (the code never)."""
    parts = []
    for name, field in type(answer).model_fields.items():
        if name in (ANSWERER_FIELD, CODE_FIELD):
            continue
        value = getattr(answer, name)
        if isinstance(value, BaseModel) or (
            isinstance(value, list) and any(isinstance(v, BaseModel) for v in value)
        ):
            continue  # nested items are recorded by the step that acts on them
        if isinstance(value, list):
            text = "、".join(str(v.value if isinstance(v, Enum) else v) for v in value) or "なし"
        elif isinstance(value, Enum):
            text = str(value.value)
        elif isinstance(value, bool):
            text = "はい" if value else "いいえ"
        else:
            text = str(value)
        text = text if len(text) <= limit else text[:limit] + "…"
        parts.append(f"{field.title or name}: {text}")
    return "; ".join(parts) or "回答を受け付けました"


def _header(
    incident: Incident,
    clause: str,
    role: Role,
    question: str,
    why: str,
    refusals: list[str],
    exhibit: str | None = None,
) -> str:
    roster = runtime().config.roster
    holders = "、".join(p.name for p in roster.holders(role))
    deputies = "、".join(p.name for p in roster.deputies(role))
    after = runtime().config.town.escalation.deputies_after(clause, incident.drill)
    drill = "【訓練】" if incident.drill else ""
    recent = runtime().store.audit_records(incident.id)[-5:]
    lines = [
        f"### {drill}{clause_title(clause)}（{clause}）",
        f"**事案 {incident.number}**　{inline_text(incident.summary)}",
        "",
        f"**お尋ねすること**: {question}",
        "",
        f"**根拠**: {why}",
        "",
        f"**回答できる人**: {role.label}（{holders}）"
        + (
            f"。代理者（{deputies}）は、先順位の者が不在として登録されているとき、"
            f"または問いから {after:g} 分が過ぎたときに回答できます"
            if deputies
            else ""
        ),
        "",
        "時刻はすべて日本時間で入力してください。本人確認情報（住民の氏名・住所・住民票コード・個人番号等）は記入しないでください。",
    ]
    if recent:
        lines += ["", "**これまでの経過（直近）**", ""]
        lines += [
            f"- {to_wareki_datetime(r.recorded_at)} {r.kind}: {inline_text(r.summary)}"
            for r in recent
        ]
    if exhibit:
        fence = "`" * max([3, *(len(m) + 1 for m in re.findall(r"`+", exhibit))])
        lines += ["", "**確認する文書**", "", f"{fence}text", exhibit, fence]
    if refusals:
        lines += ["", f"> **前回の回答は受け付けられませんでした**: {refusals[-1]}"]
    return "\n".join(lines)


def pause_key(clause: str, step: str, attempt: int) -> str:
    """Prefect's key for one ask: `c2-s4--c2-s4-r1-2--1` (clause, step, attempt; lowercase, dashes)."""

    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")

    return f"{slug(clause)}--{slug(step)}--{attempt}"


def wait_for_form(model: type[Form], header: str, key: str, initial: dict[str, Any]) -> Form:
    base = RunInput.subclass_from_base_model_type(with_defaults(model, initial))
    form = base.with_initial_data(description=header)
    if in_deployment():
        answer = suspend_flow_run(wait_for_input=form, key=key, timeout=None)
    else:
        # Prefect's signature says int; it sleeps with anyio, so a fraction of a second works
        answer = pause_flow_run(  # type: ignore[call-overload]
            wait_for_input=form, key=key, timeout=PAUSE_TIMEOUT_SECONDS, poll_interval=POLL_SECONDS
        )
    assert isinstance(answer, model)
    return answer


def redact_form(key: str, raw: Form) -> None:
    """Rewrite Prefect's stored copy of the answer without the code and 本人確認情報-like text."""
    state: State[Any] = Suspended(pause_key=key) if in_deployment() else Paused(pause_key=key)
    response_key = keyset_from_paused_state(state)["response"]
    data = redacted(raw, resident_index())
    flow_run_id = current_flow_run_id()
    delete_flow_run_input(key=response_key, flow_run_id=flow_run_id)  # type: ignore[arg-type]
    create_flow_run_input(key=response_key, value=data, flow_run_id=flow_run_id)  # type: ignore[arg-type]


def _locked(person: Person) -> datetime | None:
    policy = runtime().config.town.approval
    now = utcnow()
    failures = runtime().store.code_failures_since(person.id, now - lookback(policy))
    return locked_until(failures, policy, now)


def _count_failure(
    incident: Incident | None, clause: str, person: Person, ask_key: str
) -> list[str]:
    """Record the wrong code; when it starts a lockout, record that too and say so."""
    store = runtime().store
    store.record_code_failure(person.id, incident.id if incident else None, ask_key)
    until = _locked(person)
    if until is None:
        return []
    policy = runtime().config.town.approval
    store.audit(
        incident.id if incident else None,
        clause,
        "承認の停止",
        f"{person.label} の承認コードの誤りが {policy.max_failures} 回続いたため、"
        f"{to_wareki_datetime(until)} まで回答を止めました",
        event_key=f"lockout|{person.id}|{until.isoformat()}",
        details={"person_id": person.id, "until": until.isoformat()},
    )
    get_run_logger().warning("%s の回答を %s まで止めました", person.label, until.isoformat())
    return [f"誤りが続いたため、{to_wareki_datetime(until)} まで回答できません"]


@dataclass(frozen=True)
class Identity:
    label: str  # as chosen in the form
    person: Person | None
    problems: list[str]  # empty when the person may answer with this code


def identify(
    raw: Form,
    incident: Incident | None,
    clause: str,
    ask_key: str,
    who: str,
    allowed: Callable[[Person], bool] = lambda person: True,
) -> Identity:
    """The answerer chosen in the form, checked: one of the people `allowed` (`who` names them
    in the refusal), not locked, the right code (a wrong one is counted)."""
    label = str(getattr(raw, ANSWERER_FIELD).value)
    person = runtime().config.roster.by_label(label)
    code: SecretStr = getattr(raw, CODE_FIELD)
    if person is None or not allowed(person):
        return Identity(label, person, [f"{label} は{who}として登録されていません"])
    locked = _locked(person)
    if locked is not None:
        return Identity(
            label,
            person,
            [
                f"{label} は承認コードの誤りが続いたため、{to_wareki_datetime(locked)} まで回答できません"
                "（代理者が回答してください）"
            ],
        )
    if not person.code_hash or not verify_code(code.get_secret_value(), person.code_hash):
        problems = [f"{label} の承認コードが正しくありません"]
        return Identity(label, person, problems + _count_failure(incident, clause, person, ask_key))
    return Identity(label, person, [])


def _deputy_standing(
    incident: Incident, clause: str, role: Role, person: Person, ask_key: str
) -> Standing:
    store = runtime().store
    now = utcnow()
    asked = store.asked(incident.id, ask_key)
    waited = (now - asked.asked_at).total_seconds() / 60 if asked else 0.0
    after = runtime().config.town.escalation.deputies_after(clause, incident.drill)
    absent = {a.person_id for a in store.absences(now)}
    return standing(runtime().config.roster, role, person, absent, waited, after)


def _judge(
    incident: Incident,
    clause: str,
    role: Role,
    raw: Form,
    ask_key: str,
    checks: Callable[[Any], list[str]] | None,
) -> Answer:
    roster = runtime().config.roster
    who = f"{role.label}の担当者・代理者"
    identity = identify(
        raw, incident, clause, ask_key, who, lambda p: roster.may_answer(role, p) is not None
    )
    label, person, problems = identity.label, identity.person, list(identity.problems)
    capacity = roster.may_answer(role, person) if person else None
    ground: str | None = None
    if not problems and person is not None and capacity != "担当者":
        deputy = _deputy_standing(incident, clause, role, person, ask_key)
        ground = deputy.ground
        if not deputy.allowed:
            problems.append(deputy.ground)
    if not problems:
        problems += personal_data_problems(raw, resident_index())
        problems += checks(raw) if checks else []
    accepted = not problems
    payload = public_payload(raw) if accepted else {}
    answer = runtime().store.record_answer(
        Answer(
            incident_id=incident.id,
            ask_key=ask_key,
            clause=clause,
            accepted=accepted,
            reason="。".join(problems) or None,
            answerer=label,
            capacity=capacity,
            payload=payload,
            recorded_at=utcnow(),
        )
    )
    holders = "、".join(p.name for p in roster.holders(role))
    on_behalf = f"{role.label} {holders} に代わり" if capacity and capacity != "担当者" else None
    store = runtime().store
    if answer.accepted:
        details: dict[str, Any] = {"ask_key": ask_key, "answer": payload}
        if on_behalf and ground:
            details["deputy_ground"] = ground
        store.audit(
            incident.id,
            clause,
            "回答",
            summarize(raw) + (f"（代理の理由: {ground}）" if on_behalf and ground else ""),
            event_key=f"{incident.number}|answer|{ask_key}",
            actor=f"{label} {capacity}",
            on_behalf_of=on_behalf,
            details=details,
        )
    else:
        store.audit(
            incident.id,
            clause,
            "回答拒否",
            f"回答を受け付けませんでした: {answer.reason}",
            event_key=f"{incident.number}|refused|{ask_key}",
            actor=label,
            details={"ask_key": ask_key},
        )
        get_run_logger().warning("回答を受け付けませんでした（%s）: %s", ask_key, answer.reason)
    return answer


def ask(
    incident: Incident,
    step: str,
    clause: str,
    role: Role,
    form: type[F],
    *,
    question: str,
    why: str,
    checks: Callable[[Any], list[str]] | None = None,
    initial: dict[str, Any] | None = None,
    exhibit: str | None = None,
) -> Answered[F]:
    """Ask `role` the question of `clause` until an acceptable answer arrives; `initial` fills
    fields in advance with what the record already says (the person may change them); `exhibit`
    is a text shown in full below the question (e.g. the public text to approve)."""
    store = runtime().store
    people = [p.label for p in runtime().config.roster.people]
    refusals: list[str] = []
    attempt = 1
    while True:
        ask_key = f"{step}#{attempt}"
        answer = store.answer(incident.id, ask_key)
        if answer is None:
            model = with_answerer(form, people)
            key = pause_key(clause, step, attempt)
            header = _header(incident, clause, role, question, why, refusals, exhibit)
            store.open_ask(incident.id, ask_key, clause, role.value, current_flow_run_id())
            raw = wait_for_form(model, header, key, initial or {})
            answer = _judge(incident, clause, role, raw, ask_key, checks)
            store.close_ask(incident.id, ask_key)
            redact_form(key, raw)
            publish_journal(incident)
        if answer.accepted:
            values = {k: v for k, v in answer.payload.items() if k != ANSWERER_FIELD}
            return Answered(form.model_validate(values), answer.answerer, answer.capacity or "")
        refusals.append(answer.reason or "")
        attempt += 1
