"""Every drill scenario in scenarios/ names only fields and choices its forms have (no server).

The answers are filled through `jukinet.drill.fill`, the runner's own title → name mapping, against
the JSON schemas the product shows: the forms of jukinet.forms with 回答者/承認コード added as
flows/human.py adds them, and the chapter-1 deployment's parameters.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prefect.utilities.callables import parameter_schema

from flows.emergency import emergency_response
from flows.human import pause_key
from jukinet.config.loader import load_config
from jukinet.drill import Pause, Scenario, ScenarioError, fill, load_scenario, slug
from jukinet.forms.chapter1 import Classification
from jukinet.forms.chapter2 import (
    ChiefJudgement,
    FailureIdentification,
    IntegrityConfirmation,
    MeetingConvening,
    MeetingResult,
    OfficerReport,
    PreventionPlan,
    RepairReport,
    ResumptionApproval,
)
from jukinet.forms.common import Form, with_answerer
from jukinet.settings import PROJECT_ROOT

SCENARIOS = sorted((PROJECT_ROOT / "scenarios").glob("*.yaml"))
EXAMPLE_CONFIG = PROJECT_ROOT / "deployments" / "config"

# The form asked under each clause (flows/emergency.py, flows/failure.py). C2.S5 asks twice:
# the integrity check, then the chief's approval.
FORMS: dict[str, tuple[type[Form], ...]] = {
    "C1.2": (Classification,),
    "C2.S1.1": (FailureIdentification,),
    "C2.S1.3": (OfficerReport,),
    "C2.S2.1": (ChiefJudgement,),
    "C2.S3.1": (MeetingConvening,),
    "C2.S3.3": (MeetingResult,),
    "C2.S4": (RepairReport,),
    "C2.S5": (IntegrityConfirmation, ResumptionApproval),
    "C2.S5.MEETING": (ResumptionApproval,),
    "C2.3": (PreventionPlan,),
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
    assert len(SCENARIOS) >= 10


def test_report_and_mode_fill_the_deployment_parameters(scenario: Scenario) -> None:
    schema = parameter_schema(emergency_response).model_dump_for_openapi()
    params = fill(schema, {"発見報告": scenario.report, "実施区分": scenario.mode}, scenario.name)
    assert set(params) == {"report", "mode"}


def test_every_answer_fills_its_form(scenario: Scenario) -> None:
    for step in scenario.steps:
        assert step.clause in FORMS, (
            f"{scenario.name}: 条項 {step.clause} に回答フォームがありません"
        )
        errors = []
        for form in FORMS[step.clause]:
            try:
                values = fill(form_schema(form), step.answer, f"{scenario.name} {step.clause}")
            except ScenarioError as exc:
                errors.append(str(exc))
                continue
            code = values.pop("approval_code")
            assert isinstance(code, str)
            form.model_validate({k: v for k, v in values.items() if k != "answerer"})
            break
        else:
            pytest.fail("\n".join(errors))


def test_answerers_are_in_the_roster(scenario: Scenario) -> None:
    people = {p.label for p in load_config(EXAMPLE_CONFIG).roster.people}
    for step in scenario.steps:
        assert step.answer["回答者"] in people


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
    from datetime import date

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
