"""The town's working time: 執務時間 on days that are neither a weekend, a 国民の祝日 (from the
`holidays` library, which follows the Cabinet Office's list) nor in the 年末年始 of the town's
休日条例 (a range of days, 12-29 to 01-03 by default)."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

import holidays

from jukinet.wareki import JST

__all__ = ["JST", "OfficeCalendar", "national_holidays"]
WEEKDAYS = "月火水木金土日"


@lru_cache(maxsize=64)
def national_holidays(year: int) -> dict[date, str]:
    """国民の祝日 and 振替休日 / 国民の休日 of `year`, with their Japanese names."""
    return dict(holidays.Japan(years=year, language="ja").items())


class OfficeCalendar:
    def __init__(self, start: str, end: str, year_end_from: str, year_end_to: str) -> None:
        self.start = time.fromisoformat(start)
        self.end = time.fromisoformat(end)
        self._from = tuple(int(p) for p in year_end_from.split("-"))
        self._to = tuple(int(p) for p in year_end_to.split("-"))
        self._days: dict[date, str | None] = {}

    def closed(self, day: date) -> str | None:
        """Why `day` is not a working day (土曜日, 祝日（文化の日）, 年末年始), or None."""
        if day not in self._days:
            if len(self._days) > 4096:  # a few years of days at most
                self._days.clear()
            self._days[day] = self._closed(day)
        return self._days[day]

    def _closed(self, day: date) -> str | None:
        name = national_holidays(day.year).get(day)
        if name:
            return f"祝日（{name}）"
        md = (day.month, day.day)
        if (
            (md >= self._from or md <= self._to)
            if self._from > self._to
            else (self._from <= md <= self._to)
        ):
            return "年末年始"
        if day.weekday() >= 5:
            return f"{WEEKDAYS[day.weekday()]}曜日"
        return None

    def outside(self, moment: datetime) -> str | None:
        """Why `moment` (in Japan time) is outside working time, or None."""
        local = moment.astimezone(JST)
        why = self.closed(local.date())
        if why:
            return why
        if not self.start <= local.time() < self.end:
            return "執務時間外"
        return None
