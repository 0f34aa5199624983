"""`make up`: the developer stack in one command, supervised until Ctrl-C.

    python -m jukinet.devstack

Order: check the configuration (exit 2 if invalid, nothing started) → mailbox → `prefect server
start` → wait for /api/health → work pool `jukinet` → `prefect deploy --all` → process worker.
Every child runs in its own process group with its output in $JUKINET_HOME/logs/
(mailbox.log, server.log, deploy.log, worker.log).

Ctrl-C / SIGTERM: stop exactly what was started (worker first; SIGTERM, SIGKILL after 10 s),
including processes those children started in other groups (flow runs); exit 0.
A worker that dies is started again (what it was running is re-run by 中断した実行の再開), unless
it died RESTART_LIMIT times within RESTART_WINDOW s. Any other child that dies on its own, or such
a worker: name it and its log, stop the rest, exit 1.

Overrides, e.g. for a second stack on one machine (tests):
    JUKINET_PREFECT_PORT   Prefect server port (4200)
    JUKINET_SMTP_PORT      mailbox port (town.yaml smtp.port); passed on to the children

`--profile production` (jukinet/profile.py, docs/production.md): the server listens on
JUKINET_BIND_HOST with basic auth (JUKINET_AUTH_STRING) and CSRF protection; only the server gets
the server-side auth string, and only `prefect work-pool create`, `prefect deploy` and the worker
(hence its flow runs) get the client one, both in their environment. The default profile is the
development stack.

Databases (production only; the default profile keeps SQLite for both): PostgreSQL. With neither
PREFECT_SERVER_DATABASE_CONNECTION_URL nor JUKINET_STORE_URL set, the stack starts the local
cluster (jukinet/localpg.py; JUKINET_PG_DIR, $JUKINET_HOME/postgresql; JUKINET_PG_PORT, 5442)
before anything else and stops it after every child; with both set (a managed PostgreSQL) it uses
them. Only the server gets Prefect's URL; only `prefect deploy` and the worker get the store's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from jukinet.config.loader import Config, ConfigError
from jukinet.config.towns import load_configs
from jukinet.localpg import (
    DEFAULT_PORT,
    PREFECT_DATABASE,
    STORE_DATABASE,
    Cluster,
    ClusterError,
    server_bin_dir,
)
from jukinet.profile import (
    DEFAULT_ACCESS,
    PROFILES,
    SECRET_VARIABLES,
    Access,
    ProfileError,
    load_profile,
)
from jukinet.settings import PROJECT_ROOT, Settings, load_settings

HOST = "127.0.0.1"
DEFAULT_PREFECT_PORT = 4200
WORK_POOL = "jukinet"
HEALTH_TIMEOUT = 90.0
DRILL_LOG_LINES = 20_000
WORKER_READY_TIMEOUT = 60.0
STOP_GRACE = 10.0
TICK = 0.5
RESTART_LIMIT = 5  # a worker that exits this often within RESTART_WINDOW s stops the stack
RESTART_WINDOW = 300.0
PREFECT_DB_VARIABLE = "PREFECT_SERVER_DATABASE_CONNECTION_URL"
STORE_VARIABLE = "JUKINET_STORE_URL"
PG_DIR_VARIABLE = "JUKINET_PG_DIR"
PG_PORT_VARIABLE = "JUKINET_PG_PORT"
# production: each only to the children that need it (with Prefect's older name of its setting)
DATABASE_VARIABLES = (PREFECT_DB_VARIABLE, "PREFECT_API_DATABASE_CONNECTION_URL", STORE_VARIABLE)


class Stopped(Exception):
    """Ctrl-C or SIGTERM arrived."""


class Failed(Exception):
    """The stack cannot run; the message is for the user (Japanese)."""


@dataclass(frozen=True)
class Ports:
    prefect: int
    smtp: int


def _port_from_env(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise Failed(f"{name} はポート番号（1〜65535 の整数）で指定してください: {value!r}")
    return int(value)


def resolve_ports(smtp_default: int) -> Ports:
    return Ports(
        prefect=_port_from_env("JUKINET_PREFECT_PORT", DEFAULT_PREFECT_PORT),
        smtp=_port_from_env("JUKINET_SMTP_PORT", smtp_default),
    )


def results_dir(settings: Settings) -> Path:
    """The folder every worker keeps flow-run results in: JUKINET_RESULTS_DIR (a shared mount
    when workers run on several machines; docs/production.md) or the home's prefect/storage."""
    return Path(os.environ.get("JUKINET_RESULTS_DIR") or settings.home / "prefect" / "storage")


def stack_env(settings: Settings, ports: Ports, access: Access = DEFAULT_ACCESS) -> dict[str, str]:
    """The environment every child gets: this one plus the stack's Prefect settings.

    In the production profile no auth string and no database URL is in it: Supervisor.spawn adds
    the ones a child needs.
    """
    prefect_home = settings.home / "prefect"
    api_url = access.api_url(ports.prefect)
    ui_url = access.ui_url(ports.prefect)
    env = dict(os.environ)
    if access.production:
        for name in (*SECRET_VARIABLES, *DATABASE_VARIABLES):
            env.pop(name, None)
    env.update(
        {
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_API_HOST": access.bind_host,
            "PREFECT_SERVER_API_PORT": str(ports.prefect),
            "PREFECT_UI_API_URL": f"{ui_url}/api",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # The V2 UI (the one the root opens) masks approval codes and starts times in the
            # browser's zone; the product's links point to it. No upgrade offers for the staff.
            "PREFECT_SERVER_UI_V2_ENABLED": "true",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            # SQLite's busy answers (503 to the UI, which does not retry) go to server.log
            "PREFECT_SERVER_LOG_RETRYABLE_ERRORS": "true",
            # SQLite answers 503 "database is locked" under load; Prefect's clients retry 503
            # with backoff, 5 times by default — not always enough when many runs resume at once
            "PREFECT_CLIENT_MAX_RETRIES": "10",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
            # results every worker reads and writes: a shared folder when workers run on
            # several machines (JUKINET_RESULTS_DIR, e.g. an NFS mount; docs/production.md)
            # registered as the server's default result storage (jukinet result-storage)
            "PREFECT_LOCAL_STORAGE_PATH": str(results_dir(settings)),
            # a run whose process dies stops sending heartbeats: after three missed ones
            # 中断した実行の再開 marks it Crashed and runs it again (flows/recovery.py)
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
            "JUKINET_HOME": str(settings.home),
            "JUKINET_CONFIG_DIR": str(settings.config_dir),
            "JUKINET_SMTP_PORT": str(ports.smtp),
            "JUKINET_UI_URL": ui_url,
        }
    )
    return env


def port_is_free(port: int, host: str = HOST) -> bool:
    try:
        _bind(host, port)
    except OSError:
        return False
    return True


def check_bind_host(host: str) -> None:
    """Failed unless this machine can listen on `host` (JUKINET_BIND_HOST)."""
    try:
        _bind(host, 0)
    except OSError as exc:
        raise Failed(
            f"JUKINET_BIND_HOST の {host} で待ち受けできません（{exc.strerror or exc}）。"
            "このマシンのアドレスか、0.0.0.0 を指定してください。"
        ) from None


def _bind(host: str, port: int) -> None:
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)


def prefect_command() -> str:
    beside = Path(sys.executable).parent / "prefect"
    found = str(beside) if beside.exists() else shutil.which("prefect")
    if found is None:
        raise Failed("prefect コマンドが見つかりません。make venv を実行してください。")
    return found


# --- databases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Databases:
    """The production stack's PostgreSQL: Prefect's database and the store's.

    `cluster` is the local cluster that holds both (started and stopped by the stack), None for a
    managed PostgreSQL. The URLs of the local cluster hold no password (it stays in its pgpass).
    """

    prefect_url: str = field(repr=False)
    store_url: str = field(repr=False)
    cluster: Cluster | None = None

    def server_env(self) -> dict[str, str]:
        """What only `prefect server start` gets."""
        return {PREFECT_DB_VARIABLE: self.prefect_url}

    def store_env(self) -> dict[str, str]:
        """What the processes that open the store get (prefect deploy, the worker, its runs)."""
        return {STORE_VARIABLE: self.store_url}

    def summary(self) -> str:
        """Which databases are used, without a password."""
        names = f"Prefect: {describe_url(self.prefect_url)}、ストア: {describe_url(self.store_url)}"
        if self.cluster is None:
            return f"PostgreSQL（{names}）"
        return f"ローカルの PostgreSQL（{self.cluster.directory}、{names}）"


def production_databases(environ: Mapping[str, str], home: Path) -> Databases:
    """Both URLs set: that PostgreSQL; neither: the local cluster; one: Failed naming both."""
    prefect_url = environ.get(PREFECT_DB_VARIABLE, "").strip()
    store_url = environ.get(STORE_VARIABLE, "").strip()
    if prefect_url and store_url:
        _check_url(PREFECT_DB_VARIABLE, prefect_url, "postgresql+asyncpg", PREFECT_DATABASE)
        _check_url(STORE_VARIABLE, store_url, "postgresql+psycopg", STORE_DATABASE)
        return Databases(prefect_url, store_url)
    if prefect_url or store_url:
        given, missing = (
            (PREFECT_DB_VARIABLE, STORE_VARIABLE)
            if prefect_url
            else (STORE_VARIABLE, PREFECT_DB_VARIABLE)
        )
        raise Failed(
            f"本番用の設定（production）では、環境変数 {PREFECT_DB_VARIABLE}（Prefect サーバーの"
            f"データベース）と {STORE_VARIABLE}（ストア）の両方を設定するか、両方とも設定しないで"
            f"ください（{given} だけが設定され、{missing} がありません）。両方とも設定しなければ、"
            "このマシンにローカルの PostgreSQL を起動して使います。docs/production.md を参照して"
            "ください。"
        )
    directory = environ.get(PG_DIR_VARIABLE, "").strip()
    cluster = Cluster(
        Path(directory) if directory else home / "postgresql",
        _port_from_env(PG_PORT_VARIABLE, DEFAULT_PORT, environ),
    )
    return Databases(
        cluster.url(PREFECT_DATABASE, "asyncpg"), cluster.url(STORE_DATABASE, "psycopg"), cluster
    )


def _check_url(variable: str, url: str, drivername: str, example: str) -> None:
    """Failed unless `url` is a `drivername` URL; the message never quotes it (a password)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.drivername != drivername or not parsed.database:
        raise Failed(
            f"環境変数 {variable} は {drivername}://ユーザー名:パスワード@ホスト:ポート/{example} "
            "の形で指定してください（値は表示しません）。"
        )


def describe_url(url: str) -> str:
    """driver://user@host:port/database: what a URL points at, never its password or options."""
    parsed = make_url(url)
    user = f"{parsed.username}@" if parsed.username else ""
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.drivername}://{user}{parsed.host or ''}{port}/{parsed.database or ''}"


# --- processes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    pgrp: int
    state: str
    start: int  # clock ticks after boot; tells a reused pid apart


def process_table() -> dict[int, ProcInfo]:
    """Every process visible in /proc (Linux)."""
    table: dict[int, ProcInfo] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        pid = int(entry.name)
        table[pid] = ProcInfo(
            pid=pid,
            ppid=int(fields[1]),
            pgrp=int(fields[2]),
            state=fields[0].decode(),
            start=int(fields[19]),
        )
    return table


def _alive(info: ProcInfo | None) -> bool:
    return info is not None and info.state not in ("Z", "X")


@dataclass
class Child:
    name: str
    log: Path
    process: subprocess.Popen[bytes]
    one_shot: bool
    restart: bool = False  # started again when it exits (a worker), RESTART_LIMIT per window
    restarts: list[float] = field(default_factory=list)  # monotonic times of the restarts
    command: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict, repr=False)

    def tail(self, lines: int = 15) -> str:
        return _tail(self.log, lines)


def _tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class Service:
    """Something the stack started that is not a child process (the local PostgreSQL): watched
    like a child, stopped after every child by `stop` (which raises Failed if it cannot)."""

    name: str
    log: Path
    alive: Callable[[], bool]
    stop: Callable[[], None]


class Supervisor:
    """Starts children in their own process groups and stops exactly those (and their offspring),
    then the services, newest first."""

    def __init__(self, env: dict[str, str], cwd: Path, log_dir: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.log_dir = log_dir
        self.children: list[Child] = []
        self.services: list[Service] = []
        self.stop_requested = threading.Event()
        self._owned: dict[int, int] = {}  # pid -> start time of every process our children started

    def spawn(
        self,
        name: str,
        args: list[str],
        log_name: str,
        one_shot: bool = False,
        extra_env: dict[str, str] | None = None,
        restart: bool = False,
    ) -> Child:
        """Start `args` with the stack's environment plus `extra_env` (never logged); a `restart`
        child is started again when it exits (see `check`)."""
        log = self.log_dir / log_name
        extra_env = extra_env or {}
        child = Child(
            name, log, self._popen(args, log, extra_env), one_shot, restart, [], args, extra_env
        )
        self.children.append(child)
        return child

    def _popen(
        self, args: list[str], log: Path, extra_env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            out.write(f"$ {' '.join(args)}\n".encode())
            out.flush()
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**self.env, **extra_env},
                cwd=self.cwd,
                start_new_session=True,
            )

    def _restarted(self, child: Child, code: int) -> bool:
        """Start an exited `restart` child again, unless it exited RESTART_LIMIT times within
        RESTART_WINDOW seconds (then it is broken, not unlucky: False)."""
        now = time.monotonic()
        child.restarts[:] = [t for t in child.restarts if now - t < RESTART_WINDOW]
        if not child.restart or len(child.restarts) >= RESTART_LIMIT:
            return False
        child.restarts.append(now)
        say(
            f"警告: {child.name}が終了しました（終了コード {code}）。起動し直します"
            f"（{len(child.restarts)} 回目。実行中だった処理は「中断した実行の再開」が"
            f"再実行します）。ログ: {child.log}"
        )
        child.process = self._popen(child.command, child.log, child.extra_env)
        return True

    def run_once(
        self, name: str, args: list[str], log_name: str, extra_env: dict[str, str] | None = None
    ) -> Child:
        """Run a command to completion while watching the others; the returned child has exited."""
        child = self.spawn(name, args, log_name, one_shot=True, extra_env=extra_env)
        self.wait_until(lambda: child.process.poll() is not None, timeout=None)
        return child

    def wait_until(self, condition: Callable[[], bool], timeout: float | None) -> bool:
        """True once `condition` holds, False after `timeout` s; raises Stopped / Failed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.check()
            if condition():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self.stop_requested.wait(TICK)

    def check(self) -> None:
        if self.stop_requested.is_set():
            raise Stopped
        self._remember_offspring()
        for child in self.children:
            code = child.process.poll()
            if code is not None and not child.one_shot and not self._restarted(child, code):
                raise Failed(
                    f"{child.name}が予期せず終了しました（終了コード {code}）。"
                    f"ログ: {child.log}\n--- ログの末尾 ---\n{child.tail()}"
                )
        for service in self.services:
            if not service.alive():
                raise Failed(
                    f"{service.name}が予期せず終了しました。"
                    f"ログ: {service.log}\n--- ログの末尾 ---\n{_tail(service.log)}"
                )

    def _remember_offspring(self) -> None:
        """Note every process started by a running child, in its group or not (flow runs)."""
        table = process_table()
        running = {c.process.pid for c in self.children if c.process.poll() is None}
        for pid in [pid for pid, start in self._owned.items() if not _same(table, pid, start)]:
            del self._owned[pid]
        for info in table.values():
            if info.pgrp in running and info.pid not in running and _alive(info):
                self._owned[info.pid] = info.start
        by_parent: dict[int, list[ProcInfo]] = {}
        for info in table.values():
            by_parent.setdefault(info.ppid, []).append(info)
        pending = [*running, *self._owned]
        while pending:
            for info in by_parent.get(pending.pop(), []):
                if info.pid not in self._owned and _alive(info):
                    self._owned[info.pid] = info.start
                    pending.append(info.pid)

    def shutdown(self) -> None:
        """Stop the running children, newest first, then whatever they started that still runs,
        then the services (newest first)."""
        self._remember_offspring()
        for child in reversed(self.children):
            if child.process.poll() is None:
                self._stop_group(child)
        leftovers = list(self._owned)
        self._signal_owned(leftovers, signal.SIGTERM)
        if not _wait(lambda: self._none_alive(leftovers), STOP_GRACE):
            self._signal_owned(leftovers, signal.SIGKILL)
            _wait(lambda: self._none_alive(leftovers), 5.0)
        for service in reversed(self.services):
            try:
                service.stop()
            except Failed as exc:
                print(f"警告: {exc}", file=sys.stderr, flush=True)

    def _stop_group(self, child: Child) -> None:
        pgid = child.process.pid

        def gone() -> bool:
            if child.process.poll() is None:
                return False
            return not any(i.pgrp == pgid and _alive(i) for i in process_table().values())

        _killpg(pgid, signal.SIGTERM)
        if not _wait(gone, STOP_GRACE):
            _killpg(pgid, signal.SIGKILL)
            _wait(gone, 5.0)

    def _signal_owned(self, pids: list[int], sig: signal.Signals) -> None:
        table = process_table()
        for pid in pids:
            if _same(table, pid, self._owned[pid]):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)

    def _none_alive(self, pids: list[int]) -> bool:
        table = process_table()
        return not any(_same(table, pid, self._owned[pid]) for pid in pids)


def _same(table: dict[int, ProcInfo], pid: int, start: int) -> bool:
    """The process `pid` that started at `start` is still alive (not a zombie, not a reused pid)."""
    info = table.get(pid)
    return info is not None and info.start == start and _alive(info)


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


# --- the stack ---------------------------------------------------------------------------------


def say(text: str) -> None:
    print(text, flush=True)


def _get(url: str, access: Access) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2.0, trust_env=False, headers=access.auth_headers())
    except httpx.HTTPError:
        return None


def _healthy(api_url: str, access: Access) -> bool:
    response = _get(f"{api_url}/health", access)
    return response is not None and response.status_code == 200


def _work_pool_status(api_url: str, access: Access) -> str | None:
    """The pool's status (e.g. READY once a worker polls it), None if it does not exist."""
    response = _get(f"{api_url}/work_pools/{WORK_POOL}", access)
    if response is None or response.status_code != 200:
        return None
    return str(response.json().get("status") or "")


def start_cluster(sup: Supervisor, cluster: Cluster) -> None:
    """Start the local PostgreSQL (stopping one a killed stack left running) as a service."""

    def stop() -> None:
        try:
            cluster.stop()
        except ClusterError as exc:
            raise Failed(str(exc)) from None

    if cluster.running():
        say("前回の停止が完了していないローカルの PostgreSQL を停止しています…")
        stop()
    say(f"ローカルの PostgreSQL を起動しています（{HOST}:{cluster.port}、{cluster.directory}）…")
    try:
        cluster.start()
    except ClusterError as exc:
        raise Failed(str(exc)) from None
    sup.services.append(Service("ローカルの PostgreSQL", cluster.log, cluster.running, stop))


def run_stack(
    sup: Supervisor,
    settings: Settings,
    ports: Ports,
    prefect: str,
    access: Access = DEFAULT_ACCESS,
    databases: Databases | None = None,
    workers: int = 1,
) -> None:
    """Start everything (`workers` process workers), then supervise until Stopped or Failed.

    `databases` None: Prefect's and the store's defaults (SQLite), as the environment says.
    """
    api_url = access.api_url(ports.prefect)
    mailbox_dir = settings.mailbox_dir
    clients = access.client_env()
    server_env = access.server_env()
    store_env: dict[str, str] = {}
    if access.production:
        say(
            f"本番用の設定（production）で起動します: {access.bind_host}:{ports.prefect} で待ち受け、"
            "Basic 認証と CSRF 保護を有効にします。"
        )
    if databases is not None:
        say(f"データベース: {databases.summary()}")
        server_env.update(databases.server_env())
        store_env = databases.store_env()
        if databases.cluster is not None:
            start_cluster(sup, databases.cluster)

    smtp = str(ports.smtp)
    say(f"メールボックスを起動しています（smtp://{HOST}:{ports.smtp}）…")
    sup.spawn(
        "メールボックス",
        [sys.executable, "-m", "jukinet.mailbox", "--dir", str(mailbox_dir), "--port", smtp],
        "mailbox.log",
    )

    say("Prefect サーバーを起動しています…")
    server = sup.spawn(
        "Prefect サーバー",
        [prefect, "server", "start", "--host", access.bind_host, "--port", str(ports.prefect)],
        "server.log",
        extra_env=server_env,
    )
    if not sup.wait_until(lambda: _healthy(api_url, access), HEALTH_TIMEOUT):
        raise Failed(
            f"Prefect サーバーが {HEALTH_TIMEOUT:.0f} 秒以内に応答しませんでした"
            f"（{api_url}/health）。ログを確認してください: {server.log}"
        )

    if _work_pool_status(api_url, access) is None:
        say(f"ワークプール {WORK_POOL} を作成しています…")
        created = sup.run_once(
            "ワークプールの作成",
            [prefect, "work-pool", "create", WORK_POOL, "--type", "process"],
            "deploy.log",
            extra_env=clients,
        )
        if _work_pool_status(api_url, access) is None:
            raise Failed(
                f"ワークプール {WORK_POOL} を作成できませんでした"
                f"（終了コード {created.process.returncode}）。ログ: {created.log}"
            )

    say("フロー実行の結果の保存先を登録しています（jukinet result-storage）…")
    stored = sup.run_once(
        "結果の保存先の登録",
        [sys.executable, "-m", "jukinet.cli", "result-storage"],
        "deploy.log",
        extra_env=clients,
    )
    if stored.process.returncode != 0:
        raise Failed(
            f"結果の保存先を登録できませんでした（終了コード {stored.process.returncode}）。"
            f"ログ: {stored.log}\n--- ログの末尾 ---\n{stored.tail()}"
        )

    say("記録の保管庫の表を確認しています（jukinet migrate）…")
    migrated = sup.run_once(
        "保管庫の更新",
        [sys.executable, "-m", "jukinet.cli", "migrate"],
        "deploy.log",
        store_env,
    )
    if migrated.process.returncode != 0:
        raise Failed(
            f"記録の保管庫を更新できませんでした（終了コード {migrated.process.returncode}）。"
            f"ログ: {migrated.log}\n--- ログの末尾 ---\n{migrated.tail()}"
        )

    if (PROJECT_ROOT / "prefect.yaml").exists():
        say("フローをデプロイしています（prefect deploy --all）…")
        deploy = sup.run_once(
            "デプロイ",
            [prefect, "--no-prompt", "deploy", "--all"],
            "deploy.log",
            {**clients, **store_env},
        )
        if deploy.process.returncode != 0:
            raise Failed(
                f"デプロイに失敗しました（終了コード {deploy.process.returncode}）。"
                f"ログ: {deploy.log}\n--- ログの末尾 ---\n{deploy.tail()}"
            )
    else:
        say(f"警告: {PROJECT_ROOT / 'prefect.yaml'} がないため、デプロイを省略します。")

    say(f"ワーカーを起動しています（{workers} 台）…")
    for number in range(1, workers + 1):
        worker = sup.spawn(
            f"ワーカー{number}" if workers > 1 else "ワーカー",
            # `jukinet worker` validates the configuration again, then execs `prefect worker start`
            [sys.executable, "-m", "jukinet.cli", "worker"],
            f"worker-{number}.log" if workers > 1 else "worker.log",
            extra_env={**clients, **store_env},
            restart=True,
        )
    ready = sup.wait_until(
        lambda: _work_pool_status(api_url, access) == "READY", WORKER_READY_TIMEOUT
    )
    if not ready:
        say(f"警告: ワーカーの準備がまだ確認できません。ログ: {worker.log}")

    if access.production:
        say(
            "\n製品一式を本番用の設定（production）で起動しました。\n"
            f"  Prefect UI:     {access.ui_url(ports.prefect)}"
            "（ログイン画面で JUKINET_AUTH_STRING の「ユーザー名:パスワード」を入力）\n"
            f"  待ち受け:       {access.bind_host}:{ports.prefect}（Basic 認証・CSRF 保護）\n"
            f"  データベース:   {databases.summary() if databases else '既定（SQLite）'}\n"
            f"  メールボックス: {mailbox_dir}（smtp://{HOST}:{ports.smtp}）\n"
            f"  ログ:           {sup.log_dir}\n"
            "Ctrl-C で停止します"
        )
    else:
        say(
            "\n開発環境を起動しました。\n"
            f"  Prefect UI:     http://{HOST}:{ports.prefect}\n"
            f"  メールボックス: {mailbox_dir}（smtp://{HOST}:{ports.smtp}）\n"
            f"  ログ:           {sup.log_dir}\n"
            "Ctrl-C で停止します"
        )
    sup.wait_until(lambda: False, timeout=None)


def place_drill_logs(home: Path, config: Config) -> None:
    """Fictional access logs for drills (アクセスログ解析, 第3章 手順5), when the configured log
    folder is empty; never in the production profile."""
    logs = config.town.access_logs
    if logs is None:
        return
    folder = logs.folder_in(home)
    if folder.is_dir() and any(folder.iterdir()):
        return
    from jukinet.accesslog.synthetic import write_logs

    write_logs(folder, DRILL_LOG_LINES, seed=1)
    say(
        f"訓練用の架空のアクセスログを {folder} に置きました（第3章 手順5・アクセスログ解析の訓練用）。"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jukinet.devstack",
        description="開発環境（メールボックス、Prefect サーバー、ワーカー）を起動します。",
    )
    parser.add_argument(
        "--profile",
        default=PROFILES[0],
        metavar="|".join(PROFILES),
        help="起動の設定（既定 default。production は認証・CSRF 保護あり。docs/production.md）",
    )
    parser.add_argument(
        "--workers",
        type=int,
        choices=range(1, 9),
        default=1,
        metavar="1-8",
        help="起動するワーカーの台数（既定 1）。どのワーカーも同じ実行を引き継げます",
    )
    args = parser.parse_args(argv)

    settings = load_settings()
    databases = None
    try:
        access = load_profile(args.profile, os.environ)
        if access.production:
            check_bind_host(access.bind_host)
            databases = production_databases(os.environ, settings.home)
            if databases.cluster is not None:
                server_bin_dir()  # PostgreSQL is installed
        configs = load_configs(settings.config_dir)
        ports = resolve_ports(next(iter(configs.values())).town.smtp.port)
        prefect = prefect_command()
    except ConfigError as exc:
        print(exc, file=sys.stderr, flush=True)
        return 2
    except (Failed, ProfileError, ClusterError) as exc:
        print(exc, file=sys.stderr, flush=True)
        return 2
    busy = [
        port
        for port, host in ((ports.prefect, access.bind_host), (ports.smtp, HOST))
        if not port_is_free(port, host)
    ]
    if busy:
        print(
            f"ポート {', '.join(map(str, busy))} は既に使われています。"
            "別の make up が動いていないか確認してください"
            "（JUKINET_PREFECT_PORT / JUKINET_SMTP_PORT で変更できます）。",
            file=sys.stderr,
            flush=True,
        )
        return 1

    log_dir = settings.home / "logs"
    for directory in (log_dir, settings.mailbox_dir, results_dir(settings)):
        directory.mkdir(parents=True, exist_ok=True)
    for name in ("mailbox.log", "server.log", "deploy.log", "worker.log"):
        (log_dir / name).write_bytes(b"")

    if not access.production:
        for config in configs.values():
            place_drill_logs(settings.home, config)
    sup = Supervisor(stack_env(settings, ports, access), PROJECT_ROOT, log_dir)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        sup.stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        run_stack(sup, settings, ports, prefect, access, databases, args.workers)
    except Stopped:
        say("\n停止しています…")
    except Failed as exc:
        print(f"\nエラー: {exc}", file=sys.stderr, flush=True)
        say("ほかのプロセスを停止しています…")
        code = 1
    finally:
        sup.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("停止しました。")
    return code


if __name__ == "__main__":
    sys.exit(main())
