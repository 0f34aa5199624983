"""jukinet/integrity/synthetic.py: residents that look real and are not, the CS copy's planted
differences recounted against the truth, and both written to SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from itertools import islice
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from jukinet.integrity.differences import FIELD_TITLES
from jukinet.integrity.synthetic import FIELDS, Truth, generate, plant, write_table

N = 20_000
RATES = {"changed": 0.02, "deleted": 0.01, "inserted": 0.01, "invalid": 0.01, "duplicated": 0.01}
KATAKANA = re.compile(r"[ァ-ヶー]+ [ァ-ヶー]+")
ADDRESS = re.compile(r"滋賀県犬上郡多賀町大字\D+[1-9][0-9]*番地")
JAPANESE_COLUMNS = {"key": "住民票コード", **FIELD_TITLES}


def registry() -> list[dict[str, str]]:
    return list(generate(N, seed=11))


def planted(seed: int = 5) -> tuple[list[dict[str, str]], Truth]:
    cs, truth = plant(generate(N, seed=11), **RATES, seed=seed)
    return list(cs), truth


def well_formed_key(key: str) -> bool:
    return len(key) == 11 and key.isascii() and key.isdigit()


def valid_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def check_digit(body: str) -> int:
    """個人番号's check digit, written plainly (省令 第5条)."""
    total = sum(
        int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(body), start=1)
    )
    r = total % 11
    return 0 if r <= 1 else 11 - r


def test_the_check_digit_rule_gives_the_published_example() -> None:
    """1234 5678 9018, the example of the rule's explanations: 212 mod 11 = 3, 11 - 3 = 8."""
    assert check_digit("12345678901") == 8


# --- generate ---------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    first = list(generate(500, seed=1))
    assert first == list(generate(500, seed=1))
    other = list(generate(500, seed=2))
    assert {r["key"] for r in first}.isdisjoint(r["key"] for r in other)
    assert [r["name"] for r in first] != [r["name"] for r in other]


def test_generate_streams() -> None:
    rows = generate(10**10)
    assert len(list(islice(rows, 3))) == 3


def test_rows_have_the_shape_of_residents() -> None:
    rows = registry()
    keys = [r["key"] for r in rows]
    assert all(well_formed_key(k) for k in keys)
    assert len(set(keys)) == N
    assert keys != sorted(keys)
    assert len({r["number"] for r in rows}) == N
    for r in rows:
        assert tuple(r) == FIELDS
        assert len(r["number"]) == 12 and r["number"].isascii() and r["number"].isdigit()
        assert r["name"].count(" ") == 1
        assert KATAKANA.fullmatch(r["kana"]), r["kana"]
        assert r["sex"] in ("男", "女")
        assert ADDRESS.fullmatch(r["address"]), r["address"]
        assert date.fromisoformat(r["birth_date"]) <= date.fromisoformat(r["moved_on"])
        assert r["reason"] != "出生" or r["moved_on"] == r["birth_date"]
    assert Counter(r["sex"] for r in rows)["女"] == pytest.approx(N / 2, rel=0.05)
    assert len({r["address"].split("大字")[1].rstrip("0123456789番地") for r in rows}) >= 18


def test_no_number_is_a_possible_real_one() -> None:
    assert all(int(r["number"][11]) != check_digit(r["number"][:11]) for r in registry())


# --- plant ------------------------------------------------------------------------------------


def test_each_kind_is_planted_at_about_its_rate() -> None:
    _, truth = planted()
    assert truth.complete
    counts = {
        "changed": len(truth.changed),
        "deleted": len(truth.missing_on_cs),
        "inserted": len(truth.missing_on_registry),
        "invalid": len(truth.invalid_on_cs),
        "duplicated": len(truth.duplicated_on_cs),
    }
    for kind, count in counts.items():
        assert count == pytest.approx(RATES[kind] * N, rel=0.25), kind
    assert {len(f) for f in truth.changed.values()} == {1, 2, 3}


def test_the_truth_is_what_was_emitted() -> None:
    """Recount every difference from the emitted CS rows against the registry's."""
    by_key = {r["key"]: r for r in registry()}
    cs, truth = planted()
    seen = Counter(r["key"] for r in cs)
    changed: dict[str, frozenset[str]] = {}
    invalid, inserted = set(), set()
    for r in cs:
        key = r["key"]
        if not (well_formed_key(key) and valid_date(r["birth_date"]) and valid_date(r["moved_on"])):
            invalid.add(key)
        elif key not in by_key:
            inserted.add(key)
        elif r != by_key[key]:
            changed[key] = frozenset(f for f in FIELDS if r[f] != by_key[key][f])
    assert changed == truth.changed
    assert inserted == truth.missing_on_registry
    assert invalid == truth.invalid_on_cs
    assert {k for k, c in seen.items() if c > 1} == truth.duplicated_on_cs
    assert set(by_key) - set(seen) == truth.missing_on_cs | set(truth.malformed.values())
    assert set(truth.malformed) <= truth.invalid_on_cs
    assert all(by_key[k]["key"] == k for k in truth.malformed.values())


def test_planted_rows_stay_plausible_where_they_are_not_meant_to_be_invalid() -> None:
    by_key = {r["key"]: r for r in registry()}
    cs, truth = planted()
    for r in cs:
        if r["key"] in truth.invalid_on_cs:
            continue
        assert tuple(r) == FIELDS
        assert date.fromisoformat(r["birth_date"]) <= date.fromisoformat(r["moved_on"])
        assert KATAKANA.fullmatch(r["kana"])
        assert ADDRESS.fullmatch(r["address"])
    kinds = {
        "letter" if re.search("[A-Z]", k) else "full-width" if not k.isascii() else len(k)
        for k in truth.invalid_on_cs
    }
    assert {"letter", "full-width", 11, 12} <= kinds  # 11: a valid key with an impossible date
    assert kinds - {"letter", "full-width", 11, 12} <= set(range(1, 11))  # leading zeros lost
    assert truth.missing_on_registry.isdisjoint(by_key)


def test_plant_is_deterministic_and_depends_on_its_seed() -> None:
    first, truth = planted(seed=5)
    again, same = planted(seed=5)
    other, different = planted(seed=6)
    assert first == again and truth == same
    assert first != other and set(truth.changed) != set(different.changed)


def test_truth_fills_as_the_rows_are_read() -> None:
    cs, truth = plant(generate(1000), changed=1.0, deleted=0, inserted=0, invalid=0)
    assert not truth.complete and not truth.changed
    assert len(list(cs)) == 1000
    assert truth.complete and len(truth.changed) == 1000


@pytest.mark.parametrize(
    ("changed", "deleted", "inserted", "invalid"),
    [(0.5, 0.5, 0, 0.1), (-0.1, 0, 0, 0), (0, 0, 1.5, 0)],
)
def test_impossible_rates_are_refused(
    changed: float, deleted: float, inserted: float, invalid: float
) -> None:
    with pytest.raises(ValueError):
        plant(generate(10), changed=changed, deleted=deleted, inserted=inserted, invalid=invalid)


# --- write_table ------------------------------------------------------------------------------


def read_back(url: str, table: str, columns: dict[str, str]) -> list[dict[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = ", ".join(f'"{columns[f]}"' for f in FIELDS)
            result = connection.execute(text(f'SELECT {names} FROM "{table}"'))
            rows = [dict(zip(FIELDS, row, strict=True)) for row in result]
        indexes = inspect(engine).get_indexes(table)
    finally:
        engine.dispose()
    assert [i["unique"] for i in indexes] == [False]
    return rows


def round_trip(url: str, columns: dict[str, str] | None) -> None:
    cs, _ = plant(generate(3000, seed=2), changed=0.05, deleted=0, inserted=0.02, invalid=0.02,
                  duplicated=0.02, seed=1)  # fmt: skip
    rows = list(cs)
    assert write_table(url, "cs_residents", rows, columns, batch=700) == len(rows)
    back = read_back(url, "cs_residents", columns or {f: f for f in FIELDS})
    order = lambda r: (r["key"], r["number"])  # noqa: E731
    assert sorted(back, key=order) == sorted(rows, key=order)


@pytest.mark.parametrize("columns", [None, JAPANESE_COLUMNS, {"key": "code"}])
def test_write_table_round_trip_on_sqlite(tmp_path: Path, columns: dict[str, str] | None) -> None:
    mapped = None if columns is None else {f: f for f in FIELDS} | columns
    round_trip(f"sqlite:///{tmp_path / 'cs.sqlite3'}", mapped)


def test_write_table_round_trip_on_postgresql(pg_schema_url: str) -> None:
    round_trip(pg_schema_url, JAPANESE_COLUMNS)


def test_write_table_refuses_an_unknown_field(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="住所"):
        write_table(f"sqlite:///{tmp_path / 'x.sqlite3'}", "t", [], {"住所": "address"})
