"""Deputies answer only in the holder's absence (registered with 不在の登録) or after the step has
waited until the deputies are asked; the chief records 事後承認 with the time of the act and of
the approval (flows/absence.py, flows/ratification.py, jukinet/deputies.py)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

from flows.absence import register_absence
from flows.emergency import Mode, emergency_response
from flows.ratification import ratify
from flows.runtime import runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.store.models import AuditRecord, utcnow
from jukinet.wareki import JST, to_wareki_datetime
from tests.flows import scenarios as s
from tests.flows.conftest import TIMEOUT, Driver, answer_short_outage, start
from tests.flows.test_chapter2 import _incident_number
from tests.flows.test_escalation import _wait_longer

RETURNED = "不在を取り消す（戻った）"


def _absence(absent: str, answerer: str, **values: str) -> tuple[str, AuditRecord]:
    """Run 不在の登録 and answer it; returns the run's summary and the chain's last record."""
    run = start(register_absence)
    Driver().answer("ABSENCE#1", answerer, absent=absent, reason="出張", **values)
    summary = run.join()
    return summary, runtime().store.audit_records()[-1]


def _records(number: str, kind: str) -> list[AuditRecord]:
    store = runtime().store
    return [r for r in store.audit_records(store.incident(number).id) if r.kind == kind]


def test_a_deputy_answers_only_while_the_holder_is_registered_absent(driver: Driver) -> None:
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR_DEPUTY, emergency_class="障害", reason="担当者不在")
    summary, record = _absence(s.OPERATOR, s.OFFICER)
    assert record.kind == "不在の登録" and record.incident_id is None
    assert record.actor == s.OFFICER and summary == record.summary
    assert summary.startswith(f"{s.OPERATOR} の不在を登録しました（") and "理由: 出張" in summary
    assert [a.person_id for a in runtime().store.absences(utcnow())] == ["inukami"]
    driver.answer("C1.2#2", s.OPERATOR_DEPUTY, emergency_class="障害", reason="担当者不在")

    _, back = _absence(s.OPERATOR, s.OPERATOR, action=RETURNED)
    assert back.kind == "不在の取消" and "1 件" in back.summary
    assert runtime().store.absences(utcnow()) == []
    answer_short_outage(driver)
    assert run.join() == number

    (refused,) = _records(number, "回答拒否")
    assert "代理者（第1順位）です。犬上 一郎 が不在として登録されているか" in refused.summary
    answered = next(r for r in _records(number, "回答") if r.clause == "C1.2")
    assert answered.on_behalf_of == "住基ネット担当者 犬上 一郎 に代わり"
    assert "不在として登録されているため" in answered.details["deputy_ground"]
    assert runtime().store.verify_chain().ok


def test_a_deputy_answers_once_the_step_has_waited_until_the_deputies_are_asked(
    driver: Driver,
) -> None:
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    store = runtime().store
    incident = store.incident(number)
    after = runtime().config.town.escalation.deputies_after("C1.2", drill=False)
    _wait_longer(incident.id, after + 1)
    driver.answer("C1.2#1", s.OPERATOR_DEPUTY, emergency_class="障害", reason="応答なし")
    answer_short_outage(driver)
    assert run.join() == number
    answered = next(r for r in _records(number, "回答") if r.clause == "C1.2")
    assert answered.details["deputy_ground"] == f"回答待ちが {after:g} 分を超えたため"


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"code": "0000"}, "承認コードが正しくありません"),
        ({"ends_on": "2026-01-01"}, "開始より後にしてください"),
        ({"reason": "住民票コード 12345678901 の件で出張"}, "「理由」"),
    ],
)
def test_a_wrong_absence_is_refused_recorded_and_asked_again(
    values: dict[str, str], problem: str
) -> None:
    run = start(register_absence)
    Driver().answer("ABSENCE#1", s.OFFICER, absent=s.CHIEF, **{"reason": "出張", **values})
    Driver().answer("ABSENCE#2", s.OFFICER, absent=s.CHIEF, action=RETURNED, reason="戻った")
    run.join()
    refused, returned = runtime().store.audit_records()[-2:]
    assert refused.kind == "回答拒否" and problem in refused.summary
    assert "12345678901" not in refused.summary and "0000" not in refused.summary
    assert returned.kind == "不在の取消"
    assert all(a.person_id != "ryozen" for a in runtime().store.absences(utcnow()))


def _ratify_step(number: str) -> str:
    """The ask key of the paused 事後承認 run of the incident (its step names the run)."""
    deadline = time.monotonic() + TIMEOUT
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_=f"{number} 事後承認"))
            )
            if runs and runs[0].state and runs[0].state.is_paused():
                return f"RATIFY.{str(runs[0].id)[:8]}"
            time.sleep(0.2)
    raise AssertionError("事後承認 did not pause")


def test_the_chief_ratifies_a_measure_with_both_times_recorded(driver: Driver) -> None:
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    acted = (utcnow() - timedelta(hours=1)).astimezone(JST).replace(second=0, microsecond=0)
    measure = {
        "measure": "CS を庁内ネットワークから切り離した",
        "acted_by": s.OPERATOR,
        "acted_on": acted.date().isoformat(),
        "acted_at": acted.strftime("%H:%M"),
    }
    ratified = start(ratify, number, "C2.S1.1")
    step = _ratify_step(number)
    driver.answer(f"{step}#1", s.CHIEF, decision="承認しない", **measure)  # no reason given
    driver.answer(f"{step}#2", s.OPERATOR, decision="承認する", **measure)  # not the chief
    driver.answer(f"{step}#3", s.CHIEF, decision="承認する", opinion="妥当な措置", **measure)
    summary = ratified.join()

    (record,) = _records(number, "事後承認")
    assert record.summary == summary and record.clause == "C2.S1.1"
    assert record.actor == f"{s.CHIEF} 担当者"
    assert record.details["acted_at"] == acted.isoformat()
    approved = datetime.fromisoformat(record.details["approved_at"])
    assert acted < approved <= utcnow()
    assert summary.startswith(
        f"{s.OPERATOR} が {to_wareki_datetime(acted)} に行った措置「{measure['measure']}」を"
        f"承認しました（承認 {to_wareki_datetime(approved)}）"
    )
    reasons = [r.summary for r in _records(number, "回答拒否")]
    assert "「意見・理由」を記入してください" in reasons[0]
    assert "セキュリティ統括責任者の担当者・代理者として登録されていません" in reasons[1]

    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="機器の故障")
    answer_short_outage(driver)
    assert run.join() == number
    late = start(ratify, number, "C2.S1.1")
    with pytest.raises(ValueError, match="終結しています"):
        late.join()
    with pytest.raises(ValueError, match="計画の条項にありません"):
        start(ratify, number, "C9.9").join()
    with pytest.raises(LookupError, match="記録にありません"):
        start(ratify, "令和元年度-999", "C2.S1.1").join()
