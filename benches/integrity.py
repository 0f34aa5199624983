"""The integrity check (jukinet/integrity/compare.py) side by side with a raw ordered scan of the
same tables and with reladiff (hashdiff), at N rows per side with about 0.2 % planted differences.

    python -m benches.integrity [--rows 1000000 5000000] [--pairs sqlite-sqlite ...]
                                [--repeat 3] [--no-reladiff] [--keep DIR]

For each N the tables are generated once (jukinet/integrity/synthetic.py): two SQLite files and
two tables in a private PostgreSQL cluster (tests/postgres.py). For each engine pair, each
measurement runs in a fresh process (spawned, so its peak memory is its own):

- the raw ordered scan of each side: the DBAPI driver alone (sqlite3, psycopg), the same nine
  columns, ORDER BY the key in byte order, rows fetched in batches and dropped: the least any
  ordered comparison must pay;
- the check, whose findings are compared with the generator's truth; its memory is the peak of
  the comparing process and of each reader process;
- reladiff 0.6 (hashdiff, 2 threads) in its own venv (benches/reladiff_env.sh), once per pair.

Times are the median of --repeat runs (reladiff: one run). Results go to
benches/results/integrity.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benches.spawn import in_child, peak_mb
from jukinet.integrity.compare import FIELDS, KEY, Side, compare, reader_request
from jukinet.integrity.synthetic import generate, plant, write_table

COLUMNS = {KEY: "key", **{f: f for f in FIELDS}}
RATES = {"changed": 0.001, "deleted": 0.0003, "inserted": 0.0003, "invalid": 0.0002}
DUPLICATED = 0.0002
HERE = Path(__file__).resolve().parent
# reladiff bisects text keys only between bounds made of " -0-9A-Z_a-z": keys of other
# characters (the planted full-width ones) must be left out or it stops (reladiff_run.py)
MAX_KEY = "zzzzzzzzzzzzzzzz"


def _scan(side: Side) -> dict[str, Any]:
    """The raw ordered scan, through the driver the check's reader uses."""
    request = reader_request(side, "cs")
    columns = ", ".join(COLUMNS[name] for name in (KEY, *FIELDS))
    began = time.perf_counter()
    scan = _scan_postgresql if request["driver"] == "postgresql" else _scan_sqlite
    rows = scan(request["connect"], side.table, columns)
    return {"rows": rows, "seconds": time.perf_counter() - began, "peak_mb": peak_mb()}


def _scan_postgresql(connect: dict[str, Any], table: str, columns: str) -> int:
    import psycopg

    rows = 0
    sql = f'SELECT {columns} FROM {table} ORDER BY {COLUMNS[KEY]} COLLATE "C"'
    with (
        psycopg.connect(**connect) as connection,
        connection.transaction(),
        connection.cursor(name="scan") as cursor,
    ):
        cursor.itersize = 10_000
        cursor.execute(sql)
        while batch := cursor.fetchmany(10_000):
            rows += len(batch)
    return rows


def _scan_sqlite(connect: dict[str, Any], table: str, columns: str) -> int:
    import sqlite3

    rows = 0
    connection = sqlite3.connect(connect["database"])
    cursor = connection.execute(f"SELECT {columns} FROM {table} ORDER BY {COLUMNS[KEY]}")
    while batch := cursor.fetchmany(10_000):
        rows += len(batch)
    connection.close()
    return rows


def _check(cs: Side, registry: Side) -> dict[str, Any]:
    found: list[tuple[str, str | None, str, tuple[str, ...]]] = []
    before = peak_mb()
    report = compare(cs, registry, lambda *d: found.append(d))
    return {
        "seconds": report.seconds,
        "differences": found,
        "rows": report.rows,
        "peak_mb": peak_mb(),
        "peak_before_mb": before,
        "reader_peak_mb": report.reader_peak_mb,
    }


def truth_keys(truth: Any) -> dict[str, set[tuple[str | None, str]]]:
    return {
        "changed": {(None, k) for k in truth.changed},
        "missing": {("cs", k) for k in truth.missing_on_cs | set(truth.malformed.values())}
        | {("registry", k) for k in truth.missing_on_registry},
        "invalid": {("cs", k) for k in truth.invalid_on_cs},
        "duplicate": {("cs", k) for k in truth.duplicated_on_cs},
    }


def reladiff(cs: Side, registry: Side, python: str) -> dict[str, Any]:
    request = {
        "cs": {"url": cs.url, "table": cs.table},
        "registry": {"url": registry.url, "table": registry.table},
        "key": COLUMNS[KEY],
        "columns": [COLUMNS[f] for f in FIELDS],
        "threads": 2,
        "max_key": MAX_KEY,
    }
    done = subprocess.run(
        [python, str(HERE / "reladiff_run.py")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _plain_index(url: str, table: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE INDEX {table}_key_default ON {table} ({COLUMNS[KEY]})"))
        connection.execute(text(f"ANALYZE {table}"))
    engine.dispose()


@contextmanager
def tables(rows: int, folder: Path, pg_url: str | None) -> Iterator[tuple[dict[str, Side], Any]]:
    """Both sides on each engine (tables written once and kept in --keep); the truth."""
    sides: dict[str, Side] = {}
    for engine in ("sqlite", "postgresql"):
        for name, seed_rows in (("cs", True), ("registry", False)):
            if engine == "sqlite":
                url = f"sqlite:///{folder / f'{name}-{rows}.sqlite3'}"
            elif pg_url:
                url = pg_url
            else:
                continue
            side = Side(url, f"{name}_{rows}", COLUMNS)
            sides[f"{engine}-{name}"] = side
            marker = folder / f"{engine}-{name}-{rows}.written"
            if engine == "sqlite":
                if marker.exists():
                    continue
                (folder / f"{name}-{rows}.sqlite3").unlink(missing_ok=True)
            source = (
                plant(generate(rows, seed=1), duplicated=DUPLICATED, seed=1, **RATES)[0]
                if seed_rows
                else generate(rows, seed=1)
            )
            write_table(url, side.table, source, COLUMNS, batch=20_000)
            if engine == "postgresql":  # also an index of the default collation, which
                _plain_index(url, side.table)  # reladiff's range queries can use
            marker.touch()
    planted, truth = plant(generate(rows, seed=1), duplicated=DUPLICATED, seed=1, **RATES)
    for _ in planted:  # the truth fills as the rows go by
        pass
    yield sides, truth


def measure(
    rows: int, pair: str, sides: dict[str, Side], truth: Any, repeat: int, python: str | None
) -> dict[str, Any]:
    cs_engine, registry_engine = pair.split("-")
    cs, registry = sides[f"{cs_engine}-cs"], sides[f"{registry_engine}-registry"]
    scans: dict[str, list[dict[str, Any]]] = {"cs": [], "registry": []}
    checks: list[dict[str, Any]] = []
    for _ in range(repeat):
        scans["cs"].append(in_child(_scan, cs))
        scans["registry"].append(in_child(_scan, registry))
        checks.append(in_child(_check, cs, registry))
    expected = truth_keys(truth)
    found: dict[str, set[tuple[str | None, str]]] = {kind: set() for kind in expected}
    for kind, side, key, _ in checks[-1]["differences"]:
        found[kind].add((side, key))
    scan_s = {n: statistics.median(s["seconds"] for s in runs) for n, runs in scans.items()}
    check_s = statistics.median(c["seconds"] for c in checks)
    slower = max(scan_s.values())
    last = checks[-1]
    result: dict[str, Any] = {
        "rows": rows,
        "pair": pair,
        "planted": sum(len(v) for v in expected.values()),
        "found": sum(len(v) for v in found.values()),
        "exact": found == expected,
        "scan_seconds": {n: round(v, 2) for n, v in scan_s.items()},
        "scan_peak_mb": {n: round(max(s["peak_mb"] for s in r), 1) for n, r in scans.items()},
        "check_seconds": round(check_s, 2),
        "check_seconds_all": [round(c["seconds"], 2) for c in checks],
        "check_over_slower_scan": round(check_s / slower, 2),
        "check_peak_mb": {
            "comparing process": round(last["peak_mb"], 1),
            "of which before the check": round(last["peak_before_mb"], 1),
            **{f"reader {k}": round(v, 1) for k, v in last["reader_peak_mb"].items()},
        },
    }
    result["check_peak_mb"]["all processes"] = round(
        last["peak_mb"] + sum(last["reader_peak_mb"].values()), 1
    )
    if python:
        other = reladiff(cs, registry, python)
        result["reladiff"] = {k: v for k, v in other.items() if k != "keys"}
        if "seconds" in other:
            every = {key for found_keys in expected.values() for _, key in found_keys}
            keys = set(other.get("keys", []))
            result["reladiff"]["keys_planted"] = len(every)
            result["reladiff"]["keys_found"] = len(keys & every)
            result["reladiff"]["keys_extra"] = len(keys - every)
            result["faster_than_reladiff"] = round(other["seconds"] / check_s, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument(
        "--pairs",
        nargs="+",
        default=["sqlite-sqlite", "postgresql-postgresql", "sqlite-postgresql"],
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-reladiff", action="store_true")
    parser.add_argument("--keep", type=Path, help="folder for the SQLite tables (default: tmp)")
    args = parser.parse_args()
    from benches.harness import machine, write_results  # prefect: kept out of the children
    from tests.postgres import running_postgres

    python = None
    if not args.no_reladiff:
        made = subprocess.run(
            ["bash", str(HERE / "reladiff_env.sh")], capture_output=True, text=True, check=True
        )
        python = made.stdout.strip().splitlines()[-1]
    results = []
    with ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        folder.mkdir(parents=True, exist_ok=True)
        pg_url = None
        if any("postgresql" in pair for pair in args.pairs):
            pg_url = stack.enter_context(running_postgres())
        for n in args.rows:
            with tables(n, folder, pg_url) as (sides, truth):
                for pair in args.pairs:
                    result = measure(n, pair, sides, truth, args.repeat, python)
                    print(json.dumps(result, ensure_ascii=False), flush=True)
                    results.append(result)
    write_results(
        "integrity",
        {"benchmark": "integrity", "machine": machine(), "cpu": os.cpu_count(), "results": results},
    )


if __name__ == "__main__":
    main()
