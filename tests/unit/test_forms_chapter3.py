"""第3章 forms: the checks the schema cannot express (C3.S1.2 … C3.2) and a Japanese schema."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from jukinet.forms import chapter3
from jukinet.forms.chapter2 import (
    FreePreventionItem,
    MeasuresApproval,
    Publicity,
    ResumptionBy,
)
from jukinet.forms.chapter3 import (
    CauseReport,
    CooperationBody,
    Determination,
    EmergencyInstruction,
    EmergencyMeasures,
    ExampleChoice,
    Findings,
    Level3Likelihood,
    LevelChoice,
    LevelRaise,
    LikelyLevel,
    MeetingResult3,
    NotificationAnalysis,
    PermanentMeasures,
    ResumptionMeasures,
    Review,
    ReviewNext,
    UnauthorizedReport,
    analysis_problems,
    determination_problems,
    instruction_problems,
    measures_problems,
    meeting_problems,
    permanent_problems,
    raise_problems,
    report_problems,
)
from jukinet.forms.common import Form, with_answerer
from jukinet.plan import THREAT_EXAMPLES, SystemMeasure, ThreatLevel
from tests.unit.test_forms import ENGLISH_WORD, JAPANESE, PEOPLE, descriptions, objects, resolve

RECEIVERS = ["湖東年金事務所", "犬上健康保険組合"]  # fictional, as in the example config


def choice(key: str) -> ExampleChoice:
    """`choice("レベル3-(2)")`"""
    (example,) = [e for e in THREAT_EXAMPLES if e.key == key]
    return ExampleChoice(example.label)


def report(**values: Any) -> UnauthorizedReport:
    fields: dict[str, Any] = {
        "found_on": date(2026, 11, 27),
        "found_at": "08:45",
        "occurred_on": date(2026, 11, 27),
        "occurred_at": "08:30",
        "device": "統合端末",
        "device_location": "住民課窓口",
        "act": "権限のない職員 ID による照会",
        "expected_damage": "本人確認情報の不正な閲覧",
        "measures_taken": "なし",
    }
    return UnauthorizedReport(**{**fields, **values})


def analysis(**values: Any) -> NotificationAnalysis:
    fields: dict[str, Any] = {
        **report().model_dump(),
        "analysis": "照会記録を確認した",
        "likely_level": LikelyLevel.L3,
    }
    return NotificationAnalysis(**{**fields, **values})


def instruction(**values: Any) -> EmergencyInstruction:
    fields: dict[str, Any] = {
        "instructions": "照会記録を保全してください",
        "level3": Level3Likelihood.LIKELY,
    }
    return EmergencyInstruction(**{**fields, **values})


def measures(**values: Any) -> EmergencyMeasures:
    fields: dict[str, Any] = {
        "cooperation_from": [CooperationBody.CENTER],
        "spread_measures": "該当 ID を停止した",
    }
    return EmergencyMeasures(**{**fields, **values})


def determination(level: LevelChoice, *keys: str) -> Determination:
    return Determination(level=level, examples=[choice(k) for k in keys], reason="照会記録による")


def meeting(**values: Any) -> MeetingResult3:
    fields: dict[str, Any] = {
        "measures_approval": MeasuresApproval.APPROVED,
        "d1_measure": SystemMeasure.NONE,
        "d4_structure": "統括責任者の指揮",
        "d5_residents": "窓口で説明",
        "d7_alternatives": "影響なし",
        "d9_resumption": ResumptionBy.CHIEF,
    }
    return MeetingResult3(**{**fields, **values})


def measure(**values: Any) -> FreePreventionItem:
    fields: dict[str, Any] = {
        "title": "職員 ID の棚卸し",
        "content": "四半期ごとに不要な ID を削除する",
        "owner": "総務課",
        "due": "2027-03-31",
    }
    return FreePreventionItem(**{**fields, **values})


class TestReport:
    """C3.S1.2 ア: the act cannot have happened after it was found."""

    def test_occurred_before_found_passes(self) -> None:
        assert report_problems(report()) == []

    def test_occurred_when_found_passes(self) -> None:
        assert report_problems(report(occurred_at="08:45")) == []

    @pytest.mark.parametrize(
        ("occurred_on", "occurred_at"),
        [(date(2026, 11, 27), "09:00"), (date(2026, 11, 28), "00:05")],
    )
    def test_occurred_after_found_is_refused(self, occurred_on: date, occurred_at: str) -> None:
        (problem,) = report_problems(report(occurred_on=occurred_on, occurred_at=occurred_at))
        assert "「ア 不正行為があったと認められる日時」" in problem
        assert "「ア 発見日時」より後" in problem

    def test_times_are_japan_time(self) -> None:
        r = report(found_at="00:10", occurred_on=date(2026, 11, 26), occurred_at="23:50")
        assert r.found == datetime(2026, 11, 26, 15, 10, tzinfo=UTC)
        assert r.occurred == datetime(2026, 11, 26, 14, 50, tzinfo=UTC)
        assert report_problems(r) == []

    def test_examples_default_to_none(self) -> None:
        assert report().examples == []
        assert report().occurred_remark == "なし"


class TestAnalysis:
    """C3.S1.3 (イ): a likely level below the suggestion needs 見込みの理由."""

    def test_likely_level_as_suggested_passes(self) -> None:
        ok = analysis(examples=[choice("レベル3-(3)")], likely_level=LikelyLevel.L3)
        assert analysis_problems(ok) == []

    def test_higher_than_suggested_passes(self) -> None:
        ok = analysis(examples=[choice("レベル2-(2)")], likely_level=LikelyLevel.L3)
        assert analysis_problems(ok) == []

    def test_no_examples_no_suggestion(self) -> None:
        assert analysis_problems(analysis(likely_level=LikelyLevel.L1)) == []

    @pytest.mark.parametrize("reason", ["", "　 "])
    def test_lower_than_suggested_without_reason(self, reason: str) -> None:
        low = analysis(
            examples=[choice("レベル3-(3)")], likely_level=LikelyLevel.L2, likely_reason=reason
        )
        (problem,) = analysis_problems(low)
        assert "「見込みの理由」" in problem
        assert "レベル3が提案されます" in problem

    def test_lower_than_suggested_with_reason(self) -> None:
        low = analysis(
            examples=[choice("レベル2-(3)")],
            likely_level=LikelyLevel.L1,
            likely_reason="検出されたのは隔離済みの試験用ファイルだった",
        )
        assert analysis_problems(low) == []

    def test_report_check_applies_too(self) -> None:
        late = analysis(occurred_at="09:30")
        (problem,) = analysis_problems(late)
        assert "「ア 発見日時」より後" in problem

    @pytest.mark.parametrize(
        ("likely", "level"),
        [
            (LikelyLevel.L1, ThreatLevel.L1),
            (LikelyLevel.L2, ThreatLevel.L2),
            (LikelyLevel.L3, ThreatLevel.L3),
        ],
    )
    def test_likely_level_maps_to_the_level(self, likely: LikelyLevel, level: ThreatLevel) -> None:
        assert likely.level is level


class TestInstruction:
    """C3.S2: a stop (C3.S2.2) and hearings (C3.S2.3) only where level 3 is likely."""

    def test_plain_instruction_passes(self) -> None:
        ok = instruction(level3=Level3Likelihood.NOT_LIKELY)
        assert instruction_problems(ok) == []
        assert not ok.stops and not ok.level3_likely

    def test_stop_with_a_target_passes(self) -> None:
        ok = instruction(
            system_stop=SystemMeasure.PARTIAL_STOP, stop_target="広域交付の機能", hearings=True
        )
        assert instruction_problems(ok) == []
        assert ok.stops and ok.level3_likely

    @pytest.mark.parametrize("target", ["なし", "", " なし "])
    def test_stop_needs_a_target(self, target: str) -> None:
        (problem,) = instruction_problems(
            instruction(system_stop=SystemMeasure.FULL_STOP, stop_target=target)
        )
        assert "「停止・切り離しの対象」" in problem

    def test_stop_without_level3_likely(self) -> None:
        problems = instruction_problems(
            instruction(
                level3=Level3Likelihood.NOT_LIKELY,
                system_stop=SystemMeasure.DETACH_DEVICE,
                stop_target="統合端末1台",
            )
        )
        assert len(problems) == 1
        assert "手順2②" in problems[0]
        assert "「レベル3に該当する可能性」" in problems[0]

    def test_hearings_without_level3_likely(self) -> None:
        (problem,) = instruction_problems(
            instruction(level3=Level3Likelihood.NOT_LIKELY, hearings=True)
        )
        assert "関係者からの報告の聴収・調査" in problem
        assert "手順2③" in problem

    def test_every_problem_at_once(self) -> None:
        problems = instruction_problems(
            instruction(
                level3=Level3Likelihood.NOT_LIKELY,
                system_stop=SystemMeasure.FULL_STOP,
                hearings=True,
            )
        )
        assert len(problems) == 3


class TestMeasures:
    """C3.S2.1, C3.S2.3 (hearings ordered), C3.S2.4 (a registered receiving body)."""

    def test_minimal_measures_pass(self) -> None:
        assert measures_problems(measures(), False, RECEIVERS) == []

    def test_cooperation_needs_a_body(self) -> None:
        with pytest.raises(ValidationError):
            measures(cooperation_from=[])

    @pytest.mark.parametrize("result", ["なし", "", "　"])
    def test_hearings_ordered_need_a_result(self, result: str) -> None:
        (problem,) = measures_problems(measures(hearings_result=result), True, RECEIVERS)
        assert "「手順2③ 関係者からの報告の聴収・調査の結果」" in problem

    def test_hearings_ordered_with_a_result(self) -> None:
        done = measures(hearings_result="端末操作者2名から聴取した")
        assert measures_problems(done, True, RECEIVERS) == []

    @pytest.mark.parametrize("name", ["湖東年金事務所", " 犬上健康保険組合 "])
    def test_registered_receiving_body(self, name: str) -> None:
        assert measures_problems(measures(receiving_body=name), False, RECEIVERS) == []

    def test_unknown_receiving_body_lists_the_registered_ones(self) -> None:
        (problem,) = measures_problems(measures(receiving_body="架空市役所"), False, RECEIVERS)
        assert "「手順2④ 不正行為が認められた本人確認情報の提供先機関」" in problem
        assert "「架空市役所」は連絡先に登録されていません" in problem
        assert "登録済みの機関: 湖東年金事務所、犬上健康保険組合" in problem

    def test_no_receiver_registered(self) -> None:
        (problem,) = measures_problems(measures(receiving_body="架空市役所"), False, [])
        assert "登録済みの機関: （登録なし）" in problem

    def test_both_problems(self) -> None:
        problems = measures_problems(measures(receiving_body="架空市役所"), True, RECEIVERS)
        assert len(problems) == 2


class TestDetermination:
    """C3.S3: the level is the highest example's; one example of the chosen level is needed."""

    @pytest.mark.parametrize(
        ("level", "keys"),
        [
            (LevelChoice.L1, ("レベル1-(1)",)),
            (LevelChoice.L1, ("レベル1-(2)",)),
            (LevelChoice.L2, ("レベル1-(1)", "レベル2-(2)")),
            (LevelChoice.L3, ("レベル2-(3)", "レベル3-(4)")),
            (LevelChoice.L3, ("レベル3-(6)",)),
        ],
    )
    def test_consistent_determination_passes(
        self, level: LevelChoice, keys: tuple[str, ...]
    ) -> None:
        assert determination_problems(determination(level, *keys)) == []

    def test_example_above_the_level_is_refused(self) -> None:
        problems = determination_problems(
            determination(LevelChoice.L2, "レベル2-(2)", "レベル3-(2)")
        )
        (problem,) = problems
        assert "レベル3-(2)" in problem
        assert "レベル2より高い脅威度の事例" in problem

    def test_example_of_the_chosen_level_is_required(self) -> None:
        (problem,) = determination_problems(determination(LevelChoice.L3, "レベル2-(1)"))
        assert "レベル3の事例を一つ以上選んでください" in problem
        assert "その他" in problem

    def test_only_higher_examples(self) -> None:
        problems = determination_problems(
            determination(LevelChoice.L1, "レベル2-(3)", "レベル3-(5)")
        )
        assert len(problems) == 2
        assert "レベル2-(3)、レベル3-(5)" in problems[0]
        assert "レベル1の事例を一つ以上" in problems[1]

    def test_an_example_is_required_by_the_schema(self) -> None:
        with pytest.raises(ValidationError):
            Determination(level=LevelChoice.L1, examples=[], reason="なし")

    @pytest.mark.parametrize("level", list(LevelChoice), ids=lambda c: c.name)
    def test_level_choice_maps_to_the_level(self, level: LevelChoice) -> None:
        assert level.level.label in level.value
        assert level.value.startswith(level.level.label)


class TestRaise:
    """C3.S3.2, C3.S4.D8, C3.S5: new facts may raise the level to 3, with a reason."""

    @staticmethod
    def answers(**values: Any) -> list[CauseReport | Review | Findings]:
        return [
            CauseReport(cause="設定誤り", countermeasures="設定を修正", **values),
            Review(progress="解析中", next=ReviewNext.PROCEED, **values),
            Findings(
                cause="設定誤り", evidence="照会記録", scope="なし", recovery="再設定", **values
            ),
        ]

    @pytest.mark.parametrize("level", list(ThreatLevel))
    def test_keep_always_passes(self, level: ThreatLevel) -> None:
        for answer in self.answers():
            assert answer.raise_level is LevelRaise.KEEP
            assert raise_problems(answer, level) == []

    @pytest.mark.parametrize("level", [ThreatLevel.L1, ThreatLevel.L2])
    def test_raise_with_reason_passes(self, level: ThreatLevel) -> None:
        for answer in self.answers(raise_level=LevelRaise.TO_L3, raise_reason="持ち出しの形跡"):
            assert raise_problems(answer, level) == []

    def test_raise_at_level3_is_refused(self) -> None:
        for answer in self.answers(raise_level=LevelRaise.TO_L3, raise_reason="持ち出しの形跡"):
            (problem,) = raise_problems(answer, ThreatLevel.L3)
            assert "すでにレベル3" in problem
            assert "「脅威度の見直し」は「変更しない」" in problem

    @pytest.mark.parametrize("reason", ["", "　"])
    def test_raise_needs_a_reason(self, reason: str) -> None:
        for answer in self.answers(raise_level=LevelRaise.TO_L3, raise_reason=reason):
            (problem,) = raise_problems(answer, ThreatLevel.L2)
            assert "「引き上げの理由」" in problem


class TestMeeting:
    """C3.S4.3: D1 needs its content, D6 the message to residents."""

    def test_minimal_result_passes(self) -> None:
        assert meeting_problems(meeting()) == []

    def test_stop_with_content_and_publicity_with_message_pass(self) -> None:
        ok = meeting(
            d1_measure=SystemMeasure.DETACH_NETWORK,
            d1_detail="CS サーバ",
            d6_publicity=[Publicity.PRESS],
            d6_message="調査中です。",
        )
        assert meeting_problems(ok) == []

    @pytest.mark.parametrize("detail", ["なし", ""])
    def test_d1_measure_needs_its_content(self, detail: str) -> None:
        (problem,) = meeting_problems(meeting(d1_measure=SystemMeasure.FULL_STOP, d1_detail=detail))
        assert "「D1 措置の内容」" in problem

    def test_d6_publicity_needs_a_message(self) -> None:
        (problem,) = meeting_problems(meeting(d6_publicity=[Publicity.HOMEPAGE]))
        assert "「D6 広報で町民に伝える内容」" in problem

    def test_both_problems(self) -> None:
        problems = meeting_problems(
            meeting(d1_measure=SystemMeasure.PARTIAL_STOP, d6_publicity=[Publicity.INFO])
        )
        assert len(problems) == 2

    @pytest.mark.parametrize("d1", [m for m in SystemMeasure if m is not SystemMeasure.NONE])
    def test_a_stop_binds_resumption_to_the_meeting(self, d1: SystemMeasure) -> None:
        """C3.S6.1 ただし書: a stop decided in D1 → the meeting decides resumption."""
        assert meeting(d1_measure=d1, d1_detail="CS").meeting_decides_resumption

    def test_d9_keeps_the_decision(self) -> None:
        assert meeting(d9_resumption=ResumptionBy.MEETING).meeting_decides_resumption

    def test_otherwise_the_chief_approves(self) -> None:
        assert not meeting().meeting_decides_resumption


class TestPermanent:
    """C3.2: adopted measures need 内容, 担当 and a real 期限; at least one is adopted."""

    def test_complete_plan_passes(self) -> None:
        assert permanent_problems(PermanentMeasures(measures=[measure()])) == []

    def test_unadopted_measure_is_not_checked(self) -> None:
        plan = PermanentMeasures(
            measures=[
                measure(),
                measure(title="外部監査", content="", owner="", due="", adopt=False),
            ]
        )
        assert permanent_problems(plan) == []

    def test_adopted_measure_needs_content_owner_and_due(self) -> None:
        plan = PermanentMeasures(measures=[measure(content="", owner=" ", due="")])
        assert permanent_problems(plan) == [
            "「恒久対策「職員 ID の棚卸し」」を実施する場合は「内容」を記入してください",
            "「恒久対策「職員 ID の棚卸し」」を実施する場合は「担当」を記入してください",
            "「恒久対策「職員 ID の棚卸し」」を実施する場合は「期限」を記入してください",
        ]

    def test_impossible_due_date(self) -> None:
        (problem,) = permanent_problems(PermanentMeasures(measures=[measure(due="2027-02-30")]))
        assert problem == "「恒久対策「職員 ID の棚卸し」」の期限 2027-02-30 は存在しない日付です"

    def test_nothing_adopted(self) -> None:
        plan = PermanentMeasures(measures=[measure(adopt=False)])
        assert permanent_problems(plan) == [
            "実施する恒久対策が一つもありません。少なくとも一つ記入してください"
        ]

    def test_at_least_one_measure_by_the_schema(self) -> None:
        with pytest.raises(ValidationError):
            PermanentMeasures(measures=[])


class TestResumption:
    def test_resumed_in_japan_time(self) -> None:
        done = ResumptionMeasures(resumed_on=date(2026, 11, 30), resumed_at="9:00")
        assert done.resumed == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
        assert done.access_rights == "なし" and done.services == "なし"


FORMS: list[type[Form]] = sorted(
    {
        v
        for v in vars(chapter3).values()
        if isinstance(v, type) and issubclass(v, Form) and v is not Form
    },
    key=lambda f: f.__name__,
)
SCHEMAS = [(f.__name__, f) for f in FORMS] + [
    (f"{f.__name__}+回答者", with_answerer(f, PEOPLE)) for f in FORMS
]


class TestSchema:
    def test_forms_found(self) -> None:
        names = {f.__name__ for f in FORMS}
        assert {
            "OutsideNotification",
            "UnauthorizedReport",
            "NotificationAnalysis",
            "OfficerForwarding",
            "EmergencyInstruction",
            "StopExecution",
            "EmergencyMeasures",
            "Determination",
            "CauseReport",
            "MeetingNeed",
            "MeetingResult3",
            "Review",
            "Findings",
            "ResumptionMeasures",
            "PermanentMeasures",
        } <= names

    @pytest.mark.parametrize(("name", "form"), SCHEMAS, ids=[n for n, _ in SCHEMAS])
    def test_every_property_has_a_japanese_title(self, name: str, form: type[Form]) -> None:
        schema = form.model_json_schema()
        missing = []
        for owner, obj in objects(schema):
            for prop, node in obj["properties"].items():
                title = node.get("title") or resolve(schema, node).get("title", "")
                if title == prop or not JAPANESE.search(title):
                    missing.append(f"{owner}.{prop}: {title!r}")
        assert not missing, missing

    @pytest.mark.parametrize(("name", "form"), SCHEMAS, ids=[n for n, _ in SCHEMAS])
    def test_no_english_description(self, name: str, form: type[Form]) -> None:
        english = [
            f"{path}: {text}"
            for path, text in descriptions(form.model_json_schema())
            if ENGLISH_WORD.search(text)
        ]
        assert not english, english

    def test_example_choices_are_the_tables_labels(self) -> None:
        schema = UnauthorizedReport.model_json_schema()
        items = schema["properties"]["examples"]["items"]
        assert resolve(schema, items)["enum"] == [e.label for e in THREAT_EXAMPLES]


class TestPrefilledForm:
    """ask(initial=…) prefills the C3.S1.2 form from the discovery report: the prefilled fields keep
    their Japanese titles, hints and rules in the form Prefect shows (RunInput)."""

    def form(self) -> type[Any]:
        from prefect.input import RunInput

        from jukinet.forms.common import with_answerer, with_defaults

        model = with_defaults(
            with_answerer(UnauthorizedReport, ["犬上 一郎（住民課）"]),
            {"found_on": date(2026, 11, 27), "found_at": "10:30", "device": "CS サーバ"},
        )
        return RunInput.subclass_from_base_model_type(model).with_initial_data(description="x")

    def test_prefilled_fields_keep_titles_and_rules(self) -> None:
        props = self.form().model_json_schema()["properties"]
        assert props["found_on"]["title"] == "ア 発見日"
        assert props["found_on"]["default"] == "2026-11-27"
        assert props["found_at"]["title"] == "ア 発見時刻"
        assert props["found_at"]["pattern"] and props["found_at"]["default"] == "10:30"
        assert props["device"]["minLength"] == 1 and props["device"]["default"] == "CS サーバ"

    def test_prefilled_fields_still_refuse_bad_input(self) -> None:
        answer = {
            "answerer": "犬上 一郎（住民課）",
            "approval_code": "1111",
            "occurred_on": "2026-11-26",
            "occurred_at": "22:10",
            "device_location": "住民課窓口",
            "act": "照会",
            "expected_damage": "閲覧のおそれ",
            "measures_taken": "なし",
        }
        form = self.form()
        assert form(**answer).found_at == "10:30"  # the prefilled value stands when not changed
        with pytest.raises(ValidationError):
            form(**answer, found_at="1730")
        with pytest.raises(ValidationError):
            form(**answer, device="")
