"""Backup and restore of the store and of Prefect's database (PostgreSQL), the audit chains checked.

    report = backup(store_url, prefect_url, Path("/var/backups/jukinet"))  # jukinet-backup-<UTC>/
    result = restore(report.folder, store_url, prefect_url)                # pg_restore, then verify
    [town.message for town in result.towns]                                # one line per municipality

A backup folder holds `store.dump` and `prefect.dump` (pg_dump -Fc) and `manifest.json`: the time
(UTC), each file's SHA-256 and size, the pg_dump and server versions, and each municipality's audit
chain head, read in the very snapshot that pg_dump copies. Folder 0700, files 0600; the folder gets
its name only once complete. Passwords reach pg_dump/pg_restore in PGPASSWORD, never in argv; tool
output is shown without row contents (DETAIL, CONTEXT, COPY data), so no 本人確認情報 leaks into it.
Every error the user sees is a `BackupError` with a Japanese sentence.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from psycopg import IsolationLevel, pq
from psycopg.conninfo import make_conninfo
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from jukinet.store import chain
from jukinet.store.models import AuditRecord, ChainHead
from jukinet.store.store import Store
from jukinet.wareki import to_wareki_datetime

FORMAT = "jukinet.backup.v1"
MANIFEST = "manifest.json"
STORE_DUMP = "store.dump"
PREFECT_DUMP = "prefect.dump"
STORE_SETTING = "JUKINET_STORE_URL"
STORE_LABEL = "ストア"
PREFECT_LABEL = "Prefect "  # "Prefect のデータベース", "Prefect の復元"
PREFECT_SETTING = "PREFECT_SERVER_DATABASE_CONNECTION_URL"
FOLDER_PREFIX = "jukinet-backup-"
CONNECT_TIMEOUT_SECONDS = "10"
LOCK_WAIT_TIMEOUT = "120s"  # pg_dump gives up rather than wait forever behind a migration's lock
SHOWN_TOOL_LINES = 5
SCRUB_ANYWHERE_LENGTH = 8
EXTENSION_ENTRY = re.compile(r"^\d+; \d+ \d+ (?:EXTENSION - |COMMENT - EXTENSION )(\S+)")
LIBPQ_KEYWORDS = frozenset(o.keyword.decode() for o in pq.Conninfo.get_defaults())


class BackupError(Exception):
    """A Japanese sentence for the user: what failed, which file or setting, and what to do."""


class Head(NamedTuple):
    """A municipality's audit chain head: the last record's number and hash."""

    seq: int
    last_hash: str


EMPTY_HEAD = Head(0, chain.GENESIS)


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    created_at: datetime
    files: dict[str, FileEntry]
    heads: dict[str, Head]  # municipality code → head at dump time


@dataclass(frozen=True)
class TownCheck:
    """One municipality of a restored store: its chain verified, its head against the manifest."""

    code: str
    records: int
    head: Head
    expected: Head
    first_broken_seq: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str:
        if self.ok:
            return (
                f"団体 {self.code}: 監査記録の連鎖は正常で、末尾はバックアップ時と一致します"
                f"（{self.records} 件、末尾 通番 {self.head.seq}）"
            )
        return f"団体 {self.code}: {self.problem}"


@dataclass(frozen=True)
class RestoreReport:
    folder: Path
    restored: list[str]  # the dump files restored, in order
    towns: list[TownCheck]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return all(town.ok for town in self.towns)


# --- connection parameters -------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One PostgreSQL database as libpq parameters; the password kept apart from them.

    >>> Target.from_url("postgresql+psycopg://u:pw@db:5432/jukinet", "ストア", STORE_SETTING).conninfo
    "host=db port=5432 user=u dbname=jukinet connect_timeout=10"
    """

    label: str  # ストア, Prefect のデータベース
    setting: str  # where the URL comes from, for messages
    params: dict[str, str]
    password: str | None

    @classmethod
    def from_url(cls, url: str, label: str, setting: str) -> Target:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise BackupError(
                f"{setting} の値を URL として読めません。"
                "postgresql+psycopg://ユーザー@ホスト:ポート/データベース の形で設定してください。"
            ) from None
        if parsed.get_backend_name() != "postgresql":
            raise BackupError(
                f"{label}（{setting}）が PostgreSQL ではありません（{parsed.get_backend_name()}）。"
                "バックアップと復元は PostgreSQL のデータベースだけを扱います。"
            )
        if not parsed.database:
            raise BackupError(
                f"{setting} にデータベース名がありません。URL の末尾に /データベース名 を付けてください。"
            )
        params = {"host": parsed.host, "port": parsed.port, "user": parsed.username}
        password = parsed.password
        for key, value in parsed.query.items():
            text = ",".join(value) if isinstance(value, tuple) else value
            if key == "password":
                password = text
            elif key == "ssl" and key not in LIBPQ_KEYWORDS:  # asyncpg's spelling of sslmode
                params["sslmode"] = "require" if text.lower() in ("true", "1") else text
            elif key in LIBPQ_KEYWORDS:
                params[key] = text
        params["dbname"] = parsed.database
        params.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        kept = {k: str(v) for k, v in params.items() if v not in (None, "")}
        return cls(label, setting, kept, None if password is None else str(password))

    @property
    def conninfo(self) -> str:
        """libpq connection string without the password (safe on a command line)."""
        return make_conninfo("", **self.params)

    @property
    def database(self) -> str:
        return self.params["dbname"]

    def describe(self) -> str:
        """user@host:port/dbname, for messages; never the password."""
        user = f"{self.params['user']}@" if "user" in self.params else ""
        port = f":{self.params['port']}" if "port" in self.params else ""
        return f"{user}{self.params.get('host', '')}{port}/{self.database}"

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def scrub(self, text: str) -> str:
        """`text` with the password masked (a short one only where it stands alone)."""
        if not self.password:
            return text
        if len(self.password) >= SCRUB_ANYWHERE_LENGTH:
            return text.replace(self.password, "****")
        alone = rf"(?<![0-9A-Za-z]){re.escape(self.password)}(?![0-9A-Za-z])"
        return re.sub(alone, "****", text)

    def connect(self) -> psycopg.Connection[Any]:
        conninfo = self.conninfo  # the password only in this process, never in a child's argv
        if self.password is not None:
            conninfo = make_conninfo(conninfo, password=self.password)
        try:
            return psycopg.connect(conninfo)
        except psycopg.Error as exc:
            detail = self.scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            if "does not exist" in detail and f'"{self.database}"' in detail:
                fix = (
                    f"データベース「{self.database}」を作成してから（例: createdb {self.database}）"
                    "実行してください"
                )
            else:
                fix = f"{self.setting} のホスト・ポート・ユーザー・パスワードと、サーバーが動いているかを確かめてください"
            raise BackupError(
                f"{self.label}のデータベース（{self.describe()}）に接続できません: {detail}。{fix}。"
            ) from None


def prefect_database_url(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Prefect's PostgreSQL URL from the environment, or None and a note saying why it is skipped."""
    url = environ.get(PREFECT_SETTING, "").strip()
    if not url:
        return None, (
            f"Prefect のデータベースは対象外です（環境変数 {PREFECT_SETTING} が未設定です）。"
            "ストアだけを扱います。"
        )
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        backend = "不明"
    if backend != "postgresql":
        return None, (
            f"Prefect のデータベースは対象外です（{PREFECT_SETTING} が PostgreSQL ではありません: "
            f"{backend}）。SQLite の Prefect のデータベースは、Prefect サーバーを停止してから"
            "ファイルをコピーしてください。"
        )
    return url, None


def is_sqlite(url: str) -> bool:
    try:
        return make_url(url).get_backend_name() == "sqlite"
    except ArgumentError:
        return False


def sqlite_advice(store_url: str) -> str:
    """What to say when the store is a SQLite file: this tool is for PostgreSQL; how to copy it."""
    path = make_url(store_url).database or "store.sqlite3"
    return (
        f"ストア（{STORE_SETTING}）は SQLite のファイル {path} です。"
        "jukinet backup と jukinet restore は PostgreSQL のデータベースだけを扱います。\n"
        "SQLite のストアは次のどちらかでコピーしてください。\n"
        f"  1. 製品を停止し（make up を Ctrl-C）、{path} と、同じフォルダに {Path(path).name}-wal・"
        f"{Path(path).name}-shm があればそれらも一緒にコピーする。\n"
        f"  2. 動かしたままなら sqlite3 コマンドの .backup を使う: "
        f"sqlite3 {path} \".backup '/安全な場所/store.sqlite3'\"\n"
        "戻すときは、製品を停止してからファイルを元の場所に置き、jukinet verify-audit で確かめてください。"
    )


# --- pg_dump / pg_restore ----------------------------------------------------------------------


def tool(name: str) -> str:
    """pg_dump or pg_restore from the newest /usr/lib/postgresql/<version>/bin, else from PATH."""
    found = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if found:
        return max(found, key=lambda p: _numbers(Path(p).parent.parent.name))
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError(
            f"{name} が見つかりません。PostgreSQL のクライアント（Debian: apt-get install "
            "postgresql-client）を、サーバーと同じか新しいバージョンで入れてください。"
        )
    return on_path


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text))


def tool_version(path: str) -> str:
    """`pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`"""
    done = subprocess.run(
        [path, "--version"], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    return done.stdout.strip()


def _major(version: str) -> int:
    match = re.search(r"\)\s*(\d+)", version) or re.search(r"(\d+)", version)
    return int(match.group(1)) if match else 0


def _server_version(conn: psycopg.Connection[Any]) -> str:
    number = conn.info.server_version  # 150018
    return f"{number // 10000}.{number % 10000}"


def _tool_errors(stderr: str, target: Target) -> str:
    """The tool's own error lines, without DETAIL/CONTEXT/SQL lines, which may quote row data."""
    lines = [line.strip() for line in stderr.splitlines()]
    ours = [line for line in lines if line.startswith(("pg_dump:", "pg_restore:"))]
    errors = [line for line in ours if "error:" in line] or ours
    shown = []
    for line in errors[:SHOWN_TOOL_LINES]:
        copy = re.search(r'COPY failed for table "[^"]*"', line)
        shown.append(f"{copy.group(0)}（行の内容は表示しません）" if copy else line)
    return target.scrub(" / ".join(shown))


def _run(argv: list[str], target: Target, what: str, stdout: int | None = None) -> None:
    done = subprocess.run(
        argv,
        stdout=subprocess.DEVNULL if stdout is None else stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=target.child_env(),
        text=True,
        check=False,
    )
    if done.returncode != 0:
        detail = _tool_errors(done.stderr, target) or f"終了コード {done.returncode}"
        raise BackupError(f"{target.label}の{what}に失敗しました（{target.describe()}）: {detail}")


def _check_versions(conn: psycopg.Connection[Any], target: Target, dump_version: str) -> str:
    server = _server_version(conn)
    if _major(dump_version) < _numbers(server)[0]:
        raise BackupError(
            f"{target.label}のサーバー（PostgreSQL {server}）が pg_dump（{dump_version}）より新しいため、"
            f"バックアップできません。PostgreSQL {_numbers(server)[0]} 以上のクライアント"
            f"（Debian: postgresql-client-{_numbers(server)[0]}）を入れてください。"
        )
    return server


def _chain_heads(conn: psycopg.Connection[Any], target: Target) -> dict[str, Head]:
    if conn.execute("SELECT to_regclass('audit_chain_heads')").fetchone() in (None, (None,)):
        raise BackupError(
            f"{target.label}のデータベース（{target.describe()}）に監査記録の表（audit_chain_heads）"
            f"がありません。{target.setting} がストアのデータベースを指しているか確かめてください。"
        )
    rows = conn.execute(
        "SELECT municipality_code, seq, last_hash FROM audit_chain_heads ORDER BY municipality_code"
    ).fetchall()
    return {str(code): Head(int(seq), str(last)) for code, seq, last in rows}


def _create_private(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def _file_entry(path: Path) -> FileEntry:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return FileEntry(path.stat().st_size, digest.hexdigest())


def _dump(pg_dump: str, target: Target, path: Path, snapshot: str | None = None) -> FileEntry:
    argv = [pg_dump, "--format=custom", "--no-password", f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}"]
    if snapshot is not None:
        argv.append(f"--snapshot={snapshot}")
    fd = _create_private(path)
    try:
        _run([*argv, f"--dbname={target.conninfo}"], target, "バックアップ（pg_dump）", stdout=fd)
        os.fsync(fd)
    finally:
        os.close(fd)
    return _file_entry(path)


# --- backup ------------------------------------------------------------------------------------


def backup(
    store_url: str, prefect_url: str | None, dest_dir: Path, *, now: datetime | None = None
) -> BackupReport:
    """Dump the store (and Prefect's database) into a new folder under `dest_dir`.

    The store's chain heads are read in a REPEATABLE READ transaction whose snapshot pg_dump
    imports (--snapshot), so the manifest's heads are exactly those of the dumped rows.
    """
    store = Target.from_url(store_url, STORE_LABEL, STORE_SETTING)
    prefect = (
        None
        if prefect_url is None
        else Target.from_url(prefect_url, PREFECT_LABEL, PREFECT_SETTING)
    )
    pg_dump = tool("pg_dump")
    dump_version = tool_version(pg_dump)
    created = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    name = f"{FOLDER_PREFIX}{created:%Y%m%dT%H%M%SZ}"
    dest = Path(dest_dir)
    try:
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"バックアップの保存先 {dest} を作成できません（{exc.strerror}）。書き込めるフォルダを --to に指定してください。"
        ) from None
    folder = dest / name
    if folder.exists():
        raise BackupError(
            f"バックアップのフォルダ {folder} が既にあります。1 秒おいてやり直してください。"
        )
    work = dest / f".{name}.partial"
    try:
        work.mkdir(mode=0o700)
        os.chmod(work, 0o700)
    except OSError as exc:
        raise BackupError(
            f"バックアップの保存先 {dest} に書き込めません（{exc.strerror}）。書き込めるフォルダを --to に指定してください。"
        ) from None
    try:
        files: dict[str, FileEntry] = {}
        databases: dict[str, dict[str, str]] = {}
        with store.connect() as conn:
            databases[STORE_DUMP] = _source(
                "store", store, _check_versions(conn, store, dump_version)
            )
            conn.isolation_level = IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            heads = _chain_heads(conn, store)
            files[STORE_DUMP] = _dump(pg_dump, store, work / STORE_DUMP, snapshot=str(row[0]))
            conn.rollback()
        if prefect is not None:
            with prefect.connect() as conn:
                databases[PREFECT_DUMP] = _source(
                    "prefect", prefect, _check_versions(conn, prefect, dump_version)
                )
            files[PREFECT_DUMP] = _dump(pg_dump, prefect, work / PREFECT_DUMP)
        manifest = {
            "format": FORMAT,
            "created_at": created.isoformat(),
            "pg_dump": dump_version,
            "files": {
                file: {"size": e.size, "sha256": e.sha256, **databases[file]}
                for file, e in files.items()
            },
            "audit_chains": {c: {"seq": h.seq, "last_hash": h.last_hash} for c, h in heads.items()},
        }
        _write_private(work / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        work.rename(folder)
        _fsync_dir(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupReport(folder, created, files, heads)


def _source(name: str, target: Target, server_version: str) -> dict[str, str]:
    return {
        "database": name,
        "source": target.describe(),
        "server_version": server_version,
    }


def _write_private(path: Path, text: str) -> None:
    fd = _create_private(path)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- restore -----------------------------------------------------------------------------------


def check_backup(folder: Path) -> dict[str, Any]:
    """The manifest of a complete, undamaged backup folder; BackupError naming what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BackupError(
            f"バックアップのフォルダ {folder} がありません。jukinet backup が作成したフォルダ"
            f"（{FOLDER_PREFIX}…）を指定してください。"
        )
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(
            f"バックアップのフォルダ {folder} に {MANIFEST} がありません。jukinet backup が作成した"
            f"フォルダ（{FOLDER_PREFIX}…）を指定してください（作成の途中で止まったものは使えません）。"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(
            f"{path} を読めません（{type(exc).__name__}）。ファイルが壊れています。別のバックアップを使ってください。"
        ) from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if (
        not isinstance(files, dict)
        or manifest.get("format") != FORMAT
        or STORE_DUMP not in files
        or not set(files) <= {STORE_DUMP, PREFECT_DUMP}
        or not all(isinstance(entry, dict) for entry in files.values())
    ):
        raise BackupError(
            f"{path} は jukinet のバックアップの目録（{FORMAT}、{STORE_DUMP} を含むもの）ではありません。"
        )
    for name, entry in files.items():
        dump = folder / name
        if not dump.is_file():
            raise BackupError(
                f"バックアップのファイル {dump} がありません。別のバックアップを使ってください。"
            )
        found = _file_entry(dump)
        if (found.size, found.sha256) != (entry.get("size"), entry.get("sha256")):
            raise BackupError(
                f"バックアップのファイル {dump} が壊れています（大きさまたは SHA-256 が {MANIFEST} の値と"
                "一致しません）。このバックアップからは復元しません。別のバックアップを使ってください。"
            )
    return dict(manifest)


def manifest_heads(manifest: Mapping[str, Any]) -> dict[str, Head]:
    chains = manifest.get("audit_chains") or {}
    return {str(c): Head(int(h["seq"]), str(h["last_hash"])) for c, h in chains.items()}


def describe_restore(manifest: Mapping[str, Any], store_url: str, prefect_url: str | None) -> str:
    """What `restore` would overwrite with what: the message shown before `--yes` is given."""
    created = datetime.fromisoformat(str(manifest["created_at"]))
    targets = [f"ストア（{Target.from_url(store_url, STORE_LABEL, STORE_SETTING).describe()}）"]
    if prefect_url is not None and PREFECT_DUMP in manifest["files"]:
        prefect = Target.from_url(prefect_url, PREFECT_LABEL, PREFECT_SETTING)
        targets.append(f"Prefect のデータベース（{prefect.describe()}）")
    towns = "、".join(
        f"{code}（通番 {h.seq} まで）" for code, h in manifest_heads(manifest).items()
    )
    return (
        f"復元すると、次のデータベースの内容を {to_wareki_datetime(created)}（日本時間）の"
        f"バックアップの内容で置き換えます: {'、'.join(targets)}。\n"
        f"バックアップの監査記録: {towns or 'なし'}。\n"
        "製品（Prefect サーバー・ワーカー）を停止してから、--yes を付けてもう一度実行してください。"
    )


def restore(backup_folder: Path, store_url: str, prefect_url: str | None) -> RestoreReport:
    """Check the folder, pg_restore each dump into its (existing) database, verify every chain.

    Each database is restored in one transaction (--single-transaction): a failed restore leaves
    that database as it was. Both targets are connected to before either is changed.
    """
    folder = Path(backup_folder)
    manifest = check_backup(folder)
    store = Target.from_url(store_url, STORE_LABEL, STORE_SETTING)
    prefect = (
        None
        if prefect_url is None
        else Target.from_url(prefect_url, PREFECT_LABEL, PREFECT_SETTING)
    )
    pg_restore = tool("pg_restore")
    plan = [(STORE_DUMP, store)]
    notes = []
    if PREFECT_DUMP in manifest["files"]:
        if prefect is None:
            notes.append("Prefect のデータベースは復元していません（復元先が指定されていません）。")
        else:
            plan.append((PREFECT_DUMP, prefect))
    elif prefect is not None:
        notes.append(
            "このバックアップには Prefect のデータベースが含まれていません（ストアだけを復元しました）。"
        )
    for _file, target in plan:
        target.connect().close()
    for done, (file, target) in enumerate(plan):
        try:
            _restore(pg_restore, folder / file, target)
        except BackupError as exc:
            then = (
                "ストアは復元済みです。原因を取り除いてから、同じバックアップでもう一度復元してください。"
                if done
                else "原因を取り除いてから、もう一度実行してください。"
            )
            raise BackupError(
                f"{exc}。{target.label}のデータベースは元のままです。{then}"
            ) from None
    return RestoreReport(
        folder, [file for file, _ in plan], verify_restored(store_url, manifest), notes
    )


def _restore(pg_restore: str, dump: Path, target: Target) -> None:
    """pg_restore in one transaction. An extension the target already has (pg_trgm, made by a
    superuser) is kept as it is: the restoring role could neither drop nor re-comment it."""
    with target.connect() as conn:
        present = {str(row[0]) for row in conn.execute("SELECT extname FROM pg_extension")}
    with tempfile.TemporaryDirectory(prefix="jukinet-restore-") as work:
        listing = Path(work) / "toc.list"
        fd = _create_private(listing)
        try:
            _run([pg_restore, "--list", str(dump)], target, "復元（pg_restore）", stdout=fd)
        finally:
            os.close(fd)
        entries = listing.read_text(encoding="utf-8").splitlines()
        kept = [f";{line}" if _extension(line) in present else line for line in entries]
        listing.write_text("\n".join(kept) + "\n", encoding="utf-8")
        argv = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction"]
        argv += ["--no-password", f"--use-list={listing}", f"--dbname={target.conninfo}"]
        _run([*argv, str(dump)], target, "復元（pg_restore）")


def _extension(entry: str) -> str | None:
    """The extension an entry of `pg_restore --list` creates or comments on, else None."""
    match = EXTENSION_ENTRY.match(entry)
    return match.group(1) if match else None


def verify_restored(store_url: str, manifest: Mapping[str, Any]) -> list[TownCheck]:
    """Every municipality of the store (and of the manifest): chain verified, head as in manifest."""
    target = Target.from_url(store_url, STORE_LABEL, STORE_SETTING)
    expected = manifest_heads(manifest)
    engine = create_engine("postgresql+psycopg://", creator=target.connect, poolclass=NullPool)
    try:
        with Session(engine) as s:
            heads = {
                h.municipality_code: Head(h.seq, h.last_hash) for h in s.scalars(select(ChainHead))
            }
            codes = set(s.scalars(select(AuditRecord.municipality_code).distinct()))
        checks = []
        for code in sorted(codes | set(heads) | set(expected)):
            report = Store(engine, code).verify_chain()
            checks.append(
                _town_check(code, report, heads.get(code), expected.get(code, EMPTY_HEAD))
            )
        return checks
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()[0]
        raise BackupError(
            f"ストアのデータベース（{target.describe()}）の監査記録を読めません: "
            f"{target.scrub(cause)}。{STORE_SETTING} がストアのデータベースを指しているか確かめてください。"
        ) from None
    finally:
        engine.dispose()


def _town_check(
    code: str, report: chain.ChainReport, found: Head | None, expected: Head
) -> TownCheck:
    head = found or EMPTY_HEAD
    broken, problem = report.first_broken_seq, report.problem
    if report.ok and found is None and report.records:
        broken = report.records
        problem = (
            f"連鎖の末尾の表（audit_chain_heads）にこの団体の行がありません"
            f"（記録は通番 {report.records} まで）"
        )
    elif report.ok and head != expected:
        if head.seq < expected.seq:
            broken = head.seq + 1
            problem = (
                f"通番 {broken} 以降の記録がありません（バックアップ時の末尾は通番 {expected.seq}、"
                f"復元後は通番 {head.seq}）"
            )
        elif head.seq > expected.seq:
            broken = expected.seq + 1
            problem = (
                f"通番 {broken} 以降はバックアップ時になかった記録です（バックアップ時の末尾は"
                f"通番 {expected.seq}、復元後は通番 {head.seq}）"
            )
        else:
            broken = head.seq
            problem = f"通番 {broken} のハッシュがバックアップ時の末尾のハッシュと一致しません"
    elif problem is not None:
        problem = f"監査記録の連鎖が壊れています: {problem}"
    return TownCheck(code, report.records, head, expected, broken, problem)
