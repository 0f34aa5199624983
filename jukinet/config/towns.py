"""Every municipality of one installation, each with its own configuration folder.

    configs = load_configs(Path("deployments/config"))   # {"254436": Config, ...}; ConfigError
    config = pick(configs, "254436")                      # LookupError (Japanese) for an unknown code

One town (the folder holds town.yaml itself, as in release 0.1.0), or several: one sub-folder per
town, named by its 全国地方公共団体コード, each holding town.yaml, roster.yaml, contacts.yaml and
drill.yaml. Every town is validated when loaded; the problems of all of them are reported together,
each line prefixed with the town's folder, and nothing is used until all are right.
"""

from __future__ import annotations

import re
from pathlib import Path

from jukinet.config.loader import FILES, Config, ConfigError, load_config

CODE_FOLDER = re.compile(r"\d{6}")
TOWN_FILE = "town.yaml"


def town_folders(directory: Path) -> list[Path]:
    """The folders holding one town's files: `directory` itself (when it holds any of them, so a
    missing one is reported by name), or its sub-folders."""
    if any((directory / name).is_file() for name in FILES):
        return [directory]
    return sorted(p for p in directory.iterdir() if p.is_dir() and (p / TOWN_FILE).is_file())


def load_configs(directory: Path) -> dict[str, Config]:
    if not directory.is_dir():
        raise ConfigError([f"設定フォルダがありません（{directory}）"])
    folders = town_folders(directory)
    if not folders:
        raise ConfigError(
            [
                f"設定フォルダ {directory} に town.yaml がありません。1団体ならこのフォルダに、"
                "複数の団体なら団体コード（6桁）のフォルダごとに置いてください"
            ]
        )
    several = folders != [directory]
    problems: list[str] = []
    configs: dict[str, Config] = {}
    for folder in folders:
        prefix = f"[{folder.name}] " if several else ""
        if several and not CODE_FOLDER.fullmatch(folder.name):
            problems.append(
                f"{prefix}団体のフォルダ名は全国地方公共団体コード（6桁の数字）にしてください"
            )
            continue
        try:
            config = load_config(folder)
        except ConfigError as exc:
            problems.extend(f"{prefix}{line}" for line in exc.problems)
            continue
        code = config.town.municipality.code
        if several and code != folder.name:
            problems.append(
                f"{prefix}town.yaml の municipality.code（{code}）がフォルダ名と一致しません"
            )
            continue
        configs[code] = config
    problems.extend(_shared_places(configs))
    if problems:
        raise ConfigError(problems)
    return configs


def _shared_places(configs: dict[str, Config]) -> list[str]:
    """Two towns must not read one town's residents or write into one archive of access logs."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for code, config in configs.items():
        town = config.town
        places = []
        if town.residents is not None:
            places.append(("residents", str(town.residents)))
        if town.access_logs is not None:
            places.append(("access_logs.folder", str(town.access_logs.folder)))
        for field, place in places:
            key = f"{field}={place}"
            if key in seen:
                problems.append(
                    f"[{code}] town.yaml の {field} が団体 {seen[key]} と同じです。"
                    "団体ごとに別にしてください"
                )
            seen.setdefault(key, code)
    return problems


def pick(configs: dict[str, Config], code: str | None) -> Config:
    """The town `code`; with no code, the only town (several towns need one)."""
    if code is None or code == "":
        if len(configs) == 1:
            return next(iter(configs.values()))
        raise LookupError(
            "複数の団体を運用しているため、団体コード（全国地方公共団体コード）を指定してください。"
            f"設定されている団体: {names(configs)}"
        )
    if code not in configs:
        raise LookupError(
            f"団体コード {code} の団体は設定されていません。設定されている団体: {names(configs)}"
        )
    return configs[code]


def names(configs: dict[str, Config]) -> str:
    return "、".join(f"{c.town.municipality.name}（{code}）" for code, c in sorted(configs.items()))
