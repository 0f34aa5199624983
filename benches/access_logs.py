"""The access-log analysis (jukinet/accesslog) beside a plain read of the same files, at N lines
with one planted incident of each rule (jukinet/accesslog/synthetic.py).

    python -m benches.access_logs [--lines 1000000 3000000] [--repeat 3] [--keep DIR]

For each N the three log files are written once (into --keep if given). Each measurement runs in a fresh spawned
process (its peak memory, VmHWM, is its own):

- `wc -l` over the files (the least any reading can cost);
- a Python loop over the files' lines (binary, counted and dropped);
- the analysis, whose findings are compared with the generator's truth.

Times are the median of --repeat runs. Results go to benches/results/access_logs.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benches.spawn import in_child, peak_mb
from jukinet.accesslog.analyse import analyse
from jukinet.accesslog.synthetic import synthetic_config, write_logs


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".csv", ".jsonl"))


def _wc(folder: Path) -> dict[str, Any]:
    began = time.perf_counter()
    done = subprocess.run(["wc", "-l", *map(str, _files(folder))], capture_output=True, text=True)
    lines = int(done.stdout.strip().splitlines()[-1].split()[0])
    return {"seconds": time.perf_counter() - began, "lines": lines}


def _loop(folder: Path) -> dict[str, Any]:
    began = time.perf_counter()
    lines = 0
    for path in _files(folder):
        with path.open("rb") as fh:
            for _ in fh:
                lines += 1
    return {"seconds": time.perf_counter() - began, "lines": lines, "peak_mb": peak_mb()}


def _analysis(folder: Path) -> dict[str, Any]:
    before = peak_mb()
    began = time.perf_counter()
    result = analyse(_files(folder), synthetic_config(folder))
    return {
        "seconds": time.perf_counter() - began,
        "lines": result.lines,
        "malformed": result.malformed,
        "found": sorted((f.rule.id, f.subject) for f in result.findings),
        "peak_mb": peak_mb(),
        "peak_before_mb": before,
    }


def measure(lines: int, folder: Path, repeat: int) -> dict[str, Any]:
    truth = write_logs(folder, lines, seed=1)
    runs: dict[str, list[dict[str, Any]]] = {"wc": [], "loop": [], "analysis": []}
    for _ in range(repeat):
        runs["wc"].append(in_child(_wc, folder))
        runs["loop"].append(in_child(_loop, folder))
        runs["analysis"].append(in_child(_analysis, folder))
    seconds = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    last = runs["analysis"][-1]
    return {
        "lines": last["lines"],
        "bytes": sum(p.stat().st_size for p in _files(folder)),
        "planted": len(truth.planted),
        "exact": set(map(tuple, last["found"])) == truth.planted,
        "malformed": last["malformed"],
        "malformed_planted": len(truth.malformed),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "lines_per_second": {k: round(last["lines"] / v) for k, v in seconds.items()},
        "analysis_over_loop": round(seconds["analysis"] / seconds["loop"], 1),
        "peak_mb": {
            "analysis": round(last["peak_mb"], 1),
            "analysis, before reading": round(last["peak_before_mb"], 1),
            "python loop": round(max(r["peak_mb"] for r in runs["loop"]), 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="folder for the log files (default: tmp)")
    args = parser.parse_args()
    from benches.harness import machine, write_results

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        for n in args.lines:
            folder = base / f"logs-{n}"
            folder.mkdir(parents=True, exist_ok=True)
            result = measure(n, folder, args.repeat)
            print(result, flush=True)
            results.append(result)
    write_results(
        "access_logs",
        {
            "benchmark": "access_logs",
            "machine": machine(),
            "cpu": os.cpu_count(),
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
