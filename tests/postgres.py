"""A throwaway PostgreSQL cluster for tests, from Debian's `postgresql` package.

    with running_postgres() as url:          # postgresql+psycopg://postgres@127.0.0.1:PORT/jukinet
        with fresh_schema(url, "t1") as t1:  # the same database, an empty schema of its own
            engine = make_engine(t1)

The cluster lives in a temporary directory (data, log and unix socket), listens on 127.0.0.1 on a
free port, and is stopped (`pg_ctl stop -m fast`) and removed afterwards; it never uses a system
cluster. initdb refuses to run as root, so as root the server runs as the `postgres` system user
that Debian's package creates. Durability is switched off (fsync, synchronous_commit): the data
is thrown away anyway.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

INSTALL_HINT = "apt-get install postgresql"
SERVER_USER = "postgres"
DATABASE = "jukinet"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed, or the private cluster could not be started."""


def server_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin, else the directory of `initdb` on PATH."""
    found = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if found:
        return max(found, key=_version).parent
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    raise PostgresUnavailable(
        "PostgreSQL is not installed: the store tests need the server programs initdb and "
        f"pg_ctl (Debian: `{INSTALL_HINT}`; .ci/run installs it)."
    )


def _version(initdb: Path) -> tuple[int, ...]:
    name = initdb.parent.parent.name  # /usr/lib/postgresql/<version>/bin/initdb
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> list[str]:
    """Command prefix that runs a program as the server's user (nothing unless we are root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, and there is no `{SERVER_USER}` user to run PostgreSQL as "
            f"(initdb refuses root; Debian's `{INSTALL_HINT}` creates that user)"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root, and `runuser` (util-linux) is not installed")
    return [runuser, "-u", SERVER_USER, "--"]


def _run(command: list[str], cwd: Path, what: str) -> None:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"{what} failed ({done.returncode}): {' '.join(command)}\n{done.stdout}{done.stderr}"
        )


def _admin_engine(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


@contextmanager
def running_postgres(database: str = DATABASE) -> Iterator[str]:
    """Start a private cluster, create `database`, yield its SQLAlchemy URL; stop and remove it."""
    bin_dir = server_bin_dir()
    prefix = _as_server_user()
    home = Path(tempfile.mkdtemp(prefix="jukinet-pg-"))
    data = home / "data"
    log = home / "server.log"
    started = False
    try:
        if prefix:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(home, entry.pw_uid, entry.pw_gid)
            if subprocess.run([*prefix, "test", "-w", str(home)], check=False).returncode:
                raise PostgresUnavailable(
                    f"the `{SERVER_USER}` user cannot write to {home}: "
                    "set TMPDIR to a directory every user can reach (e.g. /tmp)"
                )
        _run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                "postgres",
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
            home,
            "initdb",
        )
        port = 0
        for _attempt in range(3):  # another program may take the free port before the server
            port = free_port()
            with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write(
                    "\n# tests/postgres.py: private, throwaway\n"
                    f"port = {port}\n"
                    "listen_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{home}'\n"
                    "fsync = off\n"
                    "synchronous_commit = off\n"
                    "full_page_writes = off\n"
                )
            start = ["start", "-w", "-t", "60", "-D", str(data), "-l", str(log)]
            done = subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), *start],
                cwd=home,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            if done.returncode == 0:
                started = True
                break
        if not started:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed; server log:\n{tail}")
        admin = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        engine = _admin_engine(admin)
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        engine.dispose()
        yield str(make_url(admin).set(database=database).render_as_string(hide_password=False))
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(data)],
                cwd=home,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def fresh_schema(url: str, name: str) -> Iterator[str]:
    """The URL of `url` with only a new, empty schema `name` on its search_path (so the store's
    tables are created there), and the schema dropped afterwards.

    About 10 ms to create and 15 ms to drop, where CREATE DATABASE took 50 ms on an idle machine
    and 200-350 ms while other tests ran. The search path travels in the URL (libpq `options`),
    so engines built from it in other threads or processes use the same schema.
    """
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        try:
            yield (
                make_url(url)
                .update_query_dict({"options": f"-csearch_path={name}"})
                .render_as_string(hide_password=False)
            )
        finally:
            with engine.connect() as conn:
                # Like DROP DATABASE ... WITH (FORCE): a connection the test left open (tests run
                # one at a time on the cluster) must not hold the drop up.
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    finally:
        engine.dispose()
