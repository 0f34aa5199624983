"""The store's schema comes from the Alembic migrations only, on SQLite and PostgreSQL alike:
a new store is created at the head revision, the models and the migrations agree, and a store of
release 0.1.0 (made by create_all, no revision) keeps every record and its audit chain through
`jukinet migrate`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect, text
from sqlalchemy.exc import IntegrityError

from jukinet.cli import main
from jukinet.store import migrate
from jukinet.store.db import connect, make_engine
from jukinet.store.models import Answer, Base, utcnow
from jukinet.store.store import Store

TAGA = "254436"
HIKONE = "252026"
RELEASE_0_1_SQLITE = Path(__file__).parent / "data" / "store-0.1.0-sqlite.sql"


def raw_engine(url: str) -> Engine:
    """An engine that does not open the store (no schema check, no migration)."""
    return connect(url)


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def create_release_0_1_sqlite(engine: Engine) -> None:
    statements = RELEASE_0_1_SQLITE.read_text(encoding="utf-8").split(";")
    with engine.begin() as connection:
        for statement in statements:
            body = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
            if body.strip():
                connection.exec_driver_sql(body)


@pytest.fixture
def release_0_1_store(store_url: str) -> Iterator[str]:
    """A store as release 0.1.0 left it: its tables, no `alembic_version`, no records yet."""
    engine = raw_engine(store_url)
    if engine.dialect.name == "sqlite":
        create_release_0_1_sqlite(engine)
    else:  # the baseline revision, proven equal to 0.1.0's schema on SQLite below
        migrate.upgrade(engine, migrate.BASELINE)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    yield store_url


def fill_release_0_1(url: str) -> dict[str, Any]:
    """Records of two towns written with 0.1.0's columns: incidents, a chained audit trail,
    answers and completed steps (which had no municipality_code then)."""
    from jukinet.store import chain
    from jukinet.store.models import AuditRecord

    engine = raw_engine(url)
    now = utcnow().replace(microsecond=0)
    heads: dict[str, str] = {}
    with engine.begin() as c:
        for incident_id, code in ((1, TAGA), (2, HIKONE)):
            c.execute(
                text(
                    "INSERT INTO incidents (id, municipality_code, number, fiscal_year, origin_key,"
                    " drill, declared_class, state, summary, declaration, opened_at)"
                    " VALUES (:id, :code, '令和8年度-001', 2026, :origin, false, '障害', '受付',"
                    " 'CS サーバの警告ランプが点灯', '{}', :now)"
                ),
                {"id": incident_id, "code": code, "origin": f"run-{code}", "now": now},
            )
            prev = chain.GENESIS
            for seq in (1, 2):
                record = AuditRecord(
                    municipality_code=code,
                    seq=seq,
                    event_key=f"{code}-{seq}",
                    incident_id=incident_id,
                    clause="C1.1",
                    kind="発見報告",
                    actor="システム",
                    on_behalf_of=None,
                    summary=f"記録 {seq}",
                    details={"n": seq},
                    recorded_at=now,
                )
                digest = chain.record_hash(chain.record_fields(record), prev)
                c.execute(
                    text(
                        "INSERT INTO audit_records (municipality_code, seq, event_key, incident_id,"
                        " clause, kind, actor, summary, details, recorded_at, prev_hash, hash)"
                        " VALUES (:code, :seq, :key, :incident, 'C1.1', '発見報告', 'システム',"
                        " :summary, :details, :now, :prev, :hash)"
                    ),
                    {
                        "code": code,
                        "seq": seq,
                        "key": f"{code}-{seq}",
                        "incident": incident_id,
                        "summary": f"記録 {seq}",
                        "details": '{"n": ' + str(seq) + "}",
                        "now": now,
                        "prev": prev,
                        "hash": digest,
                    },
                )
                prev = digest
            heads[code] = prev
            c.execute(
                text(
                    "INSERT INTO audit_chain_heads (municipality_code, seq, last_hash)"
                    " VALUES (:code, 2, :hash)"
                ),
                {"code": code, "hash": prev},
            )
            c.execute(
                text(
                    "INSERT INTO answers (incident_id, ask_key, clause, accepted, answerer,"
                    " payload, recorded_at) VALUES (:incident, 'C1.2#1', 'C1.2', true,"
                    " '担当者', '{}', :now)"
                ),
                {"incident": incident_id, "now": now},
            )
            c.execute(
                text(
                    "INSERT INTO steps_done (incident_id, step_key, result, done_at)"
                    " VALUES (:incident, 'C1.1', '{\"ok\": true}', :now)"
                ),
                {"incident": incident_id, "now": now},
            )
    engine.dispose()
    return heads


class TestNewStore:
    def test_an_empty_database_is_created_at_the_head_revision(self, store_url: str) -> None:
        engine = make_engine(store_url)
        found = migrate.state(engine)
        assert found.current == migrate.head()
        assert found.up_to_date and not found.legacy
        engine.dispose()

    def test_the_models_and_the_migrations_agree(self, store_url: str) -> None:
        engine = make_engine(store_url)
        assert schema_differences(engine) == []
        engine.dispose()

    def test_opening_twice_changes_nothing(self, store_url: str) -> None:
        make_engine(store_url).dispose()
        engine = make_engine(store_url)
        before, after = migrate.upgrade(engine)
        assert before == after
        assert before.up_to_date
        engine.dispose()

    def test_uniqueness_survives_the_migrations(self, store_url: str) -> None:
        engine = make_engine(store_url)
        store = Store(engine, TAGA)
        inc = store.open_incident(
            origin_key="run-1", drill=False, declared_class="障害", summary="s", declaration={}
        )
        answer = dict(
            incident_id=inc.id,
            ask_key="C1.2#1",
            clause="C1.2",
            accepted=True,
            answerer="担当者",
            payload={},
            recorded_at=utcnow(),
        )
        store.record_answer(Answer(**answer))
        with pytest.raises(IntegrityError), store.session() as s:
            s.add(Answer(municipality_code=TAGA, **answer))
        engine.dispose()


class TestRelease01Upgrade:
    def test_the_baseline_is_the_release_0_1_schema(self, tmp_path: Path) -> None:
        release = raw_engine(f"sqlite:///{tmp_path / 'release-0.1.sqlite3'}")
        create_release_0_1_sqlite(release)
        released = MetaData()
        released.reflect(release)
        baseline = raw_engine(f"sqlite:///{tmp_path / 'baseline.sqlite3'}")
        migrate.upgrade(baseline, migrate.BASELINE)
        with baseline.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), released)
        assert [d for d in differences if "alembic_version" not in repr(d)] == []

    def test_opening_a_0_1_store_asks_for_migrate_and_changes_nothing(
        self, release_0_1_store: str
    ) -> None:
        fill_release_0_1(release_0_1_store)
        with pytest.raises(migrate.SchemaError, match="jukinet migrate"):
            make_engine(release_0_1_store)
        found = migrate.state(raw_engine(release_0_1_store))
        assert found.legacy and found.current is None
        columns = {c["name"] for c in inspect(raw_engine(release_0_1_store)).get_columns("answers")}
        assert "municipality_code" not in columns

    def test_migrate_keeps_every_record_and_both_chains(self, release_0_1_store: str) -> None:
        heads = fill_release_0_1(release_0_1_store)
        before, after = migrate.upgrade(raw_engine(release_0_1_store))
        assert before.legacy and after.up_to_date
        engine = make_engine(release_0_1_store)
        assert schema_differences(engine) == []
        for incident_id, code in ((1, TAGA), (2, HIKONE)):
            store = Store(engine, code)
            report = store.verify_chain()
            assert report.ok and report.records == 2, report.problem
            assert store.audit_records()[-1].hash == heads[code]
            answer = store.answer(incident_id, "C1.2#1")
            assert answer is not None and answer.municipality_code == code
            assert store.step_result(incident_id, "C1.1") == {"ok": True}
            # the other town's rows are not this town's
            other = 2 if incident_id == 1 else 1
            assert store.answer(other, "C1.2#1") is None
            assert store.step_result(other, "C1.1") is None
        # the chain goes on after the upgrade
        taga = Store(engine, TAGA)
        taga.audit(1, "C1.2", "区分確認", "移行後の記録", event_key="after-upgrade")
        assert taga.verify_chain().ok and taga.verify_chain().records == 3
        engine.dispose()

    def test_the_command_upgrades_and_says_so(
        self, release_0_1_store: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
    ) -> None:
        fill_release_0_1(release_0_1_store)
        monkeypatch.setenv("JUKINET_STORE_URL", release_0_1_store)
        assert main(["migrate"]) == 0
        out = capsys.readouterr().out
        assert migrate.BASELINE in out and migrate.head() in out
        assert migrate.state(raw_engine(release_0_1_store)).up_to_date
        assert main(["migrate"]) == 0
        assert "最新" in capsys.readouterr().out

    def test_a_store_of_a_newer_program_is_refused(self, store_url: str) -> None:
        engine = make_engine(store_url)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        with pytest.raises(migrate.SchemaError, match="9999_future"):
            make_engine(store_url)
        with pytest.raises(migrate.SchemaError, match="9999_future"):
            migrate.upgrade(raw_engine(store_url))
        engine.dispose()

    def test_downgrade_to_the_baseline_and_up_again(self, store_url: str) -> None:
        engine = make_engine(store_url)
        migrate.downgrade(engine, migrate.BASELINE)
        assert migrate.state(engine).current == migrate.BASELINE
        with pytest.raises(migrate.SchemaError, match=migrate.BASELINE):
            migrate.check(engine)
        migrate.upgrade(engine)
        assert schema_differences(engine) == []
        engine.dispose()
