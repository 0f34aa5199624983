"""Render notices from templates/ with StrictUndefined: a missing field is an error, never a blank."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from jukinet.wareki import to_wareki, to_wareki_datetime


def _wareki(value: date | datetime) -> str:
    return to_wareki_datetime(value) if isinstance(value, datetime) else to_wareki(value)


def _wareki_date(value: date | datetime | str) -> str:
    """Date only (letters are dated, not timed); ISO strings from forms are accepted."""
    if isinstance(value, str):
        return to_wareki(date.fromisoformat(value)) if value else "未定"
    return to_wareki(value)


def make_environment(templates_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir),
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
