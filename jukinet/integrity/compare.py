"""Compare the CS copy of residents' identity records with the town's registry (既存住基システム),
by 住民票コード, streaming both tables in key order (memory does not grow with the tables): rows
on each side, keys missing on each side, changed rows with the fields that differ, duplicate
keys, invalid rows (a key not of 11 digits, an impossible date). Differences go to a sink by
key and field name only: no field value leaves this module.

    report = compare(Side(cs_url, "cs_residents", columns), Side(registry_url, "residents", columns), sink)

Each side is read by its own thread in batches (the drivers release the GIL while they fetch), so
the two scans overlap; the merge runs in the calling thread.
"""

from __future__ import annotations

import queue
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Engine, column, create_engine, select, table, text

KEY = "key"
FIELDS = ("number", "name", "kana", "birth_date", "sex", "address", "reason", "moved_on")
DATE_FIELDS = ("birth_date", "moved_on")
SIDES = ("cs", "registry")
BATCH = 20_000
_KEY_SHAPE = re.compile(r"[0-9]{11}")


class IntegrityError(Exception):
    """The comparison cannot give a right answer (e.g. a side is not in key order)."""


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

    def apply(self, value: str) -> str:
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

    @property
    def differences(self) -> int:
        return (
            self.changed
            + sum(self.missing.values())
            + sum(self.duplicates.values())
            + sum(self.invalid.values())
        )


def valid_date(value: str | None) -> bool:
    try:
        date.fromisoformat(value or "")
    except ValueError:
        return False
    return True


def _ordered_query(engine: Engine, side: Side) -> Any:
    names = [side.columns[KEY], *(side.columns[f] for f in FIELDS)]
    source = table(side.table, *(column(n) for n in names))
    key = source.c[side.columns[KEY]]
    # byte order on both engines, which is Python's order of str for the same text
    ordered = key.collate("C") if engine.dialect.name == "postgresql" else key.collate("BINARY")
    return select(*(source.c[n] for n in names)).order_by(ordered)


def _read(side: Side, out: queue.Queue[list[Sequence[Any]] | BaseException | None]) -> None:
    """Producer: the side's rows in key order, in batches; None at the end, or the error."""
    engine = create_engine(side.url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SET TRANSACTION READ ONLY"))
            result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
                _ordered_query(engine, side)
            )
            for rows in result.partitions(BATCH):
                out.put(list(rows))
        out.put(None)
    except BaseException as exc:  # handed to the merging thread
        out.put(exc)
    finally:
        engine.dispose()


def _rows(side: Side, name: str) -> Iterator[Sequence[Any]]:
    batches: queue.Queue[list[Sequence[Any]] | BaseException | None] = queue.Queue(maxsize=4)
    reader = threading.Thread(target=_read, args=(side, batches), daemon=True, name=name)
    reader.start()
    while (batch := batches.get()) is not None:
        if isinstance(batch, BaseException):
            raise batch
        yield from batch
    reader.join()


@dataclass
class _Cursor:
    """One side's stream, grouped by key: the first row of each key, duplicates reported."""

    name: str
    rows: Iterator[Sequence[Any]]
    report: Report
    sink: Sink
    key: str | None = None
    row: Sequence[Any] | None = None
    _next: Sequence[Any] | None = None
    _started: bool = False

    def advance(self) -> None:
        if not self._started:
            self._started = True
            self._next = next(self.rows, None)
        current = self._next
        if current is None:
            self.key, self.row = None, None
            return
        key = str(current[0])
        if self.key is not None and key < self.key:
            raise IntegrityError(
                f"{self.name} の行が住民票コードの順に読めませんでした（照合を中止しました）"
            )
        self.report.rows[self.name] += 1
        self._next = next(self.rows, None)
        duplicated = False
        while self._next is not None and str(self._next[0]) == key:
            self.report.rows[self.name] += 1
            self._next = next(self.rows, None)
            duplicated = True
        if duplicated:
            self.report.duplicates[self.name] += 1
            self.sink("duplicate", self.name, key, ())
        self.key, self.row = key, current


def _invalid(row: Sequence[Any]) -> bool:
    return (
        _KEY_SHAPE.fullmatch(str(row[0])) is None
        or not valid_date(row[4])  # birth_date
        or not valid_date(row[8])  # moved_on
    )


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
    left = _Cursor("cs", _rows(cs, "integrity-cs"), report, sink)
    right = _Cursor("registry", _rows(registry, "integrity-registry"), report, sink)
    left.advance()
    right.advance()
    seen = 0
    while left.key is not None or right.key is not None:
        seen += 1
        if progress and seen % progress_every == 0:
            report.seconds = time.perf_counter() - began
            progress(report)
        if right.key is None or (left.key is not None and left.key < right.key):
            _alone(left, "registry", report, sink)
            left.advance()
        elif left.key is None or right.key < left.key:
            _alone(right, "cs", report, sink)
            right.advance()
        else:
            assert left.row is not None and right.row is not None and left.key is not None
            _pair(left.key, left.row, right.row, norm, report, sink)
            left.advance()
            right.advance()
    report.seconds = time.perf_counter() - began
    return report


def _alone(cursor: _Cursor, missing_on: str, report: Report, sink: Sink) -> None:
    """A key only `cursor` has: invalid there, or missing on the other side."""
    assert cursor.row is not None and cursor.key is not None
    if _invalid(cursor.row):
        report.invalid[cursor.name] += 1
        sink("invalid", cursor.name, cursor.key, ())
    else:
        report.missing[missing_on] += 1
        sink("missing", missing_on, cursor.key, ())


def _pair(
    key: str,
    cs: Sequence[Any],
    registry: Sequence[Any],
    norm: Normalisation,
    report: Report,
    sink: Sink,
) -> None:
    bad = [name for name, row in (("cs", cs), ("registry", registry)) if _invalid(row)]
    for name in bad:
        report.invalid[name] += 1
        sink("invalid", name, key, ())
    if bad or cs == registry:
        return
    differ = tuple(
        name
        for name, a, b in zip(FIELDS, cs[1:], registry[1:], strict=True)
        if a != b and (not norm.active or norm.apply(str(a or "")) != norm.apply(str(b or "")))
    )
    if differ:
        report.changed += 1
        report.changed_fields.update(differ)
        sink("changed", None, key, differ)
