"""Channels, secrets and notation in the configuration: each mistake is one Japanese line naming
the file, the entry and the field, found when the configuration is loaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jukinet.config.loader import load_config
from jukinet.config.models import Channel, Charset
from jukinet.notices.recipients import for_body, webhook_of
from jukinet.plan import Body
from tests.unit.test_config import config_dir, edit, only

__all__ = ["config_dir"]  # the fixture, shared with test_config.py


def _vendor(**values: object) -> Callable[[Any], object]:
    return lambda d: d["bodies"]["vendor"][0].update(values)


class TestChannels:
    def test_default_is_email_in_utf8(self, config_dir: Path) -> None:
        (vendor,) = for_body(load_config(config_dir), Body.VENDOR)
        assert vendor.channels == (Channel.EMAIL,) and vendor.charset is Charset.UTF8

    def test_webhook_with_token_from_the_environment(self, config_dir: Path) -> None:
        hook = {"url": "https://hoshu.example/notices", "token": {"env": "VENDOR_TOKEN"}}
        edit(config_dir, "contacts.yaml", _vendor(channels=["email", "webhook"], webhook=hook))
        config = load_config(config_dir)
        (vendor,) = for_body(config, Body.VENDOR)
        assert vendor.channels == (Channel.EMAIL, Channel.WEBHOOK)
        found = webhook_of(config, vendor.id)
        assert found is not None and found.token is not None and found.token.env == "VENDOR_TOKEN"

    def test_webhook_channel_without_its_address(self, config_dir: Path) -> None:
        edit(config_dir, "contacts.yaml", _vendor(channels=["webhook"]))
        line = only(config_dir)
        assert line.startswith("contacts.yaml: ")
        assert "「Webhook」(webhook)" in line and "url" in line

    def test_unknown_channel(self, config_dir: Path) -> None:
        edit(config_dir, "contacts.yaml", _vendor(channels=["fax"]))
        line = only(config_dir)
        assert "「送付方法」(channels)" in line and "使用できない値です" in line
        assert "email" in line and "webhook" in line and "archive" in line

    def test_unknown_charset(self, config_dir: Path) -> None:
        edit(config_dir, "contacts.yaml", _vendor(charset="shift_jis"))
        line = only(config_dir)
        assert "「メールの文字コード」(charset)" in line and "iso-2022-jp" in line


class TestSecrets:
    def test_a_secret_written_in_the_file_is_refused(self, config_dir: Path) -> None:
        edit(
            config_dir,
            "town.yaml",
            lambda d: d["smtp"].update(
                security="starttls", username="juki", password="plain-password"
            ),
        )
        line = only(config_dir)
        assert "「SMTP パスワードの参照先」(password)" in line
        assert "plain-password" not in line

    def test_block_and_env_together_are_refused(self, config_dir: Path) -> None:
        edit(
            config_dir,
            "town.yaml",
            lambda d: d["smtp"].update(
                security="starttls",
                username="juki",
                password={"block": "smtp-password", "env": "SMTP_PASSWORD"},
            ),
        )
        assert "どちらか一方" in only(config_dir)

    def test_login_needs_starttls(self, config_dir: Path) -> None:
        edit(
            config_dir,
            "town.yaml",
            lambda d: d["smtp"].update(username="juki", password={"env": "SMTP_PASSWORD"}),
        )
        line = only(config_dir)
        assert "「暗号化（STARTTLS）」(security)" in line and "starttls" in line

    def test_login_with_starttls_and_a_block(self, config_dir: Path) -> None:
        edit(
            config_dir,
            "town.yaml",
            lambda d: d["smtp"].update(
                security="starttls", username="juki", password={"block": "taga-smtp"}
            ),
        )
        smtp = load_config(config_dir).town.smtp
        assert (
            smtp.password is not None
            and str(smtp.password) == "Prefect Secret ブロック「taga-smtp」"
        )


class TestNotation:
    def test_replacements_load(self, config_dir: Path) -> None:
        edit(config_dir, "town.yaml", lambda d: d.update(notation={"及び": "および"}))
        assert load_config(config_dir).town.notation == {"及び": "および"}

    def test_template_syntax_is_refused(self, config_dir: Path) -> None:
        edit(config_dir, "town.yaml", lambda d: d.update(notation={"及び": "{{ config }}"}))
        line = only(config_dir)
        assert "「表記」(notation)" in line and "使用できない文字" in line


def test_credentials_in_a_webhook_address_are_refused(config_dir: Path) -> None:
    hook = {"url": "https://user:secret-pass@hoshu.example/notices"}
    edit(config_dir, "contacts.yaml", _vendor(channels=["webhook"], webhook=hook))
    line = only(config_dir)
    assert "「Webhook のアドレス」(url)" in line and "認証情報" in line
    assert "secret-pass" not in line
