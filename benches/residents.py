"""The residents check (jukinet/residents.py): how long a registry takes to read into the index,
its memory, and what checking one answer's free text costs, at town and larger sizes.

    python -m benches.residents [--sizes 7500 100000 1400000] [--repeat 200]

Synthetic residents (surname × given name, 大字 × 番地) in a SQLite registry; the text checked is
a typical 80-character answer with no resident in it (the usual case: every name is tried).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, create_engine

from benches.harness import machine, write_results
from jukinet.residents import ResidentIndex

SURNAMES = [
    a + b
    for a in "上下中大小山川田野村森林石木井高藤原松竹"
    for b in "田野川村山本井原木沢谷口島崎岡"
]
GIVEN = [a + b for a in "一二三正健直和明美花春秋智恵裕義" for b in "子郎夫美男代江香雄人也"]
AZA = ["富之尾", "佐目", "四手", "萱原", "樋田", "川相", "栗栖", "一円", "木曽", "月之木"]
TEXT = "CS サーバの電源ユニットが故障し、統合端末から照会できない。保守事業者へ連絡し、交換部品を手配した。"


def residents(n: int) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        surname = SURNAMES[i % len(SURNAMES)]
        given = GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + ("" if i < 60000 else str(i // 60000))
        rows.append(
            {
                "code": f"{i:011d}",
                "name": f"{surname} {given}",
                "address": f"滋賀県犬上郡多賀町大字{AZA[i % len(AZA)]}{i % 9000 + 1}番地",
            }
        )
    return rows


def write_registry(path: Path, n: int) -> str:
    url = f"sqlite:///{path}"
    table = Table(
        "residents", MetaData(), *(Column(c, String) for c in ("code", "name", "address"))
    )
    engine = create_engine(url)
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), residents(n))
    engine.dispose()
    return url


def rss_mb() -> float:
    """The process's resident memory now (the automaton lives in C memory tracemalloc misses)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(n: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = write_registry(Path(tmp) / "registry.sqlite3", n)
        gc.collect()
        rss_before = rss_mb()
        tracemalloc.start()
        began = time.perf_counter()
        index = ResidentIndex.from_registry(url, "residents", "name", "address")
        load = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.collect()
        rss_grown = rss_mb() - rss_before
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        assert index.find(TEXT) is None
        times.append(time.perf_counter() - began)
    return {
        "residents": n,
        "distinct_names": index.distinct_names,
        "address_variants": index.address_variants,
        "load_seconds": round(load, 3),
        "load_peak_python_mb": round(peak / 2**20, 1),
        "index_rss_mb": round(rss_grown, 1),
        "check_median_ms": round(statistics.median(times) * 1000, 3),
        "check_p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[7500, 100000, 1400000])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    results = [measure(n, args.repeat) for n in sorted(args.sizes)]
    for r in results:
        print(
            f"{r['residents']:>9,} 人: 読込 {r['load_seconds']:.2f} s（索引 {r['index_rss_mb']} MB）、"
            f"1 欄の確認 中央値 {r['check_median_ms']} ms / p95 {r['check_p95_ms']} ms"
        )
    path = write_results(
        "residents",
        {"benchmark": "residents", "machine": machine(), "text": TEXT, "results": results},
    )
    print(f"→ {path}")


if __name__ == "__main__":
    main()
