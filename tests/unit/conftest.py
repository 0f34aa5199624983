"""Unit tests are hermetic: a session fixture of another tier (the integration stack) may have
set the product's environment overrides in this process; they must not redirect unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("JUKINET_SMTP_PORT", "JUKINET_UI_URL"):
        monkeypatch.delenv(variable, raising=False)
