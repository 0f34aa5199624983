"""Log files read as a stream of events, one line at a time (a year of logs needs no more memory
than a line). A line that cannot be read is counted with its line number and the reason, never
fatal and never dropped silently. The target key (住民票コード etc.) is never kept: an event only
knows whether it had one.

Layouts (jukinet/config/access_logs.py): CSV with a header line naming the columns, or JSON Lines
with one object per line; times in ISO 8601 (or a configured strftime format), Japan time when
they carry no offset. A CSV record is one line (a quoted field holding a line break is reported
as malformed).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jukinet.accesslog.calendar import JST
from jukinet.config.access_logs import LogFormat, LogKind, LogSource

MALFORMED_LINES = 20  # line numbers kept per file; all are counted
REQUIRED = {
    LogKind.OPERATION: ("time", "operator", "terminal", "operation", "result"),
    LogKind.FIREWALL: ("time", "source", "result"),
}
LOGICAL = ("time", "operator", "terminal", "operation", "target", "result", "source")
TITLES = {
    "time": "日時",
    "operator": "操作者ID",
    "terminal": "端末ID",
    "operation": "操作",
    "target": "対象",
    "result": "結果",
    "source": "接続元",
}


@dataclass(frozen=True, slots=True)
class Event:
    file: str
    line: int
    kind: LogKind
    time: datetime  # aware
    operator: str
    terminal: str
    operation: str
    result: str
    source: str
    has_target: bool

    @property
    def ref(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class FileTally:
    file: str
    source: str  # the LogSource's name
    lines: int = 0
    events: int = 0
    malformed: int = 0
    malformed_lines: list[tuple[int, str]] = field(default_factory=list)
    out_of_order: int = 0
    sha256: str = ""  # of the whole file as read, for the record

    def bad(self, line: int, reason: str) -> None:
        self.malformed += 1
        if len(self.malformed_lines) < MALFORMED_LINES:
            self.malformed_lines.append((line, reason))


class _Malformed(Exception):
    pass


def read_events(path: Path, source: LogSource, tally: FileTally) -> Iterator[Event]:
    """The events of one file in file order; malformed lines go to `tally`."""
    names = source.columns
    wanted = {name: getattr(names, name) for name in LOGICAL}
    parse = _csv_lines if source.format is LogFormat.CSV else _json_lines
    required = {n: wanted[n] for n in REQUIRED[source.kind]}
    last: datetime | None = None
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        hashed = _hashed(raw, digest)
        for number, fields in parse(hashed, source.encoding, wanted, required, tally):
            try:
                event = _event(tally.file, number, source, fields)
            except _Malformed as exc:
                tally.bad(number, str(exc))
                continue
            if last is not None and event.time < last:
                tally.out_of_order += 1
            last = event.time
            tally.events += 1
            yield event
    tally.sha256 = digest.hexdigest()


def _hashed(raw: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    for data in raw:
        digest.update(data)
        yield data


def _event(file: str, number: int, source: LogSource, fields: dict[str, str]) -> Event:
    for name in REQUIRED[source.kind]:
        if not fields.get(name, "").strip():
            raise _Malformed(f"{TITLES[name]}がありません")
    return Event(
        file=file,
        line=number,
        kind=source.kind,
        time=_time(fields["time"].strip(), source.time_format),
        operator=fields.get("operator", "").strip(),
        terminal=fields.get("terminal", "").strip(),
        operation=fields.get("operation", "").strip(),
        result=fields.get("result", "").strip(),
        source=fields.get("source", "").strip(),
        has_target=bool(fields.get("target", "").strip()),
    )


def _time(text: str, time_format: str | None) -> datetime:
    try:
        moment = (
            datetime.strptime(text, time_format) if time_format else datetime.fromisoformat(text)
        )
    except ValueError:
        raise _Malformed("日時を読めません") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=JST)


def _decoded(raw: Iterator[bytes], encoding: str, tally: FileTally) -> Iterator[tuple[int, str]]:
    for number, data in enumerate(raw, start=1):
        tally.lines = number
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            tally.bad(number, f"文字コード（{encoding}）として読めません")
            continue
        yield number, text.rstrip("\r\n")


def _csv_lines(
    raw: Iterator[bytes],
    encoding: str,
    wanted: dict[str, str],
    required: dict[str, str],
    tally: FileTally,
) -> Iterator[tuple[int, dict[str, str]]]:
    lines = _decoded(raw, encoding, tally)
    header: dict[str, int] | None = None
    unusable = ""  # why no line of the file can be read, if so
    for number, text in lines:
        if header is None and number == 1:
            names = next(csv.reader([text.lstrip("\ufeff")]), [])
            header = {name.strip(): i for i, name in enumerate(names)}
            missing = [f"{TITLES[n]}（{c}）" for n, c in required.items() if c not in header]
            if missing:
                unusable = "見出しに列がありません: " + "、".join(missing)
            continue
        if header is None:
            header, unusable = {}, f"1行目の見出しを文字コード（{encoding}）として読めません"
        if unusable:
            tally.bad(number, unusable)
            continue
        if not text.strip():
            continue
        if text.count('"') % 2:
            tally.bad(number, "引用符が閉じていません")
            continue
        cells = next(csv.reader([text]), []) if '"' in text else text.split(",")
        if len(cells) != len(header):
            tally.bad(
                number, f"列の数が見出しと違います（{len(cells)} 列、見出しは {len(header)} 列）"
            )
            continue
        yield number, {n: cells[header[c]] for n, c in wanted.items() if c in header}


def _json_lines(
    raw: Iterator[bytes],
    encoding: str,
    wanted: dict[str, str],
    required: dict[str, str],
    tally: FileTally,
) -> Iterator[tuple[int, dict[str, str]]]:
    for number, text in _decoded(raw, encoding, tally):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            tally.bad(number, "JSON として読めません")
            continue
        if not isinstance(record, dict):
            tally.bad(number, "JSON のオブジェクトではありません")
            continue
        yield number, {n: _text(record.get(c)) for n, c in wanted.items()}


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
