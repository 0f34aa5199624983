"""The `jukinet` command line: check-config, set-code and verify-audit."""

from __future__ import annotations

import difflib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from sqlalchemy import text

from jukinet.cli import main
from jukinet.codes import verify_code
from jukinet.config.loader import load_config
from jukinet.store.db import make_engine
from jukinet.store.store import Store
from tests.conftest import CODES, EXAMPLE_CONFIG
from tests.postgres import free_port
from tests.residents import registry_config, write_registry

NEW_CODE = "80641357"


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = Path(shutil.copytree(EXAMPLE_CONFIG, tmp_path / "config"))
    monkeypatch.setenv("JUKINET_CONFIG_DIR", str(directory))
    monkeypatch.setenv("JUKINET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JUKINET_STORE_URL", f"sqlite:///{tmp_path / 'home' / 'store.sqlite3'}")
    return directory


def edit_town(config_dir: Path, **changes: object) -> None:
    """Set top-level sections of the copy's town.yaml."""
    town = config_dir / "town.yaml"
    yaml = YAML()
    data = yaml.load(town.read_text(encoding="utf-8"))
    data.update(changes)
    with town.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)


def set_code(monkeypatch: pytest.MonkeyPatch, person: str, *lines: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    return main(["set-code", person, "--stdin"])


class TestCheckConfig:
    def test_example_is_valid(self, config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["check-config"]) == 0
        out, err = capsys.readouterr()
        assert out.startswith("設定は正しく読み込めました: 多賀町（254436）")
        assert "職員 9 名" in out and "連絡先 6 件" in out and "訓練時の宛先 1 件" in out
        assert str(config_dir) in out
        assert "アクセスログの解析: ログのフォルダ" in out and "まだありません" in out
        assert err == ""

    def test_the_access_log_folder_is_listed(
        self, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        folder = tmp_path / "home" / "access-logs"
        folder.mkdir(parents=True)
        (folder / "cs_20261127.csv").write_text("time\n", encoding="utf-8")
        (folder / "memo.txt").write_text("x\n", encoding="utf-8")
        assert main(["check-config"]) == 0
        out = capsys.readouterr().out
        assert f"ログのフォルダ {folder}、ファイル 2 件" in out
        assert "読み方の決まっていないファイル: memo.txt" in out

    def test_the_residents_registry_is_read_when_configured(
        self,
        config_dir: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        edit_town(config_dir, residents=registry_config("TEST_REGISTRY_URL"))
        assert main(["check-config"]) == 2  # the variable is not set
        assert "環境変数 TEST_REGISTRY_URL" in capsys.readouterr().err
        monkeypatch.setenv("TEST_REGISTRY_URL", f"sqlite:///{tmp_path / 'missing.sqlite3'}")
        assert main(["check-config"]) == 2  # no such table
        err = capsys.readouterr().err
        assert "town.yaml residents: 既存住基システムの住民データを読めません" in err
        assert "no such table" in err
        monkeypatch.setenv("TEST_REGISTRY_URL", write_registry(tmp_path / "registry.sqlite3"))
        assert main(["check-config"]) == 0
        assert "既存住基システムの住民データ: 3 人" in capsys.readouterr().out

    def test_the_integrity_tables_are_probed_when_configured(
        self,
        config_dir: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        from jukinet.integrity.compare import FIELDS, KEY
        from jukinet.integrity.synthetic import generate, write_table

        columns = {KEY: "住民票コード", **{f: f"c_{f}" for f in FIELDS}}
        integrity = {
            "cs": {"url": {"env": "TEST_CS_URL"}, "table": "cs_honnin"},
            "registry": {"url": {"env": "TEST_JUKI_URL"}, "table": "kizon_juki"},
        }
        edit_town(config_dir, integrity={**integrity, "columns": {**columns, "sex": "無い列"}})
        for env, name, table in (
            ("TEST_CS_URL", "cs", "cs_honnin"),
            ("TEST_JUKI_URL", "juki", "kizon_juki"),
        ):
            url = f"sqlite:///{tmp_path / name}.sqlite3"
            write_table(url, table, generate(3), columns)
            monkeypatch.setenv(env, url)
        assert main(["check-config"]) == 2
        err = capsys.readouterr().err
        assert "town.yaml integrity.cs: CSの表 cs_honnin の列を読めません" in err
        assert (
            "town.yaml integrity.registry: 既存住基システムの表 kizon_juki の列を読めません" in err
        )
        edit_town(config_dir, integrity={**integrity, "columns": columns})
        assert main(["check-config"]) == 0
        assert "CS と既存住基システムの表を読めます" in capsys.readouterr().out

    def test_broken_copy_lists_every_problem(
        self, config_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (config_dir / "drill.yaml").write_text("", encoding="utf-8")
        roster = config_dir / "roster.yaml"
        roster.write_text(
            roster.read_text(encoding="utf-8").replace(
                "email: taga@town.taga.example", "email: taga@town"
            ),
            encoding="utf-8",
        )
        assert main(["check-config"]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("設定に誤りがあります:")
        assert "  - drill.yaml: ファイルが空です" in err
        assert (
            "  - roster.yaml: 「職員」(people) の 2件目（taga） の 「メールアドレス」(email)" in err
        )

    def test_as_a_command(self, config_dir: Path) -> None:
        (config_dir / "contacts.yaml").unlink()
        done = subprocess.run(
            [sys.executable, "-m", "jukinet.cli", "check-config"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 2
        assert "contacts.yaml: ファイルがありません" in done.stderr


class TestWorker:
    def test_refuses_to_start_on_invalid_configuration(
        self, config_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`jukinet worker` checks first: the worker never starts to fail later at a notice."""
        (config_dir / "drill.yaml").write_text("recipients: []\n", encoding="utf-8")
        assert main(["worker"]) == 2  # returned: os.execv of `prefect worker` never happened
        err = capsys.readouterr().err
        assert "drill.yaml: 「訓練時の宛先」(recipients)" in err
        assert err.rstrip().endswith("設定に誤りがあるため、ワーカーを起動しません。")

    def test_a_store_that_does_not_answer_is_an_outage_not_a_wrong_setting(
        self,
        config_dir: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Exit 1 (systemd starts it again later), not 2 (wait for a fix); no password shown."""
        password = "pw-not-to-show"
        url = f"postgresql+psycopg://jukinet:{password}@127.0.0.1:{free_port()}/jukinet"
        monkeypatch.setenv("JUKINET_STORE_URL", url)
        for command in ("worker", "migrate"):
            assert main([command]) == 1, command
            err = capsys.readouterr().err
            assert "記録の保管庫（JUKINET_STORE_URL）に接続できません" in err, command
            assert "Traceback" not in err and password not in err, command


class TestSetCode:
    def test_new_code_verifies_and_is_never_shown(
        self, config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert set_code(monkeypatch, "inukami", NEW_CODE, NEW_CODE) == 0
        out, err = capsys.readouterr()
        assert NEW_CODE not in out + err
        assert "犬上 一郎 の承認コードを設定しました" in out
        after = (config_dir / "roster.yaml").read_text(encoding="utf-8")
        assert NEW_CODE not in after

        roster = load_config(config_dir).roster
        assert verify_code(NEW_CODE, roster.person("inukami").code_hash or "")
        assert not verify_code(
            CODES["犬上 一郎（住民課）"], roster.person("inukami").code_hash or ""
        )
        for person in roster.people:
            if person.id != "inukami" and person.label in CODES:
                assert verify_code(CODES[person.label], person.code_hash or ""), person.id

    def test_comments_are_kept(self, config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        assert set_code(monkeypatch, "inukami", NEW_CODE, NEW_CODE) == 0
        after = (config_dir / "roster.yaml").read_text(encoding="utf-8")
        assert after.startswith("# 職員名簿と役割（架空の設定例）")
        assert "R-CHIEF:               # セキュリティ統括責任者" in after

    def test_only_that_persons_hash_line_changes(
        self, config_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = config_dir / "roster.yaml"
        before = path.read_text(encoding="utf-8")
        assert set_code(monkeypatch, "inukami", NEW_CODE, NEW_CODE) == 0
        after = path.read_text(encoding="utf-8")
        changed = [
            line
            for line in difflib.unified_diff(
                before.splitlines(), after.splitlines(), lineterm="", n=0
            )
            if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
        ]
        assert len(changed) == 2, changed
        old_line, new_line = changed
        assert old_line.startswith("-    code_hash: scrypt$")
        assert new_line.startswith("+    code_hash: scrypt$")
        assert before.splitlines().index(old_line[1:]) == after.splitlines().index(new_line[1:])

    def test_person_without_a_code_gets_one(
        self, config_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert set_code(monkeypatch, "seiryu", NEW_CODE, NEW_CODE) == 0
        roster = load_config(config_dir).roster
        assert verify_code(NEW_CODE, roster.person("seiryu").code_hash or "")
        data = YAML(typ="safe").load((config_dir / "roster.yaml").read_text(encoding="utf-8"))
        seiryu = next(p for p in data["people"] if p["id"] == "seiryu")
        assert list(seiryu) == ["id", "name", "department", "email", "code_hash"]

    def test_mismatched_entries_refused(
        self, config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        before = (config_dir / "roster.yaml").read_bytes()
        assert set_code(monkeypatch, "inukami", NEW_CODE, NEW_CODE + "9") == 2
        out, err = capsys.readouterr()
        assert "2回の入力が一致しません" in err
        assert NEW_CODE not in out + err
        assert (config_dir / "roster.yaml").read_bytes() == before

    def test_single_entry_refused(self, config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        before = (config_dir / "roster.yaml").read_bytes()
        assert set_code(monkeypatch, "inukami", NEW_CODE) == 2
        assert (config_dir / "roster.yaml").read_bytes() == before

    def test_short_code_refused(
        self, config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        before = (config_dir / "roster.yaml").read_bytes()
        assert set_code(monkeypatch, "inukami", "123", "123") == 2
        assert "4 文字以上" in capsys.readouterr().err
        assert (config_dir / "roster.yaml").read_bytes() == before

    def test_unknown_id_refused(
        self, config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        before = (config_dir / "roster.yaml").read_bytes()
        assert set_code(monkeypatch, "nobody", NEW_CODE, NEW_CODE) == 2
        out, err = capsys.readouterr()
        assert "職員ID「nobody」の職員がいません" in err
        assert NEW_CODE not in out + err
        assert (config_dir / "roster.yaml").read_bytes() == before
        assert not list(config_dir.glob("*.tmp"))


class TestVerifyAudit:
    @pytest.fixture
    def store(self, config_dir: Path, tmp_path: Path) -> Store:
        engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'store.sqlite3'}")
        s = Store(engine, "254436")
        for i in range(1, 4):
            s.audit(None, "C2.S4", "作業", f"記録 {i}", event_key=f"k{i}")
        return s

    def test_intact_chain(self, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["verify-audit"]) == 0
        assert "監査記録の連鎖は正常です（3 件）" in capsys.readouterr().out
        store.engine.dispose()

    def test_tampered_chain(self, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE audit_records SET summary = '改ざん' WHERE seq = 2"))
        assert main(["verify-audit"]) == 1
        err = capsys.readouterr().err
        assert "監査記録の連鎖が壊れています: 通番 2 の内容が改変されています" in err
        store.engine.dispose()

    def test_deleted_tail(self, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_records WHERE seq = 3"))
        assert main(["verify-audit"]) == 1
        assert "通番 3 以降の記録が削除されています" in capsys.readouterr().err
        store.engine.dispose()

    def test_broken_config_is_reported(
        self, config_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (config_dir / "town.yaml").unlink()
        assert main(["verify-audit"]) == 2
        assert "town.yaml: ファイルがありません" in capsys.readouterr().err
