"""jukinet/deputies.py: a deputy answers when everyone ahead is registered absent or the step
has waited until the deputies are asked; the store keeps absences per period and ends them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jukinet.config.loader import load_config
from jukinet.config.models import Roster
from jukinet.deputies import standing
from jukinet.plan import Role
from jukinet.store.db import make_engine
from jukinet.store.models import Absence, utcnow
from jukinet.store.store import Store
from tests.conftest import EXAMPLE_CONFIG


@pytest.fixture(scope="module")
def roster() -> Roster:
    """The example roster with a second deputy (栗栖) for 住基ネット担当者."""
    data = load_config(EXAMPLE_CONFIG).roster.model_dump(mode="json")
    data["roles"][Role.OPERATOR.value]["deputies"] = ["taga", "kuri"]
    return Roster.model_validate(data)


def test_a_deputy_waits_while_the_holder_is_present(roster: Roster) -> None:
    taga = roster.person("taga")
    result = standing(roster, Role.OPERATOR, taga, absent=set(), waited=19.9, after=20)
    assert not result.allowed
    assert "代理者（第1順位）" in result.ground and "犬上 一郎 が不在として登録" in result.ground
    assert "20 分" in result.ground


def test_the_holder_absent_lets_the_first_deputy_answer(roster: Roster) -> None:
    result = standing(roster, Role.OPERATOR, roster.person("taga"), {"inukami"}, 0, 20)
    assert result.allowed and "犬上 一郎" in result.ground and "不在" in result.ground


def test_the_second_deputy_also_waits_for_the_first(roster: Roster) -> None:
    kuri = roster.person("kuri")
    waiting = standing(roster, Role.OPERATOR, kuri, {"inukami"}, 0, 20)
    assert not waiting.allowed and "多賀 花子 が不在" in waiting.ground
    assert "代理者（第2順位）" in waiting.ground
    assert standing(roster, Role.OPERATOR, kuri, {"inukami", "taga"}, 0, 20).allowed


def test_no_answer_in_time_lets_any_deputy_answer(roster: Roster) -> None:
    result = standing(roster, Role.OPERATOR, roster.person("kuri"), set(), 20, 20)
    assert result.allowed and result.ground == "回答待ちが 20 分を超えたため"


def test_absences_are_in_force_for_their_period_and_end(store_url: str) -> None:
    store = Store(make_engine(store_url), "254436")
    now = utcnow()

    def register(key: str, person: str, start: float, end: float) -> Absence:
        return store.register_absence(
            Absence(
                registration_key=key,
                person_id=person,
                starts_at=now + timedelta(hours=start),
                ends_at=now + timedelta(hours=end),
                reason="出張",
                registered_by="犬上 一郎（住民課）",
                registered_at=now,
            )
        )

    first = register("run-1#1", "inukami", -1, 2)
    again = register("run-1#1", "inukami", -5, 9)  # a replay of the same registration
    register("run-2#1", "otaki", 1, 3)  # not yet
    assert again.id == first.id and again.ends_at == first.ends_at
    assert [a.person_id for a in store.absences(now)] == ["inukami"]
    assert {a.person_id for a in store.absences(now + timedelta(hours=1.5))} == {"inukami", "otaki"}
    assert store.end_absences("inukami", now) == 1
    assert store.absences(now) == []
    assert store.end_absences("inukami", now) == 0
    assert [a.person_id for a in store.absences(now + timedelta(hours=2))] == ["otaki"]
    other_town = Store(make_engine(store_url), "252000")
    assert other_town.absences(now + timedelta(hours=2)) == []


def test_wrong_codes_outside_an_incident_count_once_per_ask(store_url: str) -> None:
    store = Store(make_engine(store_url), "254436")
    since = utcnow() - timedelta(minutes=1)
    store.record_code_failure("inukami", None, "absence:run-1#1")
    store.record_code_failure("inukami", None, "absence:run-1#1")  # a replay
    store.record_code_failure("inukami", None, "absence:run-1#2")
    assert len(store.code_failures_since("inukami", since)) == 2
