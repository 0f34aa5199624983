"""第3章 不正行為, driven through its paused steps via the API as the UI would: every branch of the
determination (C3.S3), the outside notification (C3.S1.3), a raised level and the refusals."""

from __future__ import annotations

from flows.emergency import Mode, emergency_response
from flows.runtime import runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.mailbox import Mailbox
from tests.flows import scenarios as s
from tests.flows import scenarios3 as t
from tests.flows.conftest import Driver, Run, start
from tests.flows.test_chapter2 import _documents, _incident_number, _mails_for, _records


def _reported(driver: Driver, *examples: str) -> tuple[Run, str]:
    """第1章 → C3.S1.2 → C3.S1.4."""
    run = start(emergency_response, DiscoveryReport(**s.declaration("不正行為")), Mode.REAL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="不正行為", reason="権限外の操作の痕跡")
    driver.answer("C3.S1.2#1", t.OPERATOR, **t.report(*examples))
    driver.answer("C3.S1.4#1", t.OFFICER, **t.FORWARD)
    return run, number


def _resume_and_close(driver: Driver, approval_key: str) -> None:
    driver.answer("C3.S5.r1#1", t.CHIEF, **t.FINDINGS)
    driver.answer("C3.S6.1.r1.integrity.1#1", t.SEC_ADMIN, **t.CONSISTENT)
    driver.answer(approval_key, t.CHIEF, **t.RESUME)
    driver.answer("C3.S6.2#1", t.SEC_ADMIN, **t.RESUMPTION)
    driver.answer("C3.2#1", t.CHIEF, **t.PERMANENT)


def test_level_3_with_a_system_stop_runs_to_resumption(driver: Driver, mailbox: Mailbox) -> None:
    """C3.S1–S6 and C3.2 at level 3: the stop order (C3.S2.2) is a record with who and when and a
    notice to those who carry it out; the meeting is mandatory (C3.S3.4) and, as it approved the
    stop, decides resumption (C3.S4.D9)."""
    run, number = _reported(driver, t.L3_3)
    driver.answer(
        "C3.S2#1", t.CHIEF, **t.instruction(True, "ネットワークからの切り離し", hearings=True)
    )
    driver.answer("C3.S2.2#1", t.OPERATOR, **t.STOP_DONE)
    driver.answer(
        "C3.S2.1#1",
        t.OPERATOR,
        **t.measures(hearings_result="窓口職員3名から聴取", receiving_body="湖東年金事務所"),
    )
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(3, t.L3_3))
    driver.answer("C3.S3.2#1", t.SEC_ADMIN, **t.CAUSE)
    driver.answer("C3.S4.1#1", t.CHIEF, **t.CONVENING)
    driver.answer("C3.S4.3#1", t.CHIEF, **t.meeting())
    driver.answer("C3.S4.D8.1#1", t.CHIEF, **t.REVIEW_AGAIN)
    driver.answer("C3.S4.D8.2#1", t.CHIEF, **t.REVIEW_PROCEED)
    _resume_and_close(driver, "C3.S4.D9.r1#1")
    assert run.join() == number

    store = runtime().store
    incident = store.incident(number)
    assert incident.state == "終結"
    notices = store.notices(incident.id)
    assert notices and all(n.status == "sent" for n in notices)
    assert len(_mails_for(mailbox, number)) == len(notices)
    docs = _documents(number)
    for clause, doc in [
        ("C3.S1.2", "unauthorized_report"),
        ("C3.S1.4", "unauthorized_report"),
        ("C3.S2", "unauthorized_mayor_report"),
        ("C3.S2", "protection_instruction"),
        ("C3.S2.2", "system_stop_order"),
        ("C3.S2.1", "cooperation_request"),
        ("C3.S2.4", "receiving_body_request"),
        ("C3.S3.2", "cause_report"),
        ("C3.S3.4", "unauthorized_mayor_report"),
        ("C3.S4.1", "meeting_convening"),
        ("C3.S4.D2", "unauthorized_notification"),
        ("C3.S4.D3", "unauthorized_support_request"),
        ("C3.S4.D6", "unauthorized_homepage_notice"),
        ("C3.S4.D6", "unauthorized_press_release"),
        ("C3.S4.3", "meeting_result_report"),
        ("C3.S4.D8", "review_notice"),
        ("C3.S5", "findings_report"),
        ("C3.S6.1", "integrity_report"),
        ("C3.S6.3", "resumption_mayor_report"),
        ("C3.S6.4", "unauthorized_resumption_notice"),
        ("C3.2", "permanent_measures_report"),
    ]:
        assert any(c == clause and d == doc for c, d, _ in docs), (clause, doc)
    # C3.S1.1: 第1章 already sent the discovery report to セキュリティ責任者 (presumed 不正行為): not twice
    to_officer = [c for c, d, r in docs if d == "discovery_report" and "セキュリティ責任者" in r]
    assert to_officer == ["C2.S1.1"]
    assert ("C3.S1.1", "報告", "システム") in _records(number)
    stop_order = [r for c, d, r in docs if d == "system_stop_order"]
    assert sorted(stop_order) == ["セキュリティ責任者 大滝 健二", "住基ネット担当者 犬上 一郎"]
    records = store.audit_records(incident.id)
    order = next(r for r in records if r.kind == "停止命令")
    assert (order.clause, order.actor) == ("C3.S2.2", t.CHIEF)
    assert "ネットワークからの切り離し" in order.summary and order.details["ordered_at"]
    done = next(r for r in records if r.kind == "停止実施")
    assert done.details["at"] == "2026-11-27T17:45:00+09:00"
    level = next(r for r in records if r.kind == "脅威度判定")
    assert (level.clause, level.actor, level.details["level"]) == ("C3.S3", t.SEC_ADMIN, 3)
    decision = next(r for r in records if r.kind == "再開承認")
    assert decision.clause == "C3.S4.D9" and decision.actor.startswith("セキュリティ会議（議長")
    assert len([r for r in records if r.clause == "C3.S4.D8" and r.kind == "見直し"]) == 2
    assert store.verify_chain().ok
