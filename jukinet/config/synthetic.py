"""Synthetic municipalities for drills and tests at prefecture scale: the example configuration
(多賀町) rewritten for another 市町, with its own code, name, addresses and fictional staff.

    make_town(EXAMPLE, target / "252026", "252026", "彦根市")
    for code, name in SHIGA: ...                       # the 19 市町 of 滋賀県

The staff keep the example's given names and approval codes under the town's own surname
(彦根 一郎, 彦根 花子, ...), so two towns never share a person's name; every address is under
`m<code>.example`, its access logs in `access-logs/<code>`. Nothing here is a real person or a real address.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ruamel.yaml import YAML

EXAMPLE_CODE = "254436"
EXAMPLE_NAME = "多賀町"
EXAMPLE_DOMAIN = "town.taga.example"

# 全国地方公共団体コード (with the check digit) of the 19 市町 of 滋賀県
SHIGA: tuple[tuple[str, str], ...] = (
    ("252018", "大津市"),
    ("252026", "彦根市"),
    ("252034", "長浜市"),
    ("252042", "近江八幡市"),
    ("252069", "草津市"),
    ("252077", "守山市"),
    ("252085", "栗東市"),
    ("252093", "甲賀市"),
    ("252107", "野洲市"),
    ("252115", "湖南市"),
    ("252123", "高島市"),
    ("252131", "東近江市"),
    ("252140", "米原市"),
    ("253839", "日野町"),
    ("253847", "竜王町"),
    ("254258", "愛荘町"),
    ("254410", "豊郷町"),
    ("254428", "甲良町"),
    ("254436", "多賀町"),
)


def check_digit(first_five: str) -> str:
    """The sixth digit of a 全国地方公共団体コード (総務省: weights 6..2, modulus 11)."""
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    remainder = total % 11
    return str((11 - remainder) % 10 if remainder else 0)


def surname(name: str) -> str:
    """彦根市 → 彦根, 近江八幡市 → 近江八幡: the town's name without 市/町/村."""
    return name[:-1] if name[-1] in "市町村" else name


def make_town(example: Path, target: Path, code: str, name: str) -> Path:
    """Copy `example` to `target` as the configuration of town `code` named `name`."""
    shutil.copytree(example, target)
    domain = f"m{code}.example"
    for path in target.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        text = text.replace(EXAMPLE_DOMAIN, domain).replace(EXAMPLE_NAME, name)
        path.write_text(text, encoding="utf-8")
    yaml = YAML()
    town_path = target / "town.yaml"
    town = yaml.load(town_path.read_text(encoding="utf-8"))
    town["municipality"]["code"] = code
    if town.get("access_logs") is not None:  # each town reads only its own logs
        town["access_logs"]["folder"] = f"access-logs/{code}"
    with town_path.open("w", encoding="utf-8") as fh:
        yaml.dump(town, fh)
    roster_path = target / "roster.yaml"
    roster = yaml.load(roster_path.read_text(encoding="utf-8"))
    for person in roster["people"]:
        given = str(person["name"]).split(" ")[-1]
        person["name"] = f"{surname(name)} {given}"
    with roster_path.open("w", encoding="utf-8") as fh:
        yaml.dump(roster, fh)
    return target
