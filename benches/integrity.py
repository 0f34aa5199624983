"""The integrity check (jukinet/integrity/compare.py) against a raw ordered scan of the same
tables, at N rows per side with about 0.2 % planted differences.

    python -m benches.integrity [--rows 1000000] [--engines sqlite-sqlite] [--keep DIR]

For each engine pair: the tables are generated (jukinet/integrity/synthetic.py), then measured
in a fresh process each so peak memory (ru_maxrss) belongs to one measurement: a raw ordered
scan of each side (the same SELECT … ORDER BY key the check runs, rows iterated and dropped), and
the check itself, whose findings are compared with the generator's truth.
reladiff (hashdiff) side by side: to come (issue 6's benchmark).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from jukinet.integrity.compare import FIELDS, KEY, Side, _ordered_query, compare
from jukinet.integrity.synthetic import generate, plant, write_table

COLUMNS = {KEY: "key", **{f: f for f in FIELDS}}
RATES = {"changed": 0.001, "deleted": 0.0003, "inserted": 0.0003, "invalid": 0.0002}


def _scan(side: Side) -> dict[str, Any]:
    engine = create_engine(side.url)
    began = time.perf_counter()
    rows = 0
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=20_000).execute(
            _ordered_query(engine, side)
        )
        for partition in result.partitions(20_000):
            rows += len(partition)
    engine.dispose()
    return {"rows": rows, "seconds": time.perf_counter() - began}


def _check(cs: Side, registry: Side) -> dict[str, Any]:
    found: list[tuple[str, str | None, str]] = []
    report = compare(cs, registry, lambda kind, side, key, fields: found.append((kind, side, key)))
    return {"seconds": report.seconds, "differences": found, "rows": report.rows}


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    """Run target(*args) in a fresh process; its result plus the process's peak RSS."""

    def run(conn: Any) -> None:
        result = target(*args)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(result)

    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(target=run, args=(child,))
    # fork before prefect is imported (main imports it last), so the peak is the child's own
    process.start()
    result: dict[str, Any] = parent.recv()
    process.join()
    return result


def _url(engine: str, folder: Path, name: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{folder / name}.sqlite3"
    raise SystemExit("PostgreSQL sides: to come with issue 6's benchmark")


def measure(rows: int, engines: str, folder: Path) -> dict[str, Any]:
    cs_engine, registry_engine = engines.split("-")
    cs = Side(_url(cs_engine, folder, f"cs-{rows}"), "cs_juki", COLUMNS)
    registry = Side(_url(registry_engine, folder, f"registry-{rows}"), "registry_juki", COLUMNS)
    cs_rows, truth = plant(generate(rows, seed=1), duplicated=0.0002, seed=1, **RATES)
    write_table(cs.url, cs.table, cs_rows, COLUMNS, batch=20_000)
    write_table(registry.url, registry.table, generate(rows, seed=1), COLUMNS, batch=20_000)
    planted = (
        len(truth.changed)
        + len(truth.missing_on_cs | set(truth.malformed.values()))
        + len(truth.missing_on_registry)
        + len(truth.invalid_on_cs)
        + len(truth.duplicated_on_cs)
    )
    scans = {name: _in_child(_scan, side) for name, side in (("cs", cs), ("registry", registry))}
    check = _in_child(_check, cs, registry)
    found = check.pop("differences")
    slower = max(s["seconds"] for s in scans.values())
    return {
        "rows": rows,
        "engines": engines,
        "planted": planted,
        "found": len(found),
        "scan_seconds": {k: round(v["seconds"], 2) for k, v in scans.items()},
        "scan_peak_mb": {k: round(v["peak_mb"], 1) for k, v in scans.items()},
        "check_seconds": round(check["seconds"], 2),
        "check_peak_mb": round(check["peak_mb"], 1),
        "check_over_slower_scan": round(check["seconds"] / slower, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--engines", default="sqlite-sqlite")
    parser.add_argument("--keep", type=Path, help="folder for the tables (default: a tmp dir)")
    args = parser.parse_args()
    from benches.harness import machine, write_results  # prefect: kept out of the children

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in args.rows:
            result = measure(n, args.engines, folder)
            print(json.dumps(result, ensure_ascii=False))
            results.append(result)
    write_results("integrity", {"benchmark": "integrity", "machine": machine(), "results": results})


if __name__ == "__main__":
    main()
