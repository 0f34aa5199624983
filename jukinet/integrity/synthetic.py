"""Synthetic residents for the integrity check's tests and benchmarks; nothing in them is real.

    registry = generate(100_000, seed=1)               # the town's registry (既存住基システム)
    cs, truth = plant(generate(100_000, seed=1), changed=0.001, deleted=0.0005,
                      inserted=0.0005, invalid=0.0002, seed=7)   # its CS copy, with differences
    write_table("sqlite:///cs.sqlite3", "cs", cs, {"key": "住民票コード", "name": "氏名"})
    truth.changed   # {"48210937561": frozenset({"address"}), ...}, complete once `cs` is read

- `generate`: one row a resident (`FIELDS`, all str), streamed; 住民票コード unique and scattered
  over the 11-digit space; common surnames and given names with their readings; 多賀町's 大字.
- `plant`: the CS copy of such rows, each kept, changed, deleted, made invalid or duplicated by a
  hash of its key, plus inserted rows; `Truth` says which, by key.
- `write_table`: rows into a table of TEXT columns (SQLite or PostgreSQL), then an index on the key.

Every 個人番号 carries a wrong check digit, so none can be a real person's number.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from itertools import islice

from sqlalchemy import Column, Index, MetaData, Table, Text, create_engine

from jukinet.integrity.compare import FIELDS as COMPARED
from jukinet.integrity.compare import KEY

FIELDS = (KEY, *COMPARED)  # the engine's logical names (jukinet/integrity/compare.py)

SURNAMES = (
    "佐藤 サトウ,鈴木 スズキ,高橋 タカハシ,田中 タナカ,伊藤 イトウ,渡辺 ワタナベ,山本 ヤマモト,"
    "中村 ナカムラ,小林 コバヤシ,加藤 カトウ,吉田 ヨシダ,山田 ヤマダ,佐々木 ササキ,山口 ヤマグチ,"
    "松本 マツモト,井上 イノウエ,木村 キムラ,林 ハヤシ,斎藤 サイトウ,清水 シミズ,山崎 ヤマザキ,"
    "森 モリ,池田 イケダ,橋本 ハシモト,阿部 アベ,石川 イシカワ,山下 ヤマシタ,中島 ナカジマ,"
    "石井 イシイ,小川 オガワ,前田 マエダ,岡田 オカダ,長谷川 ハセガワ,藤田 フジタ,後藤 ゴトウ,"
    "近藤 コンドウ,村上 ムラカミ,西村 ニシムラ,北川 キタガワ,西川 ニシカワ"
)
MALE = (
    "一郎 イチロウ,和夫 カズオ,正 タダシ,茂 シゲル,清 キヨシ,博 ヒロシ,隆 タカシ,修 オサム,"
    "勇 イサム,誠 マコト,健一 ケンイチ,直樹 ナオキ,大輔 ダイスケ,拓也 タクヤ,健太 ケンタ,"
    "翔太 ショウタ,亮 リョウ,翔 ショウ,大和 ヤマト,蓮 レン,陽翔 ハルト,悠真 ユウマ,湊 ミナト,"
    "樹 イツキ"
)
FEMALE = (
    "幸子 サチコ,和子 カズコ,恵子 ケイコ,洋子 ヨウコ,陽子 ヨウコ,久美子 クミコ,智子 トモコ,"
    "裕子 ユウコ,直美 ナオミ,明美 アケミ,真由美 マユミ,美穂 ミホ,愛 アイ,彩 アヤ,美咲 ミサキ,"
    "千尋 チヒロ,七海 ナナミ,さくら サクラ,結衣 ユイ,陽菜 ヒナ,凛 リン,葵 アオイ,芽依 メイ,"
    "紬 ツムギ"
)
# A changed 氏名 keeps its reading: the same person written with another form of a character.
VARIANTS = {"高橋": "髙橋", "渡辺": "渡邊", "斎藤": "齋藤", "山崎": "山﨑", "吉田": "𠮷田"}
AZA = (
    *("多賀", "土田", "敏満寺", "久徳", "栗栖", "富之尾", "四手", "佐目", "萱原", "樋田"),
    *("川相", "一円", "木曽", "月之木", "中川原", "藤瀬", "河内", "大君ヶ畑", "楢崎", "猿木"),
)
ADDRESS_PREFIX = "滋賀県犬上郡多賀町大字"
BANCHI = 1200  # 番地 1..BANCHI in every 大字
REASONS = ("転入", "転居", "世帯変更", "職権記載", "職権修正", "転籍", "氏名変更")
BIRTH = "出生"
SEXES = ("男", "女")

FIRST_DATE = date(1920, 1, 1)  # the date table; births and moves lie well inside it
FIRST_BIRTH = date(1925, 1, 1)
LAST_BIRTH = date(2024, 12, 31)
LAST_MOVED = date(2025, 3, 31)
LAST_DATE = date(2026, 12, 31)
IMPOSSIBLE_DAYS = ("-02-30", "-02-31", "-04-31", "-06-31", "-09-31", "-11-31", "-13-01", "-00-15")

# 住民票コード and the 個人番号's first 11 digits are affine permutations of a row's index over
# 10**11: unique, not sequential. generate() draws indices below 2 * 10**10 (an offset from the
# seed, plus n), plant() draws its inserted rows' indices from 9 * 10**10 up, so they never meet.
SPACE = 10**11
KEY_A, KEY_B = 61_803_398_873, 27_182_818_284
NUMBER_A, NUMBER_B = 31_415_926_537, 14_142_135_623
REGISTRY_OFFSETS = 10**10
INSERTED_BASE = 9 * 10**10
MAX_ROWS = 7 * 10**10

KEY_LETTERS = "OIZEASGTBP"  # a digit misread as the letter that looks like it
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_MASK32 = 2**32 - 1


@dataclass
class Truth:
    """What `plant` did, by key; filled while its rows are read, `complete` once they all were.

    `malformed` maps an invalid row's emitted key (10 or 12 digits, a letter, full-width digits)
    to the registry key it stands for: that registry key has no valid row on the CS side.
    """

    changed: dict[str, frozenset[str]] = field(default_factory=dict)
    missing_on_cs: set[str] = field(default_factory=set)
    missing_on_registry: set[str] = field(default_factory=set)
    invalid_on_cs: set[str] = field(default_factory=set)
    duplicated_on_cs: set[str] = field(default_factory=set)
    malformed: dict[str, str] = field(default_factory=dict)
    complete: bool = False


@dataclass(frozen=True)
class _Tables:
    male: tuple[tuple[str, str], ...]  # (氏名, カナ) of every surname × given name
    female: tuple[tuple[str, str], ...]
    given: tuple[str, ...]
    readings: tuple[str, ...]
    dates: tuple[str, ...]  # ISO dates from FIRST_DATE to LAST_DATE
    date_index: dict[str, int]
    first_birth: int
    birth_span: int
    last_moved: int
    addresses: tuple[str, ...]
    address_index: dict[str, int]
    check_low: tuple[int, ...]  # weighted digit sums of 3-digit groups, see _number()
    check_mid: tuple[int, ...]
    check_top: tuple[int, ...]


def _pairs(text: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in (item.split(" ") for item in text.split(","))]


def _weighted(weights: tuple[int, ...]) -> tuple[int, ...]:
    """Σ digit × weight over the group's digits from the lowest, for every value of the group."""
    width = len(weights)
    return tuple(
        sum(int(d) * w for d, w in zip(reversed(f"{v:0{width}d}"), weights, strict=True))
        for v in range(10**width)
    )


@cache
def _tables() -> _Tables:
    surnames = _pairs(SURNAMES)
    male, female = _pairs(MALE), _pairs(FEMALE)

    def names(given: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple((f"{s} {g}", f"{sk} {gk}") for s, sk in surnames for g, gk in given)

    days = (LAST_DATE - FIRST_DATE).days + 1
    dates = tuple((FIRST_DATE + timedelta(d)).isoformat() for d in range(days))
    addresses = tuple(f"{ADDRESS_PREFIX}{aza}{n}番地" for aza in AZA for n in range(1, BANCHI + 1))
    first_birth = (FIRST_BIRTH - FIRST_DATE).days
    return _Tables(
        male=names(male),
        female=names(female),
        given=tuple(sorted({g for g, _ in male + female})),
        readings=tuple(sorted({k for _, k in male + female})),
        dates=dates,
        date_index={d: i for i, d in enumerate(dates)},
        first_birth=first_birth,
        birth_span=(LAST_BIRTH - FIRST_BIRTH).days + 1,
        last_moved=(LAST_MOVED - FIRST_DATE).days,
        addresses=addresses,
        address_index={a: i for i, a in enumerate(addresses)},
        check_low=_weighted((2, 3, 4)),
        check_mid=_weighted((5, 6, 7)),
        check_top=_weighted((5, 6)),
    )


def _number(body: int, t: _Tables, salt: int) -> str:
    """12 digits: `body` and a check digit that is not the 個人番号's.

    The real one (個人番号の指定等に関する省令 第5条): r = Σ Pn × Qn mod 11 over the body's digits
    Pn counted from the lowest, Qn = n + 1 (n ≤ 6) or n - 5 (n ≥ 7); the digit is 0 if r ≤ 1,
    else 11 - r. Groups of 3 digits from the lowest carry weights 2-4, 5-7, 2-4 and 5-6.
    """
    rest, low = divmod(body, 1000)
    rest, mid = divmod(rest, 1000)
    top, high = divmod(rest, 1000)
    r = (t.check_low[low] + t.check_mid[mid] + t.check_low[high] + t.check_top[top]) % 11
    check = 0 if r <= 1 else 11 - r
    return f"{body:011d}{(check + 1 + salt % 9) % 10}"


def _resident(index: int, bits: int, t: _Tables) -> dict[str, str]:
    """The resident at `index` of the key space, its other fields drawn from 96 random bits."""
    bits, female = divmod(bits, 2)
    names = t.female if female else t.male
    bits, i = divmod(bits, len(names))
    bits, born = divmod(bits, t.birth_span)
    born += t.first_birth
    bits, move = divmod(bits, 4)
    if move == 0:
        moved, reason = born, BIRTH
    else:
        bits, after = divmod(bits, t.last_moved - born + 1)
        bits, r = divmod(bits, len(REASONS))
        moved, reason = born + after, REASONS[r]
    bits, a = divmod(bits, len(t.addresses))
    name, kana = names[i]
    return {
        "key": f"{(KEY_A * index + KEY_B) % SPACE:011d}",
        "number": _number((NUMBER_A * index + NUMBER_B) % SPACE, t, bits),
        "name": name,
        "kana": kana,
        "birth_date": t.dates[born],
        "sex": SEXES[female],
        "address": t.addresses[a],
        "reason": reason,
        "moved_on": t.dates[moved],
    }


def generate(n: int, seed: int = 0) -> Iterator[dict[str, str]]:
    """The registry: `n` residents, one fresh dict each, the same for the same seed; keys are
    unique within a seed and scattered, not in order."""
    if not 0 <= n <= MAX_ROWS:
        raise ValueError(f"n must be between 0 and {MAX_ROWS}, not {n}")
    t = _tables()
    rnd = random.Random(seed)
    first = rnd.randrange(REGISTRY_OFFSETS)
    draw = rnd.getrandbits
    for index in range(first, first + n):
        yield _resident(index, draw(96), t)


def plant(
    rows: Iterable[dict[str, str]],
    *,
    changed: float,
    deleted: float,
    inserted: float,
    invalid: float,
    duplicated: float = 0.0,
    seed: int = 0,
) -> tuple[Iterator[dict[str, str]], Truth]:
    """The CS side of `rows` (which must come from `generate`), streamed, and the truth about it.

    Each row, by a hash of its key and `seed`, is changed (1-3 of `COMPARED`), deleted, made
    invalid, duplicated or kept as it is; after any row, at the rate `inserted`, comes a new
    resident whose key the registry does not have. Kept rows are the input's own dicts.

        cs, truth = plant(generate(1000), changed=0.01, deleted=0, inserted=0, invalid=0)
        rows = list(cs)   # now truth.complete, and truth.changed has about 10 keys
    """
    rates = {
        "changed": changed,
        "deleted": deleted,
        "inserted": inserted,
        "invalid": invalid,
        "duplicated": duplicated,
    }
    for name, rate in rates.items():
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {rate}")
    if changed + deleted + invalid + duplicated > 1.0:
        raise ValueError("changed + deleted + invalid + duplicated must not exceed 1")
    truth = Truth()
    return _planted(rows, rates, seed, truth), truth


def _planted(
    rows: Iterable[dict[str, str]], rates: Mapping[str, float], seed: int, truth: Truth
) -> Iterator[dict[str, str]]:
    t = _tables()
    salt = hashlib.blake2b(f"plant {seed}".encode(), digest_size=16).digest()
    next_index = INSERTED_BASE + random.Random(f"plant {seed}").randrange(REGISTRY_OFFSETS)
    # Cumulative cuts on the low 32 bits of the hash; the high 32 decide an insertion.
    cut_changed = round(rates["changed"] * 2**32)
    cut_deleted = cut_changed + round(rates["deleted"] * 2**32)
    cut_invalid = cut_deleted + round(rates["invalid"] * 2**32)
    cut_duplicated = cut_invalid + round(rates["duplicated"] * 2**32)
    cut_inserted = round(rates["inserted"] * 2**32)
    blake2b = hashlib.blake2b
    for row in rows:
        key = row["key"]
        h = int.from_bytes(blake2b(key.encode(), digest_size=8, key=salt).digest(), "little")
        u = h & _MASK32
        if u >= cut_duplicated:
            yield row
        elif u < cut_changed:
            new, fields = _change(row, random.Random(h), t)
            truth.changed[key] = fields
            yield new
        elif u < cut_deleted:
            truth.missing_on_cs.add(key)
        elif u < cut_invalid:
            new = _invalidate(row, random.Random(h))
            truth.invalid_on_cs.add(new["key"])
            if new["key"] != key:
                truth.malformed[new["key"]] = key
            yield new
        else:
            truth.duplicated_on_cs.add(key)
            yield row
            yield dict(row)
        if h >> 32 < cut_inserted:
            new = _resident(next_index, random.Random(~h).getrandbits(96), t)
            next_index += 1
            truth.missing_on_registry.add(new["key"])
            yield new
    truth.complete = True


def _change(
    row: dict[str, str], rnd: random.Random, t: _Tables
) -> tuple[dict[str, str], frozenset[str]]:
    """A copy with 1-3 fields altered to other valid values (birth_date earlier, moved_on later)."""
    fields = rnd.sample(COMPARED, rnd.choice((1, 1, 1, 2, 2, 3)))
    new = dict(row)
    for name in fields:
        value = row[name]
        if name == "number":
            digits = list(value[:11])
            pairs = [i for i in range(10) if digits[i] != digits[i + 1]]
            if pairs:  # two neighbouring digits swapped
                i = rnd.choice(pairs)
                digits[i], digits[i + 1] = digits[i + 1], digits[i]
                body = int("".join(digits))
            else:
                body = (int(value[:11]) + 1) % SPACE
            new[name] = _number(body, t, rnd.getrandbits(8))
        elif name == "name":
            surname, given = value.split(" ", 1)
            if surname in VARIANTS:
                new[name] = f"{VARIANTS[surname]} {given}"
            else:
                other = rnd.choice([g for g in t.given if g != given])
                new[name] = f"{surname} {other}"
        elif name == "kana":
            sei, mei = value.split(" ", 1)
            new[name] = f"{sei} {rnd.choice([k for k in t.readings if k != mei])}"
        elif name == "birth_date":
            new[name] = t.dates[t.date_index[value] - rnd.randint(1, 400)]
        elif name == "moved_on":
            new[name] = t.dates[t.date_index[value] + rnd.randint(1, 365)]
        elif name == "sex":
            new[name] = SEXES[value == SEXES[0]]
        elif name == "address":
            i = t.address_index[value]
            new[name] = t.addresses[
                (i + 1 + rnd.randrange(len(t.addresses) - 1)) % len(t.addresses)
            ]
        else:  # reason
            new[name] = rnd.choice([r for r in (BIRTH, *REASONS) if r != value])
    return new, frozenset(fields)


def _invalidate(row: dict[str, str], rnd: random.Random) -> dict[str, str]:
    """A copy with a malformed key or an impossible date; each malformed key stands for one key."""
    new = dict(row)
    key = row["key"]
    kind = rnd.randrange(5)
    if kind == 0:
        i = rnd.randrange(11)
        new["key"] = key[:i] + KEY_LETTERS[int(key[i])] + key[i + 1 :]
    elif kind == 1:
        new["key"] = key.translate(FULL_WIDTH)
    elif kind == 2:  # leading zeros lost (read as a number), else one digit typed twice
        new["key"] = key.lstrip("0") if key.startswith("0") and key.strip("0") else key + key[-1]
    else:
        name = "birth_date" if kind == 3 else "moved_on"
        new[name] = row[name][:4] + rnd.choice(IMPOSSIBLE_DAYS)
    return new


def write_table(
    url: str,
    table: str,
    rows: Iterable[Mapping[str, str]],
    columns: Mapping[str, str] | None = None,
    batch: int = 10_000,
) -> int:
    """Create `table` (TEXT columns, `columns` renaming logical fields), insert `rows` in batches,
    then index the key column (not unique: duplicates stay). Returns the number of rows written.

        write_table("sqlite:///cs.sqlite3", "cs", generate(10), {"key": "住民票コード"})  # 10
    """
    names = {f: f for f in FIELDS} | dict(columns or {})
    unknown = sorted(set(names) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown fields in columns: {unknown}")
    target = Table(table, MetaData(), *(Column(names[f], Text, key=f) for f in FIELDS))
    engine = create_engine(url)
    written = 0
    try:
        with engine.begin() as connection:
            target.create(connection, checkfirst=True)
            insert = target.insert()
            source = iter(rows)
            while chunk := list(islice(source, batch)):
                connection.execute(insert, chunk)
                written += len(chunk)
            # The engine reads in byte order (COLLATE "C" on PostgreSQL, SQLite's default).
            key = target.c["key"]
            indexed = key.collate("C") if engine.dialect.name == "postgresql" else key
            Index(f"ix_{table}_{names['key']}", indexed).create(connection, checkfirst=True)
    finally:
        engine.dispose()
    return written
