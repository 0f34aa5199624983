"""Measurements in a fresh spawned process, so each has its own peak memory (VmHWM; ru_maxrss
would carry the parent's over a fork). Kept free of Prefect: the children import only this module
and the benchmark's own."""

from __future__ import annotations

import multiprocessing
from typing import Any


def peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def _child(conn: Any, target: Any, args: tuple[Any, ...]) -> None:
    conn.send(target(*args))


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    """target(*args) in a fresh spawned process; its result (a picklable dict)."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_child, args=(child, target, args))
    process.start()
    result: dict[str, Any] = parent.recv()
    process.join()
    return result
