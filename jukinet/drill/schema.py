"""Form field titles → property names, by the paused form's JSON schema (`fill`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from jukinet.drill.scenario import ScenarioError, as_mapping


def slug(text: str) -> str:
    """The slug of flows/human.py `pause_key`: `C2.S5.MEETING` → `c2-s5-meeting`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow `$ref` (#/definitions/X or #/$defs/X); `anyOf` with null picks the other branch."""
    for _ in range(20):
        if "$ref" in node:
            name = str(node["$ref"]).rsplit("/", 1)[-1]
            defs = root.get("definitions") or root.get("$defs") or {}
            node = {**defs.get(name, {}), **{k: v for k, v in node.items() if k != "$ref"}}
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            node = {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}}
        else:
            return node
    return node


def _titles(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, str]:
    """title → property name; a property without its own title takes its referenced type's."""
    titles: dict[str, str] = {}
    for name, prop in (schema.get("properties") or {}).items():
        title = prop.get("title") or resolve(prop, root).get("title") or name
        titles[str(title)] = name
    return titles


CHOICE_BREAKS = (" ", "\u3000", "（", "(")


def full_choice(choices: list[str], value: str, where: str) -> str:
    """The choice written in full, or by its leading part when that names exactly one choice
    (`レベル3-(3)` for `レベル3-(3) 正当な権限によるものと…`, `レベル2` for `レベル2（…）`)."""
    if value in choices:
        return value
    found = [
        c
        for c in choices
        if c.startswith(value) and value.strip() and c[len(value)] in CHOICE_BREAKS
    ]
    if len(found) == 1:
        return found[0]
    raise ScenarioError(f"{where}: 「{value}」は選べません（選べる値: {'、'.join(choices)}）")


def _value(node: Mapping[str, Any], root: Mapping[str, Any], value: Any, where: str) -> Any:
    node = resolve(node, root)
    if "enum" in node:
        return full_choice([str(c) for c in node["enum"]], str(value), where)
    kind = node.get("type")
    if kind == "object" and "properties" in node:
        return fill(node, value, where, root)
    if kind == "array":
        items = value if isinstance(value, list) else [value]
        inner = node.get("items") or {}
        return [_value(inner, root, v, f"{where} {i + 1}件目") for i, v in enumerate(items)]
    if kind == "string":
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    if kind == "boolean" and value in ("はい", "いいえ"):
        return value == "はい"
    return value


def fill(
    schema: Mapping[str, Any], answer: Any, where: str, root: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Answer keyed by titles (`{"原因": "電源"}`) → keyed by names (`{"cause": "電源"}`)."""
    root = schema if root is None else root
    titled = as_mapping(answer, where)
    titles = _titles(schema, root)
    props = schema.get("properties") or {}
    result: dict[str, Any] = {}
    for key, value in titled.items():
        name = titles.get(key) or (key if key in props else None)
        if name is None:
            raise ScenarioError(
                f"{where}: 「{key}」という項目はフォームにありません（項目: {'、'.join(titles)}）"
            )
        result[name] = _value(props[name], root, value, f"{where}の「{key}」")
    by_name = {v: k for k, v in titles.items()}
    missing = [by_name.get(n, n) for n in schema.get("required") or [] if n not in result]
    if missing:
        raise ScenarioError(f"{where}: 必須の項目がありません: {'、'.join(missing)}")
    return result


# --- the Prefect REST API --------------------------------------------------------------------
