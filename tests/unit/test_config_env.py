"""Environment overrides that `make up` sets when it runs on other ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from jukinet.config.loader import ConfigError, load_config
from tests.conftest import EXAMPLE_CONFIG


def test_smtp_port_and_ui_address_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUKINET_SMTP_PORT", "2525")
    monkeypatch.setenv("JUKINET_UI_URL", "http://127.0.0.1:4300")
    town = load_config(Path(EXAMPLE_CONFIG)).town
    assert town.smtp.port == 2525
    assert town.ui_url == "http://127.0.0.1:4300"


def test_a_bad_override_is_a_japanese_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUKINET_SMTP_PORT", "70000")
    monkeypatch.setenv("JUKINET_UI_URL", "127.0.0.1:4300")
    with pytest.raises(ConfigError) as caught:
        load_config(Path(EXAMPLE_CONFIG))
    assert any(p.startswith("環境変数 JUKINET_SMTP_PORT") for p in caught.value.problems)
    assert any(p.startswith("環境変数 JUKINET_UI_URL") for p in caught.value.problems)
