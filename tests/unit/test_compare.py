"""jukinet/integrity/compare.py: every kind of difference, by key and field name only, on SQLite,
PostgreSQL and across the two."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, text

from jukinet.integrity.compare import (
    FIELDS,
    KEY,
    IntegrityError,
    Normalisation,
    Report,
    Side,
    compare,
)
from jukinet.integrity.differences import DifferenceFile
from jukinet.integrity.rows import Validity, is_valid, valid_date
from jukinet.integrity.synthetic import generate, plant, write_table

COLUMNS = {KEY: "住民票コード", **{f: f"c_{f}" for f in FIELDS}}


def row(key: str | None, **changes: str) -> dict[str, str | None]:
    base = {
        "number": "123412341234",
        "name": "多賀 太郎",
        "kana": "タガ タロウ",
        "birth_date": "1980-04-01",
        "sex": "男",
        "address": "滋賀県犬上郡多賀町大字多賀1番地",
        "reason": "転入",
        "moved_on": "2010-05-06",
    }
    return {KEY: key, **base, **changes}


def write(url: str, name: str, rows: list[dict[str, str | None]]) -> Side:
    table = Table(name, MetaData(), *(Column(c, String) for c in COLUMNS.values()))
    engine = create_engine(url)
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), [{COLUMNS[k]: v for k, v in r.items()} for r in rows])
    engine.dispose()
    return Side(url, name, COLUMNS)


REGISTRY = [
    row("10000000001"),
    row("10000000002"),
    row("10000000003", address="滋賀県犬上郡多賀町大字土田2番地"),
    row("10000000004"),
    row("10000000005", moved_on="2023-02-30"),  # impossible date in the registry
    row("10000000007"),
    row("10000000008", name="多賀 花子 "),
]
CS = [
    row("10000000001"),
    row("10000000002", name="多賀 次郎", kana="タガ ジロウ"),  # changed, two fields
    row("10000000003"),  # changed address
    row("10000000005"),
    row("10000000006"),  # only on the CS
    row("10000000007"),
    row("10000000007"),  # duplicated on the CS
    row("10000000008", name="多賀　花子"),  # full-width space and no trailing space
    row("1000000009A"),  # bad key
]


@pytest.fixture(params=["sqlite-sqlite", "postgresql-postgresql", "sqlite-postgresql"])
def sides(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Side, Side]:
    cs_engine, registry_engine = request.param.split("-")

    def url(engine: str, name: str) -> str:
        if engine == "sqlite":
            return f"sqlite:///{tmp_path / name}.sqlite3"
        return str(request.getfixturevalue("pg_schema_url"))

    return write(url(cs_engine, "cs"), "cs_juki", CS), write(
        url(registry_engine, "registry"), "registry_juki", REGISTRY
    )


def run(sides: tuple[Side, Side], norm: Normalisation | None = None) -> tuple[Report, list]:
    seen: list[tuple[str, str | None, str, tuple[str, ...]]] = []
    report = compare(*sides, lambda *d: seen.append(d), norm)
    return report, seen


def test_every_kind_of_difference_is_found_by_key(sides: tuple[Side, Side]) -> None:
    report, seen = run(sides)
    assert report.rows == {"cs": 9, "registry": 7}
    assert sorted(seen) == sorted(
        [
            ("changed", None, "10000000002", ("name", "kana")),
            ("changed", None, "10000000003", ("address",)),
            ("invalid", "registry", "10000000005", ()),
            ("missing", "registry", "10000000006", ()),
            ("duplicate", "cs", "10000000007", ()),
            ("changed", None, "10000000008", ("name",)),
            ("invalid", "cs", "1000000009A", ()),
            ("missing", "cs", "10000000004", ()),
        ]
    )
    assert report.changed == 3 and report.changed_fields["name"] == 2
    assert report.missing == {"cs": 1, "registry": 1}
    assert report.duplicates == {"cs": 1, "registry": 0}
    assert report.invalid == {"cs": 1, "registry": 1}
    assert report.differences == 8
    values = {v for r in CS + REGISTRY for k, v in r.items() if k != KEY}
    assert not values & {x for d in seen for x in d if isinstance(x, str)}  # keys only


def test_width_and_trailing_spaces_count_only_when_not_normalised(
    sides: tuple[Side, Side],
) -> None:
    report, seen = run(sides, Normalisation(width=True, trailing_spaces=True))
    assert ("changed", None, "10000000008", ("name",)) not in seen
    assert report.changed == 2


@pytest.mark.parametrize("engines", ["sqlite-sqlite", "postgresql-postgresql", "sqlite-postgresql"])
def test_a_row_without_a_key_is_invalid_and_keeps_the_order(
    engines: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A NULL key reads as '' and comes first on every engine (the rows were written with the
    NULL key last)."""
    urls = {
        engine: f"sqlite:///{tmp_path / f'{n}.sqlite3'}"
        if engine == "sqlite"
        else str(request.getfixturevalue("pg_schema_url"))
        for n, engine in enumerate(engines.split("-"))
    }
    cs_engine, registry_engine = engines.split("-")
    cs = write(urls[cs_engine], "cs_nokey", [row("10000000001"), row(None)])
    registry = write(
        urls[registry_engine], "r_nokey", [row("10000000001"), row("10000000002"), row(None)]
    )
    report, seen = run((cs, registry))
    assert sorted(seen) == [
        ("invalid", "cs", "", ()),
        ("invalid", "registry", "", ()),
        ("missing", "cs", "10000000002", ()),
    ]
    assert report.rows == {"cs": 2, "registry": 3}


def test_identical_tables_have_no_difference(tmp_path: Path) -> None:
    rows = [row(f"2{i:010d}") for i in range(50)]
    a = write(f"sqlite:///{tmp_path / 'a.sqlite3'}", "a", rows)
    b = write(f"sqlite:///{tmp_path / 'b.sqlite3'}", "b", list(reversed(rows)))
    report, seen = run((a, b))
    assert report.rows == {"cs": 50, "registry": 50} and report.differences == 0 and seen == []


def test_the_difference_file_lists_every_difference_and_keeps_the_first(
    tmp_path: Path,
) -> None:
    cs = write(f"sqlite:///{tmp_path / 'cs.sqlite3'}", "cs", CS)
    registry = write(f"sqlite:///{tmp_path / 'r.sqlite3'}", "r", REGISTRY)
    with DifferenceFile(tmp_path / "out" / "diff.csv", cap=3) as sink:
        report = compare(cs, registry, sink)
    lines = (tmp_path / "out" / "diff.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "区分,側,住民票コード,相違する項目"
    assert len(lines) == 1 + report.differences == 9
    assert "相違,,10000000002,氏名・氏名カナ" in lines
    assert "欠落,既存住基システム,10000000006," in lines
    assert len(sink.first) == 3 and sum(sink.counts.values()) == 8


@pytest.mark.parametrize("engines", ["sqlite-sqlite", "postgresql-postgresql", "sqlite-postgresql"])
def test_exactly_the_planted_differences_are_found(
    engines: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    n = 5000
    rates = {"changed": 0.02, "deleted": 0.01, "inserted": 0.01, "invalid": 0.01}
    cs_rows, truth = plant(generate(n, seed=7), duplicated=0.01, seed=7, **rates)

    def url(engine: str, name: str) -> str:
        if engine == "sqlite":
            return f"sqlite:///{tmp_path / name}.sqlite3"
        return str(request.getfixturevalue("pg_schema_url"))

    cs_engine, registry_engine = engines.split("-")
    cs = Side(url(cs_engine, "cs"), "cs_juki", COLUMNS)
    registry = Side(url(registry_engine, "registry"), "registry_juki", COLUMNS)
    write_table(cs.url, cs.table, cs_rows, COLUMNS)
    write_table(registry.url, registry.table, generate(n, seed=7), COLUMNS)
    assert truth.complete

    found: dict[str, set[tuple[str | None, str]]] = {}
    changed: dict[str, frozenset[str]] = {}

    def sink(kind: str, side: str | None, key: str, fields: tuple[str, ...]) -> None:
        found.setdefault(kind, set()).add((side, key))
        if kind == "changed":
            changed[key] = frozenset(fields)

    report = compare(cs, registry, sink)
    assert changed == truth.changed
    expected_missing_on_cs = truth.missing_on_cs | set(truth.malformed.values())
    assert found["missing"] == {("cs", k) for k in expected_missing_on_cs} | {
        ("registry", k) for k in truth.missing_on_registry
    }
    assert found["invalid"] == {("cs", k) for k in truth.invalid_on_cs}
    assert found["duplicate"] == {("cs", k) for k in truth.duplicated_on_cs}
    assert report.rows["registry"] == n
    assert min(len(truth.changed), len(truth.invalid_on_cs), len(truth.duplicated_on_cs)) > 10


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2024-02-29", True),
        ("2023-02-29", False),
        ("2023-04-31", False),
        ("2023-13-01", False),
        ("0000-01-01", False),
        ("2023-1-01", False),
        ("20230101", False),  # ISO basic form: not the layout the tables use
        ("２０２３-０１-０１", False),  # full-width digits
        ("2023-01-01 ", False),
        (None, False),
    ],
)
def test_a_date_is_valid_only_as_a_real_yyyy_mm_dd(value: str | None, valid: bool) -> None:
    rows: list[tuple[str | None, ...]] = [("10000000001", "rest", value, "2020-01-01")]
    Validity("cs").apply(rows)
    assert is_valid(rows[0]) is valid is valid_date(value)


@pytest.mark.parametrize("key", ["1000000000", "100000000011", "1000000000A", "１0000000001", ""])
def test_a_key_is_valid_only_as_eleven_ascii_digits(key: str) -> None:
    rows: list[tuple[str, ...]] = [(key, "rest", "2020-01-01", "2020-01-01")]
    Validity("registry").apply(rows)
    assert not is_valid(rows[0]) and rows[0][4] == "invalid:registry"


def test_typed_columns_compare_by_their_text(pg_schema_url: str, tmp_path: Path) -> None:
    """A registry with DATE and CHAR columns agrees with a CS copy holding the same as text."""
    engine = create_engine(pg_schema_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE typed (住民票コード CHAR(11), c_number TEXT, c_name TEXT, "
                "c_kana TEXT, c_birth_date DATE, c_sex TEXT, c_address TEXT, c_reason TEXT, "
                "c_moved_on DATE)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO typed VALUES (:k, :number, :name, :kana, :birth_date, :sex, "
                ":address, :reason, :moved_on)"
            ),
            [
                {"k": r[KEY], **{f: r[f] for f in FIELDS}}
                for r in (row("10000000001"), row("10000000002", moved_on="2011-01-01"))
            ],
        )
    engine.dispose()
    cs = write(
        f"sqlite:///{tmp_path / 'cs.sqlite3'}", "cs", [row("10000000001"), row("10000000002")]
    )
    report, seen = run((cs, Side(pg_schema_url, "typed", COLUMNS)))
    assert seen == [("changed", None, "10000000002", ("moved_on",))]
    assert report.rows == {"cs": 2, "registry": 2}


def test_a_side_that_cannot_be_read_is_named_in_japanese(tmp_path: Path) -> None:
    cs = write(f"sqlite:///{tmp_path / 'cs.sqlite3'}", "cs", CS)
    missing = Side(f"sqlite:///{tmp_path / 'cs.sqlite3'}", "no_such_table", COLUMNS)
    with pytest.raises(
        IntegrityError, match=r"既存住基システム（表 no_such_table）を読めませんでした"
    ):
        compare(cs, missing, lambda *d: None)
    with pytest.raises(IntegrityError, match="SQLite はファイルのデータベースを指定してください"):
        compare(cs, Side("sqlite://", "r", COLUMNS), lambda *d: None)


def test_rows_out_of_key_order_stop_the_check(tmp_path: Path) -> None:
    """A column without type affinity in SQLite orders integers before text: such a key column
    cannot be merged, and the check says so rather than report wrong differences."""
    url = f"sqlite:///{tmp_path / 'mixed.sqlite3'}"
    engine = create_engine(url)
    names = ", ".join(f'"{c}"' for c in COLUMNS.values())
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE mixed ({names})"))  # no types: no affinity
        for key in ("10000000002", "10000000003", 99999999999):
            values = {**row(str(key)), KEY: key}
            connection.execute(
                text(f"INSERT INTO mixed VALUES ({', '.join(':' + k for k in values)})"), values
            )
    engine.dispose()
    cs = write(f"sqlite:///{tmp_path / 'cs.sqlite3'}", "cs", [row("10000000002")])
    with pytest.raises(IntegrityError, match="住民票コードの順に読めませんでした"):
        compare(cs, Side(url, "mixed", COLUMNS), lambda *d: None)


def test_progress_is_reported_as_rows_go_by(tmp_path: Path) -> None:
    rows = list(generate(3000, seed=5))
    a = Side(f"sqlite:///{tmp_path / 'a.sqlite3'}", "a", COLUMNS)
    b = Side(f"sqlite:///{tmp_path / 'b.sqlite3'}", "b", COLUMNS)
    write_table(a.url, a.table, rows, COLUMNS)
    write_table(b.url, b.table, rows, COLUMNS)
    seen: list[int] = []
    report = compare(
        a, b, lambda *d: None, progress=lambda r: seen.append(r.compared), progress_every=1000
    )
    assert seen == sorted(seen) and len(seen) >= 2 and seen[-1] <= report.compared == 3000
