"""Synthetic residents (nobody real) and a registry database holding them, for the checks that
本人確認情報 typed into a form is refused and appears nowhere (issue 5, item 7)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, create_engine


@dataclass(frozen=True)
class Resident:
    name: str
    kana: str
    birth: str  # as a clerk would write it
    address: str
    code: str  # 住民票コード, 11 digits
    number: str  # 個人番号, 12 digits


RESIDENTS = (
    Resident(
        "宇曽川 絹代",
        "ウソガワ キヌヨ",
        "昭和30年4月1日生",
        "滋賀県犬上郡多賀町大字富之尾8123番地",
        "38201746509",
        "402177183309",
    ),
    Resident(
        "鍋尻 真砂子",
        "ナベジリ マサコ",
        "平成2年11月30日生まれ",
        "滋賀県犬上郡多賀町大字佐目7702番地の3",
        "59120384716",
        "731904625518",
    ),
    Resident(
        "甲賀谷 弥生",
        "コウガヤ ヤヨイ",
        "生年月日 1971年3月3日",
        "滋賀県犬上郡多賀町大字四手6611番地",
        "27730019485",
        "158863201947",
    ),
)
TABLE, NAME, KANA, ADDRESS = "住民", "氏名", "氏名カナ", "住所"


def write_registry(path: Path) -> str:
    """A SQLite registry with RESIDENTS (and the columns a real one has); returns its URL."""
    url = f"sqlite:///{path}"
    metadata = MetaData()
    table = Table(
        TABLE,
        metadata,
        Column("住民票コード", String, primary_key=True),
        Column(NAME, String),
        Column("氏名カナ", String),
        Column(ADDRESS, String),
    )
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            table.insert(),
            [
                {"住民票コード": r.code, NAME: r.name, "氏名カナ": r.kana, ADDRESS: r.address}
                for r in RESIDENTS
            ],
        )
    engine.dispose()
    return url


def registry_config(env: str) -> dict[str, object]:
    """town.yaml `residents` for the registry whose URL is in the environment variable `env`."""
    return {
        "url": {"env": env},
        "table": TABLE,
        "name_column": NAME,
        "kana_column": KANA,
        "address_column": ADDRESS,
    }
