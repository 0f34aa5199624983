"""The store's schema, made and upgraded only by the Alembic migrations in `migrations/`.

    upgrade(engine)      # a new store: every migration; a 0.1.0 store: stamped baseline, then up
    check(engine)        # SchemaError (Japanese) unless the store is at this program's revision
    state(engine)        # SchemaState: the revision found, the head, whether it is empty

`make_engine` creates a new, empty store itself (nothing to lose) but never upgrades one that holds
records: that is `jukinet migrate`, after a backup (docs/backup.md). Several processes may open
the store at once: on PostgreSQL the migration holds an advisory lock, on SQLite the write lock
(BEGIN IMMEDIATE), and the revision is read again under the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_baseline"  # the schema release 0.1.0 created without Alembic
LEGACY_MARKER = "incidents"  # a table every 0.1.0 store has
LOCK_ID = 254436_0001  # pg_advisory_xact_lock key of the store's migrations


class SchemaError(Exception):
    """The store's schema does not match this program; the message says what to do (Japanese)."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: no Alembic revision recorded
    head: str
    legacy: bool  # tables of release 0.1.0 without a revision

    @property
    def empty(self) -> bool:
        return self.current is None and not self.legacy

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    revision = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert revision is not None
    return revision


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}


def _state(connection: Connection) -> SchemaState:
    current = MigrationContext.configure(connection).get_current_revision()
    legacy = current is None and inspect(connection).has_table(LEGACY_MARKER)
    return SchemaState(current=current, head=head(), legacy=legacy)


def state(engine: Engine) -> SchemaState:
    with engine.connect() as connection:
        return _state(connection)


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})


def upgrade(engine: Engine, revision: str = "head") -> tuple[SchemaState, SchemaState]:
    """Bring the store to `revision`; returns the state before and after. Idempotent."""
    with engine.begin() as connection:
        _lock(connection)
        before = _state(connection)
        _refuse_unknown(before)
        config = _config(connection)
        if before.legacy:
            command.stamp(config, BASELINE)
        command.upgrade(config, revision)
        after = _state(connection)
    return before, after


def downgrade(engine: Engine, revision: str) -> None:
    """Back to an older revision (a failed release rolled back); records of dropped columns go."""
    with engine.begin() as connection:
        _lock(connection)
        command.downgrade(_config(connection), revision)


def prepare(engine: Engine) -> None:
    """What opening the store does: create an empty store; refuse one at another revision."""
    found = state(engine)
    if found.up_to_date:
        return
    if found.empty:
        upgrade(engine)
        return
    check(engine)


def check(engine: Engine) -> None:
    found = state(engine)
    _refuse_unknown(found)
    if found.up_to_date:
        return
    version = found.current or f"{BASELINE}（リリース 0.1.0、版の記録なし）"
    raise SchemaError(
        f"記録の保管庫（ストア）のスキーマが古い版 {version} のままです（このプログラムは "
        f"{found.head}）。バックアップを取ってから `jukinet migrate` を実行してください。"
    )


def _refuse_unknown(found: SchemaState) -> None:
    if found.current is not None and found.current not in known_revisions():
        raise SchemaError(
            f"記録の保管庫（ストア）のスキーマ版 {found.current} をこのプログラムは知りません。"
            "より新しい版のプログラムで更新された保管庫です。同じ版のプログラムを使ってください。"
        )
