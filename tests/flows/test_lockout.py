"""Repeated wrong approval codes stop that person's answers for the configured time (recorded
once); the holder or another deputy answers meanwhile; the codes themselves appear nowhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from flows.emergency import Mode, emergency_response
from flows.runtime import runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.store.models import Answer, CodeFailure
from tests.flows import scenarios as s
from tests.flows.conftest import Driver, answer_short_outage, start
from tests.flows.test_chapter2 import _incident_number

WRONG = "8642"


@pytest.fixture
def unlock_deputy(product: Path) -> Iterator[str]:
    """The deputy's failures are removed afterwards, so later tests find the person unlocked."""
    person = runtime().config.roster.by_label(s.OPERATOR_DEPUTY)
    assert person is not None
    yield person.id
    with runtime().store.session() as session:
        session.execute(delete(CodeFailure).where(CodeFailure.person_id == person.id))


def test_wrong_codes_lock_the_person_and_the_holder_answers(
    driver: Driver, unlock_deputy: str
) -> None:
    policy = runtime().config.town.approval
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    for attempt in range(1, policy.max_failures + 1):
        driver.answer(
            f"C1.2#{attempt}",
            s.OPERATOR_DEPUTY,
            code=WRONG,
            emergency_class="障害",
            reason="担当者不在のため",
        )
    right = policy.max_failures + 1
    driver.answer(f"C1.2#{right}", s.OPERATOR_DEPUTY, emergency_class="障害", reason="再入力")
    driver.answer(f"C1.2#{right + 1}", s.OPERATOR, emergency_class="障害", reason="機器の故障")
    answer_short_outage(driver)
    assert run.join() == number

    store = runtime().store
    incident = store.incident(number)
    records = store.audit_records(incident.id)
    locks = [r for r in records if r.kind == "承認の停止"]
    assert len(locks) == 1 and locks[0].details["person_id"] == unlock_deputy
    assert f"{policy.max_failures} 回続いた" in locks[0].summary
    refused = [r.summary for r in records if r.kind == "回答拒否"]
    assert len(refused) == right
    assert all("承認コードが正しくありません" in r for r in refused[: policy.max_failures])
    assert "まで回答できません" in refused[policy.max_failures - 1]  # the one that locked
    assert "まで回答できません" in refused[-1] and "正しくありません" not in refused[-1]
    accepted = [r for r in records if r.kind == "回答" and r.clause == "C1.2"]
    assert [r.actor.split(" ")[0:2] for r in accepted] == [s.OPERATOR.split(" ")[0:2]]
    with store.session() as session:
        answers = session.query(Answer).filter(Answer.incident_id == incident.id).all()
    kept = repr([(a.payload, a.reason) for a in answers])
    kept += repr([(r.summary, r.details) for r in records])
    assert WRONG not in kept  # the wrong code is neither recorded nor echoed
