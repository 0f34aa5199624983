"""Pieces shared by the forms: Japan-time entry, the answerer's identity, checks the schema cannot express."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, create_model
from pydantic.fields import FieldInfo

from jukinet.wareki import JST

HHMM = r"^([01]?\d|2[0-3]):[0-5]\d$"
TIME_HINT = "日本時間・24時間表記（例 10:30）"


def jst_datetime(day: date, hhmm: str) -> datetime:
    """`jst_datetime(date(2026, 11, 27), "10:30")` → 2026-11-27 10:30+09:00."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=JST)


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


def parameter(title: str, description: str | None = None) -> Any:
    """A flow parameter's label in the UI's run form: `x: Annotated[str, parameter("事案番号")]`.

    Prefect builds the run form from the flow's signature and labels a parameter with its Python
    name, keeping only `json_schema_extra` (a Field's own title and description are dropped)."""
    extra: dict[str, Any] = {"title": title}
    if description:
        extra["description"] = description
    return Field(json_schema_extra=extra)


INCIDENT_NUMBER_HINT = "例: 令和8年度-001（経過記録の見出し・フロー実行の名前にあります）"
OPTIONAL_INCIDENT_HINT = (
    "事案の対応中に行う場合に入力します（例: 令和8年度-001）。空欄の場合は事案の外の記録になります"
)
MUNICIPALITY_HINT = "全国地方公共団体コード（6桁、例: 254436）。この製品で1団体だけを運用している場合は空欄で構いません"
MUNICIPALITY_TITLE = "団体コード"
TOWN_TAG_PREFIX = "団体:"  # a town's runs are tagged `団体:254436` (flows/runtime.town_tag)
MODE_HINT = "訓練の場合は「訓練」を選んでください。訓練の通知には【訓練】と記され、訓練用の宛先にだけ送られます"


ANSWERER_FIELD = "answerer"
CODE_FIELD = "approval_code"
REDACTED = "********"


def with_answerer(form: type[Form], people: list[str]) -> type[Form]:
    """The form plus 回答者 (a choice of the roster's people) and 承認コード (never shown back)."""
    answerer = StrEnum("Answerer", {f"p{i}": label for i, label in enumerate(people)})  # type: ignore[misc]
    fields: dict[str, Any] = {
        ANSWERER_FIELD: (
            answerer,
            Field(title="回答者", description="この回答をする職員（代理の場合は代理者ご本人）"),
        ),
        CODE_FIELD: (
            SecretStr,
            Field(title="承認コード", description="回答者ご本人の承認コード（記録されません）"),
        ),
    }
    model: type[Form] = create_model(form.__name__, __base__=form, **fields)
    model.__doc__ = form.__doc__
    return model


def with_defaults(form: type[Form], values: dict[str, Any]) -> type[Form]:
    """The form with `values` as the fields' defaults, every title, hint and rule kept (Prefect's
    `with_initial_data` rebuilds a field from its type alone and loses them)."""
    if not values:
        return form
    fields: dict[str, Any] = {
        name: (
            form.model_fields[name].annotation,
            FieldInfo.merge_field_infos(form.model_fields[name], default=value),
        )
        for name, value in values.items()
    }
    model: type[Form] = create_model(form.__name__, __base__=form, **fields)
    model.__doc__ = form.__doc__
    return model


# 住民票コード is 11 digits, 個人番号 12 (often written 4-4-4): such runs in free text are refused.
# Phone numbers (0749-00-0000, 090-0000-0007) are not caught: they are grouped differently.
_D = "[0-9０-９]"
_SEP = "[ 　\\-－‐]"
_ID_DIGITS = re.compile(f"{_D}{{11,}}|{_D}{{4}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}")


def _texts(
    model: BaseModel, path: tuple[str, ...], titles: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], str]]:
    """Every free-text value of a form with its field path and title path, nested models included."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        here, title = (*path, name), (*titles, field.title or name)
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            where = (*here, str(i)) if isinstance(value, list) else here
            if isinstance(item, BaseModel):
                yield from _texts(item, where, title)
            elif isinstance(item, str) and not isinstance(item, StrEnum):
                yield where, title, item


ID_FOUND = "住民票コード・個人番号と思われる11桁以上の数字"
BIRTH_FOUND = "生年月日と思われる記載"
_BIRTH = re.compile(f"生年月日|{_D}+月{_D}+日(?:うまれ|生(?![じずぜ]))")  # not 日生じた


class KnowsResidents(Protocol):
    def find(self, text: str) -> str | None: ...


def personal_data_fields(
    answer: BaseModel, residents: KnowsResidents | None = None
) -> list[tuple[tuple[str, ...], str, str]]:
    """(field path, 「title」, what was found) of free text that looks as if it carries
    本人確認情報: 住民票コード or 個人番号 by shape, a birth date by its wording, a resident's name
    or address when the registry is known (jukinet/residents.py). Never the value itself."""
    found: dict[tuple[str, ...], tuple[str, str]] = {}
    for where, titles, text in _texts(answer, (), ()):
        kind = (
            ID_FOUND
            if _ID_DIGITS.search(text)
            else BIRTH_FOUND
            if _BIRTH.search(text)
            else residents.find(text)
            if residents
            else None
        )
        if kind:
            found.setdefault(where, ("の".join(f"「{t}」" for t in titles), kind))
    return [(where, title, kind) for where, (title, kind) in found.items()]


def personal_data_problems(answer: BaseModel, residents: KnowsResidents | None = None) -> list[str]:
    """Names each field whose text looks like 本人確認情報 (never the value itself)."""
    return [
        f"{title}に{kind}が含まれています。本人確認情報は記入しないでください"
        for _, title, kind in personal_data_fields(answer, residents)
    ]


REMOVED = "（本人確認情報のおそれがあるため削除）"


def redacted(answer: BaseModel, residents: KnowsResidents | None = None) -> dict[str, Any]:
    """The answer as JSON with the approval code and any 本人確認情報-like text blanked out."""
    data = answer.model_dump(mode="json")
    if CODE_FIELD in data:
        data[CODE_FIELD] = REDACTED
    for where, _, _ in personal_data_fields(answer, residents):
        node: Any = data
        for part in where[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = where[-1]
        if isinstance(node, list):
            node[int(last)] = REMOVED
        else:
            node[last] = REMOVED
    return data


def public_payload(answer: BaseModel) -> dict[str, Any]:
    """The answer as JSON for records: the approval code is dropped."""
    data = answer.model_dump(mode="json", exclude={CODE_FIELD})
    return {k: v for k, v in data.items() if k != CODE_FIELD}
