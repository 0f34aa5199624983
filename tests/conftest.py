"""Shared fixtures: an isolated copy of the example configuration and a real SMTP mailbox."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from jukinet.localpg import Cluster, ClusterError
from jukinet.mailbox import Mailbox, free_port
from tests.postgres import PostgresUnavailable, fresh_schema, running_postgres

# A developer's shell (e.g. one inside `make up`) must not redirect the tests' mail or store.
for _variable in ("JUKINET_SMTP_PORT", "JUKINET_UI_URL", "JUKINET_STORE_URL", "JUKINET_HOME"):
    os.environ.pop(_variable, None)


def restore_environ(saved: dict[str, str | None]) -> None:
    """Put back variables saved as `{name: os.environ.get(name)}` (None: it was unset)."""
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "deployments" / "config"

# Approval codes of the example roster (deployments/config/roster.yaml); fictional people.
CODES = {
    "犬上 一郎（住民課）": "1111",
    "多賀 花子（住民課）": "2222",
    "大滝 健二（住民課長）": "3333",
    "敏満寺 智子（住民課 課長補佐）": "4444",
    "芹川 直樹（総務課 情報係）": "5555",
    "霊仙 正（副町長）": "6666",
    "栗栖 修（総務課長）": "7777",
    "河内 美咲（企画課長）": "9999",
}


def copy_config(target: Path, smtp_port: int, **town_overrides: object) -> Path:
    """The example configuration, pointed at a test mailbox, with fast retries."""
    shutil.copytree(EXAMPLE_CONFIG, target)
    yaml = YAML()
    town_path = target / "town.yaml"
    town = yaml.load(town_path.read_text(encoding="utf-8"))
    town["smtp"]["port"] = smtp_port
    town["smtp"]["timeout_seconds"] = 2
    town["delivery"]["retries"] = 1
    town["delivery"]["retry_delays_seconds"] = [0.2]
    town.pop("access_logs", None)  # 手順5 asks for the logs only in the tests that set it
    for key, value in town_overrides.items():
        town[key] = value
    with town_path.open("w", encoding="utf-8") as fh:
        yaml.dump(town, fh)
    return target


@pytest.fixture(scope="session")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    with Mailbox(tmp_path_factory.mktemp("mailbox")) as mb:
        yield mb


# --- PostgreSQL: a private cluster for the session, a fresh schema for each test ----------------
# The store runs on PostgreSQL in production; tests/postgres.py starts a throwaway cluster from
# Debian's `postgresql` package (about 1 s) only when a test asks for one. A missing PostgreSQL is
# an error, not a skip.


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of a database on a private PostgreSQL cluster, for the whole session."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(running_postgres())
            problem = ""
        except PostgresUnavailable as exc:
            problem = str(exc)
        if problem:
            pytest.fail(problem, pytrace=False)  # an error, not a skip
        yield url


_pg_schemas = itertools.count(1)


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """URL of `pg_url` whose search path is an empty schema of this test's own (about 10 ms),
    dropped afterwards; engines made from it in threads or spawned processes share it."""
    with fresh_schema(pg_url, f"test_{next(_pg_schemas)}") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty store on each back end: a SQLite file, and a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A place for the stack's cluster that `postgres` can enter; stopped and removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="jukinet-pg-"))
    parent.chmod(0o755)
    local = Cluster(parent / "cluster", free_port())
    try:
        yield local
    finally:
        with contextlib.suppress(ClusterError):
            local.stop()
        shutil.rmtree(parent, ignore_errors=True)
