"""How a row travels from a side's database to the merge. The database hands each row over as
four strings, so two rows that agree are two equal tuples whatever the engines (SQLite,
PostgreSQL) and the columns' types:

    (key, rest, 生年月日, 異動年月日[, marks])
    rest = FIELD + value | NULL, for each of ENCODED in order (NULL stands for SQL NULL), as
           UTF-8 bytes: the driver copies them without decoding (decoded only where rows differ)

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
from itertools import compress, count
from operator import itemgetter
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
_BAD_KEY = re.compile(r"^(?![0-9]{11}$).*$", re.MULTILINE)
Row = tuple[Any, ...]  # (key, rest, birth_date, moved_on[, marks]): str, bytes, str | None, ...


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
    rest = row[1].decode("utf-8", errors="replace")
    found = [m.group(1) if m.group(0) != NULL else None for m in _VALUE.finditer(rest)]
    if len(found) != len(ENCODED):
        raise ValueError("a value holds a control character the comparison uses")
    by_name = dict(zip(ENCODED, found, strict=True)) | dict(zip(DATE_FIELDS, row[2:4], strict=True))
    return [by_name[f] for f in FIELDS]


def _quote(dialect: Any, name: str) -> str:
    return ".".join(dialect.identifier_preparer.quote(part) for part in name.split("."))


def line_query(dialect: Any, table: str, columns: Mapping[str, str]) -> str:
    """SELECT key, rest, 生年月日, 異動年月日 FROM table ORDER BY key (byte order), for SQLite or
    PostgreSQL. A NULL key reads as '' and comes first (PostgreSQL is told so: NULLS FIRST, which
    no default index gives, so it sorts; measured, a sort is cheaper there than following an
    index, see docs/benchmarks.md)."""
    postgres = dialect.name == "postgresql"
    if not postgres and dialect.name != "sqlite":
        raise ValueError(dialect.name)
    text = {name: f"CAST({_quote(dialect, columns[name])} AS TEXT)" for name in (KEY, *FIELDS)}
    fields = " || ".join(f"coalesce('{FIELD}' || {text[f]}, '{NULL}')" for f in ENCODED)
    rest = f"convert_to({fields}, 'UTF8')" if postgres else f"CAST({fields} AS BLOB)"
    dates = ", ".join(text[f] for f in DATE_FIELDS)
    key = _quote(dialect, columns[KEY])
    order = f'{key} COLLATE "C" NULLS FIRST' if postgres else f"{key} COLLATE BINARY"
    return (
        f"SELECT coalesce({text[KEY]}, ''), {rest}, {dates} "
        f"FROM {_quote(dialect, table)} ORDER BY {order}"
    )


class Validity:
    """Marks the invalid rows of each batch in place. The work is done by set and string
    operations over the whole batch (the keys as one text searched by a regular expression, the
    dates against the set of dates already seen valid), so a valid row costs next to nothing;
    only the few rows found wrong are touched one by one."""

    BOUND = 400_000  # dates remembered as valid (a table has far fewer distinct dates)

    def __init__(self, side: str) -> None:
        self.mark = INVALID + side
        self._good: set[str | None] = set()

    def apply(self, rows: list[Row]) -> list[Row]:
        bad = self._bad_keys(list(map(itemgetter(0), rows)))
        for column in (2, 3):
            dates = list(map(itemgetter(column), rows))
            unseen = set(dates) - self._good
            wrong = {d for d in unseen if not valid_date(d)}
            if len(self._good) < self.BOUND:
                self._good |= unseen - wrong
            if wrong:
                bad.update(compress(count(), map(wrong.__contains__, dates)))
        for i in bad:
            rows[i] = marked(rows[i], self.mark)
        return rows

    @staticmethod
    def _bad_keys(keys: list[str]) -> set[int]:
        text = "\n".join(keys)
        if text.count("\n") != len(keys) - 1:  # a key holding a line break: look at each
            return {i for i, k in enumerate(keys) if not valid_key(k)}
        return {text.count("\n", 0, m.start()) for m in _BAD_KEY.finditer(text)}
