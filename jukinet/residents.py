"""Residents' names and addresses from the town's registry (既存住基システム), to refuse them in
free text. 住民票コード and 個人番号 are caught by their shape (jukinet/forms/common.py); a name or
an address can only be recognised by knowing it, so the forms check free text against the
registry's values, normalised (NFKC, spaces removed). Only the kind found is ever reported.

>>> index = ResidentIndex(["宇曽川 絹代"], ["滋賀県犬上郡多賀町大字富之尾8123番地"])
>>> index.find("宇曽川絹代さん宅を訪問"), index.find("富之尾８１２３番地で停電"), index.find("停電")
('住民の氏名と思われる語', '住民の住所と思われる記載', None)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

import ahocorasick
from sqlalchemy import column, create_engine, select, table

if TYPE_CHECKING:
    from jukinet.config.models import ResidentRegistry

MIN_NAME = 2  # characters, spaces removed
MIN_ADDRESS = 6
NAME_FOUND = "住民の氏名と思われる語"
ADDRESS_FOUND = "住民の住所と思われる記載"
# an address as typed often leaves out what everybody in the town knows
_PREFIXES = (re.compile(r"^.+?[都道府県]"), re.compile(r"^.+?郡"), re.compile(r"^.+?[市区町村]"))


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def address_variants(address: str) -> set[str]:
    """`滋賀県犬上郡多賀町大字富之尾8123番地` → itself, without 滋賀県, 犬上郡, 多賀町 and 大字."""
    variants = {normalise(address)}
    rest = normalise(address)
    for prefix in _PREFIXES:
        rest = prefix.sub("", rest, count=1)
        variants.add(rest)
    variants.add(rest.removeprefix("大字").removeprefix("字"))
    return {v for v in variants if len(v) >= MIN_ADDRESS}


class ResidentIndex:
    """Every name and address variant in one Aho-Corasick automaton (pyahocorasick): a text is
    scanned once, whatever the number of residents."""

    def __init__(self, names: Iterable[str], addresses: Iterable[str]) -> None:
        self.residents = 0  # one address per resident read
        self.automaton = ahocorasick.Automaton()
        self.distinct_names = self.address_variants = 0
        for name in map(normalise, names):
            if len(name) >= MIN_NAME and self.automaton.add_word(name, NAME_FOUND):
                self.distinct_names += 1
        for address in addresses:
            self.residents += 1
            for variant in address_variants(address):
                if self.automaton.get(variant, None) is None:
                    self.automaton.add_word(variant, ADDRESS_FOUND)
                    self.address_variants += 1
        if len(self.automaton):
            self.automaton.make_automaton()

    def __len__(self) -> int:
        return self.residents

    def find(self, text: str) -> str | None:
        """What kind of resident's data `text` carries, or None (never the value itself)."""
        if not len(self.automaton):
            return None
        found = None
        for _, kind in self.automaton.iter(normalise(text)):
            if kind == NAME_FOUND:
                return kind
            found = kind
        return found

    @classmethod
    def from_registry(
        cls, url: str, table_name: str, name: str, address: str, kana: str | None = None
    ) -> ResidentIndex:
        """Read the name (and kana) and address columns of the registry's table, streamed."""
        engine = create_engine(url)
        columns = [name, address, *([kana] if kana else [])]
        source = table(table_name, *(column(c) for c in columns))
        names: list[str] = []
        addresses: list[str] = []
        try:
            with engine.connect() as connection:
                rows = connection.execution_options(stream_results=True).execute(
                    select(*(source.c[c] for c in columns))
                )
                for row in rows:
                    names += [str(v or "") for i, v in enumerate(row) if i != 1]
                    addresses.append(str(row[1] or ""))
        finally:
            engine.dispose()
        return cls(names, addresses)


def load_index(registry: ResidentRegistry) -> ResidentIndex:
    """The index of the registry town.yaml `residents` names (its URL resolved as a secret)."""
    from jukinet.notices.secrets import resolve

    return ResidentIndex.from_registry(
        resolve(registry.url, "town.yaml residents.url"),
        registry.table,
        registry.name_column,
        registry.address_column,
        registry.kana_column,
    )
