"""Engines for the store: SQLite (WAL, immediate transactions) or PostgreSQL, same schema.

`make_engine(url)` is the store ready for use: an empty database is created by the migrations,
one at another revision is refused (SchemaError: run `jukinet migrate`). `connect(url)` is the
same engine without that check, for the migrations themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from jukinet.store.migrate import prepare


def make_engine(url: str) -> Engine:
    engine = connect(url)
    prepare(engine)
    return engine


def connect(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below open transactions
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers from several flow processes: take the write lock up front, never upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
