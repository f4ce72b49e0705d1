"""Owners' vote benchmark, database side: counting and live progress at 100,000 units.

    .venv/bin/python bench/votes.py [--units 100000] [--pg] [--pg-url URL] [--out FILE] [--keep]
    .venv/bin/python bench/votes.py --units 2000 --pg          # smoke run, bench/results/votes-u2000.json

For SQLite (a file in a temporary folder) and, with ``--pg``, PostgreSQL (the database
``gz_bench_votes``, dropped and created again), it builds one compound of ``--units`` units
and a decision in the voting state, then measures:

* **count**: ``counting.count_decision`` against a baseline that only reads the same rows
  through the same ``values_list`` querysets (and a raw cursor under those), medians of
  ``--repeat`` alternating runs; where the time goes (``ballots.effective``, ``tally.tally``);
* **memory**: a fresh process counts once and does nothing else: its peak RSS (target: under
  200 MB) against a process that only set Django up and one that only reads the rows (on
  SQLite both include its page cache, 64 MB at most); tracemalloc's peaks of the count and
  of the pure tally alone, in a fourth process;
* **progress**: ``queries.progress`` (median and p95 of ``--calls`` calls) and the HTTP page
  ``/votes/<pk>/progress/`` through ``django.test.Client`` as a superuser, against a
  trivial page (``/login/``) in the same process.

The data (``bench/votes_data.py``) is what the actions would leave: one elector per unit
with its owner key, about 0.7 ballot entries per unit chained by hash (online, paper,
door-to-door and proxy ballots, changed votes, online/paper conflicts, corrections and
voids) and the current ballots derived from them. The export's own verifier
(``counting.verify_export``) checks the chain and the count before anything is measured.

Every measurement runs in its own subprocess (``bench/votes_worker.py``), so each has a
clean interpreter and its own peak RSS; this driver imports no Django (on Linux a child's
``ru_maxrss`` starts from the parent's peak at fork time). The JSON is written after every
phase. The CSV side of the same issue is ``bench/tally.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from measure import own_peak_rss_mb, run_child
from run import git_state, machine

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
DEFAULT_UNITS = 100_000
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/gz_bench_votes"
PEAK_RSS_TARGET_MB = 200
MIN_UNITS = 200  # one building (bench/votes_data.py)
SEED = 20261101  # bench/votes_data.SEED, reported with the parameters
TRIVIAL_URL = "/login/"


class BenchError(Exception):
    pass


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC).strftime('%H:%M:%SZ')}] {message}", file=sys.stderr, flush=True)


# ---- the driver ----------------------------------------------------------------------------


class Database:
    """Runs the benchmark's subprocesses against one database."""

    def __init__(self, name: str, url: str, args: argparse.Namespace, tmp: Path) -> None:
        self.name, self.url, self.args, self.tmp = name, url, args, tmp
        self.log_path = tmp / f"votes-{name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "GONGZHI_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
            "PYTHONHASHSEED": "0",
        }

    def task(self, task: str, *extra: str) -> dict[str, Any]:
        result = self.tmp / f"{self.name}-{task}.json"
        result.unlink(missing_ok=True)
        cmd = [PYTHON, str(BENCH / "votes_worker.py"), task, "--result", str(result), "--url", self.url]
        cmd += [
            "--units",
            str(self.args.units),
            "--repeat",
            str(self.args.repeat),
            "--calls",
            str(self.args.calls),
        ]
        cmd += ["--case-seconds", str(self.args.case_seconds), *extra]
        run = run_child(cmd, env=self.env, log_path=self.log_path, cwd=ROOT)
        if run.returncode != 0:
            raise BenchError(f"{task} exited {run.returncode}; see {self.log_path}")
        data = json.loads(result.read_text())
        data["process"] = run.as_json()
        return data


def bench_database(db: Database, results: dict[str, Any], save: Callable[[], None]) -> None:
    """Build the data in a fresh database, then run the measuring phases into ``results``."""
    results["git"] = git_state()  # other people may commit while a long run goes on
    if db.name == "postgres":
        db.task("pg-reset")
    migrate = run_child(
        [PYTHON, "-m", "gongzhi", "migrate", "--noinput", "-v", "0"],
        env=db.env,
        log_path=db.log_path,
        cwd=ROOT,
    )
    if migrate.returncode != 0:
        raise BenchError(f"migrate exited {migrate.returncode}; see {db.log_path}")
    results["engine"] = db.task("dbinfo")
    log(f"{db.name}: building {db.args.units:,} units")
    results["build"] = build = db.task("build")
    log(f"{db.name}: built in {build['seconds']} s; export check ok={build['export_check']['ok']}")
    save()
    phases: dict[str, Callable[[], dict[str, Any]]] = {
        "count": lambda: db.task("count"),
        "memory": lambda: {m: db.task("memory", "--mode", m) for m in ("idle", "read", "count", "trace")},
        "progress": lambda: db.task("progress"),
    }
    for phase, call in phases.items():
        log(f"{db.name}: {phase}")
        load = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews figures
        try:
            results[phase] = call()
        except (BenchError, json.JSONDecodeError) as exc:
            results[phase] = {"error": str(exc)}
            log(f"{db.name}: {phase} failed: {exc}")
        results[phase]["loadavg_at_start"] = load
        save()
    memory = results["memory"]
    if "count" in memory:
        count, read, idle = memory["count"], memory["read"], memory["idle"]
        memory["count_process_peak_rss_mb"] = peak = count["process"]["peak_rss_mb"]
        memory["count_over_floor_mb"] = round(peak - idle["process"]["peak_rss_mb"], 1)
        memory["read_over_floor_mb"] = round(
            read["process"]["peak_rss_mb"] - idle["process"]["peak_rss_mb"], 1
        )
        memory["target_mb"] = PEAK_RSS_TARGET_MB
        memory["meets_target"] = peak < PEAK_RSS_TARGET_MB


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), timeout=3):
            return True
    except OSError:
        return False


def summary_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for name, data in report["databases"].items():
        lines.append(f"== {name} {data.get('engine', {}).get('version', '')}")
        if "skipped" in data or "error" in data:
            lines.append(data.get("skipped") or data.get("error"))
            continue
        b = data.get("build", {})
        if b:
            check = b["export_check"]
            lines.append(
                f"data: {b['units']:,} units, {b['owners']:,} owners, {b['entries']:,} ballot entries, "
                f"{b['current_ballots']:,} current ballots, {b['conflict_units']} conflicts; "
                f"built in {b['seconds']} s; export check {'ok' if check['ok'] else check['problems']}"
            )
        c = data.get("count", {})
        if "count_median_s" in c:
            lines.append(
                f"count_decision {c['count_median_s']} s, reading its rows {c['read_median_s']} s "
                f"(x{c['count_vs_read']}); raw cursor {c['raw_cursor_median_s']} s; "
                f"pure steps {c['pure_steps_median_s']}"
            )
        m = data.get("memory", {})
        if "count_process_peak_rss_mb" in m:
            lines.append(
                f"memory: counting process peak {m['count_process_peak_rss_mb']} MB "
                f"(< {PEAK_RSS_TARGET_MB} MB: {'met' if m['meets_target'] else 'NOT met'}); "
                f"Django floor {m['idle']['process']['peak_rss_mb']} MB, "
                f"reading process {m['read']['process']['peak_rss_mb']} MB"
            )
            lines.append(
                f"  tracemalloc peak: count {m['trace']['count_tracemalloc_peak_mb']} MB, "
                f"tally alone {m['trace']['tally_alone_tracemalloc_peak_mb']} MB"
            )
        p = data.get("progress", {})
        if "progress_query" in p:
            q = p["progress_query"]
            lines.append(f"queries.progress after a new ballot: p50 {q['p50_ms']} ms, p95 {q['p95_ms']} ms")
            if "progress_query_unchanged" in p:
                u = p["progress_query_unchanged"]
                lines.append(f"queries.progress, nothing new: p50 {u['p50_ms']} ms, p95 {u['p95_ms']} ms")
            page = p.get("page", {})
            if "p95_ms" in page:
                t = p["trivial_page"]
                lines.append(
                    f"page {p['page_url']}: p50 {page['p50_ms']} ms, p95 {page['p95_ms']} ms "
                    f"({p['page_queries']} queries); {TRIVIAL_URL} p50 {t['p50_ms']} ms, "
                    f"p95 {t['p95_ms']} ms; p95 x{p['page_vs_trivial_p95']}"
                )
                if "page_unchanged" in p:
                    u = p["page_unchanged"]
                    lines.append(f"page, nothing new: p50 {u['p50_ms']} ms, p95 {u['p95_ms']} ms")
            elif page:
                lines.append(page.get("skipped", ""))
        for phase in ("count", "memory", "progress"):
            if "error" in data.get(phase, {}):
                lines.append(f"{phase}: {data[phase]['error']}")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS)
    parser.add_argument(
        "--pg", action="store_true", help="also PostgreSQL (the --pg-url database, recreated)"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--repeat", type=int, default=7, help="alternating runs of the read and of the count")
    parser.add_argument("--calls", type=int, default=50, help="measured calls of progress and of each page")
    parser.add_argument("--case-seconds", type=float, default=300.0, help="time budget per measured case")
    parser.add_argument(
        "--out", type=Path, help="default bench/results/votes.json (votes-uN.json for N units)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (SQLite file, logs)")
    args = parser.parse_args(argv)
    if args.units < MIN_UNITS:
        parser.error(f"--units must be at least {MIN_UNITS} (one building)")
    if not args.pg_url.rsplit("/", 1)[-1].startswith("gz_bench_votes"):
        parser.error("the PostgreSQL database name must start with gz_bench_votes (it is dropped)")
    if args.out is None:
        name = "votes.json" if args.units == DEFAULT_UNITS else f"votes-u{args.units}.json"
        args.out = BENCH / "results" / name
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="gz-bench-votes-"))
    report: dict[str, Any] = {
        "benchmark": "gongzhi-votes",
        "schema": 1,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            [".venv/bin/python", "bench/votes.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "machine": machine(),
        "git": git_state(),
        "parameters": {"units": args.units, "repeat": args.repeat, "calls": args.calls, "seed": SEED},
        "targets": {"count_process_peak_rss_mb": PEAK_RSS_TARGET_MB},
        "databases": {},
    }

    def save() -> None:
        report["driver_peak_rss_mb"] = own_peak_rss_mb()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        # Paths inside the repository and the temporary folder are written relative to them.
        text = json.dumps(report, ensure_ascii=False, indent=1, default=str)
        args.out.write_text(text.replace(str(ROOT) + "/", "").replace(str(tmp), "$TMP") + "\n")

    dbs = [("sqlite", f"sqlite:///{tmp / 'votes.sqlite3'}")] + (
        [("postgres", args.pg_url)] if args.pg else []
    )
    try:
        for name, url in dbs:
            results = report["databases"].setdefault(name, {"url": url})
            if name == "postgres" and not reachable(url):
                results["skipped"] = f"PostgreSQL is not reachable at {url}"
                log(results["skipped"])
                continue
            started = time.perf_counter()
            try:
                bench_database(Database(name, url, args, tmp), results, save)
            except BenchError as exc:
                results["error"] = str(exc)
                log(f"{name}: {exc}")
            results["seconds"] = round(time.perf_counter() - started, 1)
            save()
    finally:
        report["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        report["git_at_end"] = git_state()
        states = [report["git"], report["git_at_end"]] + [
            d.get("git", {}) for d in report["databases"].values()
        ]
        report["code_changed_during_run"] = len({state.get("app_code") for state in states}) > 1
        save()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(summary_lines(report)))
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
