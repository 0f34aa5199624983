"""`jukinet up --profile`: the production profile's checks, and what each child is given."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.client.orchestration import PrefectClient

from jukinet import devstack
from jukinet.profile import DEFAULT_ACCESS, Access, ProfileError, load_profile
from jukinet.settings import load_settings

AUTH = "juki-admin:S3cret-pass-0427"
PASSWORD = AUTH.partition(":")[2]
SECRETS = ("JUKINET_AUTH_STRING", "PREFECT_API_AUTH_STRING", "PREFECT_SERVER_API_AUTH_STRING")


def production(**environ: str) -> Access:
    return load_profile("production", {"JUKINET_AUTH_STRING": AUTH, **environ})


def refusal(environ: dict[str, str]) -> str:
    with pytest.raises(ProfileError) as raised:
        load_profile("production", environ)
    message = str(raised.value)
    assert message.startswith("本番用の設定（production）で起動できません")
    assert "何も起動していません" in message
    return message


class TestDefaultProfile:
    def test_reads_none_of_the_production_variables(self) -> None:
        environ = {"JUKINET_AUTH_STRING": AUTH, "JUKINET_BIND_HOST": "0.0.0.0"}
        access = load_profile("default", environ)
        assert access == DEFAULT_ACCESS
        assert (access.server_env(), access.client_env(), access.auth_headers()) == ({}, {}, {})

    def test_stack_environment_is_the_development_one(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("JUKINET_HOME", str(tmp_path))
        monkeypatch.setenv("PREFECT_API_AUTH_STRING", "left:as-it-was")
        env = devstack.stack_env(load_settings(), devstack.Ports(prefect=4321, smtp=2525))
        assert env["PREFECT_API_URL"] == "http://127.0.0.1:4321/api"
        assert env["PREFECT_UI_API_URL"] == "http://127.0.0.1:4321/api"
        assert env["PREFECT_SERVER_API_HOST"] == "127.0.0.1"
        assert env["JUKINET_UI_URL"] == "http://127.0.0.1:4321"
        assert env["PREFECT_API_AUTH_STRING"] == "left:as-it-was"
        assert "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED" not in env

    def test_unknown_profile_is_named_with_the_choices(self) -> None:
        with pytest.raises(
            ProfileError, match="「staging」はありません。指定できるもの: default、production"
        ):
            load_profile("staging", {})


class TestAuthString:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (None, "環境変数 JUKINET_AUTH_STRING が設定されていません"),
            ("", "環境変数 JUKINET_AUTH_STRING が設定されていません"),
            ("juki-admin-S3cret-pass", "「ユーザー名:パスワード」の形（コロン「:」で区切る）"),
            (":S3cret-pass-0427", "ユーザー名（「:」の前）が空です"),
            ("juki-admin:S3cret", "パスワード（最初の「:」の後）は 8 文字以上"),
            ("juki-admin:", "パスワード（最初の「:」の後）は 8 文字以上"),
            ("juki-admin:S3cret pass 0427", "半角の英数字と記号だけ"),
            ("職員:S3cret-pass-0427", "半角の英数字と記号だけ"),
        ],
    )
    def test_unusable_string_is_refused_without_showing_it(
        self, value: str | None, expected: str
    ) -> None:
        message = refusal({} if value is None else {"JUKINET_AUTH_STRING": value})
        assert expected in message
        for part in (value or "", *(value or "").split(":")):
            if len(part) > 3:
                assert part not in message

    def test_every_problem_is_listed(self) -> None:
        message = refusal({"JUKINET_AUTH_STRING": ":short", "JUKINET_BIND_HOST": "no such host!"})
        assert message.count("\n- ") == 3
        assert "'no such host!'" in message

    def test_a_colon_in_the_password_is_kept(self) -> None:
        assert production(JUKINET_AUTH_STRING="admin:a:b:c:d:e").auth_string == "admin:a:b:c:d:e"

    def test_is_never_in_the_repr(self) -> None:
        assert PASSWORD not in repr(production())

    def test_server_and_clients_get_their_own_setting(self) -> None:
        access = production()
        assert access.server_env() == {
            "PREFECT_SERVER_API_AUTH_STRING": AUTH,
            "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true",
        }
        assert access.client_env() == {"PREFECT_API_AUTH_STRING": AUTH}

    def test_header_is_the_one_prefects_client_sends(self) -> None:
        prefect = PrefectClient("http://127.0.0.1:4200/api", auth_string=AUTH)
        assert (
            production().auth_headers()["Authorization"]
            == (prefect._client.headers["Authorization"])
        )


class TestAddresses:
    def test_loopback_by_default(self) -> None:
        access = production()
        assert access.bind_host == "127.0.0.1"
        assert access.api_url(4200) == "http://127.0.0.1:4200/api"
        assert access.ui_url(4200) == "http://127.0.0.1:4200"

    def test_a_given_address_is_used_by_browsers_and_local_clients(self) -> None:
        access = production(JUKINET_BIND_HOST="192.0.2.10")
        assert access.api_url(4200) == "http://192.0.2.10:4200/api"
        assert access.ui_url(4200) == "http://192.0.2.10:4200"

    @pytest.mark.parametrize(("host", "local"), [("0.0.0.0", "127.0.0.1"), ("::", "[::1]")])
    def test_every_address_needs_the_public_url(self, host: str, local: str) -> None:
        message = refusal({"JUKINET_AUTH_STRING": AUTH, "JUKINET_BIND_HOST": host})
        assert "JUKINET_PUBLIC_URL" in message
        access = production(
            JUKINET_BIND_HOST=host, JUKINET_PUBLIC_URL="https://juki.town.example:4200/"
        )
        assert access.api_url(4200) == f"http://{local}:4200/api"
        assert access.ui_url(4200) == "https://juki.town.example:4200"

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("juki.town.example:4200", "http:// または https:// で始まる"),
            ("http://admin:S3cret-pass-0427@juki.town.example", "ユーザー名やパスワードを含めない"),
            ("http://juki.town.example:4200/prefect", "ホスト名とポートまで"),
        ],
    )
    def test_public_url_is_checked(self, url: str, expected: str) -> None:
        environ = {"JUKINET_AUTH_STRING": AUTH, "JUKINET_PUBLIC_URL": url}
        message = refusal(environ)
        assert expected in message
        assert PASSWORD not in message

    def test_stack_environment_holds_no_auth_string(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("JUKINET_HOME", str(tmp_path))
        for name in SECRETS:
            monkeypatch.setenv(name, AUTH)
        access = production(
            JUKINET_BIND_HOST="0.0.0.0", JUKINET_PUBLIC_URL="http://juki.town.example:4321"
        )
        env = devstack.stack_env(load_settings(), devstack.Ports(prefect=4321, smtp=2525), access)
        assert not set(SECRETS) & set(env)
        assert AUTH not in env.values()
        assert env["PREFECT_SERVER_API_HOST"] == "0.0.0.0"
        assert env["PREFECT_API_URL"] == "http://127.0.0.1:4321/api"
        assert env["PREFECT_UI_API_URL"] == "http://juki.town.example:4321/api"
        assert env["JUKINET_UI_URL"] == "http://juki.town.example:4321"


def test_up_refuses_before_starting_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JUKINET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JUKINET_AUTH_STRING", "juki-admin-S3cret-pass-0427")
    for name in ("JUKINET_BIND_HOST", "JUKINET_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)

    assert devstack.main(["--profile", "production"]) == 2

    err = capsys.readouterr().err
    assert "コロン「:」で区切る" in err
    assert "S3cret" not in err
    assert not (tmp_path / "home").exists()
