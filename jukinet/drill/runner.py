"""Runs a scenario: start 第1章 (or 第3章 通報受付), answer each paused step, follow the incident's
runs until its chapter-2 or chapter-3 run completes, check the expectations."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jukinet.drill.api import Api, Pause, Run
from jukinet.drill.constants import (
    CHAPTER_TAGS,
    ENDED_BADLY,
    INCIDENT_NUMBER,
    POLL_SECONDS,
    REFUSED,
    RESTART_GRACE_SECONDS,
    TOWN_TAG,
    TOWN_TITLE,
)
from jukinet.drill.scenario import DrillFailed, Scenario, ScenarioError, Step
from jukinet.drill.schema import fill, slug


class Records:
    """The town's store, opened as the product opens it (JUKINET_* environment); `town` is a
    団体コード, needed when the installation serves several towns."""

    def __init__(self, town: str = "") -> None:
        from jukinet.config.towns import load_configs, pick
        from jukinet.settings import load_settings
        from jukinet.store.db import make_engine
        from jukinet.store.store import Store

        settings = load_settings()
        code = pick(load_configs(settings.config_dir), town).town.municipality.code
        self.store = Store(make_engine(settings.store_url), code)

    def refusal(self, number: str, pause: Pause) -> str:
        incident = self.store.incident(number)
        for record in reversed(self.store.audit_records(incident.id)):
            ask_key = str(record.details.get("ask_key", ""))
            step, _, attempt = ask_key.rpartition("#")
            previous = attempt == str(pause.attempt - 1)
            if record.kind == "回答拒否" and slug(step) == pause.step and previous:
                return record.summary
        return "理由は記録にありません"


# --- the drill ---------------------------------------------------------------------------------


@dataclass
class Submitted:
    step: Step
    pause: Pause
    answerer: str


@dataclass
class Drill:
    scenario: Scenario
    api: Api
    records: Callable[[], Records]
    timeout: float
    say: Callable[[str], None] = print
    used: set[int] = field(default_factory=set)
    answered: dict[str, str] = field(default_factory=dict)  # run id → pause key answered
    waiting: dict[str, Submitted] = field(default_factory=dict)  # run id → answer not judged yet
    number: str | None = None
    first_id: str = ""
    town: str = ""  # 団体コード given to the first run; "" when the installation serves one town
    town_tag: str = ""  # the incident's runs carry it (flows/runtime.town_tag), with the number
    crashed: dict[str, float] = field(default_factory=dict)  # run id → when it was seen Crashed

    def run(self) -> str:
        """Drive the incident to its end; returns the incident number."""
        start = self.scenario.start
        deployment = self.api.deployment(*start.deployment)
        opening: dict[str, Any] = {
            start.block: self.scenario.opening,
            "実施区分": self.scenario.mode,
        }
        if self.town:
            opening[TOWN_TITLE] = self.town
        self.first_id = self.open_incident(deployment, opening)
        self.say(f"{start.label}を開始しました（フロー実行 {self.first_id}）")
        deadline = time.monotonic() + self.timeout
        while True:
            if time.monotonic() > deadline:
                raise DrillFailed(self._timeout_message())
            if self._tick():
                assert self.number is not None
                return self.number
            time.sleep(POLL_SECONDS)

    def open_incident(self, deployment: dict[str, Any], opening: dict[str, Any]) -> str:
        """Start the scenario's deployment with its titled parameters; returns the run's id."""
        block = self.scenario.start.block
        schema = deployment.get("parameter_openapi_schema") or {}
        parameters = fill(schema, opening, f"{block}・実施区分")
        return self.api.start(str(deployment["id"]), parameters).id

    def _timeout_message(self) -> str:
        where = f"事案 {self.number}" if self.number else f"フロー実行 {self.first_id}"
        return f"{self.timeout:.0f} 秒以内に{where}の対応が終わりませんでした"

    def _tick(self) -> bool:
        """One look at the incident's runs; True once it has ended as the scenario expects."""
        if self.number is None:  # the first run is renamed `[town] <number> …` and tagged with it
            first = self.api.run(self.first_id)
            numbers = [w for w in first.name.split(" ") if INCIDENT_NUMBER.search(w)]
            number = numbers[0] if numbers else ""
            if self.scenario.start.tag in first.tags and number in first.tags:
                self.number = number
                self.town_tag = next((t for t in first.tags if t.startswith(TOWN_TAG)), "")
                self.say(f"事案番号 {self.number}")
            runs = [first]
        else:  # every town's first incident of a year is 令和8年度-001: the town's tag too
            runs = self.api.tagged(*[t for t in (self.number, self.town_tag) if t])
        ended = False
        for run in runs:
            if self._waiting_for_restart(run):
                continue
            if run.state == "PAUSED" and run.pause and self.answered.get(run.id) != run.pause.key:
                self._judge(run, run.pause)
                self._answer(run, run.pause)
            elif run.state == "COMPLETED":
                self._judge(run, None)
                ended = ended or any(tag in run.tags for tag in CHAPTER_TAGS)
            elif run.state in ENDED_BADLY:
                raise DrillFailed(
                    f"フロー実行「{run.name}」が {run.state_name} で終わりました: "
                    f"{run.message or '理由不明'}"
                )
        return ended

    def _waiting_for_restart(self, run: Run) -> bool:
        """True while `run` is Crashed and 中断した実行の再開 may still run it again (a worker
        died); after RESTART_GRACE_SECONDS the crash is the drill's failure."""
        if run.state != "CRASHED":
            if self.crashed.pop(run.id, None) is not None:
                self.say(f"  フロー実行「{run.name}」が再実行されました")
            return False
        if run.id not in self.crashed:
            self.crashed[run.id] = time.monotonic()
            self.say(
                f"  フロー実行「{run.name}」が中断しました（{run.message or '理由不明'}）。"
                "再実行を待ちます"
            )
        return time.monotonic() - self.crashed[run.id] <= RESTART_GRACE_SECONDS

    def _judge(self, run: Run, pause: Pause | None) -> None:
        """Report the run's last answer: refused if the same question came back, else accepted."""
        sent = self.waiting.pop(run.id, None)
        if sent is None:
            return
        p = sent.pause
        refused = (
            pause is not None
            and (pause.clause, pause.step) == (p.clause, p.step)
            and pause.attempt == p.attempt + 1
        )
        reason = (
            self.records().refusal(self.number, pause) if refused and self.number and pause else ""
        )
        verdict = f"{REFUSED}（{reason}）" if refused else "受付"
        self.say(f"  {sent.step.clause:<14} {sent.answerer}  {verdict}")
        if refused and not sent.step.expect_refusal:
            raise DrillFailed(
                f"手順 {sent.step.number} 件目（条項 {sent.step.clause}）の回答が拒否されました: {reason}"
            )
        if sent.step.expect_refusal and not refused:
            raise DrillFailed(
                f"手順 {sent.step.number} 件目（条項 {sent.step.clause}）の回答は拒否される想定でしたが、"
                "受け付けられました"
            )

    def unused(self) -> list[Step]:
        """Answers the drill never asked for, e.g. for a branch the run did not take (an answer
        marked 任意 is not counted: its form is asked only in some configurations)."""
        steps = enumerate(self.scenario.steps)
        return [step for i, step in steps if i not in self.used and not step.optional]

    def _next_step(self, pause: Pause, schema: dict[str, Any]) -> Step:
        """The first unused answer for the paused clause; an optional one only if it fits."""
        for i, step in enumerate(self.scenario.steps):
            if i in self.used or slug(step.clause) != pause.clause:
                continue
            if step.optional:
                try:
                    fill(schema, step.answer, "")
                except ScenarioError:
                    continue
            self.used.add(i)
            return step
        raise DrillFailed(
            f"条項 {pause.clause.upper().replace('-', '.')} の回答がシナリオにありません"
            f"（一時停止キー {pause.key}）。手順に「条項: …」の回答を追加してください"
        )

    def _answer(self, run: Run, pause: Pause) -> None:
        schema = self.api.form_schema(run)
        if schema is None:
            return  # asked again on the next look, once the form is saved
        step = self._next_step(pause, schema)
        self.submit(run, schema, step)
        self.answered[run.id] = pause.key
        answerer = str(step.answer.get("回答者", "（回答者なし）"))
        self.waiting[run.id] = Submitted(step, pause, answerer)

    def submit(self, run: Run, schema: dict[str, Any], step: Step) -> None:
        """Resume the paused run with the step's answer (titled values → the form's names)."""
        where = f"手順 {step.number} 件目（条項 {step.clause}）の回答"
        status, reason = self.api.resume(run, fill(schema, step.answer, where))
        if status != "ACCEPT":
            raise DrillFailed(f"{where}をサーバーが受け付けませんでした: {reason}")


# --- expectations --------------------------------------------------------------------------


def check(scenario: Scenario, records: Records, number: str) -> list[tuple[bool, str]]:
    """Each expectation with OK/NG, e.g. (True, "通知 滋賀県 へ help_request")."""
    store = records.store
    incident = store.incident(number)
    notices = store.notices(incident.id)
    results: list[tuple[bool, str]] = []
    for expected in scenario.notices:
        found = [
            n
            for n in notices
            if n.document == expected.document
            and expected.recipient in n.recipient
            and (expected.clause is None or n.clause == expected.clause)
        ]
        ok = len(found) == expected.count if expected.count is not None else bool(found)
        results.append((ok, f"{expected.describe()}（記録: {len(found)} 件）"))
    if scenario.notices:
        unsent = [f"{n.document}→{n.recipient}" for n in notices if n.status != "sent"]
        results.append((not unsent, f"通知はすべて送付済み（未送付 {len(unsent)} 件）"))
    if scenario.final_state is not None:
        ok = incident.state == scenario.final_state
        results.append((ok, f"最終状態 {scenario.final_state}（記録: {incident.state}）"))
    return results
