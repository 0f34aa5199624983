"""Load and validate the configuration directory; every problem is one Japanese line naming
the file, the entry and the field.

    >>> cfg = load_config(Path("deployments/config"))   # raises ConfigError listing every problem
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from jukinet.config.models import Contacts, Drill, Roster, Town

FILES: dict[str, type[BaseModel]] = {
    "town.yaml": Town,
    "roster.yaml": Roster,
    "contacts.yaml": Contacts,
    "drill.yaml": Drill,
}

_MESSAGES = {
    "missing": "必須の項目がありません",
    "extra_forbidden": "定義されていない項目です（綴りを確認してください）",
    "string_pattern_mismatch": "形式が正しくありません",
    "string_too_short": "空にできません",
    "string_too_long": "長すぎます",
    "string_type": "文字列で指定してください",
    "int_parsing": "整数で指定してください",
    "int_type": "整数で指定してください",
    "float_parsing": "数値で指定してください",
    "bool_parsing": "true または false で指定してください",
    "bool_type": "true または false で指定してください",
    "list_type": "一覧（リスト）で指定してください",
    "dict_type": "項目の組（マッピング）で指定してください",
    "model_type": "項目の組（マッピング）で指定してください",
    "too_short": "件数が足りません（1件以上必要です）",
    "enum": "使用できない値です",
    "greater_than_equal": "値が小さすぎます",
    "less_than_equal": "値が大きすぎます",
    "greater_than": "値が小さすぎます",
}


class ConfigError(Exception):
    """Invalid configuration; `problems` holds one Japanese line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("設定に誤りがあります:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Config:
    directory: Path
    town: Town
    roster: Roster
    contacts: Contacts
    drill: Drill


def _read_yaml(path: Path) -> Any:
    yaml = YAML(typ="safe", pure=True)
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh)


def _entry_name(data: Any) -> str:
    if isinstance(data, dict):
        for key in ("id", "name", "organization"):
            if isinstance(data.get(key), str):
                return f"（{data[key]}）"
    return ""


def _describe(model: type[BaseModel], data: Any, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic location into `people の 2 件目（op2）の「メールアドレス」(email)`."""
    parts: list[str] = []
    current_model: type[BaseModel] | None = model
    node = data
    for item in loc:
        if isinstance(item, int):
            parts.append(
                f"{item + 1}件目{_entry_name(node[item] if _indexable(node, item) else None)}"
            )
            node = node[item] if _indexable(node, item) else None
            continue
        field = current_model.model_fields.get(item) if current_model else None
        title = field.title if field and field.title else None
        parts.append(f"「{title}」({item})" if title else f"「{item}」")
        node = node.get(item) if isinstance(node, dict) else None
        current_model = _inner_model(field.annotation) if field else None
    return " の ".join(parts) if parts else "ファイル全体"


def _indexable(node: Any, index: int) -> bool:
    return isinstance(node, list) and 0 <= index < len(node)


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found:
            return found
    return None


def _message(error: Any) -> str:
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    base = _MESSAGES.get(error["type"], error["msg"])
    if error["type"] == "enum":
        allowed = error.get("ctx", {}).get("expected", "")
        return f"{base}（使用できる値: {allowed}）"
    return base


def validate_file(path: Path, model: type[BaseModel]) -> tuple[BaseModel | None, list[str]]:
    name = path.name
    if not path.exists():
        return None, [f"{name}: ファイルがありません（{path}）"]
    try:
        data = _read_yaml(path)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" {mark.line + 1}行目" if mark is not None else ""
        return None, [f"{name}:{where} YAML として読めません（{getattr(exc, 'problem', exc)}）"]
    except UnicodeDecodeError:
        return None, [f"{name}: UTF-8 で保存してください"]
    if data is None:
        return None, [f"{name}: ファイルが空です"]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            problems.append(f"{name}: {_describe(model, data, tuple(err['loc']))}: {_message(err)}")
        return None, problems


def load_config(directory: Path) -> Config:
    problems: list[str] = []
    loaded: dict[str, BaseModel] = {}
    for filename, model in FILES.items():
        value, errs = validate_file(directory / filename, model)
        problems.extend(errs)
        if value is not None:
            loaded[filename] = value
    if problems:
        raise ConfigError(problems)
    return Config(
        directory=directory,
        town=loaded["town.yaml"],  # type: ignore[arg-type]
        roster=loaded["roster.yaml"],  # type: ignore[arg-type]
        contacts=loaded["contacts.yaml"],  # type: ignore[arg-type]
        drill=loaded["drill.yaml"],  # type: ignore[arg-type]
    )
