"""Synthetic logs for the access-log analysis' tests and benchmarks; nothing in them is real.

    truth = write_logs(folder, lines=100_000, seed=1)       # cs_ops.csv, terminal_ops.jsonl, fw_log.csv
    config = synthetic_config(folder)                        # the layouts and lists they follow
    truth.planted    # {("bulk-lookups", "op04"), ...}: one incident of each rule
    truth.malformed  # {("cs_ops.csv", 17), ...}: the lines written wrong on purpose

Clean traffic: eight authorized operators on five authorized terminals from 10.20.30.0/24, on
working days between 09:00 and 17:00 (a weekend, a 国民の祝日 or 年末年始 has none), at about 40
operations per operator per hour; now and then one failed login followed by a success; the
firewall passes connections from 10.0.0.0/8. With `plant=True` one incident of each rule is added
and a few malformed lines. Target keys are 11 random digits (not 住民票コード of anyone).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO

from jukinet.accesslog.calendar import JST, OfficeCalendar
from jukinet.config.access_logs import AccessLogAnalysis

OPERATORS = tuple(f"op0{i}" for i in range(1, 9))
TERMINALS = ("CS01", "TM01", "TM02", "TM03", "TM04")
NETWORK = "10.20.30.0/24"
FIREWALL_ALLOWED = "10.0.0.0/8"
START = date(2026, 11, 2)  # a Monday; 11-03 is 文化の日
PER_DAY = 2_560  # events a working day (8 operators × 8 hours × 40)
BULK = 100
CSV_HEADER = "time,operator,terminal,operation,target,result,source\n"
FW_HEADER = "time,src,dst,port,action\n"


@dataclass
class Truth:
    planted: set[tuple[str, str]] = field(default_factory=set)
    malformed: set[tuple[str, int]] = field(default_factory=set)
    lines: int = 0


def synthetic_config(folder: Path, **changes: object) -> AccessLogAnalysis:
    data: dict[str, object] = {
        "folder": str(folder),
        "sources": [
            {"name": "CS操作ログ", "pattern": "cs_*.csv"},
            {"name": "統合端末操作ログ", "pattern": "terminal_*.jsonl", "format": "jsonl"},
            {
                "name": "ファイアウォールログ",
                "pattern": "fw_*.csv",
                "kind": "firewall",
                "columns": {"source": "src", "result": "action"},
            },
        ],
        "operators": list(OPERATORS),
        "terminals": list(TERMINALS),
        "networks": [NETWORK],
        "firewall_allowed": [FIREWALL_ALLOWED],
        "bulk_lookups": BULK,
        **changes,
    }
    return AccessLogAnalysis.model_validate(data)


@dataclass(frozen=True)
class _Op:
    at: datetime
    operator: str
    terminal: str
    operation: str
    result: str
    source: str
    target: str = ""


class _Files:
    def __init__(self, folder: Path, truth: Truth) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.truth = truth
        self.cs = (folder / "cs_ops.csv").open("w", encoding="utf-8", newline="")
        self.terminal = (folder / "terminal_ops.jsonl").open("w", encoding="utf-8")
        self.fw = (folder / "fw_log.csv").open("w", encoding="utf-8", newline="")
        self.cs.write(CSV_HEADER)
        self.fw.write(FW_HEADER)
        self.counts = {"cs_ops.csv": 1, "terminal_ops.jsonl": 0, "fw_log.csv": 1}

    def _line(self, name: str, out: IO[str], text: str, malformed: bool = False) -> None:
        out.write(text)
        self.counts[name] += 1
        self.truth.lines += 1
        if malformed:
            self.truth.malformed.add((name, self.counts[name]))

    def op(self, op: _Op) -> None:
        at = op.at.isoformat(timespec="seconds")
        if op.terminal == "CS01":
            cells = (at, op.operator, op.terminal, op.operation, op.target, op.result, op.source)
            self._line("cs_ops.csv", self.cs, ",".join(cells) + "\n")
        else:
            record = {
                "time": at,
                "operator": op.operator,
                "terminal": op.terminal,
                "operation": op.operation,
                "target": op.target,
                "result": op.result,
                "source": op.source,
            }
            self._line(
                "terminal_ops.jsonl",
                self.terminal,
                json.dumps(record, ensure_ascii=False) + "\n",
            )

    def firewall(self, at: datetime, source: str, action: str) -> None:
        text = f"{at.isoformat(timespec='seconds')},{source},10.20.30.1,700,{action}\n"
        self._line("fw_log.csv", self.fw, text)

    def malformed(self) -> None:
        """A few lines written wrong, in both formats."""
        cs = self.cs
        self._line("cs_ops.csv", cs, "2026-13-45T99:00:00,op01,CS01,照会,,成功,10.20.30.11\n", True)
        self._line("cs_ops.csv", cs, "2026-11-02T10:00:00,op01,CS01\n", True)
        self._line(
            "cs_ops.csv", cs, '2026-11-02T10:00:01,"op01,CS01,照会,,成功,10.20.30.11\n', True
        )
        cs.flush()
        self.cs.buffer.write(b"2026-11-02T10:00:02,op01,CS01,\xff\xfe,,\x83\x41,10.20.30.11\n")
        self.counts["cs_ops.csv"] += 1
        self.truth.lines += 1
        self.truth.malformed.add(("cs_ops.csv", self.counts["cs_ops.csv"]))
        t = self.terminal
        self._line("terminal_ops.jsonl", t, '{"time": "2026-11-02T10:00:03", "operator": \n', True)
        self._line("terminal_ops.jsonl", t, '["2026-11-02T10:00:04", "op01"]\n', True)
        self._line(
            "terminal_ops.jsonl", t, '{"time": "2026-11-02T10:00:05", "terminal": "TM01"}\n', True
        )

    def close(self) -> None:
        for out in (self.cs, self.terminal, self.fw):
            out.close()


def _clean_day(day: date, rng: random.Random, per_day: int) -> Iterator[_Op]:
    start = datetime(day.year, day.month, day.day, 9, tzinfo=JST)
    times = sorted(rng.randrange(8 * 3600) for _ in range(per_day))
    for second in times:
        at = start + timedelta(seconds=second)
        n = rng.randrange(len(OPERATORS))
        operator, terminal = OPERATORS[n], TERMINALS[n % len(TERMINALS)]
        source = f"10.20.30.{11 + n}"
        roll = rng.random()
        if roll < 0.7:
            target = f"{rng.randrange(10**10, 10**11)}"
            yield _Op(at, operator, terminal, "照会", "成功", source, target)
        elif roll < 0.9:
            yield _Op(at, operator, terminal, "更新", "成功", source, f"{rng.randrange(10**11)}")
        elif roll < 0.995:
            yield _Op(at, operator, terminal, "ログイン", "成功", source)
        else:  # a mistyped password, then in
            yield _Op(at, operator, terminal, "ログイン", "失敗", source)
            yield _Op(at + timedelta(seconds=20), operator, terminal, "ログイン", "成功", source)


def _planted(days: list[date], calendar: OfficeCalendar, truth: Truth) -> dict[date, list[_Op]]:
    """One incident of each rule on the first days of the range (sorted into their day)."""
    working = [d for d in days if not calendar.closed(d)]
    closed = next(d for d in days if calendar.closed(d))
    d0, d1, d2 = working[0], working[1 % len(working)], working[2 % len(working)]

    def at(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=JST)

    ops = [
        _Op(at(d0, 22, 47), "op03", "TM03", "照会", "成功", "10.20.30.13", "10000000001"),
        _Op(at(closed, 10, 5), "op05", "CS01", "照会", "成功", "10.20.30.15", "10000000002"),
        _Op(at(d1, 14, 0), "tmp-user", "TM02", "照会", "成功", "10.20.30.12", "10000000003"),
        _Op(at(d1, 15, 0), "op02", "TM99", "照会", "成功", "10.20.30.12", "10000000004"),
        _Op(at(d1, 11, 0), "op07", "TM02", "更新", "成功", "172.16.5.9", "10000000005"),
    ]
    ops += [  # more than BULK lookups within 40 minutes, on top of op04's usual work
        _Op(at(d2, 10, 0) + timedelta(seconds=20 * i), "op04", "TM04", "照会", "成功",
            "10.20.30.14", f"2{i:010d}")
        for i in range(BULK + 30)
    ]  # fmt: skip
    ops += [  # six failed logins in three minutes, then in
        _Op(at(d2, 13, 0) + timedelta(seconds=30 * i), "op06", "TM01", "ログイン", "失敗",
            "10.20.30.16")
        for i in range(6)
    ]  # fmt: skip
    ops.append(_Op(at(d2, 13, 4), "op06", "TM01", "ログイン", "成功", "10.20.30.16"))
    truth.planted |= {
        ("outside-hours", "op03"),
        ("outside-hours", "op05"),
        ("unknown-operator", "tmp-user"),
        ("unknown-terminal", "TM99"),
        ("unknown-source", "172.16.5.9"),
        ("bulk-lookups", "op04"),
        ("auth-failures", "op06（接続元 10.20.30.16）"),
        ("firewall-passed", "203.0.113.45"),
        ("firewall-denied", "198.51.100.7"),
    }
    by_day: dict[date, list[_Op]] = {}
    for op in ops:
        by_day.setdefault(op.at.date(), []).append(op)
    return by_day


def write_logs(folder: Path, lines: int, seed: int = 1, plant: bool = True) -> Truth:
    """About `lines` lines over three files in `folder`; the truth of what was planted."""
    rng = random.Random(seed)
    truth = Truth()
    calendar = OfficeCalendar("08:30", "17:15", "12-29", "01-03")
    days: list[date] = []
    day = START
    while len([d for d in days if not calendar.closed(d)]) * PER_DAY < lines or len(days) < 7:
        days.append(day)
        day += timedelta(days=1)
    planted = _planted(days, calendar, truth) if plant else {}
    files = _Files(folder, truth)
    try:
        if plant:
            files.malformed()
        for day in days:
            ops = [] if calendar.closed(day) else list(_clean_day(day, rng, PER_DAY))
            ops += planted.get(day, [])
            ops.sort(key=lambda o: o.at)
            fw_times = sorted(rng.randrange(8 * 3600) for _ in range(len(ops) // 6))
            start = datetime(day.year, day.month, day.day, 9, tzinfo=JST)
            for op in ops:
                files.op(op)
            for second in fw_times:
                files.firewall(
                    start + timedelta(seconds=second),
                    f"10.20.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    "ACCEPT",
                )
            if plant and day == days[1]:
                for i in range(5):
                    files.firewall(start + timedelta(hours=9, minutes=i), "198.51.100.7", "DROP")
            if plant and day == days[2]:
                files.firewall(start + timedelta(hours=9, minutes=30), "203.0.113.45", "ACCEPT")
    finally:
        files.close()
    return truth
