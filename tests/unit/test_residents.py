"""jukinet/residents.py and the forms' check: a resident's name, address or birth date typed into
free text is refused by the field's title, never by echoing the value; the registry is read on
SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from jukinet.forms.chapter2 import ChiefJudgement
from jukinet.forms.common import personal_data_problems, redacted
from jukinet.residents import ADDRESS_FOUND, NAME_FOUND, ResidentIndex, address_variants
from tests.residents import ADDRESS, KANA, NAME, RESIDENTS, TABLE, Resident, write_registry
from tests.unit.test_forms import judgement

INDEX = ResidentIndex([r.name for r in RESIDENTS], [r.address for r in RESIDENTS])


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("宇曽川 絹代さんの証明書", NAME_FOUND),
        ("宇曽川絹代", NAME_FOUND),
        ("鍋尻　真砂子 様", NAME_FOUND),  # full-width space
        ("多賀町大字佐目7702番地の3 の世帯", ADDRESS_FOUND),
        ("佐目７７０２番地の３", ADDRESS_FOUND),  # full-width digits, without 大字
        ("滋賀県犬上郡多賀町大字四手6611番地", ADDRESS_FOUND),
        ("CS サーバの電源ユニットが故障", None),
        ("大字佐目の集会所で停電", None),  # a place, not a resident's address
        ("宇曽川さんに連絡", None),  # a surname alone is not looked for
    ],
)
def test_names_and_addresses_are_found_by_kind(text: str, found: str | None) -> None:
    assert INDEX.find(text) == found


def test_address_variants_leave_out_what_the_town_knows() -> None:
    assert address_variants("滋賀県犬上郡多賀町大字富之尾8123番地") == {
        "滋賀県犬上郡多賀町大字富之尾8123番地",
        "犬上郡多賀町大字富之尾8123番地",
        "多賀町大字富之尾8123番地",
        "大字富之尾8123番地",
        "富之尾8123番地",
    }


@pytest.mark.parametrize("resident", RESIDENTS, ids=lambda r: r.kana)
def test_every_kind_of_personal_data_is_refused_by_field(resident: Resident) -> None:
    for value in (resident.name, resident.address, resident.birth, resident.code, resident.number):
        answer = ChiefJudgement.model_validate(judgement(reason=f"{value} の件で"))
        (problem,) = personal_data_problems(answer, INDEX)
        assert (
            problem.startswith("「判断の理由」に")
            and "本人確認情報は記入しないでください" in problem
        )
        assert value not in problem
        assert redacted(answer, INDEX)["reason"] == "（本人確認情報のおそれがあるため削除）"


def test_without_the_registry_names_pass_but_digits_and_birth_dates_do_not() -> None:
    name = ChiefJudgement.model_validate(judgement(reason=f"{RESIDENTS[0].name} の件"))
    birth = ChiefJudgement.model_validate(judgement(reason=f"{RESIDENTS[0].birth}の方"))
    assert personal_data_problems(name) == []
    (problem,) = personal_data_problems(birth)
    assert "生年月日と思われる記載" in problem


def test_the_registry_is_read_from_sqlite(tmp_path: Path) -> None:
    url = write_registry(tmp_path / "registry.sqlite3")
    index = ResidentIndex.from_registry(url, TABLE, NAME, ADDRESS, KANA)
    assert len(index) == len(RESIDENTS) and index.distinct_names == 2 * len(RESIDENTS)  # kana
    assert index.find(RESIDENTS[2].name) == NAME_FOUND
    assert index.find(f"{RESIDENTS[2].kana}様") == NAME_FOUND
    assert index.find(RESIDENTS[2].address) == ADDRESS_FOUND


def test_the_registry_is_read_from_postgresql(pg_schema_url: str) -> None:
    engine = create_engine(pg_schema_url)
    with engine.begin() as connection:
        connection.execute(
            text('CREATE TABLE "住民" ("住民票コード" text, "氏名" text, "住所" text)')
        )
        for r in RESIDENTS:
            connection.execute(
                text('INSERT INTO "住民" VALUES (:c, :n, :a)'),
                {"c": r.code, "n": r.name, "a": r.address},
            )
    engine.dispose()
    index = ResidentIndex.from_registry(pg_schema_url, TABLE, NAME, ADDRESS)
    assert len(index) == len(RESIDENTS)
    assert index.find(f"{RESIDENTS[1].address}付近") == ADDRESS_FOUND


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("昭和30年4月1日生の方", True),
        ("平成2年11月30日生まれ", True),
        ("１９７１年３月３日うまれ", True),
        ("生年月日の欄", True),
        ("11月27日生じた障害", False),
        ("11月27日 10時30分に発見", False),
    ],
)
def test_birth_dates_are_told_by_their_wording(text: str, flagged: bool) -> None:
    answer = ChiefJudgement.model_validate(judgement(reason=text))
    assert bool(personal_data_problems(answer)) is flagged
