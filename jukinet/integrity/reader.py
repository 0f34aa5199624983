"""One side of the integrity check, read in a process of its own (`python -m
jukinet.integrity.reader`), so the two sides' reading runs on two cores and the comparing process
only merges. It imports only the database driver (no SQLAlchemy): the parent sends the driver's
connection arguments and the query (rows.py builds it).

The parent writes one JSON request on stdin (so no password appears in the process list):

    {"driver": "sqlite" | "postgresql", "connect": {...}, "sql": ..., "settings": {...}, "side": "cs",
     "where": "CS（表 cs_juki）", "batch": 20000}

and reads pickled frames from stdout until the last one:

    ("rows", [row, ...])           rows.py's tuples, in key order (byte order), each key's rows
                                   together, the invalid and duplicated ones marked
    ("end", {"rows": n, "peak_mb": m})
    ("error", message)             in Japanese, naming the side and the table, never a value

Invalid rows and a duplicated key's rows carry a mark of their side (rows.py), so they never
compare equal to the other side's and the merge looks at them one by one.
"""

from __future__ import annotations

import json
import pickle
import resource
import sys
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import IO, Any

from jukinet.integrity.rows import DUPLICATE, Row, Validity, marked  # the standard library only


def batches(request: dict[str, Any]) -> Iterator[list[Row]]:
    """The side's rows in key order, in batches; a key's rows never split across two batches."""
    read = _postgresql if request["driver"] == "postgresql" else _sqlite
    yield from _grouped(read(request), request["side"])


def _postgresql(request: dict[str, Any]) -> Iterator[list[Row]]:
    import psycopg

    size, validity = request["batch"], Validity(request["side"])
    with psycopg.connect(**request["connect"]) as connection:
        connection.read_only = True
        with connection.transaction():
            for name, value in request.get("settings", {}).items():  # this transaction only
                connection.execute("SELECT set_config(%s, %s, true)", (name, str(value)))
            with connection.cursor(name="integrity", binary=True) as cursor:
                cursor.itersize = size  # a server-side cursor: rows come as they are fetched
                cursor.execute(request["sql"])
                while fetched := cursor.fetchmany(size):
                    yield validity.apply(fetched)


def _sqlite(request: dict[str, Any]) -> Iterator[list[Row]]:
    import sqlite3

    size, validity = request["batch"], Validity(request["side"])
    connection = sqlite3.connect(f"file:{request['connect']['database']}?mode=ro", uri=True)
    try:
        (encoding,) = connection.execute("PRAGMA encoding").fetchone()
        if encoding != "UTF-8":  # rest is the text's bytes: the same as PostgreSQL's only in UTF-8
            raise NotUtf8(encoding)
        cursor = connection.execute(request["sql"])
        while fetched := cursor.fetchmany(size):
            yield validity.apply(fetched)
    finally:
        connection.close()


class OutOfOrder(Exception):
    pass


class NotUtf8(Exception):
    pass


def _grouped(fetched: Iterator[Sequence[Row]], side: str) -> Iterator[list[Row]]:
    """Batches checked for order, duplicated keys marked, the last key's rows held back until
    the next batch shows whether it has more."""
    carry: list[Row] = []
    last = ""
    for fetch in fetched:
        rows = carry + list(fetch) if carry else list(fetch)
        keys = [r[0] for r in rows]
        if keys[0] < last or keys != sorted(keys):
            raise OutOfOrder
        if len(set(keys)) != len(keys):
            rows = _mark_duplicates(rows, keys, side)
        tail = len(keys) - 1
        while tail > 0 and keys[tail - 1] == keys[-1]:
            tail -= 1
        carry = rows[tail:]
        last = keys[-1]
        if tail:
            yield rows[:tail]
    if carry:
        yield carry


def _mark_duplicates(rows: list[Row], keys: list[str], side: str) -> list[Row]:
    for key, count in Counter(keys).items():
        if count > 1:
            for i in range(bisect_left(keys, key), bisect_right(keys, key)):
                rows[i] = marked(rows[i], DUPLICATE + side)
    return rows


def _send(out: IO[bytes], frame: tuple[str, Any]) -> None:
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: a frame holds no object twice, and writing it is 4× faster
    pickler.dump(frame)
    out.flush()


def _peak_mb() -> float:
    """This process's peak resident memory since its exec (ru_maxrss would include the parent's
    at the fork)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    request = json.load(sys.stdin)
    out = sys.stdout.buffer
    rows = 0
    where = request["where"]
    try:
        for batch in batches(request):
            rows += len(batch)
            _send(out, ("rows", batch))
    except NotUtf8 as exc:
        _send(
            out, ("error", f"{where}: 文字コードが UTF-8 のデータベースのみ照合できます（{exc}）")
        )
        return 1
    except OutOfOrder:
        _send(
            out, ("error", f"{where}の行が住民票コードの順に読めませんでした（照合を中止しました）")
        )
        return 1
    except Exception as exc:  # a query with no parameters: the message names no row's value
        detail = str(exc).strip().splitlines()[:1]
        _send(out, ("error", f"{where}を読めませんでした: {type(exc).__name__} {' '.join(detail)}"))
        return 1
    peak = _peak_mb()
    _send(out, ("end", {"rows": rows, "peak_mb": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
