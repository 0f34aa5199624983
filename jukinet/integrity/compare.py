"""Compare the CS copy of residents' identity records with the town's registry (既存住基システム),
by 住民票コード, streaming both tables in key order (memory does not grow with the tables): rows
on each side, keys missing on each side, changed rows with the fields that differ, duplicate
keys, invalid rows (a key not of 11 digits, an impossible date). Differences go to a sink by
key and field name only: no field value leaves this module.

    report = compare(Side(cs_url, "cs_residents", columns), Side(registry_url, "residents", columns), sink)

Each side is read by a process of its own (reader.py), which the database hands each row as a
key and one string (rows.py); this process merges the two streams. Where both sides agree, runs
of rows are compared a slice at a time; only a slice holding a difference is looked at row by row.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy.engine import make_url

from jukinet.integrity.differences import SIDE_TITLES
from jukinet.integrity.rows import FIELDS, KEY, Row, is_valid, line_query, values

__all__ = ["FIELDS", "KEY", "IntegrityError", "Normalisation", "Report", "Side", "compare"]

SIDES = ("cs", "registry")
BATCH = 2_500
SLICE = 64
PIPE_BYTES = 1 << 20
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux
AHEAD = 1  # batches received ahead of the merge, per side
# The sort stays in one process of the database server: it leaves the server's other cores to
# its other work (during an emergency, the registry's users), and measured it was no slower
# (parallel workers took the cores from the other side's reader when both ran on one machine).
POSTGRESQL_SETTINGS = {"max_parallel_workers_per_gather": 0}


class IntegrityError(Exception):
    """The comparison cannot give a right answer (a side cannot be read, or not in key order)."""


@dataclass(frozen=True)
class Side:
    url: str
    table: str
    columns: Mapping[str, str]  # logical name (KEY and FIELDS) → the table's column


@dataclass(frozen=True)
class Normalisation:
    """Differences that are not differences; all off by default."""

    width: bool = False  # full-/half-width (NFKC)
    trailing_spaces: bool = False

    def apply(self, value: str | None) -> str | None:
        if not self.active:
            return value
        value = value or ""
        if self.width:
            value = unicodedata.normalize("NFKC", value)
        if self.trailing_spaces:
            value = value.rstrip(" \u3000")
        return value

    @property
    def active(self) -> bool:
        return self.width or self.trailing_spaces


class Sink(Protocol):
    def __call__(self, kind: str, side: str | None, key: str, fields: tuple[str, ...]) -> None: ...


@dataclass
class Report:
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    missing: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    duplicates: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    invalid: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    changed: int = 0
    changed_fields: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    reader_peak_mb: dict[str, float] = field(default_factory=dict)

    @property
    def differences(self) -> int:
        return (
            self.changed
            + sum(self.missing.values())
            + sum(self.duplicates.values())
            + sum(self.invalid.values())
        )

    @property
    def compared(self) -> int:
        return max(self.rows.values())


def reader_request(side: Side, name: str) -> dict[str, Any]:
    """What the reader process needs: the driver's connection arguments and the query."""
    where = f"{SIDE_TITLES[name]}（表 {side.table}）"
    url = make_url(side.url)
    dialect = url.get_dialect()()
    driver = dialect.name
    if driver == "sqlite":
        if not url.database or url.database == ":memory:":
            raise IntegrityError(f"{where}: SQLite はファイルのデータベースを指定してください")
        connect: dict[str, Any] = {"database": str(Path(url.database).resolve())}
    elif driver == "postgresql":
        connect = {**url.translate_connect_args(username="user", database="dbname"), **url.query}
    else:
        raise IntegrityError(f"{where}: 照合できるのは SQLite と PostgreSQL です（{driver}）")
    return {
        "driver": driver,
        "connect": connect,
        "sql": line_query(dialect, side.table, side.columns),
        "settings": POSTGRESQL_SETTINGS if driver == "postgresql" else {},
        "side": name,
        "where": where,
        "batch": BATCH,
    }


class _Stream:
    """One side's rows in key order, from its reader process, buffered a batch or two ahead."""

    def __init__(self, name: str, side: Side, report: Report) -> None:
        request = reader_request(side, name)
        self.name = name
        self.report = report
        self.rows: list[Row] = []
        self.at = 0
        self.done = False
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "jukinet.integrity.reader"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=env,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        with contextlib.suppress(OSError):  # a larger pipe: the reader waits less on the merge
            fcntl.fcntl(self._process.stdout.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
        self._process.stdin.write(json.dumps(request).encode())
        self._process.stdin.close()
        self._frames: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=AHEAD)
        self._pump = threading.Thread(
            target=self._receive,
            args=(self._process.stdout,),
            daemon=True,
            name=f"integrity-{name}",
        )
        self._pump.start()

    def _receive(self, out: IO[bytes]) -> None:
        """Frames from the reader into the queue as they come, so the reader never waits for
        the merge while the merge is busy with the other side."""
        with out:
            while True:
                try:
                    frame: tuple[str, Any] = pickle.load(out)
                except EOFError:
                    self._frames.put(("eof", None))
                    return
                except Exception as exc:  # a garbled frame: the merge reports it
                    self._frames.put(("eof", type(exc).__name__))
                    return
                self._frames.put(frame)
                if frame[0] != "rows":
                    return

    def fill(self, need: int) -> int:
        """At least `need` rows ahead unless the side has ended; how many are ahead."""
        while len(self.rows) - self.at < need and not self.done:
            kind, body = self._frame()
            if kind == "rows":
                self.rows = self.rows[self.at :] + body
                self.at = 0
            elif kind == "end":
                self.done = True
                self.report.reader_peak_mb[self.name] = body["peak_mb"]
            else:
                raise IntegrityError(body)
        return len(self.rows) - self.at

    def _frame(self) -> tuple[str, Any]:
        frame = self._frames.get()
        if frame[0] == "eof":
            self._process.wait()
            self._errors.seek(0)
            last = self._errors.read().decode(errors="replace").strip().splitlines()[-1:]
            raise IntegrityError(
                f"{SIDE_TITLES[self.name]}の読み取りが途中で終わりました"
                f"（終了コード {self._process.returncode}）{' '.join(last)}"
            )
        return frame

    def group(self) -> list[Row]:
        """The rows of the next key (a key's rows always arrive in one batch)."""
        self.fill(1)
        rows, start = self.rows, self.at
        end = start + 1
        while end < len(rows) and rows[end][0] == rows[start][0]:
            end += 1
        self.at = end
        return rows[start:end]

    def key(self) -> str | None:
        return self.rows[self.at][0] if self.fill(1) else None

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        while self._pump.is_alive():  # let the pump see the end of the pipe
            with contextlib.suppress(queue.Empty):
                self._frames.get(timeout=0.1)
        self._errors.close()


def compare(
    cs: Side,
    registry: Side,
    sink: Sink,
    normalisation: Normalisation | None = None,
    progress: Callable[[Report], None] | None = None,
    progress_every: int = 500_000,
) -> Report:
    """Merge both sides in key order; every difference goes to `sink(kind, side, key, fields)`
    with kind missing / changed / duplicate / invalid (side: where the row is missing, or whose
    row is duplicated or invalid; None for changed)."""
    norm = normalisation or Normalisation()
    report = Report()
    began = time.perf_counter()
    streams: list[_Stream] = []
    next_progress = progress_every
    try:
        streams.append(left := _Stream("cs", cs, report))
        streams.append(right := _Stream("registry", registry, report))
        while True:
            if min(left.fill(SLICE), right.fill(SLICE)) >= SLICE:
                same = _same_rows(left.rows, left.at, right.rows, right.at)
                left.at += same
                right.at += same
                report.rows["cs"] += same
                report.rows["registry"] += same
                if same == SLICE:
                    continue
            if not _step(left, right, norm, report, sink):
                break
            if progress and report.compared >= next_progress:
                report.seconds = time.perf_counter() - began
                progress(report)
                next_progress += progress_every
    finally:
        for stream in streams:
            stream.close()
    report.seconds = time.perf_counter() - began
    return report


def _same_rows(a: list[Row], i: int, b: list[Row], j: int) -> int:
    """How many of the next SLICE rows the two sides have alike (both have SLICE ahead): one
    comparison of the two slices when they agree, a bisection to the first unlike row when not."""
    if a[i : i + SLICE] == b[j : j + SLICE]:
        return SLICE
    alike, unlike = 0, SLICE
    while unlike - alike > 1:
        middle = (alike + unlike) // 2
        if a[i + alike : i + middle] == b[j + alike : j + middle]:
            alike = middle
        else:
            unlike = middle
    return alike


def _step(left: _Stream, right: _Stream, norm: Normalisation, report: Report, sink: Sink) -> bool:
    """One key of the merge (the smaller of the two sides' next keys); False at the end of both."""
    lk, rk = left.key(), right.key()
    if lk is None and rk is None:
        return False
    if rk is None or (lk is not None and lk < rk):
        _alone(_take(left, report, sink), "cs", "registry", report, sink)
    elif lk is None or rk < lk:
        _alone(_take(right, report, sink), "registry", "cs", report, sink)
    else:
        _pair(_take(left, report, sink), _take(right, report, sink), norm, report, sink)
    return True


def _take(stream: _Stream, report: Report, sink: Sink) -> Row:
    rows = stream.group()
    report.rows[stream.name] += len(rows)
    if len(rows) > 1:
        report.duplicates[stream.name] += 1
        sink("duplicate", stream.name, rows[0][0], ())
    return rows[0]


def _alone(row: Row, side: str, missing_on: str, report: Report, sink: Sink) -> None:
    """A key only `side` has: invalid there, or missing on the other side."""
    if is_valid(row):
        report.missing[missing_on] += 1
        sink("missing", missing_on, row[0], ())
    else:
        report.invalid[side] += 1
        sink("invalid", side, row[0], ())


def _pair(cs: Row, registry: Row, norm: Normalisation, report: Report, sink: Sink) -> None:
    key = cs[0]
    if cs[:4] == registry[:4] and is_valid(cs) and is_valid(registry):
        return
    parsed: dict[str, list[str | None]] = {}
    for name, row in (("cs", cs), ("registry", registry)):
        try:
            if is_valid(row):
                parsed[name] = values(row)
                continue
        except ValueError:  # a value holds a separator: not a valid row either
            pass
        report.invalid[name] += 1
        sink("invalid", name, key, ())
    if len(parsed) < 2:
        return
    differ = tuple(
        f
        for f, x, y in zip(FIELDS, parsed["cs"], parsed["registry"], strict=True)
        if x != y and norm.apply(x) != norm.apply(y)
    )
    if differ:
        report.changed += 1
        report.changed_fields.update(differ)
        sink("changed", None, key, differ)
