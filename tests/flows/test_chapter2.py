"""第2章 機器障害, driven through its paused steps via the API as the UI would."""

from __future__ import annotations

from email.message import EmailMessage

from flows.emergency import emergency_response
from flows.runtime import runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.mailbox import Mailbox
from tests.flows import scenarios as s
from tests.flows.conftest import Driver, start


def _incident_number(driver: Driver) -> str:
    run = driver.paused("C1.2#1")
    number = run.name.split(" ")[0]
    driver.name_filter = number
    return number


def _mails_for(mailbox: Mailbox, number: str) -> list[EmailMessage]:
    return [m for m in mailbox.messages() if number in m.get_content()]


def test_short_outage_runs_chapter_1_and_2_to_the_end(driver: Driver, mailbox: Mailbox) -> None:
    """C1.2 → C2.S1.1–3 → C2.S2 (no meeting) → C2.S4 → C2.S5 → C2.3, with every notice once."""
    run = start(emergency_response, DiscoveryReport(**s.declaration()), "本番（実際の緊急時）")
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="CS の機器故障")
    driver.answer("C2.S1.1#1", s.OPERATOR, **s.IDENTIFICATION)
    driver.answer("C2.S1.3#1", s.OFFICER, remarks="保守事業者へ連絡済み")
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_SHORT)
    driver.answer("C2.S4.r1.1#1", s.OFFICER, **s.REPAIRED)
    driver.answer("C2.S5.r1.integrity.1#1", s.OFFICER, **s.CONSISTENT)
    driver.answer("C2.S5.r1#1", s.CHIEF, **s.RESUME)
    driver.answer("C2.3#1", s.OFFICER, **s.PREVENTION)
    assert run.join() == number

    store = runtime().store
    incident = store.incident(number)
    assert incident.state == "終結"
    notices = store.notices(incident.id)
    assert all(n.status == "sent" for n in notices)
    documents = [(n.clause, n.document) for n in notices]
    assert ("C2.S1.2", "maintenance_request") in documents
    assert ("C2.S4", "repair_request") in documents
    assert not any(n.document == "mayor_report" for n in notices)
    mails = _mails_for(mailbox, number)
    assert len(mails) == len(notices)
    assert store.verify_chain().ok
