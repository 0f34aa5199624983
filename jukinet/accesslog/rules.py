"""What is unusual in the logs. Each rule looks at the events one at a time and keeps only what a
window needs (an operator's lookups of the last hour, an operator's failed logins from one address
of the last `auth_failures.minutes`), so memory does not grow with the length of the logs. A finding names its rule, the subject (an
operator ID, a terminal ID or an address: none of them a resident's data), the count, the first
and last time and the first line references, and the example of the plan's threat levels
(C3.A) it supports. Target keys are never shown: only counts."""

from __future__ import annotations

import ipaddress
from bisect import insort
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from jukinet.accesslog.calendar import JST, OfficeCalendar
from jukinet.accesslog.read import Event
from jukinet.config.access_logs import AccessLogAnalysis, LogKind
from jukinet.plan import THREAT_LEVELS, ThreatExample, ThreatLevel

HOUR = timedelta(hours=1)
SUBJECT_CHARS = 64  # a subject longer than this is cut (a garbled column, not an ID)
SUBJECTS = 500  # subjects a rule names one by one; the rest are gathered in one finding
OTHERS = "その他（対象が多いため一括）"
WINDOWS = 10_000  # operators with a lookup window; beyond, windows older than an hour are dropped


class Severity(StrEnum):
    HIGH = "高"
    MEDIUM = "中"
    LOW = "低"


def _example(level: ThreatLevel, number: int) -> ThreatExample:
    return THREAT_LEVELS[level].examples[number - 1]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    example: ThreatExample  # the example of the plan's threat levels (C3.A) it supports

    @property
    def level(self) -> str:
        """`C3.A.L3 (2)`"""
        return f"{self.example.clause} ({self.example.number})"

    @property
    def level_text(self) -> str:
        """The example as the level forms offer it: `レベル3-(2) ファイアウォールを通過した不正アクセス`"""
        return self.example.label


_L2, _L3 = ThreatLevel.L2, ThreatLevel.L3
RULES = {
    r.id: r
    for r in (
        Rule("unknown-operator", "権限のない操作者IDによる操作", Severity.HIGH, _example(_L3, 3)),
        Rule("unknown-terminal", "権限のない端末からの操作", Severity.HIGH, _example(_L3, 3)),
        Rule("bulk-lookups", "大量の照会", Severity.HIGH, _example(_L3, 5)),
        Rule("unknown-source", "認められていない接続元からの操作", Severity.HIGH, _example(_L3, 2)),
        Rule("firewall-passed", "許可範囲外からの通信のファイアウォール通過", Severity.HIGH,
             _example(_L3, 2)),
        Rule("outside-hours", "執務時間外の操作", Severity.MEDIUM, _example(_L3, 3)),
        Rule("auth-failures", "認証の失敗の繰り返し", Severity.MEDIUM, _example(_L2, 4)),
        Rule("firewall-denied", "許可範囲外からの通信（ファイアウォールで遮断）", Severity.LOW,
             _example(_L2, 2)),
    )
}  # fmt: skip


@dataclass
class Finding:
    rule: Rule
    subject: str
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    refs: list[str] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)  # e.g. 土曜日: 3, 執務時間外: 5
    peak: int = 0  # bulk lookups: most in one hour; auth failures: most in the window
    window: str = ""  # the window's length, in Japanese

    def detail(self) -> str:
        parts = [f"{k} {v} 件" for k, v in sorted(self.notes.items(), key=lambda kv: -kv[1])]
        if self.rule.id == "bulk-lookups":
            parts.insert(0, f"{self.window}に最大 {self.peak} 件の照会")
        if self.rule.id == "auth-failures":
            parts.insert(0, f"{self.window}に最大 {self.peak} 回の認証の失敗")
        return "、".join(parts)


class Findings:
    """Findings gathered by (rule, subject)."""

    def __init__(self, line_refs: int) -> None:
        self.line_refs = line_refs
        self._by: dict[tuple[str, str], Finding] = {}
        self._subjects: dict[str, int] = {}

    def add(self, rule: str, subject: str, event: Event, note: str | None = None) -> Finding:
        subject = subject[:SUBJECT_CHARS]
        found = self._by.get((rule, subject))
        if found is None:
            if self._subjects.get(rule, 0) >= SUBJECTS:
                subject = OTHERS
                found = self._by.get((rule, subject))
            if found is None:
                found = self._by[(rule, subject)] = Finding(RULES[rule], subject)
                self._subjects[rule] = self._subjects.get(rule, 0) + 1
        found.count += 1
        if found.first is None or event.time < found.first:
            found.first = event.time
        if found.last is None or event.time > found.last:
            found.last = event.time
        if len(found.refs) < self.line_refs:
            found.refs.append(event.ref)
        if note:
            found.notes[note] = found.notes.get(note, 0) + 1
        return found

    def all(self) -> list[Finding]:
        order = list(Severity)
        return sorted(
            self._by.values(),
            key=lambda f: (
                order.index(f.rule.severity),
                f.rule.id,
                f.first or datetime.min.replace(tzinfo=JST),
            ),
        )


def _networks(ranges: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(r, strict=False) for r in ranges]


class Rules:
    """All rules over one stream of events (the files merged in time order)."""

    def __init__(self, config: AccessLogAnalysis) -> None:
        self.config = config
        self.findings = Findings(config.line_refs)
        self.calendar = OfficeCalendar(
            config.office_start, config.office_end, config.year_end_from, config.year_end_to
        )
        self.operators = set(config.operators)
        self.terminals = set(config.terminals)
        self.lookups = set(config.operations.lookup)
        self.logins = set(config.operations.login)
        self.failure = set(config.results.failure)
        self.passed = set(config.results.passed)
        self.denied = set(config.results.denied)
        self._terminal_networks = _networks(config.networks)
        self._firewall_networks = _networks(config.firewall_allowed)
        self._inside: dict[tuple[str, str], bool] = {}
        self._lookups: dict[str, deque[datetime]] = {}
        self._prune_at = WINDOWS
        self._failures: dict[tuple[str, str], list[datetime]] = {}
        self._window = timedelta(minutes=config.auth_failures.minutes)

    def feed(self, event: Event) -> None:
        if event.kind is LogKind.FIREWALL:
            self._firewall(event)
        else:
            self._operation(event)

    def _operation(self, e: Event) -> None:
        add = self.findings.add
        if e.operator not in self.operators:
            add("unknown-operator", e.operator, e)
        if e.terminal not in self.terminals:
            add("unknown-terminal", e.terminal, e)
        if e.source and not self._inside_of("terminal", e.source):
            add("unknown-source", e.source, e)
        why = self.calendar.outside(e.time)
        if why:
            add("outside-hours", e.operator, e, why)
        if e.operation in self.lookups and e.result not in self.failure:
            self._lookup(e)
        if e.operation in self.logins and e.result in self.failure:
            self._auth_failure(e)

    def _firewall(self, e: Event) -> None:
        if self._inside_of("firewall", e.source):
            return
        if e.result in self.passed:
            self.findings.add("firewall-passed", e.source, e)
        elif e.result in self.denied:
            self.findings.add("firewall-denied", e.source, e)

    def _inside_of(self, which: str, address: str) -> bool:
        known = self._inside.get((which, address))
        if known is None:
            networks = self._terminal_networks if which == "terminal" else self._firewall_networks
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                known = False  # not an address: not inside any allowed range
            else:
                known = any(ip in n for n in networks)
            if len(self._inside) > 65_536:
                self._inside.clear()
            self._inside[(which, address)] = known
        return known

    def _lookup(self, e: Event) -> None:
        """More than `bulk_lookups` lookups by one operator within any hour (a sliding window)."""
        if len(self._lookups) > self._prune_at:  # amortised: the limit doubles with the live ones
            self._lookups = {k: w for k, w in self._lookups.items() if w and w[-1] > e.time - HOUR}
            self._prune_at = max(WINDOWS, 2 * len(self._lookups))
        window = self._lookups.setdefault(e.operator, deque())
        if window and e.time < window[-1]:  # a line out of time order: keep the window sorted
            times = sorted([*window, e.time])
            window.clear()
            window.extend(times)
        else:
            window.append(e.time)
        newest = window[-1]
        while window and window[0] <= newest - HOUR:
            window.popleft()
        if len(window) > self.config.bulk_lookups:
            found = self.findings.add("bulk-lookups", e.operator, e)
            found.peak, found.window = max(found.peak, len(window)), "1時間"

    def _auth_failure(self, e: Event) -> None:
        """`auth_failures.count` failed logins by one operator from one address within
        `auth_failures.minutes`."""
        key = (e.operator, e.source)
        times = self._failures.setdefault(key, [])
        insort(times, e.time)
        while times and times[0] <= times[-1] - self._window:
            times.pop(0)
        if len(times) >= self.config.auth_failures.count:
            subject = f"{e.operator}（接続元 {e.source or '不明'}）"
            found = self.findings.add("auth-failures", subject, e)
            found.peak = max(found.peak, len(times))
            found.window = f"{self.config.auth_failures.minutes}分間"
        if len(self._failures) > 65_536:
            self._failures.clear()
