"""Document numbers (多住第N号) are never handed out twice, under threads and processes, on SQLite
and PostgreSQL alike; and the store's keyed writes (outbox, audit chain, incidents, answers,
steps) land once when several writers race with the same key."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from jukinet.store.db import make_engine
from jukinet.store.models import Answer, utcnow
from jukinet.store.store import Store
from tests.unit.test_store import TAGA, notice, open_incident

KOURA = "254428"
T = TypeVar("T")

# Two instants in different fiscal years (令和8年度 and 令和9年度).
FY2026 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
FY2027 = datetime(2027, 4, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A store on each back end; it also creates the schema before any writer starts."""
    engine = make_engine(store_url)
    yield Store(engine, TAGA)
    engine.dispose()


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(0..count-1)` in `count` threads released together; the results in index order."""
    results: dict[int, T] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait(60)
            value = work(index)
            with lock:
                results[index] = value
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert not errors, errors
    return [results[i] for i in range(count)]


def take_numbers(url: str, start: Any, results: Any, index: int, count: int) -> None:
    """Body of one writer process (spawned): its own engine and store, `count` numbers."""
    engine = make_engine(url)
    try:
        store = Store(engine, TAGA)
        start.wait(60)
        numbers = [store.next_number("document", FY2026)[1] for _ in range(count)]
        results.put((index, numbers))
    except BaseException as exc:
        results.put((index, repr(exc)))
        raise
    finally:
        engine.dispose()


class TestNumbers:
    def test_threads_on_one_store(self, store: Store) -> None:
        batches = race(8, lambda _: [store.next_number("document", FY2026) for _ in range(25)])
        numbers = [n for batch in batches for _, n in batch]
        assert {year for batch in batches for year, _ in batch} == {2026}
        assert len(numbers) == 200
        assert sorted(numbers) == list(range(1, 201))
        for batch in batches:
            assert batch == sorted(batch)  # each writer sees its own numbers increase
        assert store.next_number("document", FY2026) == (2026, 201)

    def test_processes_with_their_own_engines(self, store_url: str, store: Store) -> None:
        ctx = multiprocessing.get_context("spawn")
        start = ctx.Barrier(4)
        results = ctx.Queue()
        workers = [
            ctx.Process(target=take_numbers, args=(store_url, start, results, i, 25))
            for i in range(4)
        ]
        for w in workers:
            w.start()
        batches = dict(results.get(timeout=180) for _ in workers)
        for w in workers:
            w.join(60)
        assert [w.exitcode for w in workers] == [0, 0, 0, 0], batches
        numbers = [n for batch in batches.values() for n in batch]
        assert len(numbers) == 100
        assert sorted(numbers) == list(range(1, 101))
        assert store.next_number("document", FY2026) == (2026, 101)

    def test_municipalities_and_fiscal_years_are_independent(self, store: Store) -> None:
        stores = {TAGA: store, KOURA: Store(store.engine, KOURA)}
        series = [(code, at) for code in stores for at in (FY2026, FY2027)]

        def take(index: int) -> list[tuple[str, int, int]]:
            taken = []
            for j in range(20):  # each thread goes round the four series
                code, at = series[(index + j) % len(series)]
                year, number = stores[code].next_number("document", at)
                taken.append((code, year, number))
            return taken

        taken = [t for batch in race(6, take) for t in batch]
        assert len(taken) == 120
        for code in stores:
            for year in (2026, 2027):
                numbers = sorted(n for c, y, n in taken if (c, y) == (code, year))
                assert numbers == list(range(1, 31)), (code, year)
        assert stores[KOURA].next_number("document", FY2027) == (2027, 31)
        assert stores[TAGA].next_number("other", FY2027) == (2027, 1)


class TestKeyedWritesUnderRace:
    def test_enqueue_one_key_from_many_threads(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        ids = race(8, lambda i: store.enqueue(notice(inc.id, "k|1", body=f"本文 {i}")).id)
        assert len(set(ids)) == 1
        (row,) = store.notices(inc.id)
        assert row.id == ids[0]
        assert row.body.startswith("本文 ")

    def test_audit_one_event_key_from_many_threads(self, store: Store) -> None:
        inc = open_incident(store, "run-1")
        store.audit(inc.id, "C1.1", "受付", "最初", event_key="k0")

        def append(i: int) -> tuple[int, int]:
            record = store.audit(inc.id, "C1.2", "区分確認", f"スレッド {i}", event_key="k1")
            return record.id, record.seq

        found = race(8, append)
        assert len(set(found)) == 1
        assert found[0][1] == 2
        records = store.audit_records()
        assert [(r.seq, r.event_key) for r in records] == [(1, "k0"), (2, "k1")]
        report = store.verify_chain()
        assert report.ok, report.problem
        assert report.records == 2

    def test_open_incident_one_origin_key_from_many_threads(self, store: Store) -> None:
        found = race(8, lambda _: open_incident(store, "run-1"))
        assert len({(inc.id, inc.number) for inc in found}) == 1
        # the writers that lost the race consumed no number
        assert open_incident(store, "run-2").number.endswith("-002")

    def test_answer_and_step_from_many_threads(self, store: Store) -> None:
        inc = open_incident(store, "run-1")

        def answer(i: int) -> int:
            return store.record_answer(
                Answer(
                    incident_id=inc.id,
                    ask_key="C2.S2.1#1",
                    clause="C2.S2.1",
                    accepted=True,
                    answerer="霊仙 正（副町長）",
                    payload={"回答": i},
                    recorded_at=utcnow(),
                )
            ).id

        assert len(set(race(8, answer))) == 1
        race(8, lambda i: store.record_step(inc.id, "C2.S4", {"done": i}))
        result = store.step_result(inc.id, "C2.S4")
        assert result is not None and set(result) == {"done"}
