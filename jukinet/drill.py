"""`jukinet drill SCENARIO.yaml`: a scripted drill against the running product.

    jukinet drill scenarios/a-short-outage.yaml [--api http://127.0.0.1:4200/api] [--timeout 300]

Map of the module:
  load_scenario   the YAML file → Scenario (Japanese keys: 名前, 実施区分, 発見報告, 手順, 期待)
  fill            form field titles → property names, by the paused form's JSON schema
  Api             the few Prefect REST calls a clerk's browser makes (httpx; no Prefect import)
  Drill           starts 第1章, answers each paused step with the scenario's next answer for
                  its clause, follows the incident's chapter-2 run, until it ends
  check           the expectations (通知, 最終状態), read from the store like the product does

A step is matched by its clause: the part of the pause key before the first "--"
(flows/human.py `pause_key`: `<clause>--<step>--<attempt>`). A refused answer shows as the same
question asked again with the next attempt number. Exit codes: 0 every step and expectation as
scripted and every answer used, 1 the drill went otherwise (the message says where), 2 the
scenario cannot be used as written (its shape, a field title or a choice the form does not have).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import httpx
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

CHAPTER1_DEPLOYMENT = ("第1章 緊急時対応", "緊急時対応")  # flows/emergency.py, prefect.yaml
CHAPTER1_TAG = "第1章"
CHAPTER2_TAG = "第2章"
CHAPTER3_STATE = "第3章（手作業で対応）"  # tasks/chapter1.py hand_over_unauthorized
REFUSED = "拒否"
POLL_SECONDS = 0.5
DEFAULT_API = "http://127.0.0.1:4200/api"
ENDED_BADLY = {"FAILED", "CRASHED", "CANCELLED", "CANCELLING"}


class ScenarioError(Exception):
    """The scenario file cannot be used as written (exit 2)."""


class DrillFailed(Exception):
    """The drill did not go as scripted (exit 1)."""


# --- scenario ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    clause: str
    answer: dict[str, Any]
    expect_refusal: bool
    number: int  # 1-based position in 手順, for messages


@dataclass(frozen=True)
class NoticeExpectation:
    recipient: str  # substring of the outbox's recipient column
    document: str  # document id, e.g. help_request
    clause: str | None = None
    count: int | None = None  # None: at least one

    def describe(self) -> str:
        where = f"・{self.clause}" if self.clause else ""
        count = f" {self.count} 件" if self.count is not None else ""
        return f"通知 {self.document}{where} → {self.recipient}{count}"


@dataclass(frozen=True)
class Scenario:
    name: str
    mode: str
    report: dict[str, Any]
    steps: tuple[Step, ...]
    notices: tuple[NoticeExpectation, ...]
    final_state: str | None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where} は項目の組（マッピング）で書いてください")
    return {str(k): v for k, v in value.items()}


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        raise ScenarioError(f"{where} を文字列で書いてください")
    return str(value)


def load_scenario(path: Path) -> Scenario:
    """Read and check the shape of a scenario file; field titles are checked against the forms later."""
    try:
        data = YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ScenarioError(f"シナリオ {path} を読み込めません: {exc}") from exc
    top = _mapping(data, f"シナリオ {path}")
    known = {"名前", "実施区分", "発見報告", "手順", "期待"}
    if unknown := sorted(set(top) - known):
        raise ScenarioError(f"シナリオ {path}: 定義されていない項目です: {'、'.join(unknown)}")
    steps = []
    raw_steps = top.get("手順")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError(f"シナリオ {path}: 「手順」に1件以上の回答を書いてください")
    for i, raw in enumerate(raw_steps, start=1):
        where = f"手順 {i} 件目"
        item = _mapping(raw, where)
        if unknown := sorted(set(item) - {"条項", "回答", "期待"}):
            raise ScenarioError(f"{where}: 定義されていない項目です: {'、'.join(unknown)}")
        expect = item.get("期待")
        if expect not in (None, REFUSED):
            raise ScenarioError(f"{where}: 「期待」に書けるのは「{REFUSED}」だけです")
        steps.append(
            Step(
                clause=_text(item.get("条項"), f"{where}の「条項」"),
                answer=_mapping(item.get("回答"), f"{where}の「回答」"),
                expect_refusal=expect == REFUSED,
                number=i,
            )
        )
    expect = _mapping(top.get("期待") or {}, "「期待」")
    if unknown := sorted(set(expect) - {"通知", "最終状態"}):
        raise ScenarioError(f"「期待」: 定義されていない項目です: {'、'.join(unknown)}")
    notices = []
    for i, raw in enumerate(expect.get("通知") or [], start=1):
        item = _mapping(raw, f"期待の通知 {i} 件目")
        if unknown := sorted(set(item) - {"宛先", "文書", "条項", "件数"}):
            raise ScenarioError(
                f"期待の通知 {i} 件目: 定義されていない項目です: {'、'.join(unknown)}"
            )
        count = item.get("件数")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise ScenarioError(f"期待の通知 {i} 件目の「件数」は整数で書いてください")
        notices.append(
            NoticeExpectation(
                recipient=_text(item.get("宛先"), f"期待の通知 {i} 件目の「宛先」"),
                document=_text(item.get("文書"), f"期待の通知 {i} 件目の「文書」"),
                clause=str(item["条項"]) if item.get("条項") else None,
                count=count,
            )
        )
    final = expect.get("最終状態")
    return Scenario(
        name=_text(top.get("名前"), "「名前」"),
        mode=_text(top.get("実施区分"), "「実施区分」"),
        report=_mapping(top.get("発見報告"), "「発見報告」"),
        steps=tuple(steps),
        notices=tuple(notices),
        final_state=None if final is None else _text(final, "「最終状態」"),
    )


# --- forms: titles → property names ------------------------------------------------------


def slug(text: str) -> str:
    """The slug of flows/human.py `pause_key`: `C2.S5.MEETING` → `c2-s5-meeting`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow `$ref` (#/definitions/X or #/$defs/X); `anyOf` with null picks the other branch."""
    for _ in range(20):
        if "$ref" in node:
            name = str(node["$ref"]).rsplit("/", 1)[-1]
            defs = root.get("definitions") or root.get("$defs") or {}
            node = {**defs.get(name, {}), **{k: v for k, v in node.items() if k != "$ref"}}
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            node = {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}}
        else:
            return node
    return node


def _titles(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, str]:
    """title → property name; a property without its own title takes its referenced type's."""
    titles: dict[str, str] = {}
    for name, prop in (schema.get("properties") or {}).items():
        title = prop.get("title") or _resolve(prop, root).get("title") or name
        titles[str(title)] = name
    return titles


def _value(node: Mapping[str, Any], root: Mapping[str, Any], value: Any, where: str) -> Any:
    node = _resolve(node, root)
    if "enum" in node:
        choices = [str(c) for c in node["enum"]]
        if str(value) not in choices:
            raise ScenarioError(
                f"{where}: 「{value}」は選べません（選べる値: {'、'.join(choices)}）"
            )
        return str(value)
    kind = node.get("type")
    if kind == "object" and "properties" in node:
        return fill(node, value, where, root)
    if kind == "array":
        items = value if isinstance(value, list) else [value]
        inner = node.get("items") or {}
        return [_value(inner, root, v, f"{where} {i + 1}件目") for i, v in enumerate(items)]
    if kind == "string":
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    if kind == "boolean" and value in ("はい", "いいえ"):
        return value == "はい"
    return value


def fill(
    schema: Mapping[str, Any], answer: Any, where: str, root: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Answer keyed by titles (`{"原因": "電源"}`) → keyed by names (`{"cause": "電源"}`)."""
    root = schema if root is None else root
    titled = _mapping(answer, where)
    titles = _titles(schema, root)
    props = schema.get("properties") or {}
    result: dict[str, Any] = {}
    for key, value in titled.items():
        name = titles.get(key) or (key if key in props else None)
        if name is None:
            raise ScenarioError(
                f"{where}: 「{key}」という項目はフォームにありません（項目: {'、'.join(titles)}）"
            )
        result[name] = _value(props[name], root, value, f"{where}の「{key}」")
    by_name = {v: k for k, v in titles.items()}
    missing = [by_name.get(n, n) for n in schema.get("required") or [] if n not in result]
    if missing:
        raise ScenarioError(f"{where}: 必須の項目がありません: {'、'.join(missing)}")
    return result


# --- the Prefect REST API --------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    key: str
    clause: str  # slug
    step: str  # slug
    attempt: int

    @classmethod
    def parse(cls, key: str) -> Pause:
        parts = key.split("--")
        attempt = int(parts[-1]) if len(parts) >= 3 and parts[-1].isdigit() else 1
        return cls(key, parts[0], "--".join(parts[1:-1]), attempt)


@dataclass(frozen=True)
class Run:
    id: str
    name: str
    tags: tuple[str, ...]
    state: str  # state type: PAUSED, COMPLETED, …
    state_name: str
    message: str
    pause: Pause | None
    schema_key: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Run:
        state = data.get("state") or {}
        details = state.get("state_details") or {}
        key = details.get("pause_key")
        keyset = details.get("run_input_keyset") or {}
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            tags=tuple(data.get("tags") or ()),
            state=str(state.get("type") or ""),
            state_name=str(state.get("name") or ""),
            message=str(state.get("message") or ""),
            pause=Pause.parse(key) if state.get("type") == "PAUSED" and key else None,
            schema_key=keyset.get("schema"),
        )


class Api:
    """`GET /deployments/name/…`, `POST …/create_flow_run`, `/flow_runs/…` as the UI uses them.

    A busy server (503 "database is locked" on SQLite) or a restarting one is retried, as
    Prefect's own client does; starting a run carries an idempotency key, and a resume is only
    repeated while the run still waits at the same pause key.
    """

    RETRY_STATUS = frozenset({429, 502, 503, 504})
    RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 4.0, 8.0, 8.0)

    def __init__(self, base_url: str, auth_string: str | None = None) -> None:
        headers = {}
        if auth_string:
            headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=30.0, headers=headers)

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        json: Any = None,
        again: Callable[[], bool] | None = None,
    ) -> httpx.Response:
        """The response, after retrying transient failures while `again()` allows it."""
        for delay in (*self.RETRY_DELAYS, None):
            try:
                response = self.client.request(method, url, json=json)
                if response.status_code not in self.RETRY_STATUS:
                    return response
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if delay is None or (again is not None and not again()):
                break
            time.sleep(delay)
        raise DrillFailed(f"{what}に失敗しました（{problem}）")

    def _json(self, response: httpx.Response, what: str) -> Any:
        if response.status_code >= 400:
            raise DrillFailed(
                f"{what}に失敗しました（HTTP {response.status_code}）: {response.text}"
            )
        return response.json()

    def deployment(self, flow: str, name: str) -> dict[str, Any]:
        what = "デプロイの取得"
        response = self._send("GET", f"/deployments/name/{quote(flow)}/{quote(name)}", what)
        if response.status_code == 404:
            raise DrillFailed(
                f"デプロイ「{flow}/{name}」がありません。make up（prefect deploy --all）を確認してください"
            )
        found: dict[str, Any] = self._json(response, what)
        return found

    def start(self, deployment_id: str, parameters: dict[str, Any]) -> Run:
        body = {"parameters": parameters, "idempotency_key": f"drill-{uuid.uuid4()}"}
        url = f"/deployments/{deployment_id}/create_flow_run"
        what = "フロー実行の開始"
        return Run.parse(self._json(self._send("POST", url, what, body), what))

    def run(self, run_id: str) -> Run:
        what = "フロー実行の取得"
        return Run.parse(self._json(self._send("GET", f"/flow_runs/{run_id}", what), what))

    def tagged(self, tag: str) -> list[Run]:
        body = {"flow_runs": {"tags": {"all_": [tag]}}, "sort": "EXPECTED_START_TIME_ASC"}
        what = "フロー実行の検索"
        found = self._json(self._send("POST", "/flow_runs/filter", what, body), what)
        return [Run.parse(r) for r in found]

    def form_schema(self, run: Run) -> dict[str, Any] | None:
        """The paused form's JSON schema; None until the run has saved it.

        Prefect sets the Paused/Suspended state first and saves the form's schema just after,
        so a quick reader can see the pause before its form exists.
        """
        what = f"{run.name} の回答フォームの定義の取得"
        response = self._send("GET", f"/flow_runs/{run.id}/input/{run.schema_key}", what)
        if response.status_code == 404:
            return None
        schema: dict[str, Any] = self._json(response, what)
        return schema

    def resume(self, run: Run, run_input: dict[str, Any]) -> tuple[str, str]:
        """(status, reason): ACCEPT, or REJECT/ABORT with the server's reason."""

        def still_waiting() -> bool:
            try:
                return self.run(run.id).pause == run.pause
            except DrillFailed:
                return True

        url = f"/flow_runs/{run.id}/resume"
        try:
            response = self._send(
                "POST", url, "回答の送信", {"run_input": run_input}, still_waiting
            )
        except DrillFailed:
            if still_waiting():
                raise
            return "ACCEPT", ""  # an attempt went through before its answer was lost
        result = self._json(response, "回答の送信")
        details = result.get("details") or {}
        return str(result.get("status")), str(details.get("reason") or "")


# --- the store (read only) -----------------------------------------------------------------


class Records:
    """The product's store, opened as the product opens it (JUKINET_* environment)."""

    def __init__(self) -> None:
        from jukinet.config.loader import load_config
        from jukinet.settings import load_settings
        from jukinet.store.db import make_engine
        from jukinet.store.store import Store

        settings = load_settings()
        code = load_config(settings.config_dir).town.municipality.code
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

    def run(self) -> str:
        """Drive the incident to its end; returns the incident number."""
        flow, name = CHAPTER1_DEPLOYMENT
        deployment = self.api.deployment(flow, name)
        parameters = fill(
            deployment.get("parameter_openapi_schema") or {},
            {"発見報告": self.scenario.report, "実施区分": self.scenario.mode},
            "発見報告・実施区分",
        )
        first = self.api.start(str(deployment["id"]), parameters)
        self.first_id = first.id
        self.say(f"第1章 緊急時対応を開始しました（フロー実行 {first.id}）")
        deadline = time.monotonic() + self.timeout
        while True:
            if time.monotonic() > deadline:
                raise DrillFailed(self._timeout_message())
            if self._tick():
                assert self.number is not None
                return self.number
            time.sleep(POLL_SECONDS)

    def _timeout_message(self) -> str:
        where = f"事案 {self.number}" if self.number else f"フロー実行 {self.first_id}"
        return f"{self.timeout:.0f} 秒以内に{where}の対応が終わりませんでした"

    def _tick(self) -> bool:
        """One look at the incident's runs; True once it has ended as the scenario expects."""
        if self.number is None:
            first = self.api.run(self.first_id)
            if CHAPTER1_TAG in first.tags and first.name.split(" ")[0] in first.tags:
                self.number = first.name.split(" ")[0]
                self.say(f"事案番号 {self.number}")
            runs = [first]
        else:
            runs = self.api.tagged(self.number)
        ended = False
        for run in runs:
            if run.state == "PAUSED" and run.pause and self.answered.get(run.id) != run.pause.key:
                self._judge(run, run.pause)
                self._answer(run, run.pause)
            elif run.state == "COMPLETED":
                self._judge(run, None)
                ended = ended or CHAPTER2_TAG in run.tags
            elif run.state in ENDED_BADLY:
                ended = self._ended_badly(run) or ended
        return ended

    def _ended_badly(self, run: Run) -> bool:
        chapter1 = CHAPTER1_TAG in run.tags or run.id == self.first_id
        if run.state == "FAILED" and chapter1 and self.scenario.final_state == CHAPTER3_STATE:
            self._judge(run, None)
            self.say(f"第1章のフロー実行は想定どおり失敗で終わりました: {run.message}")
            return True
        raise DrillFailed(
            f"フロー実行「{run.name}」が {run.state_name} で終わりました: {run.message or '理由不明'}"
        )

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
        """Answers the drill never asked for, e.g. for a branch the run did not take."""
        return [step for i, step in enumerate(self.scenario.steps) if i not in self.used]

    def _next_step(self, pause: Pause) -> Step:
        for i, step in enumerate(self.scenario.steps):
            if i not in self.used and slug(step.clause) == pause.clause:
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
        step = self._next_step(pause)
        run_input = fill(
            schema, step.answer, f"手順 {step.number} 件目（条項 {step.clause}）の回答"
        )
        status, reason = self.api.resume(run, run_input)
        if status != "ACCEPT":
            raise DrillFailed(
                f"手順 {step.number} 件目（条項 {step.clause}）の回答をサーバーが受け付けませんでした: {reason}"
            )
        self.answered[run.id] = pause.key
        answerer = str(step.answer.get("回答者", "（回答者なし）"))
        self.waiting[run.id] = Submitted(step, pause, answerer)


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


def main(
    argv: list[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """`jukinet drill`; the streams default to sys.stdout/sys.stderr (tests run drills side by side)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="jukinet drill",
        description="訓練シナリオに沿って緊急時対応を実行し、結果を確認します。",
    )
    parser.add_argument("scenario", type=Path, help="シナリオ（YAML）")
    parser.add_argument(
        "--api", default=os.environ.get("PREFECT_API_URL") or DEFAULT_API, help="Prefect API の URL"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="全体の制限時間（秒）")
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"エラー: {exc}", file=err)
        return 2
    say(f"訓練シナリオ「{scenario.name}」（{scenario.mode}）を {args.api} で実行します")
    cache: list[Records] = []

    def records() -> Records:
        if not cache:
            cache.append(Records())
        return cache[0]

    if scenario.mode != "訓練":
        say(
            f"注意: 実施区分「{scenario.mode}」で実行します。通知は訓練用ではなく実際の宛先へ送られます"
        )
    api = Api(args.api, os.environ.get("PREFECT_API_AUTH_STRING"))
    drill = Drill(scenario, api, records, args.timeout, say)
    try:
        number = drill.run()
        results = check(scenario, records(), number)
    except ScenarioError as exc:
        print(f"エラー: {exc}", file=err)
        return 2
    except DrillFailed as exc:
        print(f"不合格: {exc}", file=err)
        return 1
    finally:
        api.client.close()
        for opened in cache:
            opened.store.engine.dispose()
    unused = "、".join(f"{s.number} 件目（{s.clause}）" for s in drill.unused()) or "なし"
    results.append((unused == "なし", f"シナリオの回答をすべて使用（未使用: {unused}）"))
    say("期待の確認:")
    for ok, text in results:
        say(f"  {'OK' if ok else 'NG'}  {text}")
    if all(ok for ok, _ in results):
        say(f"合格: 事案 {number} はシナリオどおりに終わりました")
        return 0
    print(f"不合格: 事案 {number} に期待と異なる点があります", file=err)
    return 1


if __name__ == "__main__":
    sys.exit(main())
