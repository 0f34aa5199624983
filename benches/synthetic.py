"""Synthetic residents (jukinet/integrity/synthetic.py): how fast the registry and its planted CS
copy are generated, and written to SQLite.

    python -m benches.synthetic [--rows 1000000]

Rates are the integrity check's usual case: about 0.2 % of rows differ.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from benches.harness import machine, write_results
from jukinet.integrity.synthetic import generate, plant, write_table

SEED = 1
RATES = {
    "changed": 0.001,
    "deleted": 0.0003,
    "inserted": 0.0003,
    "invalid": 0.0002,
    "duplicated": 0.0002,
}


def timed(work: Any) -> tuple[Any, float, float]:
    """`work()`'s result, its wall-clock and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def measure(n: int) -> dict[str, Any]:
    registry, gen_wall, gen_cpu = timed(lambda: sum(1 for _ in generate(n, SEED)))
    cs, truth = plant(generate(n, SEED), **RATES, seed=SEED)
    emitted, plant_wall, plant_cpu = timed(lambda: sum(1 for _ in cs))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'integrity.sqlite3'}"
        _, reg_wall, _ = timed(lambda: write_table(url, "registry", generate(n, SEED)))
        cs, _ = plant(generate(n, SEED), **RATES, seed=SEED)
        _, cs_wall, _ = timed(lambda: write_table(url, "cs", cs))
        size = (Path(tmp) / "integrity.sqlite3").stat().st_size
    return {
        "rows": registry,
        "cs_rows": emitted,
        "differences": {
            "changed": len(truth.changed),
            "missing_on_cs": len(truth.missing_on_cs),
            "missing_on_registry": len(truth.missing_on_registry),
            "invalid_on_cs": len(truth.invalid_on_cs),
            "duplicated_on_cs": len(truth.duplicated_on_cs),
        },
        "generate_seconds": round(gen_wall, 2),
        "generate_cpu_seconds": round(gen_cpu, 2),
        "generate_and_plant_seconds": round(plant_wall, 2),
        "generate_and_plant_cpu_seconds": round(plant_cpu, 2),
        "write_registry_seconds": round(reg_wall, 2),
        "write_cs_seconds": round(cs_wall, 2),
        "sqlite_mb": round(size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    r = measure(args.rows)
    n = r["rows"]
    print(
        f"{n:,} 人: 生成 {n / r['generate_seconds']:,.0f} 行/s、"
        f"生成と差異の埋め込み {r['cs_rows'] / r['generate_and_plant_seconds']:,.0f} 行/s、"
        f"SQLite への書込み（生成込み） 既存住基 {n / r['write_registry_seconds']:,.0f} 行/s・"
        f"CS {r['cs_rows'] / r['write_cs_seconds']:,.0f} 行/s（{r['sqlite_mb']} MB）"
    )
    print(f"差異: {r['differences']}")
    path = write_results(
        "synthetic",
        {"benchmark": "synthetic", "machine": machine(), "rates": RATES, "results": r},
    )
    print(f"→ {path}")


if __name__ == "__main__":
    main()
