"""Backup and restore (jukinet/backup.py, `jukinet backup`, `jukinet restore`) on the session's
private PostgreSQL cluster: a store with two municipalities and a Prefect database made by
Prefect's own migrations are dumped, restored into other databases, and compared and verified."""

from __future__ import annotations

import itertools
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from jukinet import backup as bk
from jukinet.cli import main
from jukinet.store.db import make_engine
from jukinet.store.models import Notice, utcnow
from jukinet.store.store import Store
from tests.postgres import free_port

TAGA, OTSU = "254436", "252018"
PASSWORD = "pw-Kx81-secret"  # the cluster trusts 127.0.0.1: any password connects


class Cluster:
    """Databases of their own on the session's cluster, dropped at the end of the module."""

    def __init__(self, pg_url: str) -> None:
        self.url = make_url(pg_url)
        self.admin = create_engine(
            self.url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        self.names: list[str] = []
        self.roles: list[str] = []
        self._numbers = itertools.count(1)

    def create(self, prefix: str, template: str | None = None, owner: str | None = None) -> str:
        """A new database; its psycopg URL (as the superuser)."""
        name = f"{prefix}_{next(self._numbers)}"
        copy = f' TEMPLATE "{template}"' if template else ""
        owned = f' OWNER "{owner}"' if owner else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}{owned}'))
        self.names.append(name)
        return self.url_of(name)

    def role(self, prefix: str) -> str:
        """A login role that is no superuser and owns nothing yet."""
        name = f"{prefix}_{next(self._numbers)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
        self.roles.append(name)
        return name

    def as_superuser(self, url: str, sql: str) -> None:
        engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()

    def url_of(self, name: str, driver: str = "postgresql+psycopg") -> str:
        url = self.url.set(drivername=driver, database=name)
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for name in self.roles:
                conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        self.admin.dispose()


@pytest.fixture(scope="module")
def cluster(pg_url: str) -> Iterator[Cluster]:
    made = Cluster(pg_url)
    yield made
    made.drop_all()


@pytest.fixture(scope="module")
def prefect_template(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with Prefect's real tables: `prefect server database upgrade -y` (about 5 s)."""
    url = cluster.create("prefect_template")
    name = str(make_url(url).database)
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": cluster.url_of(name, "postgresql+asyncpg"),
    }
    prefect = Path(sys.executable).with_name("prefect")
    done = subprocess.run(
        [str(prefect), "server", "database", "upgrade", "-y"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return name


def notice(code: str, incident_id: int, key: str) -> Notice:
    return Notice(
        municipality_code=code,
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
        body="CS が停止しました。",
        status="pending",
        attempts=0,
        created_at=utcnow(),
    )


def populate(url: str) -> None:
    """Two municipalities: incidents, audit records (5 for 多賀町, 6 for 大津市) and notices."""
    engine = make_engine(url)
    try:
        for code, incidents in ((TAGA, 2), (OTSU, 2)):
            store = Store(engine, code)
            for n in range(1, incidents + 1):
                inc = store.open_incident(
                    origin_key=f"run-{code}-{n}",
                    drill=n == 2,
                    declared_class="障害",
                    summary=f"CS の停止（{n}）",
                    declaration={"機器": "CS", "場所": "電算室"},
                )
                store.audit(inc.id, "C1.2", "受付", f"発見報告（{n}）", event_key=f"open-{n}")
                store.audit(
                    inc.id,
                    "C2.S1.2",
                    "通知",
                    "セキュリティ責任者へ報告",
                    event_key=f"notice-{n}",
                    actor="犬上 一郎（住民課）",
                    details={"n": n},
                )
                store.enqueue(notice(code, inc.id, f"{code}-{n}|email"))
            store.audit(None, "C2.1", "不在の登録", "不在を登録", event_key="absence-1")
        Store(engine, OTSU).audit(None, "C2.1", "不在の取消", "不在を取消", event_key="absence-2")
    finally:
        engine.dispose()


def add_prefect_rows(url: str) -> None:
    with psycopg_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO flow (name) VALUES ('緊急時対応'), ('通報受付')"))
        conn.execute(text("INSERT INTO variable (name, value) VALUES ('jukinet', '\"v1\"')"))


def psycopg_engine(url: str) -> Engine:
    return create_engine(
        make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
        poolclass=NullPool,
    )


def contents(url: str) -> dict[str, list[str]]:
    """Every row of every table (as text, sorted) and every sequence's position."""
    engine = psycopg_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables"
                    " WHERE table_type = 'BASE TABLE'"
                    " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            ).all()
            rows = {
                f"{schema}.{table}": list(
                    conn.execute(
                        text(f'SELECT t::text FROM "{schema}"."{table}" t ORDER BY 1')
                    ).scalars()
                )
                for schema, table in tables
            }
            for schema, name in conn.execute(
                text("SELECT sequence_schema, sequence_name FROM information_schema.sequences")
            ).all():
                position = conn.execute(
                    text(f'SELECT last_value, is_called FROM "{schema}"."{name}"')
                ).one()
                rows[f"sequence {schema}.{name}"] = [str(tuple(position))]
            return rows
    finally:
        engine.dispose()


def tables(url: str) -> list[str]:
    return [name for name in contents(url) if not name.startswith("sequence ")]


@dataclass(frozen=True)
class Source:
    store: str
    prefect: str  # asyncpg, as Prefect's server is configured


@pytest.fixture
def source(cluster: Cluster, prefect_template: str) -> Source:
    store = cluster.create("store")
    populate(store)
    prefect = cluster.create("prefect", template=prefect_template)
    add_prefect_rows(prefect)
    name = str(make_url(prefect).database)
    return Source(store, cluster.url_of(name, "postgresql+asyncpg"))


@pytest.fixture
def store_only(cluster: Cluster) -> str:
    store = cluster.create("store")
    populate(store)
    return store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def set_audit(url: str, sql: str, **params: Any) -> None:
    with psycopg_engine(url).begin() as conn:
        conn.execute(text(sql), params)


def by_code(checks: list[bk.TownCheck]) -> dict[str, bk.TownCheck]:
    return {check.code: check for check in checks}


class TestRoundTrip:
    def test_restored_databases_equal_the_originals_and_both_chains_verify(
        self, cluster: Cluster, source: Source, tmp_path: Path
    ) -> None:
        report = bk.backup(source.store, source.prefect, tmp_path / "backups")

        assert report.folder.parent == tmp_path / "backups"
        assert report.folder.name.startswith("jukinet-backup-")
        assert sorted(p.name for p in report.folder.iterdir()) == [
            "manifest.json",
            "prefect.dump",
            "store.dump",
        ]
        assert mode(report.folder) == 0o700
        assert {mode(p) for p in report.folder.iterdir()} == {0o600}
        manifest = json.loads((report.folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["created_at"].endswith("+00:00")
        assert manifest["pg_dump"].startswith("pg_dump (PostgreSQL)")
        for name, entry in manifest["files"].items():
            assert bk._file_entry(report.folder / name) == bk.FileEntry(
                entry["size"], entry["sha256"]
            )
        store = Store(psycopg_engine(source.store), TAGA)
        with store.session() as s:
            rows = s.execute(text("SELECT municipality_code, seq FROM audit_chain_heads")).all()
        heads = {str(code): int(seq) for code, seq in rows}
        assert heads == {TAGA: 5, OTSU: 6}
        assert {c: h["seq"] for c, h in manifest["audit_chains"].items()} == heads
        assert report.heads[TAGA].last_hash == store.audit_records()[-1].hash

        store_copy, prefect_copy = cluster.create("restored"), cluster.create("restored")
        result = bk.restore(report.folder, store_copy, prefect_copy)

        assert result.restored == ["store.dump", "prefect.dump"]
        assert result.ok, [t.message for t in result.towns]
        towns = by_code(result.towns)
        assert sorted(towns) == [OTSU, TAGA]
        assert (towns[TAGA].records, towns[OTSU].records) == (5, 6)
        for code, town in towns.items():
            assert town.head == town.expected == report.heads[code]
        original, restored = contents(source.store), contents(store_copy)
        assert len(original["public.audit_records"]) == 11
        assert len(original["public.notices"]) == 4
        assert restored == original
        prefect_rows = contents(source.prefect)
        assert len(prefect_rows["public.flow"]) == 2
        assert len(prefect_rows["public.alembic_version"]) == 1
        assert contents(prefect_copy) == prefect_rows

    def test_restore_replaces_databases_that_are_in_use(
        self, cluster: Cluster, source: Source, prefect_template: str, tmp_path: Path
    ) -> None:
        report = bk.backup(source.store, source.prefect, tmp_path)
        store_target = cluster.create("target")
        engine = make_engine(store_target)
        Store(engine, "253839").audit(None, "C2.1", "不在の登録", "別の記録", event_key="x")
        engine.dispose()
        prefect_target = cluster.create("target", template=prefect_template)  # upgraded, empty

        result = bk.restore(report.folder, store_target, prefect_target)

        assert result.ok, [t.message for t in result.towns]
        assert sorted(by_code(result.towns)) == [OTSU, TAGA]  # 253839's record is gone
        assert contents(store_target) == contents(source.store)
        assert contents(prefect_target) == contents(source.prefect)

    def test_a_role_owning_only_its_databases_restores_over_a_superusers_pg_trgm(
        self, cluster: Cluster, source: Source, tmp_path: Path
    ) -> None:
        """As with jukinet/localpg.py: the role `jukinet` owns the databases, the superuser made
        pg_trgm in Prefect's; the role can neither drop nor comment on that extension."""
        report = bk.backup(source.store, source.prefect, tmp_path)
        role = cluster.role("jukinet_app")
        store_target = cluster.create("target", owner=role)
        prefect_target = cluster.create("target", owner=role)
        cluster.as_superuser(prefect_target, "CREATE EXTENSION pg_trgm")

        def as_role(url: str) -> str:
            return make_url(url).set(username=role).render_as_string(hide_password=False)

        result = bk.restore(report.folder, as_role(store_target), as_role(prefect_target))

        assert result.ok, [t.message for t in result.towns]
        assert contents(store_target) == contents(source.store)
        assert contents(prefect_target) == contents(source.prefect)
        with psycopg_engine(prefect_target).connect() as conn:
            owners = conn.execute(
                text(
                    "SELECT (SELECT rolname FROM pg_roles WHERE oid = e.extowner),"
                    " (SELECT tableowner FROM pg_tables WHERE tablename = 'flow')"
                    " FROM pg_extension e WHERE extname = 'pg_trgm'"
                )
            ).one()
        assert tuple(owners) == ("postgres", role)

    def test_heads_are_read_in_the_snapshot_that_is_dumped(
        self, cluster: Cluster, store_only: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A record appended after the heads are read and before pg_dump starts is in neither."""
        real_run = bk._run

        def append_then_run(argv: list[str], *args: Any, **kwargs: Any) -> None:
            engine = make_engine(store_only)
            Store(engine, TAGA).audit(None, "C2.1", "不在の登録", "途中の記録", event_key="late")
            engine.dispose()
            real_run(argv, *args, **kwargs)

        monkeypatch.setattr(bk, "_run", append_then_run)
        report = bk.backup(store_only, None, tmp_path)
        monkeypatch.setattr(bk, "_run", real_run)
        assert Store(psycopg_engine(store_only), TAGA).verify_chain().records == 6

        target = cluster.create("restored")
        result = bk.restore(report.folder, target, None)

        assert result.ok, [t.message for t in result.towns]
        assert by_code(result.towns)[TAGA].head.seq == report.heads[TAGA].seq == 5

    def test_a_store_only_backup_restores_the_store_and_says_prefect_was_not_in_it(
        self, cluster: Cluster, store_only: str, tmp_path: Path
    ) -> None:
        report = bk.backup(store_only, None, tmp_path)
        assert sorted(report.files) == ["store.dump"]
        result = bk.restore(report.folder, cluster.create("restored"), cluster.create("unused"))
        assert result.restored == ["store.dump"]
        assert result.notes == [
            "このバックアップには Prefect のデータベースが含まれていません（ストアだけを復元しました）。"
        ]
        assert result.ok


class TestPasswords:
    def test_the_password_reaches_the_tools_only_through_pgpassword(
        self, cluster: Cluster, store_only: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls: list[tuple[list[str], dict[str, str]]] = []
        real = subprocess.run

        def spy(argv: list[str], *args: Any, **kwargs: Any) -> Any:
            calls.append((list(argv), dict(kwargs.get("env") or {})))
            return real(argv, *args, **kwargs)

        monkeypatch.setattr(subprocess, "run", spy)
        with_password = make_url(store_only).set(password=PASSWORD)
        url = with_password.render_as_string(hide_password=False)
        report = bk.backup(url, None, tmp_path)
        target = make_url(cluster.create("restored")).set(password=PASSWORD)
        bk.restore(report.folder, target.render_as_string(hide_password=False), None)

        tools = [(argv, env) for argv, env in calls if Path(argv[0]).name != "prefect"]
        names = [Path(argv[0]).name for argv, _ in tools if "--version" not in argv]
        assert names == ["pg_dump", "pg_restore", "pg_restore"]  # --list, then the restore
        for argv, env in tools:
            assert PASSWORD not in " ".join(argv)
            if "--version" not in argv:
                assert env["PGPASSWORD"] == PASSWORD
        assert PASSWORD not in (report.folder / "manifest.json").read_text(encoding="utf-8")

    def test_a_connection_error_names_the_setting_and_never_the_password(
        self, tmp_path: Path
    ) -> None:
        url = f"postgresql+psycopg://jukinet:{PASSWORD}@127.0.0.1:{free_port()}/jukinet"
        with pytest.raises(bk.BackupError) as caught:
            bk.backup(url, None, tmp_path)
        message = str(caught.value)
        assert message.startswith("ストアのデータベース（jukinet@127.0.0.1:")
        assert "接続できません" in message and "JUKINET_STORE_URL" in message
        assert PASSWORD not in message
        assert list(tmp_path.iterdir()) == []  # no folder, not even a partial one

    def test_urls_become_libpq_parameters_without_the_password(self) -> None:
        target = bk.Target.from_url(
            f"postgresql+asyncpg://prefect:{PASSWORD}@db.example:5433/prefect"
            "?ssl=require&options=-csearch_path%3Dprefect&prepared_statement_cache_size=0",
            bk.PREFECT_LABEL,
            bk.PREFECT_SETTING,
        )
        assert target.password == PASSWORD
        assert target.params == {
            "host": "db.example",
            "port": "5433",
            "user": "prefect",
            "sslmode": "require",
            "options": "-csearch_path=prefect",
            "dbname": "prefect",
            "connect_timeout": "10",
        }
        assert PASSWORD not in target.conninfo and PASSWORD not in target.describe()
        with pytest.raises(bk.BackupError, match="PostgreSQL ではありません（sqlite）"):
            bk.Target.from_url("sqlite:///var/store.sqlite3", bk.STORE_LABEL, bk.STORE_SETTING)


class TestRefusals:
    @pytest.mark.parametrize("damaged", ["store.dump", "prefect.dump"])
    def test_a_changed_byte_is_refused_naming_the_file_before_anything_changes(
        self, cluster: Cluster, source: Source, tmp_path: Path, damaged: str
    ) -> None:
        report = bk.backup(source.store, source.prefect, tmp_path)
        path = report.folder / damaged
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        store_target, prefect_target = cluster.create("target"), cluster.create("target")

        with pytest.raises(bk.BackupError) as caught:
            bk.restore(report.folder, store_target, prefect_target)

        assert str(caught.value).startswith(f"バックアップのファイル {path} が壊れています")
        assert "別のバックアップを使ってください" in str(caught.value)
        assert tables(store_target) == [] and tables(prefect_target) == []

    def test_a_missing_target_database_is_named_with_the_fix(
        self, cluster: Cluster, store_only: str, tmp_path: Path
    ) -> None:
        report = bk.backup(store_only, None, tmp_path)
        with pytest.raises(bk.BackupError) as caught:
            bk.restore(report.folder, cluster.url_of("no_such_database"), None)
        assert "データベース「no_such_database」を作成してから" in str(caught.value)

    def test_a_folder_without_its_manifest_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "store.dump").write_bytes(b"PGDMP")
        with pytest.raises(bk.BackupError, match=r"manifest\.json がありません"):
            bk.check_backup(tmp_path)


class TestVerification:
    @pytest.fixture
    def restored(
        self, cluster: Cluster, store_only: str, tmp_path: Path
    ) -> tuple[str, dict[str, Any]]:
        report = bk.backup(store_only, None, tmp_path)
        target = cluster.create("restored")
        assert bk.restore(report.folder, target, None).ok
        return target, bk.check_backup(report.folder)

    def test_a_record_altered_after_restore_names_the_town_and_the_record(
        self, restored: tuple[str, dict[str, Any]]
    ) -> None:
        url, manifest = restored
        set_audit(
            url,
            "UPDATE audit_records SET summary = '書き換えた要約'"
            " WHERE municipality_code = :code AND seq = 2",
            code=OTSU,
        )
        towns = by_code(bk.verify_restored(url, manifest))
        assert towns[TAGA].ok
        assert not towns[OTSU].ok and towns[OTSU].first_broken_seq == 2
        assert towns[OTSU].message == (
            "団体 252018: 監査記録の連鎖が壊れています: 通番 2 の内容が改変されています"
        )

    def test_a_removed_tail_with_its_head_rewritten_is_found_against_the_manifest(
        self, restored: tuple[str, dict[str, Any]]
    ) -> None:
        url, manifest = restored
        set_audit(url, "DELETE FROM audit_records WHERE municipality_code = :c AND seq = 5", c=TAGA)
        set_audit(
            url,
            "UPDATE audit_chain_heads SET seq = 4, last_hash = (SELECT hash FROM audit_records"
            " WHERE municipality_code = :c AND seq = 4) WHERE municipality_code = :c",
            c=TAGA,
        )
        assert Store(psycopg_engine(url), TAGA).verify_chain().ok  # the store alone cannot tell
        towns = by_code(bk.verify_restored(url, manifest))
        assert towns[TAGA].first_broken_seq == 5
        assert towns[TAGA].message.startswith("団体 254436: 通番 5 以降の記録がありません")
        assert towns[OTSU].ok


class TestCommandLine:
    @pytest.fixture(autouse=True)
    def _no_prefect_database(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(bk.PREFECT_SETTING, raising=False)

    def test_a_sqlite_store_is_told_how_to_copy_its_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        store = tmp_path / "home" / "store.sqlite3"
        monkeypatch.setenv("JUKINET_STORE_URL", f"sqlite:///{store}")
        assert main(["backup", "--to", str(tmp_path / "backups")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ストア（JUKINET_STORE_URL）は SQLite のファイル {store} です。")
        assert "PostgreSQL のデータベースだけを扱います" in err
        assert f"sqlite3 {store} \".backup '/安全な場所/store.sqlite3'\"" in err
        assert "store.sqlite3-wal" in err
        assert not (tmp_path / "backups").exists()
        assert main(["restore", str(tmp_path), "--yes"]) == 2
        assert "SQLite のファイル" in capsys.readouterr().err

    def test_a_missing_backup_folder_is_named(
        self,
        cluster: Cluster,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.setenv("JUKINET_STORE_URL", cluster.create("target"))
        missing = tmp_path / "jukinet-backup-20261128T041502Z"
        assert main(["restore", str(missing), "--yes"]) == 2
        out, err = capsys.readouterr()
        assert err.strip() == (
            f"バックアップのフォルダ {missing} がありません。jukinet backup が作成したフォルダ"
            "（jukinet-backup-…）を指定してください。"
        )
        assert out == ""

    def test_backup_then_restore_which_asks_for_yes_first(
        self,
        cluster: Cluster,
        store_only: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.setenv("JUKINET_STORE_URL", store_only)
        assert main(["backup", "--to", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "PREFECT_SERVER_DATABASE_CONNECTION_URL が未設定です" in out
        [folder] = tmp_path.iterdir()
        assert f"バックアップを作成しました: {folder}" in out
        assert "団体 252018: 監査記録の末尾 通番 6" in out

        target = cluster.create("target")
        monkeypatch.setenv("JUKINET_STORE_URL", target)
        assert main(["restore", str(folder)]) == 2
        err = capsys.readouterr().err
        assert "--yes を付けて" in err and f"/{make_url(target).database}）" in err
        assert "バックアップの監査記録: 252018（通番 6 まで）、254436（通番 5 まで）。" in err
        assert tables(target) == []

        assert main(["restore", str(folder), "--yes"]) == 0
        out = capsys.readouterr().out
        assert "団体 254436: 監査記録の連鎖は正常で、末尾はバックアップ時と一致します（5 件" in out
        assert "団体 252018: 監査記録の連鎖は正常で、末尾はバックアップ時と一致します（6 件" in out
        assert contents(target) == contents(store_only)

    def test_a_chain_broken_before_the_backup_fails_the_restore_without_a_traceback(
        self,
        cluster: Cluster,
        store_only: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        set_audit(
            store_only,
            "UPDATE audit_records SET actor = '別人' WHERE municipality_code = :c AND seq = 3",
            c=TAGA,
        )
        monkeypatch.setenv("JUKINET_STORE_URL", store_only)
        assert main(["backup", "--to", str(tmp_path)]) == 0
        [folder] = tmp_path.iterdir()
        monkeypatch.setenv("JUKINET_STORE_URL", cluster.create("target"))
        capsys.readouterr()
        assert main(["restore", str(folder), "--yes"]) == 1
        err = capsys.readouterr().err
        assert "団体 254436: 監査記録の連鎖が壊れています: 通番 3 の内容が改変されています" in err
        assert "Traceback" not in err
