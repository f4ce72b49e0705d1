"""Small measuring helpers shared by the benchmark driver and its workers (no Django here).

Kept free of heavy imports on purpose: the driver starts every measured subprocess, and on
Linux a child's ``ru_maxrss`` starts from the driver's own peak RSS at the moment of the
fork, so the driver must stay small for the children's figures to mean anything.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], pct: float) -> float:
    """Percentile by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise_ms(samples: Sequence[float]) -> dict[str, Any]:
    """p50/p95/mean/min/max in milliseconds of samples taken in seconds."""
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 50) * 1000, 3),
        "p95_ms": round(percentile(samples, 95) * 1000, 3),
        "mean_ms": round(sum(samples) / len(samples) * 1000, 3) if samples else math.nan,
        "min_ms": round(min(samples) * 1000, 3) if samples else math.nan,
        "max_ms": round(max(samples) * 1000, 3) if samples else math.nan,
    }


def ratio(value: float, baseline: float) -> float | None:
    if not baseline or math.isnan(baseline) or math.isnan(value):
        return None
    return round(value / baseline, 2)


def with_ratios(summary: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """The summary plus its p50 and p95 as multiples of the baseline's."""
    return {
        **summary,
        "ratio_p50": ratio(summary["p50_ms"], baseline["p50_ms"]),
        "ratio_p95": ratio(summary["p95_ms"], baseline["p95_ms"]),
    }


def repeat(
    call: Callable[[int], object], *, times: int, budget_s: float, warmup: int = 3, minimum: int = 10
) -> list[float]:
    """Wall-clock seconds of up to ``times`` calls of ``call(i)`` after ``warmup`` unmeasured ones.

    Stops early once ``budget_s`` is spent (but not before ``minimum`` samples) so that one
    pathological case cannot hold the whole run hostage; the sample count is reported.
    """
    for i in range(warmup):
        call(i)
    samples: list[float] = []
    started = time.perf_counter()
    for i in range(times):
        t0 = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - t0)
        if len(samples) >= minimum and time.perf_counter() - started > budget_s:
            break
    return samples


def own_peak_rss_mb() -> float | None:
    """This process's peak resident set (VmHWM) in MB, from /proc; None where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


@dataclass
class ChildRun:
    returncode: int
    seconds: float
    peak_rss_mb: float  # ru_maxrss of this one child, from wait4()

    def as_json(self) -> dict[str, Any]:
        return {
            "returncode": self.returncode,
            "seconds": round(self.seconds, 3),
            "peak_rss_mb": self.peak_rss_mb,
        }


def run_child(
    cmd: Sequence[str], *, env: dict[str, str], log_path: Path, cwd: Path, stdout_path: Path | None = None
) -> ChildRun:
    """Run ``cmd`` to completion; its wall time and its own peak RSS (wait4's ru_maxrss, KB on Linux).

    Output goes to the log, or stdout alone to ``stdout_path`` when given.
    """
    with log_path.open("ab") as log, (stdout_path or Path(os.devnull)).open("wb") as out:
        log.write(f"\n$ {' '.join(cmd)}\n".encode())
        log.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=out if stdout_path else log, stderr=log)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(proc.returncode, seconds, round(usage.ru_maxrss / 1024, 1))
