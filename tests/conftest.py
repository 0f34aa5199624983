"""Shared fixtures: an isolated copy of the example configuration and a real SMTP mailbox."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from jukinet.mailbox import Mailbox

# A developer's shell (e.g. one inside `make up`) must not redirect the tests' mail or store.
for _variable in ("JUKINET_SMTP_PORT", "JUKINET_UI_URL", "JUKINET_STORE_URL", "JUKINET_HOME"):
    os.environ.pop(_variable, None)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "deployments" / "config"

# Approval codes of the example roster (deployments/config/roster.yaml); fictional people.
CODES = {
    "犬上 一郎（住民課）": "1111",
    "多賀 花子（住民課）": "2222",
    "大滝 健二（住民課長）": "3333",
    "敏満寺 智子（住民課 課長補佐）": "4444",
    "芹川 直樹（総務課 情報係）": "5555",
    "霊仙 正（副町長）": "6666",
    "栗栖 修（総務課長）": "7777",
    "河内 美咲（企画課長）": "9999",
}


def copy_config(target: Path, smtp_port: int, **town_overrides: object) -> Path:
    """The example configuration, pointed at a test mailbox, with fast retries."""
    shutil.copytree(EXAMPLE_CONFIG, target)
    yaml = YAML()
    town_path = target / "town.yaml"
    town = yaml.load(town_path.read_text(encoding="utf-8"))
    town["smtp"]["port"] = smtp_port
    town["smtp"]["timeout_seconds"] = 2
    town["delivery"]["retries"] = 1
    town["delivery"]["retry_delays_seconds"] = [0.2]
    for key, value in town_overrides.items():
        town[key] = value
    with town_path.open("w", encoding="utf-8") as fh:
        yaml.dump(town, fh)
    return target


@pytest.fixture(scope="session")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    with Mailbox(tmp_path_factory.mktemp("mailbox")) as mb:
        yield mb
