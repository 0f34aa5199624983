"""The prefecture bench's figures, read after the fact: answer → next pause from the Prefect
API's state histories, and each town's notices (store) against its mails (mailbox).

    incidents = incident_runs(http, "252018")          # {"令和8年度-001": [run, …]}
    answers = latencies(http, runs)                     # one Answer per accepted resume
    percentiles([a.seconds for a in answers])           # p50, p95, max, n
    delivery(store, incident_ids, mails)                # notices vs mails of one town

A resume is the first state after a Paused/Suspended one (the server accepted the answer); its
latency ends at the same run's next Paused/Suspended state or, when the run pauses no more, at
the incident's other run's first pause after it (第1章's C1.2 → 第2章's first step). The last
answer of an incident ends at the run's completion (`to_end`), kept apart from the headline.
"""

from __future__ import annotations

import email
import email.policy
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benches.prefecture_stack import Http
from jukinet.notices.outbox import digest, message_key

PAUSED = "PAUSED"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
INCIDENT_MARK = "年度-"


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@dataclass(frozen=True)
class FlowRun:
    id: str
    name: str
    tags: tuple[str, ...]
    state: str
    states: tuple[tuple[float, str, str, str], ...]  # (timestamp, type, name, pause key)
    state_name: str = ""
    pid: int | None = None  # infrastructure_pid: the flow-run process

    @property
    def stuck(self) -> bool:
        """Pending or Running while its process is gone (nothing will move it on)."""
        if self.state not in ("PENDING", "RUNNING") or self.pid is None:
            return False
        return not Path(f"/proc/{self.pid}").exists()

    def describe(self) -> str:
        return f"{self.name}: {self.state_name}" + (" (process gone)" if self.stuck else "")

    @property
    def chapter(self) -> bool:
        return "第2章" in self.tags or "第3章" in self.tags


def incident_runs(http: Http, town_tag: str) -> dict[str, list[FlowRun]]:
    """Every run tagged `town_tag`, by incident number, each with its state history."""
    body = {"flow_runs": {"tags": {"all_": [town_tag]}}, "sort": "EXPECTED_START_TIME_ASC"}
    out: dict[str, list[FlowRun]] = {}
    for data in http.post("/flow_runs/filter", {**body, "limit": 200}):
        numbers = [t for t in data.get("tags") or () if INCIDENT_MARK in t]
        if not numbers:
            continue
        raw = http.get("/flow_run_states/", flow_run_id=data["id"])
        states = sorted(
            (
                ts(s["timestamp"]),
                str(s["type"]),
                str(s.get("name") or ""),
                str((s.get("state_details") or {}).get("pause_key") or ""),
            )
            for s in raw
        )
        state = data.get("state") or {}
        pid = data.get("infrastructure_pid")
        run = FlowRun(
            data["id"],
            data["name"],
            tuple(data["tags"]),
            str(state.get("type") or ""),
            tuple(states),
            str(state.get("name") or ""),
            int(pid) if pid else None,
        )
        out.setdefault(numbers[0], []).append(run)
    return out


@dataclass(frozen=True)
class Answer:
    town: str
    incident: str
    run: str
    pause_key: str
    resumed: float  # the state after the pause: the answer was accepted
    ended: float | None  # next pause (same run, else the incident's next run), None if none
    end_kind: str  # "same run" | "next run" | "completed" | "open"
    to_end: float | None  # the run's terminal state, when no pause followed

    @property
    def seconds(self) -> float | None:
        return None if self.ended is None else self.ended - self.resumed

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": self.seconds}


def latencies(town: str, incident: str, runs: list[FlowRun]) -> list[Answer]:
    out = []
    for run in runs:
        states = run.states
        for i, (_, kind, _, key) in enumerate(states):
            if kind != PAUSED or i + 1 >= len(states) or states[i + 1][1] == PAUSED:
                continue
            resumed = states[i + 1][0]
            same = [t for t, k, _, _ in states[i + 1 :] if k == PAUSED]
            if same:
                out.append(Answer(town, incident, run.id, key, resumed, same[0], "same run", None))
                continue
            other = [
                t
                for r in runs
                if r.id != run.id
                for t, k, _, _ in r.states
                if k == PAUSED and t > resumed
            ]
            final = [t for t, k, _, _ in states[i + 1 :] if k in TERMINAL]
            to_end = final[0] - resumed if final else None
            if other:
                out.append(
                    Answer(town, incident, run.id, key, resumed, min(other), "next run", to_end)
                )
            else:
                kind_ = "completed" if final else "open"
                out.append(Answer(town, incident, run.id, key, resumed, None, kind_, to_end))
    return out


def percentiles(values: Iterable[float | None]) -> dict[str, float | int | None]:
    """p50, p95 (nearest rank), max and n of the values that are not None."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return {"n": 0, "p50": None, "p95": None, "max": None}

    def rank(p: float) -> float:
        return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]

    return {"n": len(xs), "p50": rank(50), "p95": rank(95), "max": xs[-1]}


# --- notices ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    name: str
    to: str
    subject: str
    notice_id: str  # X-Jukinet-Notice (= the Message-ID's local part)


def read_mailbox(directory: Path) -> list[Mail]:
    out = []
    for path in sorted(directory.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        notice = str(msg.get("X-Jukinet-Notice") or "")
        if not notice:
            notice = str(msg.get("Message-ID") or "").strip("<>").split("@")[0]
        out.append(Mail(path.name, str(msg.get("To") or ""), str(msg.get("Subject") or ""), notice))
    return out


@dataclass
class Delivery:
    """One town's (or all towns') notices in the store against the mails received."""

    notices: int = 0  # outbox rows
    sent: int = 0  # of them, status sent
    delivered: int = 0  # distinct notices whose mail arrived
    duplicates: int = 0  # copies of a notice's mail beyond the first (Message-ID)
    same_recipient_subject: int = 0  # mails beyond the first with one (To, Subject)
    losses: int = 0  # notices whose mail never arrived
    strays: int = 0  # mails to the town matching none of its notices

    def add(self, other: Delivery) -> None:
        for name in asdict(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def delivery(notices: list[Any], mails: list[Mail]) -> Delivery:
    """`notices`: the store's rows (jukinet.store.models.Notice) of the incidents counted;
    `mails`: the mailbox's messages to the town (`m<code>.example`). Mails of the town's other
    incidents are left out; a mail matching none of `everything` (all the town's notices) is a
    stray, counted by `strays`."""
    expected = {digest(message_key(n)) for n in notices}
    ours = [m for m in mails if m.notice_id in expected]
    received = Counter(m.notice_id for m in ours)
    pairs = Counter((m.to, m.subject) for m in ours)
    return Delivery(
        notices=len(notices),
        sent=sum(n.status == "sent" for n in notices),
        delivered=len(received),
        duplicates=sum(c - 1 for c in received.values()),
        same_recipient_subject=sum(c - 1 for c in pairs.values()),
        losses=len(expected - set(received)),
    )


def strays(everything: list[Any], mails: list[Mail]) -> int:
    """Mails to the town whose notice id belongs to none of the town's notices."""
    known = {digest(message_key(n)) for n in everything}
    return sum(m.notice_id not in known for m in mails)


def town_mails(mails: list[Mail], code: str) -> list[Mail]:
    domain = f"@m{code}.example"
    return [m for m in mails if domain in m.to]
