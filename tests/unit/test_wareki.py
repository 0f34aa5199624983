"""和暦 dates, Japan time and the fiscal year (年度) used by incident and document numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from jukinet.wareki import (
    JST,
    fiscal_year,
    fiscal_year_label,
    jst,
    to_wareki,
    to_wareki_datetime,
)


class TestEraBoundaries:
    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (date(1989, 1, 7), "昭和64年1月7日"),
            (date(1989, 1, 8), "平成元年1月8日"),
            (date(1990, 1, 1), "平成2年1月1日"),
            (date(2019, 4, 30), "平成31年4月30日"),
            (date(2019, 5, 1), "令和元年5月1日"),
            (date(2020, 1, 1), "令和2年1月1日"),
            (date(2026, 11, 27), "令和8年11月27日"),
        ],
    )
    def test_date(self, day: date, expected: str) -> None:
        assert to_wareki(day) == expected

    def test_first_year_is_gannen_never_1(self) -> None:
        assert "1年" not in to_wareki(date(2019, 12, 31))
        assert to_wareki(date(2019, 12, 31)) == "令和元年12月31日"

    def test_before_the_solar_calendar_is_refused(self) -> None:
        with pytest.raises(ValueError, match="和暦に変換できません"):
            to_wareki(date(1872, 12, 31))


class TestJapanTime:
    def test_utc_instant_is_shown_in_japan_time(self) -> None:
        instant = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
        assert to_wareki_datetime(instant) == "令和8年11月27日 0時30分"

    def test_minutes_are_two_digits(self) -> None:
        assert to_wareki_datetime(datetime(2026, 11, 27, 10, 5, tzinfo=JST)) == (
            "令和8年11月27日 10時05分"
        )

    def test_other_offsets_are_converted(self) -> None:
        new_york = timezone(timedelta(hours=-5))
        instant = datetime(2026, 11, 26, 10, 30, tzinfo=new_york)  # 15:30 UTC
        assert to_wareki_datetime(instant) == "令和8年11月27日 0時30分"

    def test_to_wareki_of_a_datetime_uses_the_japan_date(self) -> None:
        assert to_wareki(datetime(2019, 4, 30, 15, 0, tzinfo=UTC)) == "令和元年5月1日"

    def test_jst_returns_an_aware_japan_datetime(self) -> None:
        local = jst(datetime(2026, 3, 31, 15, 0, tzinfo=UTC))
        assert local.utcoffset() == timedelta(hours=9)
        assert (local.year, local.month, local.day, local.hour) == (2026, 4, 1, 0)

    @pytest.mark.parametrize(
        "convert", [jst, to_wareki_datetime, fiscal_year], ids=lambda f: f.__name__
    )
    def test_naive_datetime_is_refused(self, convert) -> None:
        with pytest.raises(ValueError, match="タイムゾーン"):
            convert(datetime(2026, 11, 27, 10, 30))


class TestFiscalYear:
    def test_march_31_belongs_to_the_previous_year(self) -> None:
        assert fiscal_year(date(2027, 3, 31)) == 2026
        assert fiscal_year(datetime(2027, 3, 31, 23, 59, tzinfo=JST)) == 2026

    def test_april_1_starts_a_new_year(self) -> None:
        assert fiscal_year(date(2027, 4, 1)) == 2027
        assert fiscal_year(datetime(2027, 4, 1, 0, 0, tzinfo=JST)) == 2027

    def test_utc_instant_already_april_1_in_japan(self) -> None:
        # 2027-03-31 15:00 UTC is 2027-04-01 00:00 in Japan: the new fiscal year.
        assert fiscal_year(datetime(2027, 3, 31, 15, 0, tzinfo=UTC)) == 2027
        assert fiscal_year(datetime(2027, 3, 31, 14, 59, tzinfo=UTC)) == 2026

    @pytest.mark.parametrize(
        ("year", "label"),
        [(2026, "令和8年度"), (2020, "令和2年度"), (2018, "平成30年度"), (1988, "昭和63年度")],
    )
    def test_label(self, year: int, label: str) -> None:
        assert fiscal_year_label(year) == label

    def test_label_takes_the_era_of_april_1(self) -> None:
        # The year that began on 2019-04-01 started under 平成 (令和 began on 1 May).
        assert fiscal_year_label(2019) == "平成31年度"
