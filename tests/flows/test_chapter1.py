"""第1章: the declaration, drills, and notices when SMTP is down."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.emergency import Mode, emergency_response
from flows.runtime import runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.mailbox import Mailbox
from tasks.chapter1 import PersonalDataInReport
from tests.flows import scenarios as s
from tests.flows.conftest import Driver, start
from tests.flows.test_chapter2 import _finish, _incident_number, _mails_for


def test_a_drill_marks_everything_and_mails_only_the_drill_recipients(
    driver: Driver, mailbox: Mailbox
) -> None:
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.DRILL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="訓練")
    driver.answer("C2.S1.1#1", s.OPERATOR, **s.IDENTIFICATION)
    driver.answer("C2.S1.3#1", s.OFFICER, remarks="訓練")
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_SHORT)
    _finish(driver, "C2.S5.r1#1")
    run.join()
    store = runtime().store
    incident = store.incident(number)
    assert incident.drill
    mails = _mails_for(mailbox, number)
    assert mails and len(mails) == len(store.notices(incident.id))
    for mail in mails:
        assert mail["To"] == "kunren@town.taga.example"
        assert mail["Subject"].startswith("【訓練】")
        assert mail.get_content().startswith("【訓練】")
    for notice in store.notices(incident.id):
        assert "【訓練】" in Path(notice.archive_path or "").read_text(encoding="utf-8")


def test_notices_undelivered_while_smtp_is_down_are_recorded_then_sent_once(
    driver: Driver, mailbox: Mailbox
) -> None:
    """A delivery that fails after its retries is recorded as 送付失敗 and the response goes on;
    the close of the incident delivers it once the server is back, exactly once."""
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="故障")
    mailbox.stop()
    try:
        driver.answer("C2.S1.1#1", s.OPERATOR, **s.IDENTIFICATION)
        driver.paused("C2.S1.3#1")  # C2.S1.1–2 have run while the server was down
    finally:
        mailbox.start()
    driver.answer("C2.S1.3#1", s.OFFICER, remarks="特になし")
    store = runtime().store
    incident = store.incident(number)
    failed = [n for n in store.notices(incident.id) if n.status == "failed"]
    assert {n.document for n in failed} == {"maintenance_request", "failure_report"}
    assert all(n.attempts == 2 and n.last_error for n in failed)  # first try + one retry
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_SHORT)
    _finish(driver, "C2.S5.r1#1")
    run.join()
    notices = store.notices(incident.id)
    assert all(n.status == "sent" for n in notices)
    kinds = [r.kind for r in store.audit_records(incident.id)]
    assert kinds.count("送付失敗") == 2
    mails = _mails_for(mailbox, number)
    ids = [m["Message-ID"] for m in mails]
    assert len(ids) == len(set(ids)) == len(notices)
    assert store.incident(number).state == "終結"


def test_a_report_carrying_personal_data_is_refused_before_anything_is_recorded(
    product: Path,
) -> None:
    store = runtime().store
    before = len(store.audit_records())
    report = DiscoveryReport(
        **{**s.declaration(), "observed": "個人番号 123456789012 が画面に表示"}
    )
    with pytest.raises(PersonalDataInReport, match="「発見した状況」") as caught:
        emergency_response(report, Mode.REAL)
    assert "123456789012" not in str(caught.value)
    assert len(store.audit_records()) == before
