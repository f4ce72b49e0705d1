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


# ---- the drivers' side: subprocesses against one database ------------------------------------

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TMP = BENCH / "tmp"


class BenchError(Exception):
    """A benchmark step failed; the message says which and where its log is."""


def log(message: str) -> None:
    import datetime as dt
    import sys

    print(f"[{dt.datetime.now(dt.UTC).strftime('%H:%M:%SZ')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class Database:
    """Runs a benchmark's subprocesses against one database (``name`` "sqlite" or "postgres").

    ``prefix`` names the benchmark's log and result files under ``bench/tmp``; ``worker``
    runs a task of ``worker_script``, ``tickets_worker`` one of the request generator's."""

    def __init__(self, name: str, url: str, params: Any, *, prefix: str, worker_script: str) -> None:
        import sys

        self.name, self.url, self.params = name, url, params
        self.python = sys.executable
        self.prefix, self.worker_script = prefix, worker_script
        self.tag = f"{name}-quick" if params.quick else name
        self.log_path = TMP / f"{prefix}-{self.tag}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "GONGZHI_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
            "PYTHONHASHSEED": "0",
        }

    def child(self, *cmd: str) -> ChildRun:
        run = run_child(cmd, env=self.env, log_path=self.log_path, cwd=ROOT)
        if run.returncode != 0:
            raise BenchError(f"{' '.join(cmd[1:4])} exited {run.returncode}; see {self.log_path}")
        return run

    def script(self, script: str, task: str, *args: str) -> dict[str, Any]:
        import json

        result = TMP / f"{self.prefix}-{self.tag}-{task}.json"
        result.unlink(missing_ok=True)
        run = self.child(self.python, str(BENCH / script), task, "--result", str(result), *args)
        data = json.loads(result.read_text())
        data["process"] = run.as_json()
        return data

    def worker(self, task: str, *args: str) -> dict[str, Any]:
        return self.script(self.worker_script, task, *args)

    def tickets_worker(self, task: str, *args: str) -> dict[str, Any]:
        return self.script("tickets_worker.py", task, *args)

    def gongzhi(self, *args: str) -> ChildRun:
        return self.child(self.python, "-m", "gongzhi", *args)


def sqlite_url(prefix: str, quick: bool) -> str:
    return f"sqlite:///{TMP / (f'{prefix}-quick.sqlite3' if quick else f'{prefix}.sqlite3')}"


def build_county_with_requests(db: Database) -> dict[str, Any]:
    """A fresh database holding the demo county at ``params.scale`` and ``params.tickets``
    resident requests with their tasks and events (``bench/tickets_data.py``)."""
    p = db.params
    if db.name == "sqlite":
        path = Path(db.url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        db.tickets_worker("pg-reset", "--url", db.url)
    migrate = db.gongzhi("migrate", "--noinput", "-v", "0")
    seed = db.tickets_worker("seed", "--scale", str(p.scale))
    log(f"{db.name}: seeded scale {p.scale} in {seed['seconds']:.0f}s; generating {p.tickets:,} tickets")
    generated = db.tickets_worker("generate", "--tickets", str(p.tickets))
    log(f"{db.name}: {generated['tickets']:,} tickets in {generated['seconds']:.0f}s")
    analyze = db.tickets_worker("analyze")
    counts = db.tickets_worker("counts")
    return {
        "migrate_s": round(migrate.seconds, 3),
        "seed_s": seed["seconds"],
        "seed_counts": seed["counts"],
        "generate": generated,
        "analyze_s": analyze["seconds"],
        "counts": counts,
    }
