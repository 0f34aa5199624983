"""Configuration: the example loads; every mistake is one Japanese line naming file, entry and field."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from jukinet.config.loader import ConfigError, load_config
from jukinet.notices.recipients import for_receiver
from jukinet.plan import Body, Role
from tests.conftest import EXAMPLE_CONFIG

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE_CONFIG, tmp_path / "config"))


def edit(directory: Path, filename: str, change: Callable[[Any], object]) -> None:
    """Change one YAML file of the copy as a person would (round trip keeps the rest)."""
    yaml = YAML()
    path = directory / filename
    data = yaml.load(path.read_text(encoding="utf-8"))
    change(data)
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)


def problems(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    found = info.value.problems
    assert found, "ConfigError without problems"
    for line in found:
        assert JAPANESE.search(line), f"not Japanese: {line}"
    return found


def only(directory: Path) -> str:
    found = problems(directory)
    assert len(found) == 1, found
    return found[0]


class TestExample:
    def test_loads(self) -> None:
        cfg = load_config(EXAMPLE_CONFIG)
        assert cfg.town.municipality.code == "254436"
        assert cfg.town.municipality.name == "多賀町"
        assert cfg.town.document_prefix == "多住"
        assert {p.id for p in cfg.roster.people} >= {"inukami", "taga", "ryozen", "seiryu"}
        assert set(cfg.contacts.bodies) == set(Body)
        assert [r.email for r in cfg.drill.recipients] == ["kunren@town.taga.example"]

    def test_every_role_but_the_discoverer_is_assigned(self) -> None:
        roster = load_config(EXAMPLE_CONFIG).roster
        assert set(roster.roles) == set(Role) - {Role.STAFF}

    def test_holders_and_deputies_in_order(self) -> None:
        roster = load_config(EXAMPLE_CONFIG).roster
        assert [p.id for p in roster.holders(Role.OPERATOR)] == ["inukami"]
        assert roster.may_answer(Role.OPERATOR, roster.person("inukami")) == "担当者"
        assert roster.may_answer(Role.OPERATOR, roster.person("taga")) == "代理者（第1順位）"
        assert roster.may_answer(Role.OPERATOR, roster.person("ryozen")) is None
        assert roster.by_label("犬上 一郎（住民課）") == roster.person("inukami")
        assert roster.by_label("だれか（どこか）") is None

    def test_office_hours_read_as_text(self) -> None:
        contacts = load_config(EXAMPLE_CONFIG).contacts
        assert str(contacts.bodies[Body.PREFECTURE][0].office_hours) == "平日 08:30〜17:15"


class TestRosterProblems:
    def test_bad_email(self, config_dir: Path) -> None:
        edit(config_dir, "roster.yaml", lambda d: d["people"][1].update(email="taga-at-town"))
        line = only(config_dir)
        assert line.startswith("roster.yaml: ")
        assert "2件目（taga）" in line
        assert "「メールアドレス」(email)" in line
        assert "形式が正しくありません" in line
        assert "taga-at-town" in line

    def test_missing_required_role(self, config_dir: Path) -> None:
        edit(config_dir, "roster.yaml", lambda d: d["roles"].pop("R-CHIEF"))
        line = only(config_dir)
        assert line.startswith("roster.yaml: ")
        assert "「役割」(roles)" in line
        assert "「R-CHIEF」（セキュリティ統括責任者）" in line
        assert "割り当てがありません" in line

    def test_role_names_an_unknown_person(self, config_dir: Path) -> None:
        edit(
            config_dir, "roster.yaml", lambda d: d["roles"]["R-CHIEF"]["deputies"].append("nobody")
        )
        line = only(config_dir)
        assert line.startswith("roster.yaml: ")
        assert "「R-CHIEF」（セキュリティ統括責任者）" in line
        assert "(deputies) の 2件目" in line
        assert "登録されていない職員ID「nobody」" in line

    def test_duplicate_person_id(self, config_dir: Path) -> None:
        def add_twin(d: Any) -> None:
            d["people"].append(
                {"id": "taga", "name": "多賀 次郎", "department": "税務課", "email": "t2@x.example"}
            )

        edit(config_dir, "roster.yaml", add_twin)
        line = only(config_dir)
        assert line.startswith("roster.yaml: ")
        assert "10件目（taga）" in line
        assert "「職員ID」(id)" in line
        assert "2件目と重複" in line

    def test_same_name_and_department_twice(self, config_dir: Path) -> None:
        def add_twin(d: Any) -> None:
            d["people"].append(
                {
                    "id": "taga2",
                    "name": "多賀 花子",
                    "department": "住民課",
                    "email": "t2@x.example",
                }
            )

        edit(config_dir, "roster.yaml", add_twin)
        line = only(config_dir)
        assert "10件目（taga2）" in line
        assert "多賀 花子（住民課）" in line
        assert "区別できません" in line

    def test_answering_role_holder_without_code(self, config_dir: Path) -> None:
        edit(config_dir, "roster.yaml", lambda d: d["people"][0].pop("code_hash"))
        line = only(config_dir)
        assert line.startswith("roster.yaml: ")
        assert "1件目（inukami）" in line
        assert "(code_hash)" in line
        assert "R-OPERATOR（住基ネット担当者）" in line
        assert "jukinet set-code inukami" in line

    def test_code_only_needed_for_answering_roles(self, config_dir: Path) -> None:
        # 町長 (R-MAYOR) receives reports and never answers a form: no code needed.
        cfg = load_config(config_dir)
        assert cfg.roster.person("seiryu").code_hash is None

    @pytest.mark.parametrize("bad", ["1111", "scrypt$abc", "scrypt$16384$8$1$!!$??"])
    def test_malformed_code_hash(self, config_dir: Path, bad: str) -> None:
        edit(config_dir, "roster.yaml", lambda d: d["people"][0].update(code_hash=bad))
        line = only(config_dir)
        assert line.startswith("roster.yaml: ")
        assert "1件目（inukami）" in line
        assert "「承認コードのハッシュ」(code_hash)" in line
        assert "形式が正しくありません" in line
        assert "jukinet set-code" in line

    def test_clear_code_is_not_echoed(self, config_dir: Path) -> None:
        edit(config_dir, "roster.yaml", lambda d: d["people"][0].update(code_hash="8642"))
        assert "8642" not in only(config_dir)

    def test_unknown_key_suggests_the_right_spelling(self, config_dir: Path) -> None:
        def typo(d: Any) -> None:
            d["people"][0]["emial"] = d["people"][0].pop("email")

        edit(config_dir, "roster.yaml", typo)
        found = problems(config_dir)
        assert any(
            "1件目（inukami）" in p
            and "「emial」" in p
            and "定義されていない項目" in p
            and "email" in p
            for p in found
        ), found
        assert any("(email)" in p and "必須の項目がありません" in p for p in found), found

    def test_unknown_role_id(self, config_dir: Path) -> None:
        edit(
            config_dir,
            "roster.yaml",
            lambda d: d["roles"].update({"R-CHEIF": {"holders": ["ryozen"]}}),
        )
        line = only(config_dir)
        assert "「R-CHEIF」" in line
        assert "使用できない値です" in line
        assert "R-CHIEF" in line


class TestContactsProblems:
    def test_body_without_contacts(self, config_dir: Path) -> None:
        """C2.1 緊急時連絡網: every outside body needs a contact."""
        edit(config_dir, "contacts.yaml", lambda d: d["bodies"].pop("vendor"))
        line = only(config_dir)
        assert line.startswith("contacts.yaml: ")
        assert "「連絡先」(bodies)" in line
        assert "「vendor」（保守委託事業者）" in line
        assert "連絡先がありません" in line

    def test_body_with_empty_list(self, config_dir: Path) -> None:
        edit(config_dir, "contacts.yaml", lambda d: d["bodies"].update(kikaku=[]))
        line = only(config_dir)
        assert "「kikaku」（企画課）" in line

    def test_office_hours_start_after_end(self, config_dir: Path) -> None:
        edit(
            config_dir,
            "contacts.yaml",
            lambda d: d["bodies"]["municipalities"][1]["office_hours"].update(start="18:00"),
        )
        line = only(config_dir)
        assert line.startswith("contacts.yaml: ")
        assert "「municipalities」（関係市町村） の 2件目（甲良町）" in line
        assert "「執務時間」(office_hours)" in line
        assert "(start)" in line
        assert "18:00" in line and "17:15" in line

    @pytest.mark.parametrize("bad", ["25:00", "8:30", "0830", "17時15分"])
    def test_bad_hhmm(self, config_dir: Path, bad: str) -> None:
        edit(
            config_dir,
            "contacts.yaml",
            lambda d: d["bodies"]["shiga"][0]["office_hours"].update(end=bad),
        )
        line = only(config_dir)
        assert line.startswith("contacts.yaml: ")
        assert "1件目（滋賀県）" in line
        assert "「執務時間」(office_hours) の 「終了時刻」(end)" in line
        assert f"「{bad}」は形式が正しくありません" in line
        assert "HH:MM" in line

    def test_missing_field_of_a_contact(self, config_dir: Path) -> None:
        edit(config_dir, "contacts.yaml", lambda d: d["bodies"]["center"][0].pop("phone"))
        line = only(config_dir)
        assert (
            "「center」（全国センター） の 1件目（地方公共団体情報システム機構（全国センター））"
            in line
        )
        assert "「電話番号」(phone): 必須の項目がありません" in line


class TestReceivers:
    """Bodies that received 本人確認情報 from 全国センター: the request of C3.S2.4 goes to them."""

    def test_example_has_receivers(self) -> None:
        contacts = load_config(EXAMPLE_CONFIG).contacts
        assert [c.organization for c in contacts.receivers] == ["湖東年金事務所"]
        found = contacts.receiver("湖東年金事務所")
        assert found is not None
        assert found[0] == 0
        assert found[1].email == "juki-riyou@nenkin-koto.example"
        assert contacts.receiver("架空市役所") is None

    def test_for_receiver_by_organization(self) -> None:
        cfg = load_config(EXAMPLE_CONFIG)
        (recipient,) = for_receiver(cfg, "湖東年金事務所")
        assert recipient.id == "receivers:0"
        assert recipient.addressee == "湖東年金事務所 業務課 住基ネット利用担当 様"
        assert recipient.addresses == ("juki-riyou@nenkin-koto.example",)
        assert "湖東年金事務所" in recipient.name

    @pytest.mark.parametrize("name", ["架空市役所", "", "湖東年金"])
    def test_for_receiver_unknown_name(self, name: str) -> None:
        assert for_receiver(load_config(EXAMPLE_CONFIG), name) == []

    def test_second_receiver_is_found(self, config_dir: Path) -> None:
        def add(d: Any) -> None:
            d["receivers"].append(
                {
                    "organization": "犬上健康保険組合",
                    "department": "適用課",
                    "person": "住基ネット利用担当",
                    "email": "juki@kenpo-inukami.example",
                    "phone": "0749-00-0009",
                    "office_hours": {"days": "平日", "start": "08:30", "end": "17:15"},
                    "after_hours": {"name": "当直", "phone": "0749-00-0099"},
                }
            )

        edit(config_dir, "contacts.yaml", add)
        (recipient,) = for_receiver(load_config(config_dir), "犬上健康保険組合")
        assert recipient.id == "receivers:1"
        assert recipient.addresses == ("juki@kenpo-inukami.example",)

    def test_receivers_are_optional(self, config_dir: Path) -> None:
        edit(config_dir, "contacts.yaml", lambda d: d.pop("receivers"))
        cfg = load_config(config_dir)
        assert cfg.contacts.receivers == []
        assert for_receiver(cfg, "湖東年金事務所") == []

    def test_receiver_with_bad_email(self, config_dir: Path) -> None:
        edit(
            config_dir,
            "contacts.yaml",
            lambda d: d["receivers"][0].update(email="nenkin-at-koto"),
        )
        line = only(config_dir)
        assert line.startswith("contacts.yaml: ")
        assert "「本人確認情報の提供先機関」(receivers) の 1件目（湖東年金事務所）" in line
        assert "「メールアドレス」(email)" in line
        assert "「nenkin-at-koto」は形式が正しくありません" in line

    def test_duplicate_receiver_is_refused(self, config_dir: Path) -> None:
        """A receiver is chosen by its name (C3.S2.4): a second one of the same name would never
        be reached, so loading refuses it."""

        def twice(d: Any) -> None:
            d["receivers"].append({**d["receivers"][0], "department": "総務課"})

        edit(config_dir, "contacts.yaml", twice)
        line = only(config_dir)
        assert "(receivers) の 2件目" in line
        assert "機関名「湖東年金事務所」が 1件目と重複しています" in line

    def test_receiver_missing_a_field(self, config_dir: Path) -> None:
        edit(config_dir, "contacts.yaml", lambda d: d["receivers"][0].pop("department"))
        line = only(config_dir)
        assert "(receivers) の 1件目（湖東年金事務所）" in line
        assert "「担当部署」(department): 必須の項目がありません" in line


class TestTownProblems:
    def test_five_digit_municipality_code(self, config_dir: Path) -> None:
        edit(config_dir, "town.yaml", lambda d: d["municipality"].update(code="25443"))
        line = only(config_dir)
        assert line.startswith("town.yaml: ")
        assert "「団体」(municipality) の 「全国地方公共団体コード」(code)" in line
        assert "「25443」は形式が正しくありません" in line
        assert "6桁" in line

    def test_port_out_of_range(self, config_dir: Path) -> None:
        edit(config_dir, "town.yaml", lambda d: d["smtp"].update(port=70000))
        line = only(config_dir)
        assert "「メール送信」(smtp) の 「SMTP ポート」(port)" in line
        assert "65535 以下" in line

    def test_wrong_type(self, config_dir: Path) -> None:
        edit(config_dir, "town.yaml", lambda d: d["sender"].update(omit_seal="maybe"))
        line = only(config_dir)
        assert "「公印省略」(omit_seal)" in line
        assert "true または false" in line


class TestFileProblems:
    @pytest.mark.parametrize(
        ("text", "line", "problem"),
        [
            (
                "recipients:\n  - name: 訓練事務局\n     email: kunren@town.taga.example\n",
                3,
                "ここには「項目: 値」を書けません",
            ),
            ("recipients:\n\t- name: 訓練事務局\n", 2, "タブ文字は使えません"),
            (
                "recipients:\n  - name: 訓練事務局\n    email: [kunren@town.taga.example\n",
                4,
                "「[」に対応する「]」がありません",
            ),
            ('recipients:\n  - name: "訓練事務局\n', 3, "引用符が閉じていません"),
        ],
        ids=["indent", "tab", "bracket", "quote"],
    )
    def test_yaml_syntax_error_names_the_line(
        self, config_dir: Path, text: str, line: int, problem: str
    ) -> None:
        (config_dir / "drill.yaml").write_text(text, encoding="utf-8")
        found = only(config_dir)
        assert found.startswith(f"drill.yaml: {line}行目: YAML として読めません。{problem}"), found

    def test_duplicate_key_is_a_yaml_error(self, config_dir: Path) -> None:
        path = config_dir / "town.yaml"
        path.write_text(
            path.read_text(encoding="utf-8") + "document_prefix: 多総\n", encoding="utf-8"
        )
        last = len(path.read_text(encoding="utf-8").splitlines())
        line = only(config_dir)
        assert line.startswith(f"town.yaml: {last}行目: YAML として読めません。")
        assert "項目「document_prefix」が重複しています" in line

    def test_empty_file(self, config_dir: Path) -> None:
        (config_dir / "drill.yaml").write_text("# 空\n", encoding="utf-8")
        assert only(config_dir) == "drill.yaml: ファイルが空です"

    def test_missing_file(self, config_dir: Path) -> None:
        (config_dir / "contacts.yaml").unlink()
        line = only(config_dir)
        assert line.startswith("contacts.yaml: ファイルがありません")
        assert str(config_dir / "contacts.yaml") in line

    def test_missing_directory(self, tmp_path: Path) -> None:
        line = only(tmp_path / "nowhere")
        assert "設定フォルダがありません" in line
        assert str(tmp_path / "nowhere") in line

    def test_non_utf8_file(self, config_dir: Path) -> None:
        path = config_dir / "roster.yaml"
        path.write_bytes(path.read_text(encoding="utf-8").encode("shift_jis"))
        line = only(config_dir)
        assert line.startswith("roster.yaml: ")
        assert "1行目" in line
        assert "UTF-8 で保存してください" in line

    def test_utf8_with_bom_is_accepted(self, config_dir: Path) -> None:
        path = config_dir / "drill.yaml"
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        assert load_config(config_dir).drill.recipients[0].name == "訓練事務局"

    def test_top_level_must_be_a_mapping(self, config_dir: Path) -> None:
        (config_dir / "drill.yaml").write_text("- kunren@town.taga.example\n", encoding="utf-8")
        line = only(config_dir)
        assert line.startswith("drill.yaml: ファイル全体: ")
        assert "マッピング" in line


class TestAllProblemsTogether:
    def test_every_file_reports_every_problem(self, config_dir: Path) -> None:
        edit(config_dir, "town.yaml", lambda d: d["municipality"].update(code="25443"))
        edit(config_dir, "roster.yaml", lambda d: d["people"][1].update(email="bad"))
        edit(config_dir, "roster.yaml", lambda d: d["people"][3].update(emial="x@y.example"))
        edit(
            config_dir,
            "contacts.yaml",
            lambda d: d["bodies"]["shiga"][0]["office_hours"].update(end="25:00"),
        )
        (config_dir / "drill.yaml").write_text("", encoding="utf-8")
        found = problems(config_dir)
        assert len(found) == 5, found
        assert [p.split(":")[0] for p in found] == [
            "town.yaml",
            "roster.yaml",
            "roster.yaml",
            "contacts.yaml",
            "drill.yaml",
        ]
        assert any("2件目（taga）" in p for p in found)
        assert any("4件目（tomanji）" in p for p in found)

    def test_every_cross_check_problem_at_once(self, config_dir: Path) -> None:
        def break_roster(d: Any) -> None:
            d["roles"].pop("R-MAYOR")
            d["roles"].pop("R-ID-MANAGER")
            d["roles"]["R-CHIEF"]["holders"] = ["ghost"]
            d["people"][1].pop("code_hash")

        edit(config_dir, "roster.yaml", break_roster)
        edit(
            config_dir,
            "contacts.yaml",
            lambda d: [d["bodies"].pop(k) for k in ("center", "vendor")],
        )
        found = problems(config_dir)
        text = "\n".join(found)
        assert len(found) == 6, text
        assert "「R-MAYOR」（町長）" in text
        assert "「R-ID-MANAGER」（本人確認情報管理責任者）" in text
        assert "「ghost」" in text
        assert "2件目（taga）" in text and "jukinet set-code taga" in text
        assert "「center」（全国センター）" in text
        assert "「vendor」（保守委託事業者）" in text

    def test_error_text_lists_every_problem(self, config_dir: Path) -> None:
        (config_dir / "drill.yaml").write_text("", encoding="utf-8")
        (config_dir / "contacts.yaml").unlink()
        with pytest.raises(ConfigError) as info:
            load_config(config_dir)
        text = str(info.value)
        assert text.startswith("設定に誤りがあります:")
        assert "drill.yaml: ファイルが空です" in text
        assert "contacts.yaml: ファイルがありません" in text
