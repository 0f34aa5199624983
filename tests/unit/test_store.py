"""The store on a SQLite file and on PostgreSQL: keyed writes happen once, numbers never repeat,
times stay UTC. Every test runs on both back ends (the `store_url` fixture, tests/conftest.py)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy.exc import StatementError

from jukinet.store.db import make_engine
from jukinet.store.models import Answer, Notice, utcnow
from jukinet.store.store import Store
from jukinet.wareki import JST, fiscal_year, fiscal_year_label

TAGA = "254436"
T = TypeVar("T")


@pytest.fixture
def url(store_url: str) -> str:
    return store_url


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    engine = make_engine(url)
    yield Store(engine, TAGA)
    engine.dispose()


def open_incident(store: Store, origin_key: str, *, drill: bool = False) -> Any:
    return store.open_incident(
        origin_key=origin_key,
        drill=drill,
        declared_class="障害",
        summary="CS サーバの警告ランプが点灯",
        declaration={"place": "電算室"},
    )


def in_threads(url: str, count: int, work: Callable[[Store, int], T]) -> list[T]:
    """Run `work` in `count` threads, each with its own engine (as separate processes would)."""
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def run(index: int) -> None:
        engine = make_engine(url)
        try:
            own = Store(engine, TAGA)
            start.wait()
            value = work(own, index)
            with lock:
                results.append(value)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert not errors, errors
    return results


def notice(incident_id: int, key: str, body: str = "本文") -> Notice:
    return Notice(
        municipality_code=TAGA,
        key=key,
        document_key=key.removesuffix("|email"),
        incident_id=incident_id,
        clause="C2.S1.2",
        document="failure_report",
        recipient_id="R-SEC-OFFICER:otaki",
        recipient="セキュリティ責任者 大滝 健二",
        address="otaki@town.taga.example",
        channel="email",
        doc_number="多住第1号",
        subject="住基ネットの障害について（報告）",
        body=body,
        status="pending",
        attempts=0,
        created_at=utcnow(),
    )


class TestIncidents:
    def test_open_is_idempotent_by_origin_key(self, store: Store) -> None:
        first = open_incident(store, "run-1")
        again = open_incident(store, "run-1")
        assert again.id == first.id
        assert again.number == first.number
        assert len({open_incident(store, "run-1").id for _ in range(3)}) == 1

    def test_numbers_per_fiscal_year(self, store: Store) -> None:
        label = fiscal_year_label(fiscal_year(utcnow()))
        numbers = [open_incident(store, f"run-{i}").number for i in range(3)]
        assert numbers == [f"{label}-001", f"{label}-002", f"{label}-003"]
        assert label.startswith("令和") and label.endswith("年度")

    def test_replay_does_not_consume_a_number(self, store: Store) -> None:
        open_incident(store, "run-1")
        open_incident(store, "run-1")
        assert open_incident(store, "run-2").number.endswith("-002")

    def test_new_incident_state(self, store: Store) -> None:
        inc = open_incident(store, "run-1", drill=True)
        assert inc.state == "受付"
        assert inc.drill is True
        assert inc.emergency_class is None
        assert inc.fiscal_year == fiscal_year(utcnow())

    def test_each_municipality_has_its_own_series(self, store: Store) -> None:
        open_incident(store, "run-1")
        open_incident(store, "run-2")
        koura = Store(store.engine, "254428")
        other = open_incident(koura, "run-1")
        assert other.number.endswith("-001")
        assert other.id != store.incident(other.number).id

    def test_lookup_by_number_and_update(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        store.set_incident(inc.id, state="手順3", emergency_class="障害")
        found = store.incident(inc.number)
        assert (found.state, found.emergency_class) == ("手順3", "障害")

    def test_unknown_number(self, store: Store) -> None:
        with pytest.raises(LookupError, match="事案番号 令和8年度-999 の事案が記録にありません"):
            store.incident("令和8年度-999")

    def test_concurrent_open_with_one_origin_key(self, url: str, store: Store) -> None:
        found = in_threads(url, 6, lambda s, _: open_incident(s, "run-1").id)
        assert len(set(found)) == 1
        assert len({open_incident(store, f"x{i}").number for i in range(2)}) == 2
        assert open_incident(store, "x1").number.endswith("-003")


class TestCounters:
    def test_series_counts_from_one(self, store: Store) -> None:
        at = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
        assert [store.next_number("document", at) for _ in range(3)] == [
            (2026, 1),
            (2026, 2),
            (2026, 3),
        ]

    def test_series_are_independent(self, store: Store) -> None:
        at = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
        store.next_number("document", at)
        store.next_number("document", at)
        assert store.next_number("other", at) == (2026, 1)

    def test_new_fiscal_year_restarts_in_japan_time(self, store: Store) -> None:
        march_31_jst = datetime(2027, 3, 31, 14, 59, tzinfo=UTC)
        april_1_jst = datetime(2027, 3, 31, 15, 0, tzinfo=UTC)
        store.next_number("document", march_31_jst)
        assert store.next_number("document", march_31_jst) == (2026, 2)
        assert store.next_number("document", april_1_jst) == (2027, 1)
        assert store.next_number("document", march_31_jst) == (2026, 3)

    def test_concurrent_numbers_never_repeat(self, url: str, store: Store) -> None:
        at = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)

        def take(s: Store, _: int) -> list[int]:
            return [s.next_number("document", at)[1] for _ in range(25)]

        batches = in_threads(url, 8, take)
        numbers = [n for batch in batches for n in batch]
        assert len(numbers) == 200
        assert sorted(numbers) == list(range(1, 201))
        for batch in batches:
            assert batch == sorted(batch)  # each writer sees its own numbers increase
        assert store.next_number("document", at) == (2026, 201)


class TestAudit:
    def test_idempotent_by_event_key(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        first = store.audit(inc.id, "C1.2", "区分確認", "障害と確認", event_key="k1")
        again = store.audit(inc.id, "C1.2", "区分確認", "別の内容", event_key="k1")
        assert (again.id, again.seq, again.summary) == (first.id, 1, "障害と確認")
        assert [r.summary for r in store.audit_records()] == ["障害と確認"]
        assert store.verify_chain().ok

    def test_records_carry_clause_actor_and_details(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        store.audit(
            inc.id,
            "C2.S3.2",
            "承認",
            "措置を承認",
            event_key="k1",
            actor="大滝 健二",
            on_behalf_of="セキュリティ責任者",
            details={"承認": True, "件数": 2},
        )
        (record,) = store.audit_records(inc.id)
        assert (record.clause, record.kind, record.actor) == ("C2.S3.2", "承認", "大滝 健二")
        assert record.on_behalf_of == "セキュリティ責任者"
        assert record.details == {"承認": True, "件数": 2}
        assert record.prev_hash == "0" * 64
        assert len(record.hash) == 64

    def test_records_by_incident(self, store: Store) -> None:
        a, b = open_incident(store, "run-a"), open_incident(store, "run-b")
        store.audit(a.id, "C1.2", "受付", "a1", event_key="a1")
        store.audit(b.id, "C1.2", "受付", "b1", event_key="b1")
        store.audit(a.id, "C2.S4", "作業", "a2", event_key="a2")
        assert [r.summary for r in store.audit_records(a.id)] == ["a1", "a2"]
        assert [r.seq for r in store.audit_records()] == [1, 2, 3]

    def test_concurrent_appends_keep_one_chain(self, url: str, store: Store) -> None:
        inc = open_incident(store, "run-1")

        def append(s: Store, index: int) -> int:
            for j in range(15):
                s.audit(inc.id, "C2.S4", "作業", f"{index}-{j}", event_key=f"t{index}-{j}")
                # every thread also writes the shared keys: each must land exactly once
                s.audit(inc.id, "C2.S4", "共通", f"shared {j}", event_key=f"shared-{j}")
            return index

        in_threads(url, 6, append)
        records = store.audit_records()
        assert [r.seq for r in records] == list(range(1, 6 * 15 + 15 + 1))
        assert len({r.event_key for r in records}) == len(records)
        for prev, current in itertools.pairwise(records):
            assert current.prev_hash == prev.hash
        report = store.verify_chain()
        assert report.ok, report.problem
        assert report.records == 105


class TestAnswersAndSteps:
    def answer(self, incident_id: int, payload: dict[str, Any]) -> Answer:
        return Answer(
            incident_id=incident_id,
            ask_key="C2.S2.1#1",
            clause="C2.S2.1",
            accepted=True,
            answerer="霊仙 正（副町長）",
            capacity="担当者",
            payload=payload,
            recorded_at=utcnow(),
        )

    def test_record_answer_once(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        assert store.answer(inc.id, "C2.S2.1#1") is None
        first = store.record_answer(self.answer(inc.id, {"判断": "長時間"}))
        again = store.record_answer(self.answer(inc.id, {"判断": "短時間"}))
        assert again.id == first.id
        assert again.payload == {"判断": "長時間"}
        stored = store.answer(inc.id, "C2.S2.1#1")
        assert stored is not None and stored.payload == {"判断": "長時間"}

    def test_record_step_once(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        assert store.step_result(inc.id, "C2.S4") is None
        store.record_step(inc.id, "C2.S4", {"done": 1})
        store.record_step(inc.id, "C2.S4", {"done": 2})
        assert store.step_result(inc.id, "C2.S4") == {"done": 1}

    def test_steps_are_per_incident(self, store: Store) -> None:
        a, b = open_incident(store, "run-a"), open_incident(store, "run-b")
        store.record_step(a.id, "C2.S4", {"x": "a"})
        assert store.step_result(b.id, "C2.S4") is None


class TestOutbox:
    def test_enqueue_is_idempotent(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        first = store.enqueue(notice(inc.id, "k|1", body="最初の本文"))
        again = store.enqueue(notice(inc.id, "k|1", body="二度目の本文"))
        assert again.id == first.id
        assert again.body == "最初の本文"
        assert len(store.notices(inc.id)) == 1

    def test_update_and_filter_by_status(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        a = store.enqueue(notice(inc.id, "k|a"))
        store.enqueue(notice(inc.id, "k|b"))
        store.update_notice(a.id, status="sent", attempts=1, sent_at=utcnow())
        assert [n.key for n in store.notices(status="sent")] == ["k|a"]
        assert [n.key for n in store.notices(inc.id, status="pending")] == ["k|b"]
        assert store.notice("k|missing") is None

    def test_same_key_in_another_municipality_is_another_notice(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        store.enqueue(notice(inc.id, "k|1"))
        koura = Store(store.engine, "254428")
        assert koura.notice("k|1") is None


class TestTimes:
    def test_incident_times_round_trip_as_aware_utc(self, store: Store) -> None:
        before = utcnow()
        inc = open_incident(store, "run-1")
        loaded = store.incident(inc.number)
        assert loaded.opened_at.tzinfo is not None
        assert loaded.opened_at.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= loaded.opened_at <= utcnow()

    def test_japan_time_is_stored_as_the_same_instant(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        closed = datetime(2026, 11, 27, 9, 30, tzinfo=JST)
        store.set_incident(inc.id, closed_at=closed)
        loaded = store.incident(inc.number).closed_at
        assert loaded == closed
        assert loaded is not None and loaded.utcoffset() == timedelta(0)
        assert (loaded.hour, loaded.minute) == (0, 30)

    def test_audit_time_round_trips(self, store: Store) -> None:
        store.audit(None, "C1.1", "受付", "x", event_key="k")
        (record,) = store.audit_records()
        assert record.recorded_at.utcoffset() == timedelta(0)
        assert record.recorded_at.microsecond == 0

    def test_naive_datetime_is_refused(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        with pytest.raises(StatementError, match="naive datetime"):
            store.set_incident(inc.id, closed_at=datetime(2026, 11, 27, 9, 30))
