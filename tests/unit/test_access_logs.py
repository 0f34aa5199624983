"""jukinet/accesslog: every planted incident is found and nothing else; a clean log has no finding;
malformed lines are counted with their numbers; the calendar knows 2026's and 2027's holidays;
no target key reaches a finding; a bad configuration is named in Japanese."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from jukinet.accesslog.analyse import analyse
from jukinet.accesslog.calendar import JST, OfficeCalendar, national_holidays
from jukinet.accesslog.synthetic import Truth, synthetic_config, write_logs
from jukinet.config.loader import ConfigError, load_config
from tests.conftest import EXAMPLE_CONFIG
from tests.unit.test_config import edit

# 内閣府「国民の祝日について」: the dates of 2026 and 2027 (振替休日 and 国民の休日 included)
CABINET_OFFICE = {
    2026: "01-01 01-12 02-11 02-23 03-20 04-29 05-03 05-04 05-05 05-06 07-20 08-11 09-21 09-22 "
    "09-23 10-12 11-03 11-23",
    2027: "01-01 01-11 02-11 02-23 03-21 03-22 04-29 05-03 05-04 05-05 07-19 08-11 09-20 09-23 "
    "10-11 11-03 11-23",
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    folder = tmp_path_factory.mktemp("logs")
    return folder, write_logs(folder, 20_000, seed=3)


def test_every_planted_incident_is_found_and_nothing_else(planted: tuple[Path, Truth]) -> None:
    folder, truth = planted
    analysis = analyse(sorted(folder.iterdir()), synthetic_config(folder))
    assert {(f.rule.id, f.subject) for f in analysis.findings} == truth.planted
    by_rule = {f.rule.id: f for f in analysis.findings}
    assert by_rule["bulk-lookups"].peak > 100
    assert by_rule["firewall-denied"].count == 5
    holiday = next(f for f in analysis.findings if f.subject == "op05")
    assert holiday.notes == {"祝日（文化の日）": 1}
    assert analysis.supports_level3()
    for finding in analysis.findings:  # every finding points at lines that exist
        for ref in finding.refs:
            name, line = ref.rsplit(":", 1)
            assert 1 <= int(line) <= len((folder / name).read_bytes().splitlines())


def test_a_clean_log_has_no_finding(tmp_path: Path) -> None:
    truth = write_logs(tmp_path, 30_000, seed=5, plant=False)
    analysis = analyse(sorted(tmp_path.iterdir()), synthetic_config(tmp_path))
    assert analysis.findings == []
    assert analysis.malformed == 0 and analysis.events == truth.lines


def test_malformed_lines_are_counted_with_their_numbers(planted: tuple[Path, Truth]) -> None:
    folder, truth = planted
    analysis = analyse(sorted(folder.iterdir()), synthetic_config(folder))
    counted = {(t.file, n) for t in analysis.files for n, _ in t.malformed_lines}
    assert counted == truth.malformed
    assert analysis.malformed == len(counted)
    reasons = {r for t in analysis.files for _, r in t.malformed_lines}
    assert {"日時を読めません", "JSON として読めません", "引用符が閉じていません"} <= reasons
    assert analysis.events + analysis.malformed + 2 == analysis.lines  # two header lines


def test_a_header_without_a_required_column_is_reported_on_every_line(tmp_path: Path) -> None:
    (tmp_path / "cs_x.csv").write_text("time,operator\n2026-11-02T10:00:00,op01\n", "utf-8")
    (tmp_path / "other.txt").write_text("x\n", "utf-8")
    analysis = analyse(sorted(tmp_path.iterdir()), synthetic_config(tmp_path))
    (tally,) = analysis.files
    assert tally.malformed == 1 and "端末ID（terminal）" in tally.malformed_lines[0][1]
    assert analysis.unmatched == ["other.txt"]


def test_no_target_key_reaches_a_finding(planted: tuple[Path, Truth]) -> None:
    folder, _ = planted
    targets = set(re.findall(r"\b\d{11}\b", (folder / "cs_ops.csv").read_text("utf-8", "replace")))
    for line in (folder / "terminal_ops.jsonl").read_text("utf-8").splitlines():
        try:
            targets.add(json.loads(line).get("target", ""))
        except (ValueError, AttributeError):
            continue
    targets.discard("")
    assert len(targets) > 1000
    analysis = analyse(sorted(folder.iterdir()), synthetic_config(folder))
    shown = " ".join(
        f"{f.subject} {f.detail()} {' '.join(f.refs)} {f.first} {f.last}" for f in analysis.findings
    )
    assert not {t for t in targets if t in shown}


@pytest.mark.parametrize("year", [2026, 2027])
def test_the_national_holidays_are_the_cabinet_offices(year: int) -> None:
    expected = {date.fromisoformat(f"{year}-{md}") for md in CABINET_OFFICE[year].split()}
    assert set(national_holidays(year)) == expected


def test_the_calendar_closes_weekends_holidays_and_the_year_end() -> None:
    calendar = OfficeCalendar("08:30", "17:15", "12-29", "01-03")
    assert calendar.closed(date(2026, 12, 28)) is None
    assert calendar.closed(date(2026, 12, 29)) == "年末年始"
    assert calendar.closed(date(2027, 1, 1)) == "祝日（元日）"
    assert calendar.closed(date(2027, 1, 3)) == "年末年始"
    assert calendar.closed(date(2027, 1, 4)) is None
    assert calendar.closed(date(2026, 9, 22)) == "祝日（国民の休日）"
    assert calendar.closed(date(2026, 11, 28)) == "土曜日"
    assert calendar.outside(datetime(2026, 11, 27, 8, 29, tzinfo=JST)) == "執務時間外"
    assert calendar.outside(datetime(2026, 11, 27, 8, 30, tzinfo=JST)) is None
    assert calendar.outside(datetime(2026, 11, 27, 17, 15, tzinfo=JST)) == "執務時間外"
    assert calendar.outside(datetime(2026, 11, 27, 0, 30, tzinfo=UTC)) is None  # 09:30 JST
    assert calendar.outside(datetime(2026, 11, 27, 9, 0, tzinfo=UTC)) == "執務時間外"  # 18:00


def test_a_bad_configuration_is_named_in_japanese(tmp_path: Path) -> None:
    config_dir = Path(shutil.copytree(EXAMPLE_CONFIG, tmp_path / "config"))
    good = synthetic_config(tmp_path).model_dump(mode="json")
    bad = {**good, "networks": ["10.20.300.0/24"], "office_start": "18:00"}
    bad["sources"][0]["encoding"] = "sjis-nothing"

    def change(data: dict[str, object]) -> None:
        data["access_logs"] = bad

    edit(config_dir, "town.yaml", change)
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    text = "\n".join(info.value.problems)
    assert "10.20.300.0/24" in text and "アドレス範囲" in text
    assert "sjis-nothing" in text
    assert "「端末の接続元として認めるアドレス範囲」" in text


def test_many_subjects_are_gathered_so_memory_stays_bounded(tmp_path: Path) -> None:
    """600 unknown operator IDs: 500 are named one by one, the rest in one finding."""
    lines = [
        f"2026-11-04T10:{i // 60:02d}:{i % 60:02d},guest{i:03d},TM01,照会,,成功,10.20.30.11"
        for i in range(600)
    ]
    header = "time,operator,terminal,operation,target,result,source\n"
    (tmp_path / "cs_many.csv").write_text(header + "\n".join(lines) + "\n", "utf-8")
    analysis = analyse([tmp_path / "cs_many.csv"], synthetic_config(tmp_path))
    unknown = [f for f in analysis.findings if f.rule.id == "unknown-operator"]
    assert len(unknown) == 501
    others = next(f for f in unknown if f.subject.startswith("その他"))
    assert others.count == 100 and sum(f.count for f in unknown) == 600


def test_a_header_in_another_encoding_makes_every_line_malformed(tmp_path: Path) -> None:
    """A Shift_JIS file read as UTF-8: no line is taken for a header by mistake."""
    text = "日時,操作者\n2026-11-02T10:00:00,op01\n2026-11-02T10:00:01,op02\n"
    (tmp_path / "cs_sjis.csv").write_bytes(text.encode("cp932"))
    analysis = analyse([tmp_path / "cs_sjis.csv"], synthetic_config(tmp_path))
    (tally,) = analysis.files
    assert tally.lines == 3 and tally.malformed == 3 and tally.events == 0
    assert "1行目の見出しを文字コード（utf-8）として読めません" in tally.malformed_lines[1][1]
