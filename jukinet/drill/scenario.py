"""The scenario file: YAML with Japanese keys → `Scenario`, refused early with the line at fault."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from jukinet.drill.constants import EMERGENCY, REFUSED, STARTS, Start


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
    optional: bool = False  # 任意: used only if its clause asks a form the answer fits


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


ABSENCE_FIELDS = ("職員", "理由", "登録者", "承認コード")


@dataclass(frozen=True)
class Absence:
    person: str  # the roster label, as the form's choice shows it
    reason: str
    registrant: str
    code: str


def parse_absences(raw: Any) -> tuple[Absence, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ScenarioError("「不在」は職員ごとの項目の並び（リスト）で書いてください")
    found = []
    for i, item in enumerate(raw, start=1):
        entry = as_mapping(item, f"不在 {i} 件目")
        if missing := [f for f in ABSENCE_FIELDS if not str(entry.get(f) or "").strip()]:
            raise ScenarioError(f"不在 {i} 件目: {'、'.join(missing)} を書いてください")
        if unknown := sorted(set(entry) - set(ABSENCE_FIELDS)):
            raise ScenarioError(f"不在 {i} 件目: 定義されていない項目です: {'、'.join(unknown)}")
        found.append(Absence(*(str(entry[f]) for f in ABSENCE_FIELDS)))
    return tuple(found)


@dataclass(frozen=True)
class Scenario:
    name: str
    mode: str
    start: Start  # 開始: 緊急時対応 (発見報告) or 通報受付 (通報)
    opening: dict[str, Any]  # the 発見報告 or 通報 block, keyed by the parameter's field titles
    steps: tuple[Step, ...]
    notices: tuple[NoticeExpectation, ...]
    final_state: str | None
    absences: tuple[Absence, ...] = ()  # away during the drill (jukinet/drill/absences.py)


def as_mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where} は項目の組（マッピング）で書いてください")
    return {str(k): v for k, v in value.items()}


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        raise ScenarioError(f"{where} を文字列で書いてください")
    return str(value)


def _start(top: Mapping[str, Any], path: Path) -> Start:
    """開始 (default 緊急時対応) and the one block it needs: 発見報告 or 通報, not the other."""
    name = top.get("開始", EMERGENCY.name)
    start = STARTS.get(name) if isinstance(name, str) else None
    if start is None:
        choices = "".join(f"「{s}」" for s in STARTS)
        raise ScenarioError(
            f"シナリオ {path}: 「開始」に書けるのは{choices}のどれかです（書かれた値: {name}）"
        )
    for other in STARTS.values():
        if other is not start and other.block in top:
            raise ScenarioError(
                f"シナリオ {path}: 開始: {start.name} のシナリオには「{other.block}」ではなく"
                f"「{start.block}」を書いてください（「{other.block}」から始める場合は"
                f"「開始: {other.name}」と書きます）"
            )
    if start.block not in top:
        raise ScenarioError(
            f"シナリオ {path}: 「{start.block}」がありません（開始: {start.name} のシナリオに必要です）"
        )
    return start


def load_scenario(path: Path) -> Scenario:
    """Read and check the shape of a scenario file; field titles are checked against the forms later."""
    try:
        data = YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ScenarioError(f"シナリオ {path} を読み込めません: {exc}") from exc
    top = as_mapping(data, f"シナリオ {path}")
    known = {
        "名前",
        "実施区分",
        "開始",
        *(s.block for s in STARTS.values()),
        "不在",
        "手順",
        "期待",
    }
    if unknown := sorted(set(top) - known):
        raise ScenarioError(f"シナリオ {path}: 定義されていない項目です: {'、'.join(unknown)}")
    start = _start(top, path)
    steps = []
    raw_steps = top.get("手順")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError(f"シナリオ {path}: 「手順」に1件以上の回答を書いてください")
    for i, raw in enumerate(raw_steps, start=1):
        where = f"手順 {i} 件目"
        item = as_mapping(raw, where)
        if unknown := sorted(set(item) - {"条項", "回答", "期待", "任意"}):
            raise ScenarioError(f"{where}: 定義されていない項目です: {'、'.join(unknown)}")
        expect = item.get("期待")
        if expect not in (None, REFUSED):
            raise ScenarioError(f"{where}: 「期待」に書けるのは「{REFUSED}」だけです")
        optional = item.get("任意", False)
        if not isinstance(optional, bool):
            raise ScenarioError(f"{where}: 「任意」は true か false で書いてください")
        steps.append(
            Step(
                clause=_text(item.get("条項"), f"{where}の「条項」"),
                answer=as_mapping(item.get("回答"), f"{where}の「回答」"),
                expect_refusal=expect == REFUSED,
                number=i,
                optional=optional,
            )
        )
    expect = as_mapping(top.get("期待") or {}, "「期待」")
    if unknown := sorted(set(expect) - {"通知", "最終状態"}):
        raise ScenarioError(f"「期待」: 定義されていない項目です: {'、'.join(unknown)}")
    notices = []
    for i, raw in enumerate(expect.get("通知") or [], start=1):
        item = as_mapping(raw, f"期待の通知 {i} 件目")
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
        start=start,
        opening=as_mapping(top.get(start.block), f"「{start.block}」"),
        steps=tuple(steps),
        notices=tuple(notices),
        final_state=None if final is None else _text(final, "「最終状態」"),
        absences=parse_absences(top.get("不在")),
    )
