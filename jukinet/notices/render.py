"""Render notices from templates/ with StrictUndefined: a missing field is an error, never a blank.

    env = make_environment(templates_dir, notation={"及び": "および"})
    body = render(env, "help_request.txt.j2", {**data, **letter_fields(...)})

The town's notation (表記) rewrites the templates' own wording only; what staff typed is inserted
as text afterwards and never rewritten, and never evaluated as template code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)

from jukinet.wareki import to_wareki, to_wareki_datetime

# Jinja's own syntax in a template's source: left untouched by the notation.
_TEMPLATE_CODE = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.DOTALL)


def _wareki(value: date | datetime) -> str:
    return to_wareki_datetime(value) if isinstance(value, datetime) else to_wareki(value)


def _wareki_date(value: date | datetime | str) -> str:
    """Date only (letters are dated, not timed); ISO strings from forms are accepted."""
    if isinstance(value, str):
        return to_wareki(date.fromisoformat(value)) if value else "未定"
    return to_wareki(value)


def apply_notation(source: str, notation: Mapping[str, str]) -> str:
    """`及び` → `および` in a template's text, never inside `{{ }}`, `{% %}` or `{# #}`."""
    if not notation:
        return source
    words = sorted(notation, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(w) for w in words))
    parts = _TEMPLATE_CODE.split(source)
    return "".join(
        part if i % 2 else pattern.sub(lambda m: notation[m.group(0)], part)
        for i, part in enumerate(parts)
    )


class NotationLoader(FileSystemLoader):
    """Template files with the town's notation applied to their wording."""

    def __init__(self, searchpath: Path, notation: Mapping[str, str]) -> None:
        super().__init__(searchpath)
        self.notation = dict(notation)

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        return apply_notation(source, self.notation), filename, uptodate


def make_environment(templates_dir: Path, notation: Mapping[str, str] | None = None) -> Environment:
    loader: BaseLoader = NotationLoader(templates_dir, notation or {})
    env = Environment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "htm", "xml"]),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["wareki"] = _wareki
    env.filters["wareki_date"] = _wareki_date
    return env


def render(env: Environment, template: str, context: dict[str, Any]) -> str:
    return env.get_template(template).render(**context)
