"""flows/escalation.py: a step left unanswered is reminded to its holders, then escalated to the
deputies and to セキュリティ統括責任者, each once and recorded under the step's clause; an answered
step is reminded no more."""

from __future__ import annotations

from datetime import timedelta

from flows.emergency import Mode, emergency_response
from flows.escalation import escalate_waiting
from flows.runtime import runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.store.models import utcnow
from tests.flows import scenarios as s
from tests.flows.conftest import Driver, answer_short_outage, away, start
from tests.flows.test_chapter2 import _incident_number


def _wait_longer(incident_id: int, minutes: float) -> None:
    store = runtime().store
    (ask,) = [a for a in store.waiting_asks() if a.incident_id == incident_id]
    store.update_ask(ask.id, asked_at=utcnow() - timedelta(minutes=minutes))


def test_unanswered_step_is_reminded_then_escalated_once_each(driver: Driver) -> None:
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    store = runtime().store
    incident = store.incident(number)
    interval = runtime().config.town.escalation.interval("C1.2", drill=False)

    _wait_longer(incident.id, interval + 1)  # one interval: the holders are reminded
    first = escalate_waiting()
    again = escalate_waiting()
    _wait_longer(incident.id, 3 * interval + 1)  # three: deputies, then the chief
    later = escalate_waiting()
    assert first["reminded"] == 1 and again["reminded"] == 0 and later["reminded"] == 2

    records = [r for r in store.audit_records(incident.id) if r.kind in ("督促", "上申")]
    assert [(r.clause, r.kind) for r in records] == [
        ("C1.2", "督促"),
        ("C1.2", "上申"),
        ("C1.2", "上申"),
    ]
    reminders = [n for n in store.notices(incident.id) if n.document == "answer_reminder"]
    recipients = [n.recipient for n in reminders]
    assert recipients[0].startswith("住基ネット担当者 犬上")
    assert recipients[1].startswith("住基ネット担当者代理者 多賀")
    assert any(r.startswith("セキュリティ統括責任者 霊仙") for r in recipients[2:])
    assert any(r.startswith("セキュリティ統括責任者代理者 栗栖") for r in recipients[2:])
    assert all(n.status == "sent" and n.clause == "C2.1" for n in reminders)

    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="機器の故障")
    answer_short_outage(driver)
    assert run.join() == number
    assert not [a for a in store.waiting_asks() if a.incident_id == incident.id]
    assert escalate_waiting()["reminded"] == 0


def test_the_first_reminder_also_reaches_the_deputy_when_the_holder_is_away(
    driver: Driver,
) -> None:
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    store = runtime().store
    incident = store.incident(number)
    interval = runtime().config.town.escalation.interval("C1.2", drill=False)
    with away(s.OPERATOR):
        _wait_longer(incident.id, interval + 1)
        assert escalate_waiting()["reminded"] == 1
    reminders = [n for n in store.notices(incident.id) if n.document == "answer_reminder"]
    assert sorted(n.recipient.split(" ")[0] for n in reminders) == [
        "住基ネット担当者",
        "住基ネット担当者代理者",
    ]
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="機器の故障")
    answer_short_outage(driver)
    assert run.join() == number
