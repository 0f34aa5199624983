"""One reladiff hashdiff run (HashDiffer, reladiff 0.6) between the CS and registry tables of
the integrity benchmark: wall seconds (connecting included), rows and distinct keys reported as
differing, and this process's peak RSS. Run with the venv of benches/reladiff_env.sh:

    echo '{"cs": {"url": "sqlite:////tmp/cs.sqlite3", "table": "cs"},
           "registry": {"url": "postgresql+psycopg://postgres@127.0.0.1:5432/db", "table": "r"},
           "key": "key", "columns": ["number", "name"], "threads": 2}' \
        | "$(bash benches/reladiff_env.sh)" benches/reladiff_run.py

Prints one JSON line. reladiff 0.6 ships no SQLite driver, so SQLite sides go through the small
sqeleton adapter below (md5 as a Python function, checksums summed exactly, as PostgreSQL does).
reladiff can bisect only on key bounds made of " -0-9A-Z_a-z"; when a table's smallest or
largest key has any other character it stops with an error, unless the optional request field
"max_key" (an exclusive upper bound, e.g. "zzzzzzzzzzzzzzzz") leaves those keys out of the diff.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import sys
import time
from typing import Any, ClassVar

# Only in the venv of benches/reladiff_env.sh, not in the project's: hence the ignores.
import reladiff  # type: ignore[import-not-found]
from reladiff import HashDiffer, TableSegment, connect, connect_to_table
from reladiff.databases.base import ReladiffDialect  # type: ignore[import-not-found]
from reladiff.utils import Vector  # type: ignore[import-not-found]
from sqeleton.abcs.database_types import Text  # type: ignore[import-not-found]
from sqeleton.databases.base import (  # type: ignore[import-not-found]
    CHECKSUM_HEXDIGITS,
    BaseDialect,
    ConnectError,
    ThreadedDatabase,
)
from sqeleton.utils import ArithAlphanumeric  # type: ignore[import-not-found]


def _md5_as_int(text: str) -> int:
    # What PostgreSQL's ('x' || substring(md5(s), 18))::bit(60)::bigint gives.
    return int(hashlib.md5(text.encode()).hexdigest()[-CHECKSUM_HEXDIGITS:], 16)


class _ExactSum:
    """sum() without SQLite's 64-bit overflow; the total comes back as text."""

    def __init__(self) -> None:
        self.total: int | None = None

    def step(self, value: int | None) -> None:
        if value is not None:
            self.total = (self.total or 0) + value

    def finalize(self) -> str | None:
        return None if self.total is None else str(self.total)


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = None) -> _Cursor:  # sqeleton passes None
        return super().execute(sql, parameters or ())


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


class SQLiteDialect(BaseDialect, ReladiffDialect):
    name = "SQLite"
    ROUNDS_ON_PREC_LOSS = False
    ARG_SYMBOL = "?"
    TYPE_CLASSES: ClassVar[dict[str, type]] = {"text": Text, "varchar": Text}  # all TEXT here

    def quote(self, s: str) -> str:
        return f'"{s}"'

    def to_string(self, s: str) -> str:
        return f"CAST({s} AS TEXT)"

    def concat(self, items: list[str]) -> str:
        return f"({' || '.join(items)})"

    def md5_as_int(self, s: str) -> str:
        return f"md5_as_int({s})"

    def normalize_timestamp(self, value: str, coltype: Any) -> str:
        return self.to_string(value)

    def normalize_number(self, value: str, coltype: Any) -> str:
        return self.to_string(value)

    def set_timezone_to_utc(self) -> str:
        raise NotImplementedError

    def current_timestamp(self) -> str:
        return "CURRENT_TIMESTAMP"


class SQLite(ThreadedDatabase):
    """A read-only SQLite file, one connection per worker thread."""

    dialect = SQLiteDialect()
    CONNECT_URI_HELP = "sqlite:///<path>"
    CONNECT_URI_PARAMS: ClassVar[list[str]] = []

    def __init__(self, *, path: str, thread_count: int) -> None:
        self._path = path
        super().__init__(thread_count=thread_count)

    def create_connection(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, factory=_Connection)
        except sqlite3.Error as e:
            raise ConnectError(*e.args) from e
        conn.create_function("md5_as_int", 1, _md5_as_int, deterministic=True)
        conn.create_aggregate("sum", 1, _ExactSum)  # type: ignore[arg-type]
        return conn

    def select_table_schema(self, path: tuple[str, ...]) -> str:
        return f"SELECT name, lower(type), NULL, NULL, NULL FROM pragma_table_info('{path[-1]}')"


def _table(side: dict[str, str], key: str, columns: list[str], threads: int) -> TableSegment:
    """The side's table on a new connection; URLs are SQLAlchemy style."""
    url = side["url"]
    if url.startswith("sqlite:///"):
        db: Any = SQLite(path=url.removeprefix("sqlite:///"), thread_count=threads)
    else:
        db = connect(re.sub(r"^postgresql\+\w+://", "postgresql://", url), thread_count=threads)
    return connect_to_table(db, side["table"], key, extra_columns=tuple(columns))


def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return round(kb / 1024, 1)


def main() -> int:
    req = json.load(sys.stdin)
    key, columns, threads = req["key"], req["columns"], int(req.get("threads", 1))
    out: dict[str, Any] = {"algorithm": "hashdiff", "version": reladiff.__version__}
    plus = minus = 0
    keys: set[str] = set()
    start = time.perf_counter()
    try:
        cs, registry = (_table(req[s], key, columns, threads) for s in ("cs", "registry"))
        if req.get("max_key"):
            bound = Vector([ArithAlphanumeric(req["max_key"])])
            cs, registry = cs.new(max_key=bound), registry.new(max_key=bound)
            out["max_key"] = req["max_key"]
        # As reladiff's CLI: `threads` connections per database, twice that many diff threads.
        differ = HashDiffer(threaded=True, max_threadpool_size=2 * threads)
        with differ.diff_tables(cs, registry) as diff:
            for sign, row in diff:
                plus += sign == "+"
                minus += sign == "-"
                keys.add(row[0])
    except Exception as e:  # reported, not raised: the caller reads one JSON line
        out["error"] = f"{type(e).__name__}: {e}"
    out["seconds"] = round(time.perf_counter() - start, 3)
    out |= {"rows_plus": plus, "rows_minus": minus, "keys": sorted(keys), "peak_mb": _peak_mb()}
    print(json.dumps(out, ensure_ascii=False))
    return 1 if "error" in out else 0


if __name__ == "__main__":
    sys.exit(main())
