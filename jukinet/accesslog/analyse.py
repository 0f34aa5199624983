"""Analyse a set of log files: each file is read by the layout whose file-name pattern it matches,
the files' events are merged in time order (each file is read as a stream, in its own order) and
go through the rules once.

    analysis = analyse([Path("logs/cs_20261127.csv"), ...], config.town.access_logs)
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from operator import attrgetter
from pathlib import Path

from jukinet.accesslog.read import Event, FileTally, read_events
from jukinet.accesslog.rules import Finding, Rules, Severity
from jukinet.config.access_logs import AccessLogAnalysis, LogSource
from jukinet.plan import ThreatLevel


@dataclass
class Analysis:
    files: list[FileTally] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # files no layout reads
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files)

    @property
    def malformed(self) -> int:
        return sum(f.malformed for f in self.files)

    def highest(self) -> Severity | None:
        order = list(Severity)
        return min((f.rule.severity for f in self.findings), key=order.index, default=None)

    def supports_level3(self) -> bool:
        return any(f.rule.example.level is ThreatLevel.L3 for f in self.findings)


def layout_for(path: Path, config: AccessLogAnalysis) -> LogSource | None:
    return next((s for s in config.sources if fnmatch(path.name, s.pattern)), None)


def analyse(paths: list[Path], config: AccessLogAnalysis) -> Analysis:
    began = time.perf_counter()
    analysis = Analysis()
    streams: list[Iterator[Event]] = []
    for path in paths:
        source = layout_for(path, config)
        if source is None:
            analysis.unmatched.append(path.name)
            continue
        tally = FileTally(path.name, source.name)
        analysis.files.append(tally)
        streams.append(read_events(path, source, tally))
    rules = Rules(config)
    for event in heapq.merge(*streams, key=attrgetter("time")):
        rules.feed(event)
    analysis.findings = rules.findings.all()
    analysis.seconds = time.perf_counter() - began
    return analysis
