"""flows/resend.py: what stayed undelivered while the mail server was down goes out once it is
back, exactly once; a notice undelivered past the town's alarm time raises the alarm once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client

from flows.emergency import Mode, emergency_response
from flows.resend import resend_undelivered
from flows.runtime import reset_runtime, runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.forms.chapter2 import ChiefJudgement
from jukinet.mailbox import Mailbox, free_port
from jukinet.notices.documents import DOCUMENTS
from jukinet.notices.outbox import DeliveryError, NoticeRequest, deliver, prepare
from jukinet.notices.recipients import for_role
from jukinet.plan import Role
from jukinet.store.models import Incident, utcnow
from tests.flows import scenarios as s
from tests.flows.conftest import Driver, answer_short_outage, start
from tests.flows.test_chapter2 import _incident_number


@pytest.fixture
def smtp_down(product: Path) -> Iterator[int]:
    """The product's mail server is on a port where nothing listens until the test starts one."""
    port = free_port()
    os.environ["JUKINET_SMTP_PORT"] = str(port)
    reset_runtime()
    yield port
    os.environ.pop("JUKINET_SMTP_PORT", None)
    reset_runtime()


def _pending_notice(origin: str) -> tuple[Incident, str]:
    rt = runtime()
    incident = rt.store.open_incident(
        origin_key=origin,
        drill=False,
        declared_class="障害",
        summary="再送の試験",
        declaration=s.declaration(),
    )
    judgement = ChiefJudgement(**s.JUDGEMENT_SHORT)
    request = NoticeRequest(
        "C2.S2.1",
        DOCUMENTS["protection_instruction"],
        for_role(rt.config, Role.SEC_OFFICER)[0],
        "統括責任者",
        {
            "instructions": judgement.instructions,
            "judgement_label": "運用停止に関する判断",
            "judgement_text": judgement.judgement.value,
        },
    )
    (notice,) = prepare(rt.outbox, incident, request)
    with pytest.raises(DeliveryError):
        deliver(rt.outbox, notice)
    return incident, notice.key


def _backdate(key: str, minutes: float) -> None:
    store = runtime().store
    notice = store.notice(key)
    assert notice is not None
    store.update_notice(notice.id, created_at=utcnow() - timedelta(minutes=minutes))


def test_pending_notices_go_out_once_the_server_is_back(smtp_down: int, tmp_path: Path) -> None:
    incident, key = _pending_notice("test-resend-back")
    store = runtime().store

    first = resend_undelivered()
    assert first["delivered"] == 0 and first["undelivered"] >= 1
    row = store.notice(key)
    assert row is not None and row.status == "failed" and row.attempts == 2

    with Mailbox(tmp_path / "back", port=smtp_down) as back:
        second = resend_undelivered()
        third = resend_undelivered()
        mails = back.messages()
    assert second["delivered"] >= 1 and second["undelivered"] == 0
    assert third["delivered"] == 0
    row = store.notice(key)
    assert row is not None and row.status == "sent" and row.attempts == 3
    assert [m["Subject"] for m in mails].count("データ保護等について（指示）") == 1
    sent = [r for r in store.audit_records(incident.id) if r.kind == "通知"]
    assert [r.details["notice_key"] for r in sent] == [key]


def test_an_overdue_notice_raises_the_alarm_once(smtp_down: int, tmp_path: Path) -> None:
    incident, key = _pending_notice("test-resend-alarm")
    _backdate(key, runtime().config.town.delivery.alarm_after_minutes + 1)
    store = runtime().store

    first = resend_undelivered()
    again = resend_undelivered()
    assert first["alarms"] == 1 and again["alarms"] == 0
    alarms = [r for r in store.audit_records(incident.id) if r.kind == "送付遅延の警報"]
    assert len(alarms) == 1 and alarms[0].clause == "C2.1"
    assert alarms[0].details["notice_key"] == key
    operators = for_role(runtime().config, Role.OPERATOR)
    alarm_mails = [n for n in store.notices(incident.id) if n.document == "undelivered_alarm"]
    assert [n.recipient for n in alarm_mails] == [r.name for r in operators]
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts()
    listed = [a for a in artifact if a.key == "undelivered-notices"]
    assert listed and "未送付の通知" in str(listed[0].data)

    with Mailbox(tmp_path / "back", port=smtp_down) as back:
        resend_undelivered()
        subjects = [m["Subject"] for m in back.messages()]
    assert subjects.count("未送付の通知について（警報）") == 1
    assert subjects.count("データ保護等について（指示）") == 1
    assert resend_undelivered()["alarms"] == 0


def test_an_alarm_recorded_before_a_crash_still_sends_its_mail(
    smtp_down: int, tmp_path: Path
) -> None:
    """The record was written, then the process died before the alarm reached the outbox: the
    next run puts the mail in the outbox without a second record."""
    incident, key = _pending_notice("test-resend-alarm-crash")
    _backdate(key, runtime().config.town.delivery.alarm_after_minutes + 1)
    store = runtime().store
    store.audit(
        incident.id,
        "C2.1",
        "送付遅延の警報",
        "（中断前に記録）",
        event_key=f"{incident.number}|alarm|{key}",
    )
    assert resend_undelivered()["alarms"] == 0  # not a new alarm
    alarms = [r for r in store.audit_records(incident.id) if r.kind == "送付遅延の警報"]
    assert len(alarms) == 1
    assert [n.document for n in store.notices(incident.id)].count("undelivered_alarm") == len(
        for_role(runtime().config, Role.OPERATOR)
    )


def test_a_close_waits_for_its_notices_and_the_resend_resumes_it(
    driver: Driver, mailbox: Mailbox
) -> None:
    """C2.3 answered while the mail server is down: the run waits to close (no failure), the
    re-send leaves it waiting while mail is refused, then delivers and resumes it; it closes
    with the final report, every notice once."""
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="機器の故障")
    answer_short_outage(driver, close=False)
    os.environ["JUKINET_SMTP_PORT"] = str(free_port())  # nothing listens there
    reset_runtime()
    try:
        driver.answer("C2.3#1", s.OFFICER, **s.PREVENTION)
        driver.paused("CLOSE-WAIT#1")
        assert resend_undelivered()["resumed"] == 0  # mail still refused: it keeps waiting
        driver.paused("CLOSE-WAIT#1")
    finally:
        os.environ.pop("JUKINET_SMTP_PORT", None)
        reset_runtime()
    store = runtime().store
    incident = store.incident(number)
    assert incident.closed_at is None
    done = resend_undelivered()
    assert done["delivered"] >= 1 and done["resumed"] == 1
    assert run.join() == number
    assert resend_undelivered()["resumed"] == 0  # once

    incident = store.incident(number)
    assert incident.state == "終結" and incident.closed_at is not None
    kinds = [r.kind for r in store.audit_records(incident.id)]
    assert kinds.count("送付待ち") == 1 and kinds.count("送付待ちの再開") == 1
    assert kinds.index("送付待ち") < kinds.index("送付待ちの再開") < kinds.index("終結")
    notices = store.notices(incident.id)
    assert all(n.status == "sent" for n in notices)
    assert len([n for n in notices if n.document == "final_report"]) == 2  # 町長, 滋賀県
    ids = [m["Message-ID"] for m in mailbox.messages() if number in m.get_content()]
    assert len(ids) == len(set(ids)) == len([n for n in notices if n.channel == "email"])
