"""和暦 dates and Japan time: `to_wareki(date(2019, 5, 1))` → "令和元年5月1日".

Dates before 明治6年 (the solar calendar) are refused rather than guessed.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")

_ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1873, 1, 1), "明治"),
)
_ERA_FIRST_YEAR = {"令和": 2019, "平成": 1989, "昭和": 1926, "大正": 1912, "明治": 1868}


def _era(d: date) -> tuple[str, int]:
    for start, name in _ERAS:
        if d >= start:
            return name, d.year - _ERA_FIRST_YEAR[name] + 1
    raise ValueError(f"{d.isoformat()} は和暦に変換できません（明治6年より前）")


def _year(n: int) -> str:
    return "元" if n == 1 else str(n)


def to_wareki(d: date) -> str:
    """`date(2026, 11, 27)` → "令和8年11月27日"."""
    if isinstance(d, datetime):
        d = jst(d).date()
    era, n = _era(d)
    return f"{era}{_year(n)}年{d.month}月{d.day}日"


def jst(dt: datetime) -> datetime:
    """An aware datetime in Japan time; naive input is refused (never silently 9 hours off)."""
    if dt.tzinfo is None:
        raise ValueError("タイムゾーンのない日時は扱えません")
    return dt.astimezone(JST)


def to_wareki_datetime(dt: datetime, *, seconds: bool = False) -> str:
    """`2026-11-27T01:30Z` → "令和8年11月27日 10時30分" (with `seconds`: "10時30分05秒")."""
    local = jst(dt)
    text = f"{to_wareki(local.date())} {local.hour}時{local.minute:02d}分"
    return text + f"{local.second:02d}秒" if seconds else text


def fiscal_year(dt: datetime | date) -> int:
    """年度 (April to March, Japan time): 2027-03-31 → 2026."""
    d = jst(dt).date() if isinstance(dt, datetime) else dt
    return d.year if d.month >= 4 else d.year - 1


def fiscal_year_label(year: int) -> str:
    """`2026` → "令和8年度" (era of 1 April of that year)."""
    era, n = _era(date(year, 4, 1))
    return f"{era}{_year(n)}年度"
