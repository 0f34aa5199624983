"""`jukinet up --profile production`: which PostgreSQL the stack uses, and who is told its URL."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from jukinet import devstack, localpg
from jukinet.devstack import Databases, Failed, production_databases
from jukinet.profile import load_profile
from jukinet.settings import load_settings

PREFECT_VARIABLE = "PREFECT_SERVER_DATABASE_CONNECTION_URL"
STORE_VARIABLE = "JUKINET_STORE_URL"
SECRET = "Db-pass-0427"
MANAGED = {
    PREFECT_VARIABLE: f"postgresql+asyncpg://juki:{SECRET}@db.town.example:5432/prefect",
    STORE_VARIABLE: f"postgresql+psycopg://juki:{SECRET}@db.town.example:5432/jukinet",
}


def refusal(environ: dict[str, str], home: Path) -> str:
    with pytest.raises(Failed) as raised:
        production_databases(environ, home)
    message = str(raised.value)
    assert SECRET not in message
    return message


class TestNeitherUrlSet:
    def test_the_local_cluster_holds_both_databases(self, tmp_path: Path) -> None:
        databases = production_databases({}, tmp_path)
        assert databases.cluster == localpg.Cluster(tmp_path / "postgresql", 5442)
        prefect = make_url(databases.prefect_url)
        store = make_url(databases.store_url)
        assert (prefect.drivername, prefect.database) == ("postgresql+asyncpg", "prefect")
        assert (store.drivername, store.database) == ("postgresql+psycopg", "jukinet")
        for url in (prefect, store):
            assert (url.username, url.password, url.host, url.port) == (
                "jukinet",
                None,
                "127.0.0.1",
                5442,
            )
            assert url.query["passfile"] == str(tmp_path / "postgresql" / "pgpass")
        assert not tmp_path.joinpath("postgresql").exists()  # nothing made before `up` starts it

    def test_directory_and_port_can_be_chosen(self, tmp_path: Path) -> None:
        environ = {"JUKINET_PG_DIR": str(tmp_path / "pg"), "JUKINET_PG_PORT": "6543"}
        cluster = production_databases(environ, tmp_path / "home").cluster
        assert cluster == localpg.Cluster(tmp_path / "pg", 6543)

    @pytest.mark.parametrize("port", ["postgres", "0", "65536"])
    def test_a_port_that_is_no_port_is_refused(self, tmp_path: Path, port: str) -> None:
        message = refusal({"JUKINET_PG_PORT": port}, tmp_path)
        assert "JUKINET_PG_PORT はポート番号" in message


class TestBothUrlsSet:
    def test_the_managed_postgresql_is_used_and_no_cluster_started(self, tmp_path: Path) -> None:
        databases = production_databases(MANAGED, tmp_path)
        assert databases == Databases(MANAGED[PREFECT_VARIABLE], MANAGED[STORE_VARIABLE])
        assert databases.server_env() == {PREFECT_VARIABLE: MANAGED[PREFECT_VARIABLE]}
        assert databases.store_env() == {STORE_VARIABLE: MANAGED[STORE_VARIABLE]}

    def test_the_summary_names_them_without_the_password(self, tmp_path: Path) -> None:
        databases = production_databases(MANAGED, tmp_path)
        assert databases.summary() == (
            "PostgreSQL（Prefect: postgresql+asyncpg://juki@db.town.example:5432/prefect、"
            "ストア: postgresql+psycopg://juki@db.town.example:5432/jukinet）"
        )
        assert SECRET not in repr(databases)

    @pytest.mark.parametrize(
        ("variable", "url"),
        [
            (PREFECT_VARIABLE, f"postgresql+psycopg://juki:{SECRET}@db/prefect"),
            (PREFECT_VARIABLE, f"sqlite+aiosqlite:///{SECRET}.db"),
            (STORE_VARIABLE, f"postgresql://juki:{SECRET}@db/jukinet"),
            (STORE_VARIABLE, f"postgresql+psycopg://juki:{SECRET}@db"),
            (STORE_VARIABLE, f"juki:{SECRET}@db/jukinet"),
        ],
    )
    def test_a_url_of_another_form_is_refused_without_quoting_it(
        self, tmp_path: Path, variable: str, url: str
    ) -> None:
        message = refusal({**MANAGED, variable: url}, tmp_path)
        assert f"環境変数 {variable} は postgresql+" in message


@pytest.mark.parametrize("given", [PREFECT_VARIABLE, STORE_VARIABLE])
def test_one_url_alone_is_refused_naming_both(tmp_path: Path, given: str) -> None:
    message = refusal({given: MANAGED[given]}, tmp_path)
    assert PREFECT_VARIABLE in message and STORE_VARIABLE in message
    assert f"{given} だけが設定され" in message


def test_one_url_alone_starts_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JUKINET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JUKINET_AUTH_STRING", "juki-admin:S3cret-pass-0427")
    monkeypatch.setenv(STORE_VARIABLE, MANAGED[STORE_VARIABLE])
    for name in ("JUKINET_BIND_HOST", "JUKINET_PUBLIC_URL", PREFECT_VARIABLE):
        monkeypatch.delenv(name, raising=False)

    assert devstack.main(["--profile", "production"]) == 2

    err = capsys.readouterr().err
    assert PREFECT_VARIABLE in err and SECRET not in err
    assert not (tmp_path / "home").exists()


def test_only_the_children_that_need_a_url_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JUKINET_HOME", str(tmp_path))
    for name, value in MANAGED.items():
        monkeypatch.setenv(name, value)
    ports = devstack.Ports(prefect=4321, smtp=2525)
    production = load_profile("production", {"JUKINET_AUTH_STRING": "juki-admin:S3cret-pass-0427"})
    env = devstack.stack_env(load_settings(), ports, production)
    assert not set(MANAGED) & set(env)
    # the default profile passes the environment on as it always did
    assert devstack.stack_env(load_settings(), ports)[STORE_VARIABLE] == MANAGED[STORE_VARIABLE]


class TestLocalCluster:
    def test_postgresql_not_installed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(localpg.glob, "glob", lambda pattern: [])
        monkeypatch.setattr(localpg.shutil, "which", lambda name: None)
        with pytest.raises(
            localpg.ClusterError, match=r"initdb・pg_ctl.*apt-get install postgresql"
        ):
            localpg.server_bin_dir()

    def test_a_port_another_program_holds(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            with pytest.raises(localpg.ClusterError) as raised:
                localpg.Cluster(tmp_path / "postgresql", port).start()
        message = str(raised.value)
        assert f"ポート {port}（127.0.0.1）は別のプログラムが使っている" in message
        assert "JUKINET_PG_PORT" in message
        assert not (tmp_path / "postgresql").exists()

    def test_the_server_gets_the_verifier_it_would_store_itself(self, pg_url: str) -> None:
        engine = create_engine(pg_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with engine.connect() as conn:
            conn.execute(text(f"CREATE ROLE scram_check PASSWORD '{SECRET}'"))
            try:
                stored = conn.execute(
                    text("SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_check'")
                ).scalar_one()
            finally:
                conn.execute(text("DROP ROLE scram_check"))
        engine.dispose()
        salt = base64.b64decode(stored.split("$")[1].split(":")[1])
        assert localpg.scram_verifier(SECRET, salt) == stored
        assert SECRET not in stored
        assert localpg.scram_verifier(SECRET) != localpg.scram_verifier(SECRET)  # salted
