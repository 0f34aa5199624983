"""Where the differences of a comparison go: every one as a CSV line in a file (the repair list),
the first few kept in memory for the artifact, and counts by kind.

    with DifferenceFile(path, cap=100) as sink:
        report = compare(cs, registry, sink)
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import IO

KIND_TITLES = {
    "missing": "欠落",
    "changed": "相違",
    "duplicate": "重複",
    "invalid": "不正な行",
}
SIDE_TITLES = {"cs": "CS", "registry": "既存住基システム", None: ""}
FIELD_TITLES = {
    "number": "個人番号",
    "name": "氏名",
    "kana": "氏名カナ",
    "birth_date": "生年月日",
    "sex": "性別",
    "address": "住所",
    "reason": "異動事由",
    "moved_on": "異動年月日",
}
HEADER = ("区分", "側", "住民票コード", "相違する項目")


class DifferenceFile:
    def __init__(self, path: Path, cap: int = 100) -> None:
        self.path = path
        self.cap = cap
        self.first: list[tuple[str, str | None, str, tuple[str, ...]]] = []
        self.counts: Counter[str] = Counter()
        self._file: IO[str] | None = None

    def __enter__(self) -> DifferenceFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(HEADER)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()

    def __call__(self, kind: str, side: str | None, key: str, fields: tuple[str, ...]) -> None:
        self.counts[kind] += 1
        if len(self.first) < self.cap:
            self.first.append((kind, side, key, fields))
        self._writer.writerow(
            (
                KIND_TITLES[kind],
                SIDE_TITLES[side],
                key,
                "・".join(FIELD_TITLES[f] for f in fields),
            )
        )
