"""Gongzhi benchmark: seeding, scoped list latency, coverage, import throughput and memory.

    .venv/bin/python bench/run.py [--scale 245] [--db sqlite|postgres|both] [--import-rows 100000]
                                  [--big-import-rows 1000000] [--out bench/results/latest.json] [--quick]

For each database it builds the demo county at ``--scale`` into a fresh database, then
measures; every measurement runs in its own subprocess (``bench/worker.py``,
``bench/workbook.py``) so that each gets a clean interpreter and its own peak RSS. This
driver imports neither Django nor openpyxl: on Linux a child's ``ru_maxrss`` starts from
the parent's peak RSS at fork time, so the driver stays small. Results are written as one
JSON object after every phase; generated files and logs go to ``bench/results/tmp/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from measure import ChildRun, own_peak_rss_mb, ratio, run_child

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TMP = BENCH / "results" / "tmp"
PYTHON = sys.executable
PHASES = ("seed", "latency", "coverage", "import", "memory")
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/gongzhi_bench"
# Each copy of the demo county adds about 4,170 units (scale 235 gives 979,164): 245 passes 1M.
DEFAULT_SCALE = 245
MEMORY_TARGET_MB = 300
MIN_UNITS = 1_000_000
# Imports are benchmarked past the upload limit (settings.GONGZHI_MAX_IMPORT_BYTES, 40 MB).
IMPORT_MAX_BYTES = 2 * 1024**3
# New building numbers per generated file, far apart so the files never collide.
BUILDING_BASE = {"throughput": 101, "profile": 201, "memory": 301}


class BenchError(Exception):
    pass


@dataclass
class Params:
    scale: int
    dbs: list[str]
    import_rows: int
    big_import_rows: int
    profile_rows: int
    requests: int
    coverage_runs: int
    case_seconds: float
    phases: list[str]
    pg_url: str
    quick: bool
    out: Path = field(repr=False)


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC).strftime('%H:%M:%SZ')}] {message}", file=sys.stderr, flush=True)


# ---- one database --------------------------------------------------------------------------


class Database:
    """Runs the benchmark's subprocesses against one database."""

    def __init__(self, name: str, url: str, params: Params) -> None:
        self.name, self.url, self.params = name, url, params
        self.log_path = TMP / f"{name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "GONGZHI_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
            "PYTHONHASHSEED": "0",
        }

    def child(self, *cmd: str, stdout_path: Path | None = None) -> ChildRun:
        run = run_child(cmd, env=self.env, log_path=self.log_path, cwd=ROOT, stdout_path=stdout_path)
        if run.returncode != 0:
            raise BenchError(f"{' '.join(cmd[1:4])} exited {run.returncode}; see {self.log_path}")
        return run

    def script(self, script: str, task: str, *args: str) -> dict[str, Any]:
        """Run a bench script task; its JSON result plus the process's wall time and peak RSS."""
        result = TMP / f"{self.name}-{task}.json"
        result.unlink(missing_ok=True)
        run = self.child(PYTHON, str(BENCH / script), task, "--result", str(result), *args)
        data = json.loads(result.read_text())
        data["process"] = run.as_json()
        return data

    def worker(self, task: str, *args: str) -> dict[str, Any]:
        return self.script("worker.py", task, *args)

    def gongzhi(self, *args: str, stdout_path: Path | None = None) -> ChildRun:
        return self.child(PYTHON, "-m", "gongzhi", *args, stdout_path=stdout_path)

    def reset(self) -> None:
        if self.name == "sqlite":
            path = Path(self.url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            self.worker("pg-reset", "--url", self.url)


def sqlite_url() -> str:
    return f"sqlite:///{TMP / 'bench.sqlite3'}"


# ---- phases --------------------------------------------------------------------------------


def phase_seed(db: Database) -> dict[str, Any]:
    db.reset()
    migrate = db.gongzhi("migrate", "--noinput", "-v", "0")
    log(f"{db.name}: migrated in {migrate.seconds:.1f}s; seeding scale {db.params.scale}")
    seed = db.gongzhi("seed-demo", "--scale", str(db.params.scale))
    analyze = db.worker("analyze")
    counts = db.worker("counts")
    units = counts["units"]
    log(f"{db.name}: seeded {units} units in {seed.seconds:.1f}s")
    return {
        "migrate_s": round(migrate.seconds, 3),
        "seed_s": round(seed.seconds, 3),
        "seed_peak_rss_mb": seed.peak_rss_mb,
        "units": units,
        "units_per_s": round(units / seed.seconds, 1),
        "at_least_1m_units": units >= MIN_UNITS,
        "analyze_s": analyze["seconds"],
        "counts": counts,
    }


def phase_latency(db: Database) -> dict[str, Any]:
    p = db.params
    return db.worker("latency", "--requests", str(p.requests), "--case-seconds", str(p.case_seconds))


def phase_coverage(db: Database) -> dict[str, Any]:
    p = db.params
    data = db.worker("coverage", "--runs", str(p.coverage_runs), "--case-seconds", str(p.case_seconds))
    output = TMP / f"{db.name}-coverage-cli.json"
    cli = db.gongzhi("coverage", "--json", stdout_path=output)
    report = json.loads(output.read_text())
    data["cli_json"] = {
        **cli.as_json(),
        "output_bytes": output.stat().st_size,
        "unmanaged_buildings": report.get("unmanaged_buildings"),
        "gaps": len(report.get("gaps", [])),
    }
    return data


def compound_codes(db: Database) -> Path:
    path = TMP / f"codes-s{db.params.scale}.json"
    if not path.exists():
        db.worker("codes", "--codes", str(path))
    return path


def workbook(db: Database, rows: int, purpose: str) -> tuple[Path, dict[str, Any]]:
    """The generated registry file for ``purpose``, reused when an identical one exists."""
    base = BUILDING_BASE[purpose]
    path = TMP / f"registry-s{db.params.scale}-r{rows}-b{base}.xlsx"
    info_path = path.with_suffix(".json")
    if path.exists() and info_path.exists():
        return path, {**json.loads(info_path.read_text()), "reused": True}
    codes = compound_codes(db)
    log(f"generating {rows} rows -> {path.name}")
    args = ("--codes", str(codes), "--rows", str(rows), "--building-base", str(base), "--path", str(path))
    info = db.script("workbook.py", "generate", *args)
    info_path.write_text(json.dumps(info))
    return path, {**info, "reused": False}


def importer_missing() -> dict[str, Any] | None:
    if (ROOT / "gongzhi" / "housing" / "importer.py").exists():
        return None
    return {"skipped": "gongzhi/housing/importer.py does not exist yet"}


def run_import(db: Database, path: Path, *extra: str) -> dict[str, Any]:
    return db.worker("import", "--path", str(path), "--max-bytes", str(IMPORT_MAX_BYTES), *extra)


def phase_import(db: Database) -> dict[str, Any]:
    if missing := importer_missing():
        return missing
    p = db.params
    path, generated = workbook(db, p.import_rows, "throughput")
    read = db.script("workbook.py", "read", "--path", str(path))
    log(f"{db.name}: openpyxl read {read['rows']} rows in {read['seconds']}s; importing")
    first = run_import(db, path)
    log(f"{db.name}: first import {first['seconds']}s {first['result']}")
    again = run_import(db, path)
    log(f"{db.name}: repeat import {again['seconds']}s")
    out: dict[str, Any] = {
        "file": {"name": path.name, **generated},
        "openpyxl_read": read,
        "first": first,
        "repeat": again,
        "first_vs_read": ratio(first["seconds"], read["seconds"]),
        "repeat_vs_read": ratio(again["seconds"], read["seconds"]),
    }
    if p.profile_rows:
        profile_path, _info = workbook(db, p.profile_rows, "profile")
        dump = TMP / f"{db.name}-import.prof"
        out["profiled_first_import"] = run_import(db, profile_path, "--profile", str(dump))
    return out


def phase_memory(db: Database) -> dict[str, Any]:
    if missing := importer_missing():
        return missing
    p = db.params
    if not p.big_import_rows:
        return {"skipped": "--big-import-rows 0"}
    path, generated = workbook(db, p.big_import_rows, "memory")
    idle = db.worker("idle")
    read = db.script("workbook.py", "read", "--path", str(path))
    log(f"{db.name}: openpyxl read of {read['rows']} rows peaked at {read['process']['peak_rss_mb']} MB")
    imported = run_import(db, path)
    peak = imported["process"]["peak_rss_mb"]
    log(f"{db.name}: import of {p.big_import_rows} rows peaked at {peak} MB in {imported['seconds']}s")
    return {
        "file": {"name": path.name, **generated},
        "django_floor": idle,
        "openpyxl_read": read,
        "import": imported,
        "import_peak_rss_mb": peak,
        "read_peak_rss_mb": read["process"]["peak_rss_mb"],
        "import_vs_read_rss": ratio(peak, read["process"]["peak_rss_mb"]),
        "import_vs_read_time": ratio(imported["seconds"], read["seconds"]),
        "target_mb": MEMORY_TARGET_MB,
        "meets_target": peak < MEMORY_TARGET_MB,
    }


PHASE_FUNCTIONS = {
    "seed": phase_seed,
    "latency": phase_latency,
    "coverage": phase_coverage,
    "import": phase_import,
    "memory": phase_memory,
}


def bench_database(db: Database, results: dict[str, Any], save: Any) -> None:
    """Run the phases into ``results`` (part of the report), saving the report after each."""
    results["url"] = db.url
    results["git"] = git_state()  # other people may commit while a long run goes on
    results["engine"] = db.worker("dbinfo") if "seed" not in db.params.phases else {}
    for phase in db.params.phases:
        log(f"{db.name}: {phase}")
        load = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews figures
        started = time.perf_counter()
        try:
            results[phase] = PHASE_FUNCTIONS[phase](db)
        except (BenchError, KeyError, json.JSONDecodeError) as exc:
            results[phase] = {"error": str(exc)}
            log(f"{db.name}: {phase} failed: {exc}")
            if phase == "seed":
                break
        results[phase]["phase_s"] = round(time.perf_counter() - started, 1)
        results[phase]["loadavg_at_start"] = load
        if phase == "seed":
            results["engine"] = db.worker("dbinfo")
        save()


# ---- report --------------------------------------------------------------------------------


def git_state() -> dict[str, Any]:
    """The application code measured: commit, its code tree, and a digest of uncommitted changes.

    The benchmark's own files are left out, so two states compare equal (``app_code``) when
    only they differ, even if they were committed in between.
    """

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    outside = ("--", ".", ":!bench", ":!docs/performance.md")
    diff = git("diff", "HEAD", *outside) + git("status", "--porcelain", *outside)
    digest = hashlib.sha256(diff.encode()).hexdigest()[:12]
    trees = f"{git('rev-parse', 'HEAD:gongzhi')[:12]}+{git('rev-parse', 'HEAD:pyproject.toml')[:8]}"
    return {
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_files": len(git("status", "--porcelain", *outside).splitlines()),
        "changes_digest": digest,
        "app_code": f"{trees}+{digest}",
    }


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite_library": sqlite3.sqlite_version,
        "packages": {name: metadata.version(name) for name in ("django", "openpyxl", "psycopg")},
    }
    for path, key, prefix in (
        ("/proc/cpuinfo", "cpu_model", "model name"),
        ("/proc/meminfo", "memory", "MemTotal"),
    ):
        try:
            line = next(x for x in Path(path).read_text().splitlines() if x.startswith(prefix))
            info[key] = line.split(":", 1)[1].strip()
        except (OSError, StopIteration):
            info[key] = None
    return info


def summary_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for name, data in report["databases"].items():
        lines.append(f"== {name} {data.get('engine', {}).get('version', '')}")
        seed = data.get("seed", {})
        if "units" in seed:
            lines.append(
                f"seed: {seed['units']:,} units in {seed['seed_s']:.0f}s ({seed['units_per_s']:,.0f}/s)"
            )
        lat = data.get("latency", {})
        if "users" in lat:
            base = lat["baseline_plain"]
            lines.append(
                f"list baseline (unscoped ORM page): p50 {base['p50_ms']} ms, p95 {base['p95_ms']} ms"
            )
            for user, entry in lat["users"].items():
                cells = ", ".join(
                    f"{case} {v['p50_ms']:.1f}/{v['p95_ms']:.1f} ms (x{v['ratio_p50']})"
                    for case, v in entry["view"].items()
                )
                lines.append(f"  {user:<9} ({entry['scope_units']:,} units) view p50/p95: {cells}")
        cov = data.get("coverage", {})
        for user in ("county", "town"):
            if user in cov:
                c = cov[user]["compute"]
                lines.append(f"coverage {user}: p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms")
        if "cli_json" in cov:
            lines.append(f"coverage --json process: {cov['cli_json']['seconds']} s")
        imp = data.get("import", {})
        if "first" in imp:
            lines.append(
                f"import {imp['first']['result']['rows']:,} rows: {imp['first']['rows_per_s']:,} rows/s "
                f"(openpyxl alone {imp['openpyxl_read']['rows_per_s']:,}/s, "
                f"x{imp['first_vs_read']} the time); "
                f"repeat {imp['repeat']['rows_per_s']:,} rows/s, created {imp['repeat']['result']['created']}"
            )
        mem = data.get("memory", {})
        if "import_peak_rss_mb" in mem:
            lines.append(
                f"import {mem['import']['result']['rows']:,} rows: peak RSS {mem['import_peak_rss_mb']} MB "
                f"(openpyxl read alone {mem['read_peak_rss_mb']} MB; target < {MEMORY_TARGET_MB} MB: "
                f"{'met' if mem['meets_target'] else 'NOT met'}), {mem['import']['seconds']:.0f}s"
            )
        for phase in PHASES:
            if isinstance(data.get(phase), dict) and ("error" in data[phase] or "skipped" in data[phase]):
                lines.append(f"{phase}: {data[phase].get('error') or data[phase].get('skipped')}")
    return lines


def parse_args(argv: list[str] | None) -> Params:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=int, default=DEFAULT_SCALE, help="copies of every demo community (245: >1M units)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--big-import-rows", type=int, default=1_000_000, help="0 skips the memory run")
    parser.add_argument(
        "--profile-rows", type=int, default=20_000, help="rows of the profiled import; 0 skips"
    )
    parser.add_argument("--requests", type=int, default=200, help="measured requests per list case")
    parser.add_argument("--coverage-runs", type=int, default=20)
    parser.add_argument("--case-seconds", type=float, default=90.0, help="time budget per measured case")
    parser.add_argument("--phases", default=",".join(PHASES), help="subset of " + ",".join(PHASES))
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--quick", action="store_true", help="scale 5, 5,000 and 20,000 rows: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.import_rows, args.big_import_rows = 5, 5_000, 20_000
        args.profile_rows, args.requests, args.coverage_runs = min(args.profile_rows, 2_000), 30, 5
    phases = [phase for phase in args.phases.split(",") if phase]
    if unknown := set(phases) - set(PHASES):
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return Params(
        scale=args.scale,
        dbs=["sqlite", "postgres"] if args.db == "both" else [args.db],
        import_rows=args.import_rows,
        big_import_rows=args.big_import_rows,
        profile_rows=args.profile_rows,
        requests=args.requests,
        coverage_runs=args.coverage_runs,
        case_seconds=args.case_seconds,
        phases=phases,
        pg_url=args.pg_url,
        quick=args.quick,
        out=args.out,
    )


def main(argv: list[str] | None = None) -> int:
    params = parse_args(argv)
    TMP.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "benchmark": "gongzhi",
        "schema": 1,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        "machine": machine(),
        "git": git_state(),
        "parameters": {k: v for k, v in asdict(params).items() if k != "out"},
        "databases": {},
    }

    def save() -> None:
        report["driver_peak_rss_mb"] = own_peak_rss_mb()
        params.out.parent.mkdir(parents=True, exist_ok=True)
        # Paths inside the repository are written relative to it, so results read the same anywhere.
        text = json.dumps(report, ensure_ascii=False, indent=1).replace(str(ROOT) + "/", "")
        params.out.write_text(text + "\n")

    for name in params.dbs:
        db = Database(name, sqlite_url() if name == "sqlite" else params.pg_url, params)
        db.log_path.write_text("")
        report["databases"][name] = {}
        bench_database(db, report["databases"][name], save)
        save()
    report["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    report["git_at_end"] = git_state()
    states = [report["git"], report["git_at_end"]] + [
        db.get("git", {}) for db in report["databases"].values()
    ]
    report["code_changed_during_run"] = len({state.get("app_code") for state in states}) > 1
    save()
    print("\n".join(summary_lines(report)))
    print(f"results: {params.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
