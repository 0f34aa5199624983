"""A PostgreSQL cluster of this machine, from Debian's `postgresql` package (production profile).

    cluster = Cluster(home / "postgresql", port=5442)
    cluster.start()                    # initdb the first time; pg_ctl start; role, databases, pg_trgm
    cluster.url("prefect", "asyncpg")  # postgresql+asyncpg://jukinet@127.0.0.1:5442/prefect?passfile=…
    cluster.stop()                     # pg_ctl stop -m fast

The cluster directory (kept across starts; `jukinet up` never deletes it):
    data/       the cluster itself (initdb), owned by the server's account
    run/        the server's unix socket (0700)
    server.log  the server's log
    pgpass      the password of the role `jukinet`, in libpq's passfile format (0600)

Authentication. The server listens on 127.0.0.1 only, but every account of this machine can reach
that address, so loopback does not tell who connects (`trust` would hand any local user the audit
trail).
TCP connections need the password of the role `jukinet` (scram-sha-256), which owns the databases
`jukinet` (the store) and `prefect` (Prefect's) and is no superuser. The password is generated at
the first start and kept only in `pgpass`, readable by the account that runs `jukinet up` (and
root). URLs name that file (`?passfile=`, read by libpq and asyncpg) instead of holding the
password, so they can be printed, logged and handed to every process; the server itself gets only
the SCRAM verifier, computed here. The superuser has no password and connects only through the
unix socket in run/, as the server's account (peer). Deleting `pgpass` while the cluster is
stopped makes a new password at the next start.

initdb refuses root, so as root the server programs run as `postgres` (the account Debian's
package creates) via runuser, with an environment of their own (no secret of the stack in it).

Building blocks shared with tests/postgres.py (a throwaway cluster): server_bin_dir,
as_server_user, give_to_server_user, initdb, pg_ctl_start, pg_ctl_stop, port_is_free.
Errors are ClusterError: a Japanese sentence for the user, never holding a password.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import hmac
import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

INSTALL_HINT = "apt-get install postgresql"
SERVER_USER = "postgres"
HOST = "127.0.0.1"
DEFAULT_PORT = 5442  # the 11th port pg_createcluster hands out (5432, 5433, … for system clusters)
ROLE = "jukinet"
STORE_DATABASE = "jukinet"
PREFECT_DATABASE = "prefect"
START_TIMEOUT = 60
SOCKET_PATH_MAX = 107  # sun_path, less its terminating NUL
SCRAM_ITERATIONS = 4096
# peer: the superuser only through the socket, as the server's account; scram: everyone over TCP.
# Collation C (code point order, never changed by a libc upgrade); UTF-8 classes for pg_trgm.
INITDB_OPTIONS = (
    "--auth-local=peer",
    "--auth-host=scram-sha-256",
    "--locale=C",
    "--lc-ctype=C.UTF-8",
)


class ClusterError(Exception):
    """The cluster cannot be used; the message is for the user (Japanese) and holds no password."""


# --- building blocks ---------------------------------------------------------------------------


def server_bin_dir(version: str | None = None) -> Path:
    """/usr/lib/postgresql/<version>/bin (the newest when None), else the directory of `initdb`
    on PATH."""
    found = {
        p.parent.parent.name: p.parent
        for p in map(Path, glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    }
    if version in found:
        return found[version]
    if found and version is None:
        return found[max(found, key=_version)]
    if found:
        raise ClusterError(
            f"ローカルの PostgreSQL のクラスタは PostgreSQL {version} で作成されていますが、"
            f"その版のサーバープログラム（/usr/lib/postgresql/{version}/bin）がありません。"
            f"apt-get install postgresql-{version} で入れるか、pg_upgrade でクラスタを"
            "新しい版に移行してください。"
        )
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    raise ClusterError(
        "PostgreSQL のサーバープログラム（initdb・pg_ctl）が見つかりません。"
        f"Debian では root で {INSTALL_HINT} を実行して入れてください。"
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def as_server_user() -> list[str]:
    """Command prefix that runs a program as the server's account (nothing unless we are root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ClusterError(
            f"root で起動していますが、PostgreSQL を動かす {SERVER_USER} ユーザーがいません"
            f"（initdb は root では動きません）。{INSTALL_HINT} を実行すると作成されます。"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterError(
            f"root で起動していますが、PostgreSQL を {SERVER_USER} ユーザーで動かすための "
            "runuser がありません。apt-get install util-linux で入れてください。"
        )
    return [runuser, "-u", SERVER_USER, "--"]


def give_to_server_user(path: Path) -> None:
    """As root, make `path` the server's account's (initdb, the log and the socket need it)."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def server_env() -> dict[str, str]:
    """The server programs' whole environment: none of the stack's variables (secrets) reach it."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}


def run(command: list[str], what: str, stdin: str | None = None) -> str:
    """Run a server program; its output, or ClusterError naming `what` with the output."""
    done = subprocess.run(
        command,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=server_env(),
        cwd="/",
        start_new_session=True,  # Ctrl-C in the terminal is for the stack, which stops us in turn
        check=False,
    )
    if done.returncode != 0:
        raise ClusterError(
            f"{what}に失敗しました（終了コード {done.returncode}）。\n"
            f"--- 出力 ---\n{(done.stdout + done.stderr)[-2000:]}"
        )
    return done.stdout


def initdb(bin_dir: Path, data: Path, options: Sequence[str]) -> None:
    """Create a cluster in `data` (an empty directory the server's account owns, or none)."""
    command = [*as_server_user(), str(bin_dir / "initdb"), "--pgdata", str(data)]
    run([*command, "--encoding", "UTF8", *options], "PostgreSQL のクラスタの作成")


def pg_ctl_start(bin_dir: Path, data: Path, log: Path, options: str) -> None:
    """`pg_ctl start` and wait until the server accepts connections; `options` go to postgres."""
    command = [*as_server_user(), str(bin_dir / "pg_ctl"), "start", "-w"]
    command += ["-t", str(START_TIMEOUT), "-D", str(data), "-l", str(log), "-o", options]
    try:
        run(command, "PostgreSQL の起動")
    except ClusterError:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
        raise ClusterError(
            f"PostgreSQL を起動できませんでした（pg_ctl start）。ログ: {log}\n"
            f"--- ログの末尾 ---\n{tail}"
        ) from None


def pg_ctl_stop(bin_dir: Path, data: Path, mode: str = "fast") -> bool:
    """`pg_ctl stop -m mode`: True once the server is down."""
    command = [*as_server_user(), str(bin_dir / "pg_ctl"), "stop", "-m", mode]
    command += ["-w", "-D", str(data)]
    try:
        run(command, "PostgreSQL の停止")
    except ClusterError:
        return False
    return True


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """What PostgreSQL stores for a scram-sha-256 password (RFC 5802), so the server never sees it.

    >>> scram_verifier("pw", b"0123456789abcdef")[:44]
    'SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$'
    """
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


# --- the product's cluster ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """The persistent cluster under `directory`, served on 127.0.0.1:`port`."""

    directory: Path
    port: int = DEFAULT_PORT

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", self.directory.resolve())

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        return self.directory / "run"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def passfile(self) -> Path:
        return self.directory / "pgpass"

    def url(self, database: str, driver: str = "psycopg") -> str:
        """SQLAlchemy URL of `database` as the role `jukinet`; the password stays in `pgpass`."""
        return URL.create(
            f"postgresql+{driver}",
            username=ROLE,
            host=HOST,
            port=self.port,
            database=database,
            query={"passfile": str(self.passfile)},
        ).render_as_string(hide_password=False)

    def running(self) -> bool:
        """A server of this cluster's data directory is alive (data/postmaster.pid)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return False
        return str(self.data).encode() in command

    def start(self) -> None:
        """Create the cluster if it does not exist, start it, create what is missing in it."""
        if self.running():
            raise ClusterError(f"ローカルの PostgreSQL（{self.data}）は既に起動しています。")
        if not port_is_free(self.port):
            raise ClusterError(
                f"ポート {self.port}（{HOST}）は別のプログラムが使っているため、ローカルの "
                "PostgreSQL を起動できません（システムの PostgreSQL などが使っていないか確認して"
                "ください）。環境変数 JUKINET_PG_PORT で空いているポートを指定してください。"
            )
        version = self._made_by()
        bin_dir = server_bin_dir(version)
        self._check_socket_path()
        self._prepare_directory()
        password = self._password()
        if version is None:
            try:
                initdb(bin_dir, self.data, INITDB_OPTIONS)
            except ClusterError as exc:
                raise ClusterError(
                    f"ローカルの PostgreSQL のクラスタを {self.data} に作成できませんでした。"
                    "フォルダーの権限と空き容量を確認してください（PG_VERSION のないこのフォルダーは"
                    f"作りかけで、削除してから起動し直せます）。\n{exc}"
                ) from None
        options = f"-p {self.port} -h {HOST} -k {shlex.quote(str(self.socket_dir))}"
        pg_ctl_start(bin_dir, self.data, self.log, options)
        try:
            self._provision(bin_dir, password)
        except ClusterError:
            pg_ctl_stop(bin_dir, self.data)
            raise

    def stop(self) -> None:
        """`pg_ctl stop -m fast` if it runs: open sessions are ended, the data is kept."""
        if not self.running():
            return
        if not pg_ctl_stop(server_bin_dir(self._made_by()), self.data) or self.running():
            raise ClusterError(
                f"ローカルの PostgreSQL（{self.data}）を停止できませんでした。ログ: {self.log}"
            )

    def _made_by(self) -> str | None:
        """The PostgreSQL major version of the existing cluster (data/PG_VERSION)."""
        try:
            return (self.data / "PG_VERSION").read_text().strip()
        except OSError:
            return None

    def _check_socket_path(self) -> None:
        if len(str(self.socket_dir / f".s.PGSQL.{self.port}").encode()) > SOCKET_PATH_MAX:
            raise ClusterError(
                f"ローカルの PostgreSQL のフォルダー {self.directory} のパスが長すぎます"
                "（UNIX ソケットのパスは 107 バイトまで）。環境変数 JUKINET_PG_DIR で短いパスの"
                "フォルダーを指定してください。"
            )

    def _prepare_directory(self) -> None:
        root = os.geteuid() == 0
        if not self.directory.exists():
            self.directory.mkdir(parents=True)
            self.directory.chmod(0o711 if root else 0o700)  # as root, `postgres` passes through
        for folder in (self.data, self.socket_dir):
            if not folder.exists():
                folder.mkdir(mode=0o700)
                give_to_server_user(folder)
        if not self.log.exists():
            self.log.touch(mode=0o600)
            give_to_server_user(self.log)
        if root:
            reach = [*as_server_user(), "test", "-w", str(self.socket_dir)]
            if subprocess.run(reach, env=server_env(), check=False).returncode != 0:
                raise ClusterError(
                    f"{SERVER_USER} ユーザー（PostgreSQL を動かすユーザー）が {self.socket_dir} に"
                    "書き込めません。上位のフォルダーに他のユーザーの実行権限（chmod o+x）を付けるか、"
                    f"環境変数 JUKINET_PG_DIR で {SERVER_USER} ユーザーが入れるフォルダーを指定して"
                    "ください。"
                )

    def _password(self) -> str:
        """The role's password from `pgpass`, made (0600) if the file does not exist."""
        if self.passfile.exists():
            if self.passfile.stat().st_mode & 0o077:
                self.passfile.chmod(0o600)  # libpq ignores a passfile others can read
            fields = self.passfile.read_text(encoding="utf-8").strip().split(":")
            if len(fields) != 5 or fields[3] != ROLE or not fields[4]:
                raise ClusterError(
                    f"{self.passfile} を読めません。ローカルの PostgreSQL を停止した状態で"
                    "このファイルを削除すると、次の起動で新しいパスワードを作ります。"
                )
            return fields[4]
        password = secrets.token_urlsafe(32)  # no colon or backslash, which pgpass would escape
        descriptor = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(f"{HOST}:*:*:{ROLE}:{password}\n")
        return password

    def _provision(self, bin_dir: Path, password: str) -> None:
        """The role (its password set to the one in `pgpass`), both databases and pg_trgm."""
        script = [
            f"SELECT 'CREATE ROLE {ROLE}' WHERE NOT EXISTS "
            f"(SELECT FROM pg_roles WHERE rolname = '{ROLE}') \\gexec",
            f"ALTER ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
            f"PASSWORD '{scram_verifier(password)}';",
        ]
        for database in (STORE_DATABASE, PREFECT_DATABASE):
            script.append(
                f"SELECT 'CREATE DATABASE {database} OWNER {ROLE}' WHERE NOT EXISTS "
                f"(SELECT FROM pg_database WHERE datname = '{database}') \\gexec"
            )
        script += [f"\\connect {PREFECT_DATABASE}", "CREATE EXTENSION IF NOT EXISTS pg_trgm;"]
        psql = [*as_server_user(), str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        psql += ["-h", str(self.socket_dir), "-p", str(self.port), "-d", "postgres", "-f", "-"]
        run(psql, "ローカルの PostgreSQL のデータベースの作成", stdin="\n".join(script) + "\n")
