"""Every drill scenario in scenarios/ names only fields and choices its forms have (no server).

The answers are filled through `jukinet.drill.fill`, the runner's own title → name mapping, against
the JSON schemas the product shows: the forms of jukinet.forms with 回答者/承認コード added as
flows/human.py adds them, and the parameters of the deployment the scenario starts (第1章 緊急時対応
or 第3章 通報受付). The scenario file's own shape (開始 and its block) and the runner's reading of
runs (the incident number, the end of the drill) are checked here too, against a fake API.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prefect import Flow
from prefect.utilities.callables import parameter_schema
from ruamel.yaml import YAML

from flows.absence import absence_defaults
from flows.emergency import emergency_response
from flows.human import pause_key
from flows.notification import outside_notification
from jukinet.config.loader import load_config
from jukinet.drill import (
    Drill,
    DrillFailed,
    Pause,
    Run,
    Scenario,
    ScenarioError,
    fill,
    load_scenario,
    runner,
    slug,
)
from jukinet.drill.absences import AWAY
from jukinet.drill.constants import EMERGENCY, NOTIFICATION, STARTS
from jukinet.forms.access_logs import LogSelection
from jukinet.forms.chapter1 import Classification
from jukinet.forms.chapter2 import (
    ChiefJudgement,
    FailureIdentification,
    IntegrityConfirmation,
    MeetingConvening,
    MeetingResult,
    OfficerReport,
    PreventionPlan,
    PublicityApproval,
    RepairReport,
    ResumptionApproval,
)
from jukinet.forms.chapter3 import (
    CauseReport,
    Determination,
    EmergencyInstruction,
    EmergencyMeasures,
    Findings,
    MeetingNeed,
    MeetingResult3,
    NotificationAnalysis,
    OfficerForwarding,
    PermanentMeasures,
    ResumptionMeasures,
    Review,
    StopExecution,
    UnauthorizedReport,
    analysis_problems,
    determination_problems,
    instruction_problems,
    meeting_problems,
    permanent_problems,
    report_problems,
)
from jukinet.forms.common import Form, with_answerer, with_defaults
from jukinet.forms.staffing import absence_form
from jukinet.settings import PROJECT_ROOT

SCENARIOS = sorted((PROJECT_ROOT / "scenarios").glob("*.yaml"))
EXAMPLE_CONFIG = PROJECT_ROOT / "deployments" / "config"

# The form asked under each clause (flows/emergency.py, flows/failure.py, flows/unauthorized.py).
# C2.S5 and C3.S6.1 ask twice: the integrity check, then the chief's approval.
FORMS: dict[str, tuple[type[Form], ...]] = {
    "C1.2": (Classification,),
    "C2.S1.1": (FailureIdentification,),
    "C2.S1.3": (OfficerReport,),
    "C2.S2.1": (ChiefJudgement,),
    "C2.S3.1": (MeetingConvening,),
    "C2.S3.3": (MeetingResult,),
    "C2.S3.D6": (PublicityApproval,),
    "C2.S4": (RepairReport,),
    "C2.S5": (IntegrityConfirmation, ResumptionApproval),
    "C2.S5.MEETING": (ResumptionApproval,),
    "C2.3": (PreventionPlan,),
    "C3.S1.2": (UnauthorizedReport,),
    "C3.S1.3": (NotificationAnalysis,),
    "C3.S1.4": (OfficerForwarding,),
    "C3.S2": (EmergencyInstruction,),
    "C3.S2.2": (StopExecution,),
    "C3.S2.1": (EmergencyMeasures,),
    "C3.S3": (Determination,),
    "C3.S3.2": (CauseReport,),
    "C3.S3.3": (MeetingNeed,),
    "C3.S4.1": (MeetingConvening,),
    "C3.S4.3": (MeetingResult3,),
    "C3.S4.D6": (PublicityApproval,),
    "C3.S4.D8": (Review,),
    "C3.S5": (Findings, LogSelection),  # the log selection only where access_logs is set
    "C3.S6.1": (IntegrityConfirmation, ResumptionApproval),
    "C3.S4.D9": (ResumptionApproval,),
    "C3.S6.2": (ResumptionMeasures,),
    "C3.2": (PermanentMeasures,),
}
# The checks flows/unauthorized.py passes to `ask` that need nothing but the answer.
CHECKS: dict[type[Form], Callable[[Any], list[str]]] = {
    UnauthorizedReport: report_problems,
    NotificationAnalysis: analysis_problems,
    EmergencyInstruction: instruction_problems,
    Determination: determination_problems,
    MeetingResult3: meeting_problems,
    PermanentMeasures: permanent_problems,
}
START_FLOWS: dict[str, Flow[..., Any]] = {
    EMERGENCY.name: emergency_response,
    NOTIFICATION.name: outside_notification,
}


def form_schema(form: type[Form]) -> dict[str, Any]:
    people = [p.label for p in load_config(EXAMPLE_CONFIG).roster.people]
    return with_answerer(form, people).model_json_schema()


def scenario_ids() -> list[str]:
    return [p.stem for p in SCENARIOS]


@pytest.fixture(params=SCENARIOS, ids=scenario_ids())
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return load_scenario(request.param)


def test_there_is_a_scenario_per_branch() -> None:
    assert len(SCENARIOS) >= 18
    starts = {load_scenario(p).start for p in SCENARIOS}
    assert starts == set(STARTS.values())


def test_the_opening_and_mode_fill_the_deployment_parameters(scenario: Scenario) -> None:
    schema = parameter_schema(START_FLOWS[scenario.start.name]).model_dump_for_openapi()
    assert schema["properties"][next(iter(schema["properties"]))]["title"] == scenario.start.block
    opening = {scenario.start.block: scenario.opening, "実施区分": scenario.mode}
    params = fill(schema, opening, scenario.name)
    assert set(params) == set(schema["required"])


def test_each_start_names_a_flow_and_deployment_of_the_product() -> None:
    deployments = YAML(typ="safe").load((PROJECT_ROOT / "prefect.yaml").read_text("utf-8"))
    names = {d["name"] for d in deployments["deployments"]}
    for start in STARTS.values():
        flow, deployment = start.deployment
        assert START_FLOWS[start.name].name == flow
        assert deployment in names


def _filled(scenario: Scenario, clause: str, answer: dict[str, Any]) -> Form:
    """The answer as the form it fills (the first of the clause's forms that takes it)."""
    errors = []
    for form in FORMS[clause]:
        try:
            values = fill(form_schema(form), answer, f"{scenario.name} {clause}")
        except ScenarioError as exc:
            errors.append(str(exc))
            continue
        code = values.pop("approval_code")
        assert isinstance(code, str)
        return form.model_validate({k: v for k, v in values.items() if k != "answerer"})
    pytest.fail("\n".join(errors))


def test_every_answer_fills_its_form(scenario: Scenario) -> None:
    for step in scenario.steps:
        assert step.clause in FORMS, (
            f"{scenario.name}: 条項 {step.clause} に回答フォームがありません"
        )
        _filled(scenario, step.clause, step.answer)


def test_answers_meant_to_be_accepted_pass_the_form_checks(scenario: Scenario) -> None:
    for step in scenario.steps:
        answer = _filled(scenario, step.clause, step.answer)
        check = CHECKS.get(type(answer))
        if check is not None and not step.expect_refusal:
            assert check(answer) == [], f"{scenario.name} 手順 {step.number} 件目（{step.clause}）"


def test_answerers_are_in_the_roster(scenario: Scenario) -> None:
    people = {p.label for p in load_config(EXAMPLE_CONFIG).roster.people}
    for step in scenario.steps:
        assert step.answer["回答者"] in people
    for absence in scenario.absences:
        assert {absence.person, absence.registrant} <= people


def test_absences_fill_the_absence_form(scenario: Scenario) -> None:
    people = [p.label for p in load_config(EXAMPLE_CONFIG).roster.people]
    form = with_defaults(with_answerer(absence_form(people), people), absence_defaults())
    schema = form_schema(form)
    for absence in scenario.absences:
        values = fill(
            schema,
            {"回答者": absence.registrant, "承認コード": absence.code, "不在の職員": absence.person}
            | {"登録の種類": AWAY, "理由": absence.reason},
            scenario.name,
        )
        assert values["absent"] == absence.person and values["action"] == AWAY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("不在: {職員: x}\n", "「不在」は職員ごとの項目の並び"),
        ("不在:\n  - {職員: x, 理由: y}\n", "不在 1 件目: 登録者、承認コード を書いてください"),
        (
            "不在:\n  - {職員: x, 理由: y, 登録者: z, 承認コード: '1', 期間: 1}\n",
            "不在 1 件目: 定義されていない項目です: 期間",
        ),
    ],
)
def test_a_wrong_absence_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "名前: x\n実施区分: 訓練\n発見報告: {}\n" + text + "手順:\n  - {条項: C1.2, 回答: {}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_a_misspelt_title_is_named() -> None:
    with pytest.raises(ScenarioError, match="「原囚」という項目はフォームにありません"):
        fill(form_schema(FailureIdentification), {"原囚": "x"}, "C2.S1.1")


def test_a_choice_that_does_not_exist_lists_the_choices() -> None:
    with pytest.raises(ScenarioError, match="選べる値: 整合性を確認した"):
        fill(
            form_schema(IntegrityConfirmation),
            {"回答者": "大滝 健二（住民課長）", "承認コード": "3333", "本人確認情報の整合性": "OK"},
            "C2.S5",
        )


def test_a_missing_required_field_is_named() -> None:
    with pytest.raises(ScenarioError, match="必須の項目がありません: 確認方法"):
        fill(
            form_schema(IntegrityConfirmation),
            {
                "回答者": "大滝 健二（住民課長）",
                "承認コード": 3333,
                "本人確認情報の整合性": "整合性を確認した（不整合なし）",
            },
            "C2.S5",
        )


def test_values_are_converted_as_the_schema_says() -> None:
    values = fill(
        form_schema(RepairReport),
        {
            "回答者": "大滝 健二（住民課長）",
            "承認コード": 3333,
            "作業の状況": "復旧した",
            "日付": date(2026, 11, 27),
            "時刻": "16:45",
            "実施した修理・復旧の措置": "交換",
        },
        "C2.S4",
    )
    assert values["approval_code"] == "3333"
    assert values["reported_on"] == "2026-11-27"


def test_unknown_scenario_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "名前: x\n実施区分: 訓練\n発見報告: {}\n手順:\n  - {条項: C1.2, 回答: {}, 期待: 受付}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="「期待」に書けるのは「拒否」だけです"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("clause", "step", "attempt"),
    [("C1.2", "C1.2", 1), ("C2.S2.1", "C2.S2", 2), ("C2.S5.MEETING", "C2.S5.MEETING.r1", 3)],
)
def test_pause_keys_are_read_as_human_py_writes_them(clause: str, step: str, attempt: int) -> None:
    pause = Pause.parse(pause_key(clause, step, attempt))
    assert (pause.clause, pause.step, pause.attempt) == (slug(clause), slug(step), attempt)


def test_the_runner_does_not_import_prefect() -> None:
    code = "import sys, jukinet.drill; print(sorted(m for m in sys.modules if 'prefect' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- 開始: how a scenario opens its incident -----------------------------------------------------

STEPS = "手順:\n  - {条項: C3.S1.3, 回答: {回答者: 犬上 一郎（住民課）}}\n"
NOTIFICATION_BLOCK = (
    "通報:\n  通報元: 全国センター\n  通報元の部署・担当者: 運用監視担当\n  受信日: 2027-01-12\n"
    '  受信時刻: "09:15"\n  通報の内容: 不審な通信を検知した\n  受信者: 犬上 一郎（住民課）\n'
)
REPORT_BLOCK = "発見報告: {発見日: 2026-11-27}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text("名前: x\n実施区分: 訓練\n" + text, encoding="utf-8")
    return path


def test_without_a_start_the_scenario_opens_with_the_discovery_report(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, REPORT_BLOCK + STEPS))
    assert scenario.start is EMERGENCY
    assert scenario.opening == {"発見日": date(2026, 11, 27)}


def test_a_notification_start_reads_the_notification_block(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, "開始: 通報受付\n" + NOTIFICATION_BLOCK + STEPS))
    assert scenario.start is NOTIFICATION
    assert scenario.opening["通報元"] == "全国センター"
    schema = parameter_schema(outside_notification).model_dump_for_openapi()
    params = fill(schema, {"通報": scenario.opening, "実施区分": scenario.mode}, scenario.name)
    assert params["notification"]["received_on"] == "2027-01-12"
    assert params["mode"] == "訓練"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "開始: 通報\n" + NOTIFICATION_BLOCK,
            "「開始」に書けるのは「緊急時対応」「通報受付」のどれかです（書かれた値: 通報）",
        ),
        ("開始: 通報受付\n", "「通報」がありません（開始: 通報受付 のシナリオに必要です）"),
        (
            "開始: 通報受付\n" + REPORT_BLOCK,
            "開始: 通報受付 のシナリオには「発見報告」ではなく「通報」を書いてください"
            "（「発見報告」から始める場合は「開始: 緊急時対応」と書きます）",
        ),
        (
            "開始: 通報受付\n" + NOTIFICATION_BLOCK + REPORT_BLOCK,
            "開始: 通報受付 のシナリオには「発見報告」ではなく「通報」を書いてください",
        ),
        ("", "「発見報告」がありません（開始: 緊急時対応 のシナリオに必要です）"),
        (
            NOTIFICATION_BLOCK,
            "開始: 緊急時対応 のシナリオには「通報」ではなく「発見報告」を書いてください"
            "（「通報」から始める場合は「開始: 通報受付」と書きます）",
        ),
        (
            "開始: 通報受付\n通報: 全国センター\n",
            "「通報」 は項目の組（マッピング）で書いてください",
        ),
    ],
    ids=[
        "unknown",
        "missing",
        "report-instead",
        "both",
        "no-report",
        "notification-only",
        "not-a-map",
    ],
)
def test_a_start_without_its_block_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_scenario(write(tmp_path, text + STEPS))


def test_a_wrong_notification_field_is_named_when_filled(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(
            tmp_path, "開始: 通報受付\n" + NOTIFICATION_BLOCK.replace("通報元:", "通報者:") + STEPS
        )
    )
    schema = parameter_schema(outside_notification).model_dump_for_openapi()
    with pytest.raises(ScenarioError, match="「通報者」という項目はフォームにありません"):
        fill(schema, {"通報": scenario.opening, "実施区分": scenario.mode}, "通報・実施区分")


# --- choices written by their leading part ------------------------------------------------------


def test_a_choice_may_be_written_by_its_leading_part() -> None:
    values = fill(
        form_schema(Determination),
        {
            "回答者": "芹川 直樹（総務課 情報係）",
            "承認コード": "5555",
            "脅威度": "レベル3",
            "該当する計画書の事例": [
                "レベル3-(3)",
                "レベル2-(2) ファイアウォールを通過しなかった不正アクセス",
            ],
            "判定の理由": "x",
        },
        "C3.S3",
    )
    assert values["level"] == "レベル3（本人確認情報等に脅威を及ぼし、または及ぼすおそれが高い）"
    assert values["examples"] == [
        "レベル3-(3) 正当な権限によるものと確認することができない統合端末等の操作",
        "レベル2-(2) ファイアウォールを通過しなかった不正アクセス",
    ]


@pytest.mark.parametrize("value", ["レベル", "レベル3-(", "レベル3-(33)", ""])
def test_a_leading_part_must_name_exactly_one_choice_up_to_a_break(value: str) -> None:
    with pytest.raises(
        ScenarioError, match=re.escape(f"「{value}」は選べません（選べる値: レベル1")
    ):
        fill(form_schema(Determination), {"該当する計画書の事例": [value]}, "C3.S3")


# --- the runner against a fake API ---------------------------------------------------------------


class FakeApi:
    """Plays the product: `runs` are what the server holds; `answered` records each resume."""

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.answered: list[tuple[str, dict[str, Any]]] = []

    def deployment(self, flow: str, name: str) -> dict[str, Any]:
        found: dict[tuple[str, str], Flow[..., Any]] = {
            EMERGENCY.deployment: emergency_response,
            NOTIFICATION.deployment: outside_notification,
        }
        schema = parameter_schema(found[(flow, name)]).model_dump_for_openapi()
        return {"id": f"{flow}/{name}", "parameter_openapi_schema": schema}

    def start(self, deployment_id: str, parameters: dict[str, Any]) -> Run:
        self.started.append((deployment_id, parameters))
        return self.runs[0]

    def run(self, run_id: str) -> Run:
        return next(r for r in self.runs if r.id == run_id)

    def tagged(self, *tags: str) -> list[Run]:
        return [r for r in self.runs if all(tag in r.tags for tag in tags)]

    def form_schema(self, run: Run) -> dict[str, Any]:
        return form_schema(OfficerForwarding)

    def resume(self, run: Run, run_input: dict[str, Any]) -> tuple[str, str]:
        self.answered.append((run.id, run_input))
        assert run.pause is not None
        self.runs[self.runs.index(run)] = Run(
            run.id, run.name, run.tags, "RUNNING", "Running", "", None, None
        )
        return "ACCEPT", ""


def a_run(
    run_id: str, name: str, tags: tuple[str, ...], state: str = "RUNNING", key: str | None = None
) -> Run:
    pause = Pause.parse(key) if key else None
    return Run(run_id, name, tags, state, state.title(), "", pause, "schema" if key else None)


def drill_of(tmp_path: Path, text: str, api: FakeApi) -> Drill:
    scenario = load_scenario(write(tmp_path, text))
    return Drill(scenario, api, lambda: pytest.fail("no refusal expected"), 5.0, lambda _: None)  # type: ignore[arg-type]


NUMBER = "令和8年度-007"
FORWARD_STEP = (
    "手順:\n  - {条項: C3.S1.4, 回答: {回答者: 大滝 健二（住民課長）, 承認コード: '3333'}}\n"
)


def test_a_notification_drill_finds_the_number_and_ends_with_chapter_3(tmp_path: Path) -> None:
    first = a_run(
        "n1", f"{NUMBER} 第3章 通報受付 2027-01-12", (NUMBER, "通報受付", "訓練"), "COMPLETED"
    )
    chapter3 = a_run(
        "c3", f"{NUMBER} 第3章 不正行為", (NUMBER, "第3章", "訓練"), "PAUSED", "c3-s1-4--c3-s1-4--1"
    )
    api = FakeApi([first, chapter3])
    drill = drill_of(tmp_path, "開始: 通報受付\n" + NOTIFICATION_BLOCK + FORWARD_STEP, api)
    drill.first_id = "n1"
    assert drill._tick() is False  # the number, from the notification run's name and tags
    assert drill.number == NUMBER
    assert drill._tick() is False  # the chapter-3 run's pause is answered
    assert api.answered == [("c3", {"answerer": "大滝 健二（住民課長）", "approval_code": "3333"})]
    api.runs[1] = a_run("c3", chapter3.name, chapter3.tags, "COMPLETED")
    assert drill._tick() is True
    assert drill.unused() == []


def test_the_drill_starts_the_deployment_of_its_start(tmp_path: Path) -> None:
    first = a_run("n1", f"{NUMBER} 第3章 通報受付 2027-01-12", (NUMBER, "通報受付"), "COMPLETED")
    chapter3 = a_run("c3", f"{NUMBER} 第3章 不正行為", (NUMBER, "第3章"), "COMPLETED")
    api = FakeApi([first, chapter3])
    text = "開始: 通報受付\n" + NOTIFICATION_BLOCK + FORWARD_STEP
    assert drill_of(tmp_path, text, api).run() == NUMBER
    ((deployment, parameters),) = api.started
    assert deployment == "第3章 通報受付/通報受付"
    assert parameters["notification"]["notifier"] == "全国センター"


def test_a_run_named_before_its_tags_are_set_is_not_taken_for_the_incident(tmp_path: Path) -> None:
    api = FakeApi([a_run("e1", "緊急時対応 2026-11-27", ())])
    drill = drill_of(tmp_path, REPORT_BLOCK + FORWARD_STEP, api)
    drill.first_id = "e1"
    assert drill._tick() is False and drill.number is None
    api.runs[0] = a_run(
        "e1", f"{NUMBER} 第1章 緊急時対応 2026-11-27", (NUMBER, "第1章"), "COMPLETED"
    )
    assert drill._tick() is False  # 第1章 completing does not end the drill
    assert drill.number == NUMBER


def test_a_chapter_1_run_that_fails_fails_the_drill(tmp_path: Path) -> None:
    failed = a_run("e1", f"{NUMBER} 第1章 緊急時対応 2026-11-27", (NUMBER, "第1章"), "FAILED")
    api = FakeApi([failed])
    drill = drill_of(tmp_path, REPORT_BLOCK + FORWARD_STEP, api)
    drill.first_id = "e1"
    drill.number = NUMBER
    with pytest.raises(DrillFailed, match="が Failed で終わりました"):
        drill._tick()


def test_a_crashed_run_is_waited_for_until_it_is_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker died: the run is Crashed until 中断した実行の再開 schedules it again; the drill
    waits (and says so), and fails only when no restart comes within the grace period."""
    name = f"{NUMBER} 第1章 緊急時対応 2026-11-27"
    api = FakeApi([a_run("e1", name, (NUMBER, "第1章"), "CRASHED")])
    said: list[str] = []
    drill = drill_of(tmp_path, REPORT_BLOCK + FORWARD_STEP, api)
    drill.say = said.append
    drill.first_id, drill.number = "e1", NUMBER
    assert drill._tick() is False
    assert any("中断しました" in line and "再実行を待ちます" in line for line in said)
    api.runs[0] = a_run("e1", name, (NUMBER, "第1章"), "SCHEDULED")
    assert drill._tick() is False
    assert said[-1] == f"  フロー実行「{name}」が再実行されました"

    api.runs[0] = a_run("e1", name, (NUMBER, "第1章"), "CRASHED")
    monkeypatch.setattr(runner, "RESTART_GRACE_SECONDS", -1.0)
    with pytest.raises(DrillFailed, match="が Crashed で終わりました"):
        drill._tick()


OPTIONAL_LOG_STEP = (
    "  - {条項: C3.S1.4, 任意: true, 回答: {回答者: 霊仙 正（副町長）, 承認コード: '6666',"
    " 解析: ログを解析する}}\n"
)


def test_an_optional_answer_is_skipped_when_its_form_is_not_asked(tmp_path: Path) -> None:
    """A 任意 answer fits the log-selection form only; the paused form here is another one, so
    the next answer of the clause is given and the optional one is not reported unused."""
    first = a_run("n1", f"{NUMBER} 第3章 通報受付 2027-01-12", (NUMBER, "通報受付"), "COMPLETED")
    chapter3 = a_run(
        "c3", f"{NUMBER} 第3章 不正行為", (NUMBER, "第3章"), "PAUSED", "c3-s1-4--c3-s1-4--1"
    )
    api = FakeApi([first, chapter3])
    steps = FORWARD_STEP.replace("手順:\n", "手順:\n" + OPTIONAL_LOG_STEP)
    drill = drill_of(tmp_path, "開始: 通報受付\n" + NOTIFICATION_BLOCK + steps, api)
    assert drill.scenario.steps[0].optional
    drill.first_id = "n1"
    drill._tick()
    drill._tick()
    assert api.answered == [("c3", {"answerer": "大滝 健二（住民課長）", "approval_code": "3333"})]
    assert drill.unused() == []


def test_optional_must_be_true_or_false(tmp_path: Path) -> None:
    steps = "手順:\n" + OPTIONAL_LOG_STEP.replace("true", "はい")
    with pytest.raises(ScenarioError, match="「任意」は true か false"):
        load_scenario(write(tmp_path, "開始: 通報受付\n" + NOTIFICATION_BLOCK + steps))


def test_with_several_towns_the_drill_follows_only_its_towns_runs(tmp_path: Path) -> None:
    """Every town's first incident is 令和8年度-001: the runs also carry `団体:<code>`."""
    number = "令和8年度-001"
    ours, theirs = ("団体:252026",), ("団体:254436",)
    first = a_run(
        "n1",
        f"彦根市 {number} 第3章 通報受付 2027-01-12",
        (number, "通報受付", *ours),
        "COMPLETED",
    )
    other = a_run(
        "x3",
        f"多賀町 {number} 第3章 不正行為",
        (number, "第3章", *theirs),
        "PAUSED",
        "c3-s1-4--c3-s1-4--1",
    )
    chapter3 = a_run(
        "c3",
        f"彦根市 {number} 第3章 不正行為",
        (number, "第3章", *ours),
        "PAUSED",
        "c3-s1-4--c3-s1-4--1",
    )
    api = FakeApi([first, other, chapter3])
    drill = drill_of(tmp_path, "開始: 通報受付\n" + NOTIFICATION_BLOCK + FORWARD_STEP, api)
    drill.first_id = "n1"
    assert drill._tick() is False
    assert (drill.number, drill.town_tag) == (number, "団体:252026")
    assert drill._tick() is False
    assert [run_id for run_id, _ in api.answered] == ["c3"]
