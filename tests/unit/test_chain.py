"""The audit chain: an edit, a deletion, a reorder or a re-link made behind the store's back is
named. The tables are changed on both back ends (the `store_url` fixture: SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update

from jukinet.store import chain
from jukinet.store.db import make_engine
from jukinet.store.models import AuditRecord
from jukinet.store.store import Store

TAGA = "254436"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    engine = make_engine(store_url)
    s = Store(engine, TAGA)
    inc = s.open_incident(
        origin_key="run-1", drill=False, declared_class="障害", summary="概要", declaration={}
    )
    for i in range(1, 6):
        s.audit(inc.id, "C2.S4", "作業", f"記録 {i}", event_key=f"k{i}", details={"n": i})
    yield s
    engine.dispose()


def sql(store: Store, statement: str, **params: Any) -> None:
    """Change the table directly, as someone with database access would."""
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


class TestIntact:
    def test_verifies(self, store: Store) -> None:
        report = store.verify_chain()
        assert report.ok
        assert (report.records, report.first_broken_seq, report.problem) == (5, None, None)

    def test_empty_chain_verifies(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        report = Store(engine, TAGA).verify_chain()
        engine.dispose()
        assert report.ok and report.records == 0

    def test_links(self, store: Store) -> None:
        records = store.audit_records()
        assert records[0].prev_hash == chain.GENESIS
        for prev, current in itertools.pairwise(records):
            assert current.prev_hash == prev.hash
        assert len({r.hash for r in records}) == 5

    def test_hash_covers_the_content(self, store: Store) -> None:
        record = store.audit_records()[0]
        fields = chain.record_fields(record)
        assert chain.record_hash(fields, chain.GENESIS) == record.hash
        assert chain.record_hash({**fields, "summary": "別"}, chain.GENESIS) != record.hash
        assert chain.record_hash(fields, "f" * 64) != record.hash


class TestTampering:
    def test_edited_summary_names_its_record(self, store: Store) -> None:
        sql(store, "UPDATE audit_records SET summary = '書き換え' WHERE seq = 3")
        report = store.verify_chain()
        assert not report.ok
        assert report.first_broken_seq == 3
        assert report.problem == "通番 3 の内容が改変されています"

    def test_edited_details_names_its_record(self, store: Store) -> None:
        sql(store, """UPDATE audit_records SET details = '{"n": 99}' WHERE seq = 2""")
        assert store.verify_chain().first_broken_seq == 2

    def test_edited_actor_of_the_first_record(self, store: Store) -> None:
        sql(store, "UPDATE audit_records SET actor = '別人' WHERE seq = 1")
        assert store.verify_chain().first_broken_seq == 1

    def test_edit_with_a_recomputed_hash_breaks_the_next_link(self, store: Store) -> None:
        sql(store, "UPDATE audit_records SET summary = '書き換え' WHERE seq = 3")
        forged = store.audit_records()[2]
        new_hash = chain.record_hash(chain.record_fields(forged), forged.prev_hash)
        sql(store, "UPDATE audit_records SET hash = :h WHERE seq = 3", h=new_hash)
        report = store.verify_chain()
        assert report.first_broken_seq == 4
        assert report.problem == "通番 4 の前記録ハッシュが一致しません"

    def test_deleted_middle_record_is_named(self, store: Store) -> None:
        sql(store, "DELETE FROM audit_records WHERE seq = 3")
        report = store.verify_chain()
        assert not report.ok
        assert report.first_broken_seq == 3
        assert report.problem == "通番 3 の記録がありません"

    def test_deleted_last_record_is_found_by_the_chain_head(self, store: Store) -> None:
        sql(store, "DELETE FROM audit_records WHERE seq = 5")
        assert chain.verify(store.audit_records()).ok  # the records alone still link up
        report = store.verify_chain()
        assert not report.ok
        assert report.first_broken_seq == 5
        assert report.problem == "通番 5 以降の記録が削除されています"

    def test_all_records_deleted(self, store: Store) -> None:
        sql(store, "DELETE FROM audit_records")
        report = store.verify_chain()
        assert report.first_broken_seq == 1
        assert "削除" in (report.problem or "")

    def test_altered_prev_hash_is_named(self, store: Store) -> None:
        sql(store, "UPDATE audit_records SET prev_hash = :h WHERE seq = 4", h="a" * 64)
        report = store.verify_chain()
        assert report.first_broken_seq == 4
        assert report.problem == "通番 4 の前記録ハッシュが一致しません"

    def test_renumbered_records_are_found(self, store: Store) -> None:
        sql(store, "DELETE FROM audit_records WHERE seq = 5")
        sql(store, "UPDATE audit_records SET seq = 5 WHERE seq = 4")
        assert store.verify_chain().first_broken_seq == 4

    def test_appending_after_tampering_does_not_hide_it(self, store: Store) -> None:
        sql(store, "UPDATE audit_records SET summary = '書き換え' WHERE seq = 2")
        store.audit(None, "C2.S5", "再開", "追記", event_key="k6")
        assert store.verify_chain().first_broken_seq == 2


def edit(store: Store, seq: int, **values: Any) -> None:
    """Change one record's columns directly (through the column types, so any value fits)."""
    with store.engine.begin() as conn:
        conn.execute(
            update(AuditRecord)
            .where(AuditRecord.municipality_code == TAGA, AuditRecord.seq == seq)
            .values(**values)
        )


def swap(store: Store, a: int, b: int) -> None:
    """Exchange the places of two records in the chain (their seq), as a reorder would."""
    sql(store, "UPDATE audit_records SET seq = -1 WHERE seq = :a", a=a)
    sql(store, "UPDATE audit_records SET seq = :a WHERE seq = :b", a=a, b=b)
    sql(store, "UPDATE audit_records SET seq = :b WHERE seq = -1", b=b)


EDITS: dict[str, Any] = {
    "clause": "C2.S5",
    "kind": "再開",
    "actor": "別人",
    "on_behalf_of": "代理者（第1順位）",
    "summary": "書き換え",
    "details": {"n": 99},
    "recorded_at": datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
    "event_key": "別の鍵",
    "incident_id": None,
    "hash": "b" * 64,
}


class TestEveryKindOfTampering:
    """One record edited, deleted or moved: the first record that no longer holds is named."""

    @pytest.mark.parametrize("seq", [1, 3, 5], ids=["first", "middle", "last"])
    @pytest.mark.parametrize("column", list(EDITS))
    def test_edit_of_any_hashed_column(self, store: Store, column: str, seq: int) -> None:
        edit(store, seq, **{column: EDITS[column]})
        report = store.verify_chain()
        assert (report.first_broken_seq, report.problem) == (
            seq,
            f"通番 {seq} の内容が改変されています",
        )

    def test_record_moved_to_another_municipality_is_missing_from_this_chain(
        self, store: Store
    ) -> None:
        edit(store, 3, municipality_code="254428")
        report = store.verify_chain()
        assert (report.first_broken_seq, report.problem) == (3, "通番 3 の記録がありません")

    def test_deleted_first_record_is_named(self, store: Store) -> None:
        sql(store, "DELETE FROM audit_records WHERE seq = 1")
        report = store.verify_chain()
        assert (report.first_broken_seq, report.problem) == (1, "通番 1 の記録がありません")

    @pytest.mark.parametrize(
        ("a", "b"), [(1, 2), (2, 3), (4, 5), (2, 5)], ids=["first", "middle", "last", "apart"]
    )
    def test_swapped_records_are_named(self, store: Store, a: int, b: int) -> None:
        swap(store, a, b)
        report = store.verify_chain()
        assert not report.ok
        assert report.first_broken_seq == a
        assert report.problem == f"通番 {a} の前記録ハッシュが一致しません"

    def test_swapped_contents_with_their_hashes_are_named(self, store: Store) -> None:
        """A reorder that keeps the seq column and exchanges everything else."""
        second, third = store.audit_records()[1:3]
        moved = ("event_key", "summary", "details", "recorded_at", "prev_hash", "hash")
        edit(store, 2, event_key="tmp")
        edit(store, 3, **{c: getattr(second, c) for c in moved})
        edit(store, 2, **{c: getattr(third, c) for c in moved})
        report = store.verify_chain()
        assert (report.first_broken_seq, report.problem) == (
            2,
            "通番 2 の前記録ハッシュが一致しません",
        )

    def test_deleted_tail_with_a_rewound_chain_head_needs_an_outside_copy(
        self, store: Store
    ) -> None:
        """Whoever can also rewrite the chain-head table can cut the tail unseen by the store
        alone; the hash of the head kept outside it (the closing copy, an earlier export) shows
        the cut (tests/unit/test_audit_export.py)."""
        fourth = store.audit_records()[3]
        sql(store, "DELETE FROM audit_records WHERE seq = 5")
        sql(store, "UPDATE audit_chain_heads SET seq = 4, last_hash = :h", h=fourth.hash)
        assert store.verify_chain().ok


class TestPerMunicipality:
    def test_chains_are_separate(self, store: Store) -> None:
        koura = Store(store.engine, "254428")
        first = koura.audit(None, "C1.1", "受付", "甲良町の記録", event_key="k1")
        assert (first.seq, first.prev_hash) == (1, chain.GENESIS)
        sql(
            store,
            "UPDATE audit_records SET summary = 'x' WHERE municipality_code = :m AND seq = 1",
            m=TAGA,
        )
        assert store.verify_chain().first_broken_seq == 1
        assert koura.verify_chain().ok
