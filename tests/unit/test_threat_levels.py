"""脅威度 (C3.A): the plan's table as data, the suggestion from ticked examples, clause titles.

The product only suggests a level (the highest among the ticked examples); the decision is human
(C3.S3). The table's words are checked against the plan's text in docs/plan/ (a copy of
../shared/plan/, kept equal by test_plan_map.py).
"""

from __future__ import annotations

import itertools
import re

import pytest

from jukinet.forms.chapter3 import ExampleChoice, examples_of
from jukinet.plan import (
    CLAUSE_TITLES,
    MEETING_ITEMS_CH3,
    THREAT_EXAMPLES,
    THREAT_LEVELS,
    DecisionItem,
    ThreatExample,
    ThreatLevel,
    clause_title,
    suggest_level,
)
from jukinet.settings import PROJECT_ROOT

PLAN_DIR = PROJECT_ROOT / "docs" / "plan"
CLAUSES_MD = (PLAN_DIR / "clauses.md").read_text(encoding="utf-8")
PLAN_TEXT = (PLAN_DIR / "taga-jukinet-emergency-plan.txt").read_text(encoding="utf-8")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
HUMAN = "判定者の判断"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

BY_KEY = {e.key: e for e in THREAT_EXAMPLES}
CROSS_LEVEL_PAIRS = [
    (a, b) for a, b in itertools.combinations(THREAT_EXAMPLES, 2) if a.level != b.level
]


def example_id(value: object) -> str:
    return value.key if isinstance(value, ThreatExample) else str(value)


def squeezed(text: str) -> str:
    """The PDF extraction breaks words across lines: compare without any whitespace."""
    return re.sub(r"\s+", "", text)


def chapter3_ids() -> list[str]:
    ids = re.findall(r"`(C3(?:\.[A-Z0-9]+)*)`", CLAUSES_MD)
    return list(dict.fromkeys(ids))


# Headings without an action of their own; the index gives them IDs but the product no title.


class TestSuggestion:
    @pytest.mark.parametrize("example", THREAT_EXAMPLES, ids=example_id)
    def test_each_example_suggests_its_own_level(self, example: ThreatExample) -> None:
        suggestion = suggest_level([example])
        assert suggestion.level is example.level
        assert example.key in suggestion.reason
        assert JAPANESE.search(suggestion.reason)

    @pytest.mark.parametrize(("a", "b"), CROSS_LEVEL_PAIRS, ids=example_id)
    def test_mixed_ticks_take_the_highest(self, a: ThreatExample, b: ThreatExample) -> None:
        high, low = (a, b) if a.level > b.level else (b, a)
        for ticked in ([a, b], [b, a]):
            suggestion = suggest_level(ticked)
            assert suggestion.level is high.level
            assert high.key in suggestion.reason
            assert low.key not in suggestion.reason

    def test_all_three_levels_ticked(self) -> None:
        ticked = [BY_KEY["レベル1-(1)"], BY_KEY["レベル3-(4)"], BY_KEY["レベル2-(3)"]]
        suggestion = suggest_level(ticked)
        assert suggestion.level is ThreatLevel.L3
        assert "レベル3-(4)" in suggestion.reason

    def test_every_decisive_example_is_named(self) -> None:
        """C3.A.L3 (2) and (3) ticked together with a level-2 example: both level-3 ones count."""
        ticked = [BY_KEY["レベル3-(2)"], BY_KEY["レベル2-(2)"], BY_KEY["レベル3-(3)"]]
        suggestion = suggest_level(ticked)
        assert suggestion.level is ThreatLevel.L3
        assert "レベル3-(2)、レベル3-(3)" in suggestion.reason
        assert "レベル2-(2)" not in suggestion.reason

    def test_no_tick_no_level(self) -> None:
        suggestion = suggest_level([])
        assert suggestion.level is None
        assert JAPANESE.search(suggestion.reason)
        assert "事例が選ばれていない" in suggestion.reason
        assert "判定者が判断" in suggestion.reason

    @pytest.mark.parametrize("example", [e for e in THREAT_EXAMPLES if e.other], ids=example_id)
    def test_decisive_other_is_a_human_judgement(self, example: ThreatExample) -> None:
        reason = suggest_level([example]).reason
        assert "その他" in reason
        assert HUMAN in reason

    @pytest.mark.parametrize("example", [e for e in THREAT_EXAMPLES if not e.other], ids=example_id)
    def test_decisive_named_example_is_not_called_a_judgement(self, example: ThreatExample) -> None:
        assert HUMAN not in suggest_level([example]).reason

    def test_other_below_the_decisive_example_does_not_count(self) -> None:
        """レベル2-(4) (other) under レベル3-(1): the suggestion rests on レベル3-(1)."""
        reason = suggest_level([BY_KEY["レベル2-(4)"], BY_KEY["レベル3-(1)"]]).reason
        assert HUMAN not in reason

    def test_other_above_named_examples_is_a_human_judgement(self) -> None:
        suggestion = suggest_level([BY_KEY["レベル2-(2)"], BY_KEY["レベル3-(6)"]])
        assert suggestion.level is ThreatLevel.L3
        assert HUMAN in suggestion.reason

    def test_other_beside_a_named_example_of_the_same_level(self) -> None:
        """レベル3-(6) with レベル3-(2): a named example of the level carries the suggestion."""
        suggestion = suggest_level([BY_KEY["レベル3-(6)"], BY_KEY["レベル3-(2)"]])
        assert suggestion.level is ThreatLevel.L3
        assert HUMAN not in suggestion.reason


class TestTable:
    def test_levels_and_counts(self) -> None:
        """C3.A.L1 has 2 examples, C3.A.L2 4, C3.A.L3 6."""
        assert list(THREAT_LEVELS) == [ThreatLevel.L1, ThreatLevel.L2, ThreatLevel.L3]
        assert {lv: len(info.examples) for lv, info in THREAT_LEVELS.items()} == {
            ThreatLevel.L1: 2,
            ThreatLevel.L2: 4,
            ThreatLevel.L3: 6,
        }
        assert len(THREAT_EXAMPLES) == 12

    @pytest.mark.parametrize("level", list(ThreatLevel), ids=lambda lv: lv.label)
    def test_numbering_and_the_catch_all(self, level: ThreatLevel) -> None:
        info = THREAT_LEVELS[level]
        assert info.level is level
        assert [e.number for e in info.examples] == list(range(1, len(info.examples) + 1))
        assert all(e.level is level for e in info.examples)
        assert [e.other for e in info.examples] == [False] * (len(info.examples) - 1) + [True]

    @pytest.mark.parametrize("example", THREAT_EXAMPLES, ids=example_id)
    def test_key_label_and_clause(self, example: ThreatExample) -> None:
        n, number = example.level.value, example.number
        assert example.key == f"レベル{n}-({number})"
        assert example.clause == f"C3.A.L{n}"
        assert example.clause in CLAUSE_TITLES
        assert example.label.startswith(f"{example.key} ")

    def test_label_leaves_out_the_definition_of_documents(self) -> None:
        """レベル2-(1) defines ドキュメント in brackets; the choice in the forms does not repeat it."""
        l2_1 = BY_KEY["レベル2-(1)"]
        assert "システム設計書" in l2_1.text
        assert "システム設計書" not in l2_1.label
        assert l2_1.label.endswith(
            "ソフトウェアもしくはドキュメント等を保管する場所への無権限者の侵入"
        )

    @pytest.mark.parametrize("example", THREAT_EXAMPLES, ids=example_id)
    def test_examples_in_the_plans_words(self, example: ThreatExample) -> None:
        """Lines ~169–240 of the plan; "以下同じ。" (a drafting cross-reference) is left out."""
        plan = squeezed(PLAN_TEXT).replace("以下同じ。", "")
        assert f"({example.number}){squeezed(example.text)}" in plan

    @pytest.mark.parametrize(
        ("key", "words"),
        [
            ("レベル1-(1)", "無権限者が侵入しようとしたにもかかわらず"),
            ("レベル2-(2)", "ファイアウォールを通過しなかった不正アクセス"),
            (
                "レベル2-(3)",
                "コンピューターウィルス対策ソフトウェアによるコンピューターウィルスの検出",
            ),
            ("レベル3-(2)", "ファイアウォールを通過した不正アクセス"),
            ("レベル3-(3)", "正当な権限によるものと確認することができない統合端末等の操作"),
            ("レベル3-(4)", "コンピューターウィルスの侵入によるシステムの異常動作"),
            ("レベル3-(5)", "本人確認情報等の不正利用またはそのおそれを生じさせるもの"),
        ],
    )
    def test_spot_checks(self, key: str, words: str) -> None:
        assert words in BY_KEY[key].text
        assert words in squeezed(PLAN_TEXT)

    @pytest.mark.parametrize("level", list(ThreatLevel), ids=lambda lv: lv.label)
    def test_threat_in_the_plans_words(self, level: ThreatLevel) -> None:
        threat = THREAT_LEVELS[level].threat
        assert threat.startswith("本人確認情報等に脅威を及ぼ")
        row = level.label.translate(FULL_WIDTH) + threat  # the plan writes レベル１
        assert row in squeezed(PLAN_TEXT)

    def test_level_labels(self) -> None:
        assert [lv.label for lv in ThreatLevel] == ["レベル1", "レベル2", "レベル3"]
        assert ThreatLevel.L3 > ThreatLevel.L2 > ThreatLevel.L1


class TestExampleChoice:
    def test_one_choice_per_example_in_the_tables_order(self) -> None:
        assert [c.value for c in ExampleChoice] == [e.label for e in THREAT_EXAMPLES]

    @pytest.mark.parametrize("choice", list(ExampleChoice), ids=lambda c: c.name)
    def test_every_choice_maps_back(self, choice: ExampleChoice) -> None:
        (example,) = examples_of([choice])
        assert example.label == choice.value
        assert choice.name == f"l{example.level.value}_{example.number}"

    def test_examples_of_gives_each_once_in_the_tables_order(self) -> None:
        chosen = [
            ExampleChoice(BY_KEY[k].label) for k in ("レベル3-(2)", "レベル1-(1)", "レベル3-(2)")
        ]
        assert [e.key for e in examples_of(chosen)] == ["レベル1-(1)", "レベル3-(2)"]
        assert examples_of([]) == []

    def test_choice_values_are_japanese(self) -> None:
        assert all(JAPANESE.search(c.value) for c in ExampleChoice)
        assert ExampleChoice.__doc__ is not None and JAPANESE.search(ExampleChoice.__doc__)


class TestClauseTitles:
    def test_index_is_parsed(self) -> None:
        ids = chapter3_ids()
        assert {"C3.S2.1", "C3.S4.D8", "C3.2", "C3.A.L1", "C3.S6.4"} <= set(ids)
        assert len(ids) >= 39

    @pytest.mark.parametrize(
        "clause",
        chapter3_ids(),
    )
    def test_every_chapter3_clause_has_a_title(self, clause: str) -> None:
        title = clause_title(clause)
        assert title != clause
        assert title.startswith("第3章")

    def test_unknown_clause_is_shown_as_is(self) -> None:
        assert clause_title("C9.Z9") == "C9.Z9"

    @pytest.mark.parametrize("item", MEETING_ITEMS_CH3, ids=lambda i: i.clause)
    def test_decision_items_as_the_index_names_them(self, item: DecisionItem) -> None:
        clause, title = item.clause, item.title
        found = re.search(rf"`{re.escape(clause)}` ([^(,`.\n]+)", CLAUSES_MD)
        assert found is not None
        assert found.group(1).strip() == title
        assert clause_title(clause) == f"第3章 手順4 決定事項 {title}"
