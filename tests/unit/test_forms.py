"""Forms staff fill in: Japanese schema, the answerer's identity, checks the schema cannot express."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from jukinet.drill.schema import resolve as follow
from jukinet.forms import chapter1, chapter2
from jukinet.forms.chapter1 import Classification, DiscoveryReport
from jukinet.forms.chapter2 import (
    ChiefJudgement,
    FreePreventionItem,
    MeetingResult,
    OutageJudgement,
    PreventionItem,
    PreventionPlan,
    ResumptionBy,
    prevention_problems,
)
from jukinet.forms.common import (
    ANSWERER_FIELD,
    CODE_FIELD,
    REDACTED,
    REMOVED,
    Form,
    jst_datetime,
    personal_data_problems,
    public_payload,
    redacted,
    with_answerer,
)
from jukinet.plan import EmergencyClass, SystemMeasure

FORMS: list[type[Form]] = sorted(
    {
        v
        for module in (chapter1, chapter2)
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Form) and v is not Form
    },
    key=lambda f: f.__name__,
)
PEOPLE = ["犬上 一郎（住民課）", "多賀 花子（住民課）", "霊仙 正（副町長）"]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def judgement(**values: Any) -> dict[str, Any]:
    return {
        "instructions": "データの書き込みを止める",
        "judgement": OutageJudgement.SHORT.value,
        "reason": "部品交換で直る",
        **values,
    }


def nothing() -> PreventionItem:
    return PreventionItem()


def plan(**items: Any) -> PreventionPlan:
    fields = {
        "t1_monitoring": nothing(),
        "t2_information": nothing(),
        "o1_inspection": nothing(),
        "o2_overhaul": nothing(),
        "o3_spares": nothing(),
        "o4_training": nothing(),
    }
    return PreventionPlan(**{**fields, **items})


def meeting(d1: SystemMeasure, d8: ResumptionBy) -> MeetingResult:
    return MeetingResult(
        measures_approval="承認する",
        d1_measure=d1,
        d4_structure="統括責任者の指揮",
        d5_residents="窓口で説明",
        d7_alternatives="復旧後に対応",
        d8_resumption=d8,
    )


class TestWithAnswerer:
    def test_adds_answerer_and_code(self) -> None:
        form = with_answerer(ChiefJudgement, PEOPLE)
        answer = form.model_validate(
            judgement(**{ANSWERER_FIELD: "霊仙 正（副町長）", CODE_FIELD: "6666"})
        )
        assert getattr(answer, ANSWERER_FIELD) == "霊仙 正（副町長）"
        code = getattr(answer, CODE_FIELD)
        assert isinstance(code, SecretStr)
        assert code.get_secret_value() == "6666"
        assert isinstance(answer, ChiefJudgement)
        assert form.__name__ == "ChiefJudgement"
        assert form.__doc__ == ChiefJudgement.__doc__

    def test_answerer_is_a_choice_of_roster_labels(self) -> None:
        schema = with_answerer(ChiefJudgement, PEOPLE).model_json_schema()
        prop = schema["properties"][ANSWERER_FIELD]
        target = resolve(schema, prop)
        assert target["enum"] == PEOPLE
        assert prop["title"] == "回答者"  # on the property itself, not only on its $ref
        code = schema["properties"][CODE_FIELD]
        assert code["title"] == "承認コード"
        assert code["format"] == "password"
        assert set(schema["required"]) >= {ANSWERER_FIELD, CODE_FIELD}

    def test_someone_not_in_the_roster_is_refused(self) -> None:
        form = with_answerer(ChiefJudgement, PEOPLE)
        with pytest.raises(ValidationError):
            form.model_validate(judgement(**{ANSWERER_FIELD: "だれか（どこか）", CODE_FIELD: "1"}))

    def test_code_is_required(self) -> None:
        form = with_answerer(ChiefJudgement, PEOPLE)
        with pytest.raises(ValidationError):
            form.model_validate(judgement(**{ANSWERER_FIELD: PEOPLE[0]}))

    def test_code_never_shown_or_recorded(self) -> None:
        form = with_answerer(ChiefJudgement, PEOPLE)
        answer = form.model_validate(judgement(**{ANSWERER_FIELD: PEOPLE[2], CODE_FIELD: "6543"}))
        assert "6543" not in repr(answer)
        assert "6543" not in str(answer)
        payload = public_payload(answer)
        assert CODE_FIELD not in payload
        assert "6543" not in str(payload)
        assert payload[ANSWERER_FIELD] == PEOPLE[2]
        assert payload["judgement"] == OutageJudgement.SHORT.value
        assert payload["instructions"] == "データの書き込みを止める"

    def test_forms_keep_their_own_fields_first(self) -> None:
        form = with_answerer(Classification, PEOPLE)
        assert list(form.model_fields)[-2:] == [ANSWERER_FIELD, CODE_FIELD]
        assert list(form.model_fields)[:2] == ["emergency_class", "reason"]


class TestPersonalData:
    @pytest.mark.parametrize(
        "text",
        [
            "住民票コード 12345678901 の方",  # 11 digits
            "個人番号123456789012",  # 12 digits
            "１２３４５６７８９０１",  # full-width
            "12345６７８９０１２",  # mixed widths
        ],
    )
    def test_long_digit_runs_are_flagged(self, text: str) -> None:
        report = ChiefJudgement.model_validate(judgement(reason=text))
        (problem,) = personal_data_problems(report)
        assert "「判断の理由」" in problem
        assert "本人確認情報は記入しないでください" in problem
        assert text not in problem

    @pytest.mark.parametrize(
        "text",
        [
            "電話 0749-00-0000",
            "フリーダイヤル 0120-000-004",
            "1234567890",
            "令和8年11月27日 10時30分",
            "端末 3 台",
        ],
    )
    def test_ordinary_numbers_pass(self, text: str) -> None:
        report = ChiefJudgement.model_validate(judgement(instructions=text, reason=text))
        assert personal_data_problems(report) == []

    def test_every_field_is_named(self) -> None:
        report = ChiefJudgement.model_validate(
            judgement(instructions="12345678901", reason="123456789012")
        )
        problems = personal_data_problems(report)
        assert len(problems) == 2
        assert "「データ保護等についての指示」" in problems[0]
        assert "「判断の理由」" in problems[1]

    def test_discovery_report_fields(self) -> None:
        report = DiscoveryReport(
            discovered_on=date(2026, 11, 27),
            discovered_at="08:45",
            place="CS サーバ",
            observed="画面に 12345678901 と表示",
            reporter="犬上 一郎（住民課）",
            presumed="障害",
        )
        (problem,) = personal_data_problems(report)
        assert "「発見した状況」" in problem

    @pytest.mark.parametrize(
        "text", ["1234 5678 9012", "1234-5678-9012", "１２３４－５６７８－９０１２"]
    )
    def test_grouped_individual_number_is_flagged(self, text: str) -> None:
        """個人番号 is usually written in groups of four."""
        (problem,) = personal_data_problems(ChiefJudgement.model_validate(judgement(reason=text)))
        assert "「判断の理由」" in problem

    def test_nested_free_text_is_checked(self) -> None:
        nested = plan(
            t1_monitoring=PreventionItem(
                adopt=True, content="12345678901 の件", owner="総務課", due="2027-03-31"
            ),
            others=[
                FreePreventionItem(title="照合", content="１２３４５６７８９０１２", owner="x")
            ],
        )
        problems = personal_data_problems(nested)
        assert len(problems) == 2
        assert "「T1 障害監視の強化」の「内容」" in problems[0]
        assert "「その他の対策」の「内容」" in problems[1]
        assert all("1234" not in p and "１２３４" not in p for p in problems)

    def test_redacted_blanks_code_and_suspect_text(self) -> None:
        form = with_answerer(ChiefJudgement, PEOPLE)
        answer = form.model_validate(
            judgement(reason="12345678901", **{ANSWERER_FIELD: PEOPLE[0], CODE_FIELD: "6543"})
        )
        data = redacted(answer)
        assert data[CODE_FIELD] == REDACTED
        assert data["reason"] == REMOVED
        assert data["instructions"] == "データの書き込みを止める"
        assert data[ANSWERER_FIELD] == PEOPLE[0]
        assert "6543" not in str(data) and "12345678901" not in str(data)

    def test_redacted_reaches_into_lists(self) -> None:
        nested = plan(others=[FreePreventionItem(title="照合", content="12345678901", owner="x")])
        data = redacted(nested)
        assert data["others"][0]["content"] == REMOVED
        assert data["others"][0]["title"] == "照合"


class TestPrevention:
    def test_complete_plan_passes(self) -> None:
        ok = plan(
            t1_monitoring=PreventionItem(
                adopt=True, content="監視", owner="総務課", due="2027-03-31"
            )
        )
        assert prevention_problems(ok) == []

    def test_nothing_adopted(self) -> None:
        assert prevention_problems(plan()) == [
            "実施する対策が一つもありません。少なくとも一つ選んでください"
        ]

    def test_adopted_measure_needs_content_owner_and_due(self) -> None:
        problems = prevention_problems(plan(o3_spares=PreventionItem(adopt=True)))
        assert problems == [
            "「O3 予備装置の確保」を実施する場合は「内容」を記入してください",
            "「O3 予備装置の確保」を実施する場合は「担当」を記入してください",
            "「O3 予備装置の確保」を実施する場合は「期限」を記入してください",
        ]

    def test_blank_text_counts_as_missing(self) -> None:
        """C2.3.O4 教育・研修 with a blank 担当."""
        problems = prevention_problems(
            plan(
                o4_training=PreventionItem(
                    adopt=True, content="研修", owner="　 ", due="2027-03-31"
                )
            )
        )
        assert problems == ["「O4 教育・研修」を実施する場合は「担当」を記入してください"]

    def test_impossible_date(self) -> None:
        """C2.3.T2 技術情報の収集 with a 期限 that is no date."""
        problems = prevention_problems(
            plan(
                t2_information=PreventionItem(
                    adopt=True, content="収集", owner="総務課", due="2027-02-30"
                )
            )
        )
        assert problems == ["「T2 技術情報の収集」の期限 2027-02-30 は存在しない日付です"]

    def test_due_format_is_checked_by_the_schema(self) -> None:
        with pytest.raises(ValidationError):
            PreventionItem(adopt=True, content="x", owner="y", due="2027/03/31")

    def test_other_measures(self) -> None:
        other = FreePreventionItem(title="手順書の改訂")
        assert other.adopt is True
        problems = prevention_problems(plan(others=[other]))
        assert (
            "「その他の対策「手順書の改訂」」を実施する場合は「内容」を記入してください" in problems
        )
        assert "実施する対策が一つもありません。少なくとも一つ選んでください" not in problems

    def test_unadopted_items_are_not_checked(self) -> None:
        half = PreventionItem(adopt=False, content="", owner="", due="")
        ok = PreventionItem(adopt=True, content="監視", owner="総務課", due="2027-03-31")
        assert prevention_problems(plan(t1_monitoring=ok, t2_information=half)) == []


class TestJapanTime:
    def test_jst_datetime(self) -> None:
        at = jst_datetime(date(2026, 11, 27), "10:30")
        assert at.utcoffset() == timedelta(hours=9)
        assert at.astimezone(UTC) == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)

    def test_early_morning_is_the_previous_day_in_utc(self) -> None:
        at = jst_datetime(date(2026, 11, 27), "0:05")
        assert at.astimezone(UTC) == datetime(2026, 11, 26, 15, 5, tzinfo=UTC)

    def test_discovery_time_is_japan_time(self) -> None:
        report = DiscoveryReport(
            discovered_on=date(2026, 11, 27),
            discovered_at="08:45",
            place="CS",
            observed="停止",
            reporter="犬上 一郎（住民課）",
            presumed="わからない",
        )
        assert report.discovered == datetime(2026, 11, 26, 23, 45, tzinfo=UTC)

    @pytest.mark.parametrize("bad", ["24:00", "10:60", "1030", "10時30分", ""])
    def test_bad_time_refused(self, bad: str) -> None:
        with pytest.raises(ValidationError):
            DiscoveryReport(
                discovered_on=date(2026, 11, 27),
                discovered_at=bad,
                place="CS",
                observed="停止",
                reporter="犬上 一郎（住民課）",
                presumed="障害",
            )


class TestMeetingResult:
    @pytest.mark.parametrize("d1", [m for m in SystemMeasure if m is not SystemMeasure.NONE])
    def test_a_stop_binds_resumption_to_the_meeting(self, d1: SystemMeasure) -> None:
        """C2.S3.D1 a stop ordered by the meeting → C2.S5.MEETING."""
        assert meeting(d1, ResumptionBy.CHIEF).meeting_decides_resumption

    def test_d8_keeps_the_decision(self) -> None:
        """C2.S3.D8 再開運用の決定 kept by the meeting → C2.S5.MEETING."""
        assert meeting(SystemMeasure.NONE, ResumptionBy.MEETING).meeting_decides_resumption

    def test_otherwise_the_chief_approves(self) -> None:
        assert not meeting(SystemMeasure.NONE, ResumptionBy.CHIEF).meeting_decides_resumption

    def test_outage_judgement_convenes_the_meeting(self) -> None:
        assert OutageJudgement.LONG.convenes_meeting
        assert OutageJudgement.OTHER_NEED.convenes_meeting
        assert not OutageJudgement.SHORT.convenes_meeting


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None and len(node.get("allOf", [])) == 1:
        ref = node["allOf"][0].get("$ref")
    if ref is None:
        return node
    target: dict[str, Any] = schema["$defs"][ref.split("/")[-1]]
    return target


def objects(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [("(form)", schema)]
    found += [(name, d) for name, d in schema.get("$defs", {}).items() if "properties" in d]
    return found


def descriptions(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        found = [(path, node["description"])] if isinstance(node.get("description"), str) else []
        for key, value in node.items():
            found += descriptions(value, f"{path}/{key}")
        return found
    if isinstance(node, list):
        return [d for i, v in enumerate(node) for d in descriptions(v, f"{path}[{i}]")]
    return []


SCHEMAS = [(f.__name__, f) for f in FORMS] + [
    (f"{f.__name__}+回答者", with_answerer(f, PEOPLE)) for f in FORMS
]


class TestSchema:
    def test_forms_found(self) -> None:
        names = {f.__name__ for f in FORMS}
        assert {"DiscoveryReport", "Classification", "MeetingResult", "PreventionPlan"} <= names
        assert len(FORMS) >= 11

    @pytest.mark.parametrize(("name", "form"), SCHEMAS, ids=[n for n, _ in SCHEMAS])
    def test_every_property_has_a_japanese_title(self, name: str, form: type[Form]) -> None:
        schema = form.model_json_schema()
        missing = []
        for owner, obj in objects(schema):
            for prop, node in obj["properties"].items():
                title = node.get("title") or resolve(schema, node).get("title", "")
                if not JAPANESE.search(title):
                    missing.append(f"{owner}.{prop}: {title!r}")
        assert not missing, missing

    @pytest.mark.parametrize(("name", "form"), SCHEMAS, ids=[n for n, _ in SCHEMAS])
    def test_no_english_description(self, name: str, form: type[Form]) -> None:
        """Pydantic puts an Enum's or model's docstring into `description`: it must be Japanese."""
        english = [
            f"{path}: {text}"
            for path, text in descriptions(form.model_json_schema())
            if ENGLISH_WORD.search(text)
        ]
        assert not english, english

    def test_enums_used_by_forms_have_japanese_or_no_docstrings(self) -> None:
        seen: set[str] = set()
        for form in FORMS:
            for name, node in form.model_json_schema().get("$defs", {}).items():
                if "enum" in node:
                    seen.add(name)
                    text = node.get("description", "")
                    assert not ENGLISH_WORD.search(text), f"{name}: {text}"
        assert {"EmergencyClass", "FailureType", "SystemMeasure"} <= seen

    def test_choices_are_japanese_strings(self) -> None:
        for form in FORMS:
            for name, node in form.model_json_schema().get("$defs", {}).items():
                if "enum" in node:
                    assert node["type"] == "string", name
                    assert all(JAPANESE.search(v) for v in node["enum"]), name

    def test_classification_offers_the_two_classes(self) -> None:
        """C1.2: C1.2.FAILURE 障害 and C1.2.UNAUTHORIZED 不正行為."""
        schema = Classification.model_json_schema()
        target = resolve(schema, schema["properties"]["emergency_class"])
        assert target["enum"] == [c.value for c in EmergencyClass]

    def test_forms_refuse_unknown_fields(self) -> None:
        with pytest.raises(ValidationError):
            Classification.model_validate({"emergency_class": "障害", "reason": "x", "extra": 1})


def deployment_parameters() -> list[tuple[str, str, dict[str, Any]]]:
    """(deployment, parameter, its schema) of every deployment in prefect.yaml, as the run form
    receives them (Prefect's `parameter_schema` of the entrypoint)."""
    from importlib import import_module

    from prefect.utilities.callables import parameter_schema
    from ruamel.yaml import YAML

    from jukinet.settings import PROJECT_ROOT

    found = []
    for deployment in YAML(typ="safe").load((PROJECT_ROOT / "prefect.yaml").read_text("utf-8"))[
        "deployments"
    ]:
        module, name = deployment["entrypoint"].split(":")
        flow = getattr(import_module(module.removesuffix(".py").replace("/", ".")), name)
        schema = parameter_schema(flow).model_dump_for_openapi()
        for parameter, node in schema["properties"].items():
            found.append((deployment["name"], parameter, {**node, "$root": schema}))
    return found


class TestRunForms:
    """The deployments' run forms: what a clerk sees under 'Custom run'."""

    def test_every_parameter_is_labelled_in_japanese(self) -> None:
        found = deployment_parameters()
        assert {"incident_number", "report", "mode", "clause", "files"} <= {p for _, p, _ in found}
        unlabelled = [
            f"{d}.{p}: {node.get('title')!r}"
            for d, p, node in found
            if node.get("title") == p or not JAPANESE.search(str(node.get("title", "")))
        ]
        assert not unlabelled, unlabelled

    def test_every_parameter_has_a_japanese_hint(self) -> None:
        """Its own description, or (for a form) the form's docstring."""
        missing = []
        for d, p, node in deployment_parameters():
            text = node.get("description") or follow(node, node["$root"]).get("description", "")
            if not JAPANESE.search(str(text)):
                missing.append(f"{d}.{p}")
        assert not missing, missing

    def test_choices_are_japanese(self) -> None:
        for d, p, node in deployment_parameters():
            target = follow(node, node["$root"])
            if "enum" in target:
                assert all(JAPANESE.search(v) for v in target["enum"]), f"{d}.{p}"
