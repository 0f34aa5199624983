"""`jukinet up --profile production`: nothing is answered without the password, a write needs a
CSRF token too, and the password is in no command line, log or output.

Started like tests/integration/test_devstack.py starts the default profile (free ports, a tmp
JUKINET_HOME, processes found by that path in /proc), through the `jukinet up` command.

What Prefect 3.9.1 does, and the tests pin down:
- basic auth guards every /api route except `GET /api/health` and `GET /api/ready` (left open
  for health probes); a missing or wrong password is 401 {"exception_message": "Unauthorized"};
- the CSRF check runs before the password check, so a POST without a token is 403
  "Missing CSRF token." with or without the password; a token comes from `GET /api/csrf-token`,
  which itself needs the password;
- `/ui-settings` tells the UI to ask for the password (auth BASIC) and to send CSRF tokens.

The stack runs on the local PostgreSQL cluster (jukinet/localpg.py) it starts itself, kept in a
directory of the test's own outside tmp_path (which `postgres`, the server's account when the tests
run as root, cannot enter): Prefect's tables in its database `prefect`, the store's in `jukinet`,
the cluster stopped with the stack and its data still there at the next start.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings
from ruamel.yaml import YAML
from sqlalchemy import create_engine, inspect, text

from jukinet.drill.api import Api, basic_auth
from jukinet.drill.scenario import DrillFailed
from jukinet.localpg import STORE_DATABASE, Cluster
from jukinet.mailbox import free_port
from jukinet.settings import PROJECT_ROOT
from tests.flows import scenarios as s
from tests.integration.driving import declare
from tests.integration.test_devstack import (
    Stack,
    command_line,
    port_accepts,
    processes_mentioning,
    start_flow_run,
    still_alive,
    stop_stack,
    two_free_ports,
)

pytestmark = pytest.mark.integration

AUTH = f"juki-admin:{secrets.token_hex(12)}"
WRONG = "juki-admin:not-the-password"
MISSING_TOKEN = "Missing CSRF token."


@dataclass
class ProductionStack(Stack):
    cluster: Cluster

    def interrupt(self) -> str:
        """Ctrl-C; the stack's output once it has stopped (exit 0)."""
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=60) == 0, self.text()
        return self.text()

    def store_env(self) -> dict[str, str]:
        """The store is the cluster's database, not the SQLite file under the home."""
        return {**super().store_env(), "JUKINET_STORE_URL": self.cluster.url(STORE_DATABASE)}

    def tables(self, database: str) -> set[str]:
        engine = create_engine(self.cluster.url(database))
        try:
            return set(inspect(engine).get_table_names())
        finally:
            engine.dispose()

    def query(self, database: str, sql: str) -> list[tuple[object, ...]]:
        engine = create_engine(self.cluster.url(database))
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql))]
        finally:
            engine.dispose()


def start_production(
    tmp_path: Path, auth: str | None = AUTH, cluster: Cluster | None = None
) -> ProductionStack:
    """`jukinet up --profile production` with JUKINET_AUTH_STRING=`auth` (None: unset), on the
    local PostgreSQL `cluster` (JUKINET_PG_DIR, JUKINET_PG_PORT). A stack that starts a cluster
    takes the `cluster` fixture: as root, `postgres` cannot enter pytest's tmp_path (mode 700);
    the default under tmp_path is only for a stack refused before it starts anything."""
    home = tmp_path / "home"
    prefect_port, smtp_port = two_free_ports()
    if cluster is None:
        cluster = Cluster(tmp_path / "postgresql", free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "JUKINET_"))}
    env.update(
        JUKINET_HOME=str(home),
        JUKINET_PREFECT_PORT=str(prefect_port),
        JUKINET_SMTP_PORT=str(smtp_port),
        JUKINET_PG_DIR=str(cluster.directory),
        JUKINET_PG_PORT=str(cluster.port),
    )
    if auth is not None:
        env["JUKINET_AUTH_STRING"] = auth
    output = tmp_path / "devstack.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jukinet.cli", "up", "--profile", "production"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=PROJECT_ROOT,
        )
    return ProductionStack(process, home, output, prefect_port, smtp_port, cluster)


@pytest.fixture
def production(tmp_path: Path, cluster: Cluster) -> Iterator[ProductionStack]:
    started = start_production(tmp_path, cluster=cluster)
    try:
        yield started
    finally:
        stop_stack(started)


def assert_stopped(cluster: Cluster) -> None:
    assert not cluster.running()
    assert not (cluster.data / "postmaster.pid").exists()
    assert not port_accepts(cluster.port)
    assert not processes_mentioning(str(cluster.directory))


def environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {name: value for name, _, value in pairs}


def csrf_headers(staff: httpx.Client) -> dict[str, str]:
    client = str(uuid.uuid4())
    response = staff.get("/csrf-token", params={"client": client})
    assert response.status_code == 200, response.text
    return {"Prefect-Csrf-Token": response.json()["token"], "Prefect-Csrf-Client": client}


def api_client(stack: Stack, auth: str | None = None) -> httpx.Client:
    headers = basic_auth(auth) if auth else {}
    return httpx.Client(base_url=stack.api_url, timeout=10, trust_env=False, headers=headers)


def sleepy_runs(staff: httpx.Client, csrf: dict[str, str], state: str) -> int:
    body = {
        "flows": {"name": {"any_": ["sleepy"]}},
        "flow_runs": {"state": {"type": {"any_": [state]}}},
    }
    response = staff.post("/flow_runs/filter", json=body, headers=csrf)
    assert response.status_code == 200, response.text
    return len(response.json())


def test_production_profile_guards_the_api_and_keeps_the_password_out_of_sight(
    production: ProductionStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    production.wait_ready()
    base = f"http://127.0.0.1:{production.prefect_port}"
    with (
        api_client(production) as anonymous,
        api_client(production, WRONG) as stranger,
        api_client(production, AUTH) as staff,
    ):
        # reads: 401 without the password or with a wrong one; the health probe stays open
        assert anonymous.get("/health").status_code == 200
        for client in (anonymous, stranger):
            refused = client.get("/work_pools/jukinet")
            assert refused.status_code == 401, refused.text
            assert refused.json() == {"exception_message": "Unauthorized"}
            assert client.get("/csrf-token", params={"client": "x"}).status_code == 401

        # writes: a CSRF token and the password, each refused without the other
        csrf = csrf_headers(staff)
        refused = anonymous.post("/flow_runs/filter", json={})
        assert (refused.status_code, refused.json()["detail"]) == (403, MISSING_TOKEN)
        refused = anonymous.post("/flow_runs/filter", json={}, headers=csrf)
        assert refused.status_code == 401, refused.text
        refused = staff.post("/flow_runs/filter", json={})
        assert (refused.status_code, refused.json()["detail"]) == (403, MISSING_TOKEN)
        forged = {**csrf, "Prefect-Csrf-Token": "forged"}
        refused = staff.post("/flow_runs/filter", json={}, headers=forged)
        assert refused.status_code == 403
        assert refused.json()["detail"] == "Invalid CSRF token or client identifier."
        assert staff.post("/flow_runs/filter", json={}, headers=csrf).status_code == 200

        # the UI asks for the password and sends CSRF tokens
        ui = anonymous.get(f"{base}/ui-settings").json()
        assert (ui["auth"], ui["csrf_enabled"]) == ("BASIC", True)
        assert ui["api_url"] == production.api_url

        # the work pool is READY: the worker authenticates; `prefect deploy` did too
        pool = staff.get("/work_pools/jukinet")
        assert pool.status_code == 200
        assert pool.json()["status"] == "READY"
        deployments = staff.post("/deployments/filter", json={}, headers=csrf)
        assert deployments.status_code == 200
        declared = {
            d["name"] for d in YAML(typ="safe").load(PROJECT_ROOT / "prefect.yaml")["deployments"]
        }
        assert {"緊急時対応", "通報受付"} <= declared
        assert declared <= {d["name"] for d in deployments.json()}

        # the drill's client: the auth string from Prefect's client setting, CSRF handled
        with temporary_settings(updates={PREFECT_API_AUTH_STRING: AUTH}):
            drill_api = Api(production.api_url)
        assert drill_api.tagged(f"訓練-{uuid.uuid4()}") == []
        assert drill_api.deployment("第1章 緊急時対応", "緊急時対応")["name"] == "緊急時対応"
        drill_api.client.close()
        unauthenticated = Api(production.api_url, "")
        with pytest.raises(DrillFailed, match=r"401 認証エラー.*PREFECT_API_AUTH_STRING"):
            unauthenticated.tagged("x")
        unauthenticated.client.close()

        # a flow run the worker starts authenticates with the worker's setting
        monkeypatch.setenv("PREFECT_API_AUTH_STRING", AUTH)
        start_flow_run(production, tmp_path)
        deadline = time.monotonic() + 90
        while not sleepy_runs(staff, csrf, "RUNNING"):
            assert time.monotonic() < deadline, "フロー実行が RUNNING になりません（認証?）"
            time.sleep(0.5)

    # both databases on the stack's local cluster: Prefect's (with the run) and the store's
    cluster = production.cluster
    assert {"flow_run", "deployment", "work_pool"} <= production.tables("prefect")
    assert production.query("prefect", "SELECT count(*) FROM flow_run") != [(0,)]
    assert {"incidents", "audit_records", "notices"} <= production.tables("jukinet")
    assert not {"incidents"} & production.tables("prefect")
    assert not {"flow_run"} & production.tables("jukinet")
    assert not (production.home / "store.sqlite3").exists()
    assert not (production.home / "prefect" / "prefect.db").exists()
    prefect_url = cluster.url("prefect", "asyncpg")
    store_url = cluster.url("jukinet", "psycopg")
    db_password = cluster.passfile.read_text().strip().rpartition(":")[2]
    assert len(db_password) >= 32

    children = processes_mentioning(str(production.home))
    commands = {pid: command_line(pid) for pid in children}
    token = basic_auth(AUTH)["Authorization"].split()[1]
    for pid, command in commands.items():
        assert AUTH not in command and token not in command, command
        env = environment(pid)
        assert "JUKINET_AUTH_STRING" not in env or pid == production.process.pid, command
        assert db_password not in command and db_password not in str(env), command
        if "server start" in command:
            assert env.get("PREFECT_SERVER_API_AUTH_STRING") == AUTH
            assert "PREFECT_API_AUTH_STRING" not in env
            assert env.get("PREFECT_SERVER_DATABASE_CONNECTION_URL") == prefect_url
            assert "JUKINET_STORE_URL" not in env
        if any(part in command for part in ("worker start", "prefect.engine")):
            assert env.get("PREFECT_API_AUTH_STRING") == AUTH
            assert "PREFECT_SERVER_API_AUTH_STRING" not in env
            assert env.get("JUKINET_STORE_URL") == store_url
            assert "PREFECT_SERVER_DATABASE_CONNECTION_URL" not in env
        if "jukinet.mailbox" in command:
            assert not {"PREFECT_API_AUTH_STRING", "PREFECT_SERVER_API_AUTH_STRING"} & set(env)
            assert not {"JUKINET_STORE_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL"} & set(env)
    for part in ("jukinet.mailbox", "server start", "worker start", "prefect.engine"):
        assert any(part in c for c in commands.values()), f"{part} が起動していません"
    server = processes_mentioning(str(cluster.data))  # the cluster's postmaster
    assert server and all("JUKINET_AUTH_STRING" not in environment(pid) for pid in server)

    output = production.interrupt()
    texts = [output, cluster.log.read_text(errors="replace")]
    texts += [p.read_text(errors="replace") for p in (production.home / "logs").glob("*.log")]
    assert "本番用の設定（production）で起動しました" in output
    assert f"ローカルの PostgreSQL（{cluster.directory}" in output
    for written in texts:
        assert AUTH.partition(":")[2] not in written and token not in written
        assert db_password not in written
    survivors = {**still_alive(children), **processes_mentioning(str(production.home))}
    assert not survivors, [command_line(pid) for pid in survivors]
    assert not port_accepts(production.prefect_port)
    assert_stopped(cluster)


def test_the_local_cluster_keeps_the_data_when_the_stack_restarts(
    tmp_path: Path, cluster: Cluster
) -> None:
    first = start_production(tmp_path, cluster=cluster)
    try:
        first.wait_ready()
        with (
            temporary_settings(
                updates={PREFECT_API_URL: first.api_url, PREFECT_API_AUTH_STRING: AUTH}
            ),
            get_client(sync_client=True) as client,
        ):
            run, number = declare(client, s.declaration())  # chapter 1, suspended at C1.2
        first.interrupt()
    finally:
        stop_stack(first)
    assert_stopped(cluster)

    again = start_production(tmp_path, cluster=cluster)
    try:
        again.wait_ready()
        assert "前回の停止が完了していない" not in again.text()
        assert (number,) in again.query("jukinet", "SELECT number FROM incidents")
        with (
            temporary_settings(
                updates={PREFECT_API_URL: again.api_url, PREFECT_API_AUTH_STRING: AUTH}
            ),
            get_client(sync_client=True) as client,
        ):
            kept = client.read_flow_run(run.id)
        assert kept.state is not None
        assert (kept.state.type, kept.state.name) == (StateType.PAUSED, "Suspended")
        again.interrupt()
    finally:
        stop_stack(again)
    assert_stopped(cluster)


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (None, "JUKINET_AUTH_STRING が設定されていません"),
        ("juki-admin-secret-without-colon", "コロン「:」で区切る"),
    ],
)
def test_production_profile_without_a_usable_auth_string_starts_nothing(
    tmp_path: Path, auth: str | None, expected: str
) -> None:
    stack = start_production(tmp_path, auth)

    assert stack.process.wait(timeout=60) == 2
    assert expected in stack.text()
    assert "何も起動していません" in stack.text()
    if auth:
        assert auth not in stack.text()
    assert not (stack.home / "logs").exists()
