"""Where things live: environment variables with project-local defaults.

JUKINET_HOME          var/ under the project (store, archive, mailbox, Prefect data)
JUKINET_CONFIG_DIR    deployments/config
JUKINET_STORE_URL     sqlite:///$JUKINET_HOME/store.sqlite3
JUKINET_TEMPLATES_DIR templates/
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    config_dir: Path
    store_url: str
    templates_dir: Path

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def mailbox_dir(self) -> Path:
        return self.home / "mailbox"


def load_settings() -> Settings:
    home = Path(os.environ.get("JUKINET_HOME", PROJECT_ROOT / "var")).resolve()
    config_dir = Path(
        os.environ.get("JUKINET_CONFIG_DIR", PROJECT_ROOT / "deployments" / "config")
    ).resolve()
    store_url = os.environ.get("JUKINET_STORE_URL", f"sqlite:///{home / 'store.sqlite3'}")
    templates_dir = Path(
        os.environ.get("JUKINET_TEMPLATES_DIR", PROJECT_ROOT / "templates")
    ).resolve()
    return Settings(
        home=home, config_dir=config_dir, store_url=store_url, templates_dir=templates_dir
    )
