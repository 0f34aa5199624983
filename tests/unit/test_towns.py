"""Several municipalities in one installation: one configuration folder per 団体コード, each
validated when loaded, listed and checked by `jukinet check-config`; one town as before."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from jukinet.cli import main
from jukinet.config.loader import ConfigError
from jukinet.config.synthetic import SHIGA, check_digit, make_town
from jukinet.config.towns import load_configs, pick
from jukinet.store.db import make_engine
from jukinet.store.store import Store
from tests.conftest import EXAMPLE_CONFIG

TAGA, HIKONE = "254436", "252026"


@pytest.fixture
def two_towns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "config"
    root.mkdir()
    make_town(EXAMPLE_CONFIG, root / TAGA, TAGA, "多賀町")
    make_town(EXAMPLE_CONFIG, root / HIKONE, HIKONE, "彦根市")
    monkeypatch.setenv("JUKINET_CONFIG_DIR", str(root))
    monkeypatch.setenv("JUKINET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JUKINET_STORE_URL", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    monkeypatch.delenv("JUKINET_MUNICIPALITY", raising=False)
    return root


def edit(path: Path, change: Any) -> None:
    yaml = YAML()
    data = yaml.load(path.read_text(encoding="utf-8"))
    change(data)
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)


class TestLoading:
    def test_one_town_in_the_folder_itself(self) -> None:
        configs = load_configs(EXAMPLE_CONFIG)
        assert list(configs) == [TAGA]

    def test_two_towns_each_with_their_own_people_and_addresses(self, two_towns: Path) -> None:
        configs = load_configs(two_towns)
        assert sorted(configs) == [HIKONE, TAGA]
        hikone, taga = configs[HIKONE], configs[TAGA]
        assert hikone.town.municipality.name == "彦根市"
        assert hikone.directory == two_towns / HIKONE
        hikone_names = {p.name for p in hikone.roster.people}
        taga_names = {p.name for p in taga.roster.people}
        assert hikone_names and not hikone_names & taga_names
        assert all(p.email.endswith("@m252026.example") for p in hikone.roster.people)

    def test_the_19_towns_of_shiga_load(self, tmp_path: Path) -> None:
        for code, name in SHIGA:
            assert check_digit(code[:5]) == code[5], name
            make_town(EXAMPLE_CONFIG, tmp_path / code, code, name)
        configs = load_configs(tmp_path)
        assert len(configs) == 19
        assert configs["252018"].town.municipality.name == "大津市"

    def test_a_folder_not_named_by_its_code_is_refused(self, two_towns: Path) -> None:
        (two_towns / HIKONE).rename(two_towns / "252034")
        with pytest.raises(ConfigError) as caught:
            load_configs(two_towns)
        assert any(
            "[252034]" in p and "municipality.code（252026）" in p for p in caught.value.problems
        )

    def test_a_folder_name_that_is_not_a_code(self, two_towns: Path) -> None:
        (two_towns / HIKONE).rename(two_towns / "hikone")
        with pytest.raises(ConfigError) as caught:
            load_configs(two_towns)
        assert any("[hikone]" in p and "6桁" in p for p in caught.value.problems)

    def test_one_bad_town_stops_all_and_names_its_folder(self, two_towns: Path) -> None:
        edit(two_towns / HIKONE / "town.yaml", lambda t: t["sender"].update(phone="abc"))
        with pytest.raises(ConfigError) as caught:
            load_configs(two_towns)
        assert caught.value.problems
        assert all(p.startswith(f"[{HIKONE}]") for p in caught.value.problems)
        assert any("phone" in p or "電話" in p for p in caught.value.problems)

    def test_two_towns_may_not_share_an_access_log_folder(self, two_towns: Path) -> None:
        for code in (TAGA, HIKONE):
            edit(two_towns / code / "town.yaml", lambda t: t["access_logs"].update(folder="logs"))
        with pytest.raises(ConfigError) as caught:
            load_configs(two_towns)
        assert any("access_logs.folder" in p for p in caught.value.problems), caught.value

    def test_an_empty_folder(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match=r"town\.yaml がありません"):
            load_configs(tmp_path)


class TestPick:
    def test_the_only_town_needs_no_code(self) -> None:
        assert pick(load_configs(EXAMPLE_CONFIG), None).town.municipality.code == TAGA

    def test_several_towns_need_a_code(self, two_towns: Path) -> None:
        configs = load_configs(two_towns)
        with pytest.raises(LookupError, match="彦根市（252026）"):
            pick(configs, None)
        with pytest.raises(LookupError, match="252018"):
            pick(configs, "252018")
        assert pick(configs, HIKONE).town.municipality.name == "彦根市"


class TestCommands:
    def test_check_config_lists_and_checks_every_town(
        self, two_towns: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["check-config"]) == 0
        out = capsys.readouterr().out
        assert "2 団体の設定があります" in out
        assert "多賀町（254436）" in out and "彦根市（252026）" in out

    def test_check_config_fails_on_one_bad_town(
        self, two_towns: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        edit(two_towns / TAGA / "roster.yaml", lambda r: r["people"][0].update(email="x"))
        assert main(["check-config"]) == 2
        assert f"[{TAGA}]" in capsys.readouterr().err

    def test_verify_audit_checks_each_town(
        self, two_towns: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        import os

        engine = make_engine(os.environ["JUKINET_STORE_URL"])
        for code in (TAGA, HIKONE):
            store = Store(engine, code)
            store.audit(None, "C1.1", "記録", "記録", event_key=f"{code}-1")
        assert main(["verify-audit"]) == 0
        out = capsys.readouterr().out
        assert "多賀町（254436）の監査記録の連鎖は正常です（1 件）" in out
        assert "彦根市（252026）の監査記録の連鎖は正常です（1 件）" in out
        monkeypatch.setenv("JUKINET_MUNICIPALITY", HIKONE)
        assert main(["verify-audit"]) == 0
        out = capsys.readouterr().out
        assert "彦根市" not in out and "正常です（1 件）" in out

    def test_set_code_with_several_towns_names_the_town(
        self, two_towns: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO("8642\n8642\n"))
        assert main(["set-code", "inukami", "--stdin"]) == 2
        assert "JUKINET_MUNICIPALITY" in capsys.readouterr().err
        before = (two_towns / TAGA / "roster.yaml").read_text(encoding="utf-8")
        monkeypatch.setenv("JUKINET_MUNICIPALITY", HIKONE)
        monkeypatch.setattr("sys.stdin", io.StringIO("8642\n8642\n"))
        assert main(["set-code", "inukami", "--stdin"]) == 0
        assert "彦根 一郎" in capsys.readouterr().out
        assert (two_towns / TAGA / "roster.yaml").read_text(encoding="utf-8") == before
        hikone = load_configs(two_towns)[HIKONE]
        from jukinet.codes import verify_code

        person = next(p for p in hikone.roster.people if p.id == "inukami")
        assert person.code_hash is not None and verify_code("8642", person.code_hash)
