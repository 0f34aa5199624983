"""How a row travels from a side's database to the merge. The database hands each row over as
four strings, so two rows that agree are two equal tuples whatever the engines (SQLite,
PostgreSQL) and the columns' types:

    (key, rest, 生年月日, 異動年月日[, marks])
    rest = FIELD + value | NULL, for each of ENCODED in order (NULL stands for SQL NULL)

The reader appends `marks` to a row that is invalid (INVALID) or one of a duplicated key's rows
(DUPLICATE), each followed by the side's name, so such a row never equals the other side's and
the merge looks at it alone. Valid means: the key is 11 ASCII digits; 生年月日 and 異動年月日 are
YYYY-MM-DD and real dates. This module imports only the standard library (the reader process
stays light).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

KEY = "key"
FIELDS = ("number", "name", "kana", "birth_date", "sex", "address", "reason", "moved_on")
DATE_FIELDS = ("birth_date", "moved_on")
ENCODED = tuple(f for f in FIELDS if f not in DATE_FIELDS)
FIELD = "\x1f"
NULL = "\x1d"
INVALID = "invalid:"
DUPLICATE = "duplicate:"
_VALUE = re.compile(f"{FIELD}([^{FIELD}{NULL}]*)|{NULL}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_KEY = re.compile(r"[0-9]{11}")
Row = tuple[Any, ...]  # (key, rest, birth_date, moved_on[, marks]): str, str, str | None, ...


def valid_key(value: str | None) -> bool:
    return value is not None and _KEY.fullmatch(value) is not None


def valid_date(value: str | None) -> bool:
    if value is None or _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_valid(row: Row) -> bool:
    return len(row) == 4 or INVALID not in row[4]


def marked(row: Row, mark: str) -> Row:
    return (*row[:4], (row[4] if len(row) > 4 else "") + mark)


def values(row: Row) -> list[str | None]:
    """The compared fields of `row`, in FIELDS order (None for SQL NULL)."""
    found = [m.group(1) if m.group(0) != NULL else None for m in _VALUE.finditer(row[1])]
    if len(found) != len(ENCODED):
        raise ValueError("a value holds a control character the comparison uses")
    by_name = dict(zip(ENCODED, found, strict=True)) | dict(zip(DATE_FIELDS, row[2:4], strict=True))
    return [by_name[f] for f in FIELDS]


def _quote(dialect: Any, name: str) -> str:
    return ".".join(dialect.identifier_preparer.quote(part) for part in name.split("."))


def line_query(dialect: Any, table: str, columns: Mapping[str, str]) -> str:
    """SELECT key, rest, 生年月日, 異動年月日 FROM table ORDER BY key (byte order), for SQLite or
    PostgreSQL."""
    postgres = dialect.name == "postgresql"
    if not postgres and dialect.name != "sqlite":
        raise ValueError(dialect.name)
    text = {name: f"CAST({_quote(dialect, columns[name])} AS TEXT)" for name in (KEY, *FIELDS)}
    rest = " || ".join(f"coalesce('{FIELD}' || {text[f]}, '{NULL}')" for f in ENCODED)
    dates = ", ".join(text[f] for f in DATE_FIELDS)
    key = _quote(dialect, columns[KEY])
    order = f'{key} COLLATE "C" NULLS FIRST' if postgres else f"{key} COLLATE BINARY"
    return (
        f"SELECT coalesce({text[KEY]}, ''), {rest}, {dates} "
        f"FROM {_quote(dialect, table)} ORDER BY {order}"
    )


class Validity:
    """Marks the invalid rows of each batch. A date's verdict is remembered (a table has few
    distinct dates), up to a bound, so a valid date costs one dictionary lookup."""

    BOUND = 400_000

    def __init__(self, side: str) -> None:
        self.mark = INVALID + side
        self._known: dict[str | None, bool] = {}

    def _date(self, value: str | None) -> bool:
        verdict = valid_date(value)
        if len(self._known) < self.BOUND:
            self._known[value] = verdict
        return verdict

    def apply(self, rows: list[Row]) -> list[Row]:
        known, check = self._known.get, self._date
        bad = [
            i
            for i, (key, _, birth, moved) in enumerate(rows)
            if not (
                len(key) == 11
                and key.isdigit()
                and key.isascii()
                and (known(birth) or check(birth))
                and (known(moved) or check(moved))
            )
        ]
        for i in bad:
            rows[i] = marked(rows[i], self.mark)
        return rows
