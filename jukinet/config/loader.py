"""Load and validate the configuration directory; every problem is one Japanese line naming
the file, the entry and the field.

    >>> cfg = load_config(Path("deployments/config"))   # raises ConfigError listing every problem
"""

from __future__ import annotations

import difflib
import os
import re
import types
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from jukinet.config.models import (
    EMAIL,
    ENV_NAME,
    HHMM,
    MUNICIPALITY_CODE,
    PERSON_ID,
    PHONE,
    URL,
    Contacts,
    CrossCheckError,
    Drill,
    Roster,
    Town,
)

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
    "int_from_float": "整数で指定してください",
    "float_parsing": "数値で指定してください",
    "float_type": "数値で指定してください",
    "bool_parsing": "true または false で指定してください",
    "bool_type": "true または false で指定してください",
    "list_type": "一覧（リスト）で指定してください",
    "dict_type": "項目の組（マッピング）で指定してください",
    "model_type": "項目の組（マッピング）で指定してください",
    "model_attributes_type": "項目の組（マッピング）で指定してください",
    "too_short": "件数が足りません（1件以上必要です）",
    "enum": "使用できない値です",
    "literal_error": "使用できない値です",
    "greater_than_equal": "値が小さすぎます",
    "less_than_equal": "値が大きすぎます",
    "greater_than": "値が小さすぎます",
}

# What a value matching each pattern looks like, for "形式が正しくありません".
_PATTERN_HINTS = {
    EMAIL: "メールアドレスの形式で指定します。例: juki@town.taga.example",
    HHMM: "24時間表記の HH:MM で指定します。例: 08:30",
    PHONE: "数字とハイフンで指定します。例: 0749-00-0000",
    MUNICIPALITY_CODE: "検査数字を含む6桁の数字で指定します。例: 254436",
    PERSON_ID: "英小文字で始まる英小文字・数字・_・- の2〜32文字で指定します。例: inukami",
    URL: "http:// または https:// で始まるアドレスで指定します",
    ENV_NAME: "英大文字・数字・_ の環境変数名で指定します。例: JUKINET_SMTP_PASSWORD",
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


def _entry_name(data: Any) -> str:
    if isinstance(data, dict):
        for key in ("id", "name", "organization"):
            if isinstance(data.get(key), str):
                return f"（{data[key]}）"
    return ""


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of `X | None` / `Optional[X]`, or `[annotation]`."""
    if get_origin(annotation) in (Union, types.UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for a in _unwrap(annotation):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def _container(annotation: Any, origin: type) -> tuple[Any, ...] | None:
    for a in _unwrap(annotation):
        if get_origin(a) is origin:
            return get_args(a)
    return None


def _key_label(key_type: Any, key: str) -> str:
    if isinstance(key_type, type) and issubclass(key_type, Enum):
        try:
            label = getattr(key_type(key), "label", None)
        except ValueError:
            return ""
        return f"（{label}）" if isinstance(label, str) else ""
    return ""


def _walk(
    model: type[BaseModel], data: Any, loc: tuple[int | str, ...]
) -> tuple[str, type[BaseModel] | None]:
    """`「職員」(people) の 2件目（taga）`, and the model found at that place (if any)."""
    parts: list[str] = []
    annotation: Any = model
    node = data
    for item in loc:
        if item == "[key]":  # pydantic's mark for an invalid mapping key
            continue
        current = _model_of(annotation)
        if isinstance(item, int):
            parts.append(
                f"{item + 1}件目{_entry_name(node[item] if _indexable(node, item) else None)}"
            )
            args = _container(annotation, list)
            annotation = args[0] if args else None
            node = node[item] if _indexable(node, item) else None
        elif current is not None and item in current.model_fields:
            field = current.model_fields[item]
            parts.append(f"「{field.title}」({item})" if field.title else f"「{item}」")
            annotation = field.annotation
            node = node.get(item) if isinstance(node, dict) else None
        else:
            args = _container(annotation, dict)
            key_type, annotation = args if args else (None, None)
            parts.append(f"「{item}」{_key_label(key_type, str(item))}")
            node = node.get(item) if isinstance(node, dict) else None
    return (" の ".join(parts) if parts else "ファイル全体"), _model_of(annotation)


def _describe(model: type[BaseModel], data: Any, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic location into `「職員」(people) の 2件目（taga） の 「メールアドレス」(email)`."""
    return _walk(model, data, loc)[0]


def _indexable(node: Any, index: int) -> bool:
    return isinstance(node, list) and 0 <= index < len(node)


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: Any, parent: type[BaseModel] | None = None) -> str:
    """One Japanese sentence for a pydantic error; `parent` is the model holding the field."""
    kind = error["type"]
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    base = _MESSAGES.get(kind, error["msg"])
    ctx = error.get("ctx", {})
    if kind in ("enum", "literal_error"):
        return f"{base}（使用できる値: {ctx.get('expected', '')}）"
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(ctx.get("pattern", ""))
        given = f"「{_shown(error.get('input'))}」は" if isinstance(error.get("input"), str) else ""
        return f"{given}{base}" + (f"（{hint}）" if hint else "")
    if kind == "extra_forbidden" and parent is not None and error["loc"]:
        close = difflib.get_close_matches(str(error["loc"][-1]), list(parent.model_fields), n=1)
        if close:
            return f"定義されていない項目です（「{close[0]}」の綴り誤りではありませんか）"
    if kind == "greater_than_equal":
        return f"{base}（{ctx['ge']} 以上にしてください）"
    if kind == "less_than_equal":
        return f"{base}（{ctx['le']} 以下にしてください）"
    if kind == "greater_than":
        return f"{base}（{ctx['gt']} より大きくしてください）"
    return base


def _problems(name: str, model: type[BaseModel], data: Any, exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, CrossCheckError):
            for inner, message in cause.problems:
                problems.append(f"{name}: {_describe(model, data, loc + inner)}: {message}")
            continue
        parent = _walk(model, data, loc[:-1])[1] if loc else None
        problems.append(f"{name}: {_describe(model, data, loc)}: {_message(err, parent)}")
    return problems


# ruamel's wording of the usual mistakes, in Japanese; anything else is shown as ruamel says it.
_YAML_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r'found duplicate key "(?P<key>[^"]*)"'), "項目「{key}」が重複しています"),
    (
        re.compile(r"mapping values are not allowed here"),
        "ここには「項目: 値」を書けません（字下げと「:」の位置を確認してください）",
    ),
    (
        re.compile(r"found character '\\t' that cannot start any token"),
        "タブ文字は使えません（字下げは半角スペースにしてください）",
    ),
    (re.compile(r"expected <block end>"), "字下げが揃っていません"),
    (re.compile(r"expected ',' or '\]'"), "「[」に対応する「]」がありません"),
    (re.compile(r"expected ',' or '\}'"), "「{{」に対応する「}}」がありません"),
    (re.compile(r"found unexpected end of stream"), "引用符が閉じていません"),
)


def _yaml_problem(exc: YAMLError) -> str:
    problem = str(getattr(exc, "problem", None) or exc)
    for pattern, text in _YAML_PROBLEMS:
        found = pattern.search(problem)
        if found:
            return text.format(**found.groupdict())
    return f"（{problem}）"


def _read(path: Path) -> tuple[Any, str | None]:
    """The YAML document, or a problem line (without the file name)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"ファイルを読めません（{exc.strerror or exc}）"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, (
            f"{line}行目に UTF-8 ではない文字があります（Shift_JIS などで保存されていませんか）。"
            "UTF-8 で保存してください"
        )
    try:
        return YAML(typ="safe", pure=True).load(text), None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        where = f"{mark.line + 1}行目: " if mark is not None else ""
        began = (
            f"（{context.line + 1}行目からの記述）"
            if context is not None and mark is not None and context.line != mark.line
            else ""
        )
        return None, f"{where}YAML として読めません。{_yaml_problem(exc)}{began}"


def validate_file(path: Path, model: type[BaseModel]) -> tuple[BaseModel | None, list[str]]:
    name = path.name
    if not path.exists():
        return None, [f"{name}: ファイルがありません（{path}）"]
    data, problem = _read(path)
    if problem is not None:
        return None, [f"{name}: {problem}"]
    if data is None:
        return None, [f"{name}: ファイルが空です"]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, _problems(name, model, data, exc)


def _env_overrides(town: Town, problems: list[str]) -> Town:
    """`JUKINET_SMTP_PORT` and `JUKINET_UI_URL` (set by `make up` on other ports) win over town.yaml."""
    port = os.environ.get("JUKINET_SMTP_PORT")
    if port is not None:
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            problems.append(
                f"環境変数 JUKINET_SMTP_PORT: 1〜65535 の整数で指定してください（値: {port}）"
            )
        else:
            town = town.model_copy(
                update={"smtp": town.smtp.model_copy(update={"port": int(port)})}
            )
    ui_url = os.environ.get("JUKINET_UI_URL")
    if ui_url is not None:
        if not ui_url.startswith(("http://", "https://")):
            problems.append("環境変数 JUKINET_UI_URL: http:// または https:// で始めてください")
        else:
            town = town.model_copy(update={"ui_url": ui_url})
    return town


def load_config(directory: Path) -> Config:
    if not directory.is_dir():
        raise ConfigError([f"設定フォルダがありません（{directory}）"])
    problems: list[str] = []
    loaded: dict[str, BaseModel] = {}
    for filename, model in FILES.items():
        value, errs = validate_file(directory / filename, model)
        problems.extend(errs)
        if value is not None:
            loaded[filename] = value
    if problems:
        raise ConfigError(problems)
    town = _env_overrides(loaded["town.yaml"], problems)  # type: ignore[arg-type]
    if problems:
        raise ConfigError(problems)
    loaded["town.yaml"] = town
    return Config(
        directory=directory,
        town=loaded["town.yaml"],  # type: ignore[arg-type]
        roster=loaded["roster.yaml"],  # type: ignore[arg-type]
        contacts=loaded["contacts.yaml"],  # type: ignore[arg-type]
        drill=loaded["drill.yaml"],  # type: ignore[arg-type]
    )
