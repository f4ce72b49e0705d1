"""Hot-issue warning benchmark: what ``warnings_for`` costs a grid worker, a community, a town
and the county at a million requests a year, and how much of the home page it takes.

    .venv/bin/python bench/hotissues.py --quick                          # 20,000 requests, both databases
    .venv/bin/python bench/hotissues.py --db postgres --tickets 1000000  # the full run
    .venv/bin/python bench/hotissues.py --report bench/results/hotissues.json   # markdown tables

For each database: a fresh database with the demo county at ``--scale`` and ``--tickets``
resident requests with their tasks and events, spread over the year before 2026-11-20 (the
data phase reuses ``bench/tickets_worker.py`` and ``bench/tickets_data.py``), then the
measurements, each phase in its own subprocess (``bench/hotissues_worker.py``), so each has a
clean interpreter and its own peak RSS; this driver imports no Django. Every figure comes
with a baseline measured in the same run and the machine's load average, and the JSON is
written after every phase.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from measure import (
    BENCH,
    ROOT,
    TMP,
    BenchError,
    Database,
    build_county_with_requests,
    loadavg,
    log,
    own_peak_rss_mb,
    ratio,
    sqlite_url,
)
from run import git_state, machine

PYTHON = sys.executable
PHASES = ("data", "warnings", "detect", "home", "memory")
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_hot"
MEMORY_MODES = ("idle", "read", "county")


@dataclass
class Params:
    tickets: int
    scale: int
    dbs: list[str]
    repeats: int
    case_seconds: float
    phases: list[str]
    pg_url: str
    quick: bool
    keep_previous: str
    out: Path = field(repr=False)


def open_database(name: str, params: Params) -> Database:
    url = sqlite_url("hotissues", params.quick) if name == "sqlite" else params.pg_url
    return Database(name, url, params, prefix="hotissues", worker_script="hotissues_worker.py")


# ---- phases --------------------------------------------------------------------------------


def phase_data(db: Database) -> dict[str, Any]:
    """The demo county and the requests, as every request benchmark builds them."""
    return build_county_with_requests(db)


def _measure_args(db: Database) -> tuple[str, ...]:
    p = db.params
    return ("--repeats", str(p.repeats), "--case-seconds", str(p.case_seconds))


def phase_warnings(db: Database) -> dict[str, Any]:
    return db.worker("warnings", *_measure_args(db))


def phase_detect(db: Database) -> dict[str, Any]:
    return db.worker("detect", *_measure_args(db))


def phase_home(db: Database) -> dict[str, Any]:
    return db.worker("home", *_measure_args(db))


def phase_memory(db: Database) -> dict[str, Any]:
    """Peak RSS (wait4) of one process per mode: the floor, the plain read, the county's warnings."""
    runs = {mode: db.worker("memory", "--mode", mode) for mode in MEMORY_MODES}
    floor = runs["idle"]["process"]["peak_rss_mb"]
    read = runs["read"]["process"]["peak_rss_mb"]
    county = runs["county"]["process"]["peak_rss_mb"]
    return {
        "runs": runs,
        "floor_rss_mb": floor,
        "read_rss_mb": read,
        "county_rss_mb": county,
        "county_above_floor_mb": round(county - floor, 1),
        "read_above_floor_mb": round(read - floor, 1),
        "county_vs_read_above_floor": ratio(county - floor, read - floor),
    }


PHASE_FUNCTIONS = {
    "warnings": phase_warnings,
    "detect": phase_detect,
    "home": phase_home,
    "memory": phase_memory,
}


def run_phase(db: Database, phase: str, results: dict[str, Any], function: Any) -> None:
    log(f"{db.name}: {phase}")
    load = loadavg()
    started = time.perf_counter()
    try:
        results[phase] = function(db)
    except (BenchError, KeyError, json.JSONDecodeError) as exc:
        results[phase] = {"error": str(exc)}
        log(f"{db.name}: {phase} failed: {exc}")
    results[phase]["phase_s"] = round(time.perf_counter() - started, 1)
    results[phase]["loadavg_at_start"] = load
    results[phase]["loadavg_at_end"] = loadavg()


# ---- report --------------------------------------------------------------------------------


def _ms(v: dict[str, Any]) -> str:
    return f"{v['p50_ms']:,.1f} / {v['p95_ms']:,.1f}"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def summary_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for name, data in report["databases"].items():
        lines.append(f"== {name} {data.get('engine', {}).get('version', '')}")
        gen = data.get("data", {}).get("generate", {})
        if "tickets" in gen:
            lines.append(f"data: {gen['tickets']:,} tickets in {gen['seconds']:.0f}s")
        for user, entry in data.get("warnings", {}).get("users", {}).items():
            lines.append(
                f"  {user:<9} signals {entry['signals']['total']:>7,} "
                f"warnings {entry['warnings']['total']:>6,}  "
                f"warnings_for {_ms(entry['warnings_for'])} ms  count {_ms(entry['baseline_count'])} ms "
                f"(x{entry['warnings_for']['ratio_p50']})  read {_ms(entry['baseline_read'])} ms "
                f"(x{entry['ratio_vs_read_p50']})"
            )
        det = data.get("detect", {})
        if "detect" in det:
            lines.append(
                f"detect on {det['signals']:,} signals: {_ms(det['detect'])} ms, "
                f"Counter {_ms(det['baseline_counter'])} ms (x{det['detect']['ratio_p50']})"
            )
        for user, entry in data.get("home", {}).get("users", {}).items():
            lines.append(
                f"  home {user:<9} with {_ms(entry['with'])} ms, without {_ms(entry['without'])} ms "
                f"(x{entry['with']['ratio_p50']}); summary {_ms(entry['summary'])} ms, "
                f"share of page {entry['warning_share_p50']}"
            )
        mem = data.get("memory", {})
        if "county_rss_mb" in mem:
            lines.append(
                f"memory: floor {mem['floor_rss_mb']} MB, read {mem['read_rss_mb']} MB, "
                f"county warnings {mem['county_rss_mb']} MB"
            )
        for phase in PHASES:
            if isinstance(data.get(phase), dict) and "error" in data[phase]:
                lines.append(f"{phase}: {data[phase]['error']}")
    return lines


def _before_after(name: str, label: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    """The figures kept under ``previous.<label>`` next to the current ones (p50, and the
    ratio to the baseline measured in the same run)."""
    rows = []
    for user, b in before.get("warnings", {}).get("users", {}).items():
        a = after.get("warnings", {}).get("users", {}).get(user)
        if a:
            rows.append(
                [
                    f"`warnings_for` {user}",
                    f"{b['warnings_for']['p50_ms']:,.1f} ms (÷ read ×{b['ratio_vs_read_p50']})",
                    f"{a['warnings_for']['p50_ms']:,.1f} ms (÷ read ×{a['ratio_vs_read_p50']})",
                ]
            )
            rows.append(
                [
                    f"`signals_in` {user}",
                    f"{b['stages']['signals_in']['p50_ms']:,.1f} ms",
                    f"{a['stages']['signals_in']['p50_ms']:,.1f} ms",
                ]
            )
    for user, b in before.get("home", {}).get("users", {}).items():
        a = after.get("home", {}).get("users", {}).get(user)
        if a:
            rows.append(
                [
                    f"home `/` {user}, with ÷ without",
                    f"×{b['with']['ratio_p50']}",
                    f"×{a['with']['ratio_p50']}",
                ]
            )
    if "county_rss_mb" in before.get("memory", {}) and "county_rss_mb" in after.get("memory", {}):
        rows.append(
            [
                "peak RSS, county warnings (floor)",
                f"{before['memory']['county_rss_mb']} MB ({before['memory']['floor_rss_mb']})",
                f"{after['memory']['county_rss_mb']} MB ({after['memory']['floor_rss_mb']})",
            ]
        )
    return (
        f"Before and after ({name}; before: `{label}`):\n\n"
        + _table(["case (p50)", label, "now"], rows)
        + "\n"
    )


def markdown(report: dict[str, Any]) -> str:
    """Tables for docs/performance.md from a result file (``--report``)."""
    parts = []
    for name, data in report["databases"].items():
        gen = data.get("data", {}).get("generate", {})
        counts = data.get("data", {}).get("counts", {})
        if gen:
            parts.append(
                f"**{name}** — {gen['tickets']:,} requests, {counts.get('grids', '?')} grids, "
                f"database {counts.get('database_mb', '?')} MB\n"
            )
        warn = data.get("warnings", {})
        if "users" in warn:
            rows = []
            for user, e in warn["users"].items():
                rows.append(
                    [
                        user,
                        f"{e['rows_in_span']:,}",
                        f"{e['signals']['tickets']:,} + {e['signals']['opinions']:,}",
                        f"{e['warnings']['total']:,}",
                        _ms(e["warnings_for"]),
                        _ms(e["baseline_count"]),
                        _ms(e["baseline_read"]),
                        f"×{e['warnings_for']['ratio_p50']} / ×{e['ratio_vs_read_p50']}",
                        f"{e['queries']}",
                    ]
                )
            header = [
                "login",
                "requests in 60 days",
                "signals (requests + opinions)",
                "warnings",
                "`warnings_for` p50 / p95 ms",
                "scoped COUNT p50 / p95 ms",
                "plain read p50 / p95 ms",
                "÷ COUNT / ÷ read (p50)",
                "queries",
            ]
            parts.append(
                f"`warnings_for` ({name}, load {warn.get('loadavg_at_start')}):\n\n"
                + _table(header, rows)
                + "\n"
            )
            stage_rows = []
            for user, e in warn["users"].items():
                st = e.get("stages", {})
                if st:
                    stage_rows.append(
                        [user] + [f"{st[k]['p50_ms']:,.1f}" for k in ("signals_in", "detect", "still_open")]
                    )
            if stage_rows:
                parts.append(
                    f"Stages ({name}, p50 ms):\n\n"
                    + _table(["login", "`signals_in`", "`detect`", "`_still_open`"], stage_rows)
                    + "\n"
                )
        det = data.get("detect", {})
        if "detect" in det:
            rows = [
                [
                    "baseline: group by (compound, category) with a Counter",
                    _ms(det["baseline_counter"]),
                    "×1",
                ],
                ["`hotissues.detect`", _ms(det["detect"]), f"×{det['detect']['ratio_p50']}"],
            ]
            parts.append(
                f"Pure `detect`, the county's {det['signals']:,} signals in memory ({name}):\n\n"
                + _table(["case", "p50 / p95 ms", "÷ baseline (p50)"], rows)
                + "\n"
            )
        home = data.get("home", {})
        if "users" in home:
            rows = []
            for user, e in home["users"].items():
                rows.append(
                    [
                        user,
                        _ms(e["without"]),
                        _ms(e["with"]),
                        f"×{e['with']['ratio_p50']}",
                        _ms(e["summary"]),
                        f"{e['warning_share_p50']:.0%}",
                    ]
                )
            header = [
                "login",
                "home without warnings p50 / p95 ms",
                "home with warnings",
                "÷ without (p50)",
                "`hot_issues_summary` alone",
                "warnings' share of the page (p50)",
            ]
            parts.append(f"Home page `/` ({name}):\n\n" + _table(header, rows) + "\n")
        for label, before in data.get("previous", {}).items():
            parts.append(_before_after(name, label, before, data))
        mem = data.get("memory", {})
        if "runs" in mem:
            rows = [
                [
                    "floor: Django set up, county admin loaded",
                    "",
                    mem["runs"]["idle"]["process"]["peak_rss_mb"],
                ],
                [
                    "plain read of the county's 60 days (`values()` into a list)",
                    f"{mem['runs']['read'].get('rows', 0):,} rows",
                    mem["runs"]["read"]["process"]["peak_rss_mb"],
                ],
                [
                    "`warnings_for(county)`",
                    f"{mem['runs']['county'].get('warnings', '?'):,} warnings",
                    mem["runs"]["county"]["process"]["peak_rss_mb"],
                ],
            ]
            parts.append(
                f"Peak RSS ({name}):\n\n" + _table(["process", "rows / signals", "peak RSS MB"], rows) + "\n"
            )
    return "\n".join(parts)


def parse_args(argv: list[str] | None) -> Params:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument(
        "--scale", type=int, default=20, help="copies of every demo community (20: 580 grids)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="postgres")
    parser.add_argument("--repeats", type=int, default=30, help="measured calls per case (at most)")
    parser.add_argument("--case-seconds", type=float, default=60.0, help="time budget per measured case")
    parser.add_argument("--phases", default=",".join(PHASES), help="subset of " + ",".join(PHASES))
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--keep-previous",
        default="",
        metavar="NAME",
        help="keep the figures of the phases measured again under databases.<db>.previous.NAME",
    )
    parser.add_argument("--quick", action="store_true", help="20,000 requests, both databases: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.tickets, args.case_seconds = 20_000, 15.0
        if "--db" not in (argv if argv is not None else sys.argv[1:]):
            args.db = "both"
        if args.pg_url == DEFAULT_PG_URL:  # a smoke run leaves the full data set alone
            args.pg_url += "_quick"
    if args.out is None:
        args.out = BENCH / "results" / ("hotissues-quick.json" if args.quick else "hotissues.json")
    phases = [phase for phase in args.phases.split(",") if phase]
    if unknown := set(phases) - set(PHASES):
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if not args.pg_url.rsplit("/", 1)[-1].startswith("gongzhi_bench_"):
        parser.error("the PostgreSQL database name must start with gongzhi_bench_ (it is dropped)")
    return Params(
        tickets=args.tickets,
        scale=args.scale,
        dbs=["sqlite", "postgres"] if args.db == "both" else [args.db],
        repeats=args.repeats,
        case_seconds=args.case_seconds,
        phases=phases,
        pg_url=args.pg_url,
        quick=args.quick,
        keep_previous=args.keep_previous,
        out=args.out,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--report"]:
        print(markdown(json.loads(Path(args[1]).read_text())))
        return 0
    params = parse_args(argv)
    TMP.mkdir(parents=True, exist_ok=True)
    (TMP / ".gitignore").write_text("*\n")  # scratch space: databases, logs
    report: dict[str, Any] = {
        "benchmark": "gongzhi-hotissues",
        "schema": 1,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/hotissues.py", *args]),
        "machine": machine(),
        "git": git_state(),
        "parameters": {k: v for k, v in asdict(params).items() if k != "out"},
        "databases": {},
    }
    lock = threading.Lock()

    def save() -> None:
        with lock:
            report["driver_peak_rss_mb"] = own_peak_rss_mb()
            params.out.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(report, ensure_ascii=False, indent=1, default=str).replace(str(ROOT) + "/", "")
            params.out.write_text(text + "\n")

    existing = json.loads(params.out.read_text()) if params.out.exists() else {}
    if existing:
        # Databases not measured now stay in the file as an earlier invocation left them.
        report["earlier_invocations"] = existing.get("earlier_invocations", []) + [
            {k: existing.get(k) for k in ("command", "started_at", "finished_at", "git")}
        ]
        for name, data in existing.get("databases", {}).items():
            if name not in params.dbs:
                report["databases"][name] = data
    earlier: dict[str, Any] = {}
    if "data" not in params.phases:
        # Measuring an existing data set again: keep how it was built and what is not re-run.
        earlier = existing.get("databases", {})
    dbs = []
    for name in params.dbs:
        db = open_database(name, params)
        db.log_path.write_text("")
        report["databases"][name] = {"url": db.url, "git": git_state()}
        for phase in PHASES:
            if phase in earlier.get(name, {}) and phase not in params.phases:
                report["databases"][name][phase] = {**earlier[name][phase], "from_earlier_invocation": True}
        if params.keep_previous and name in earlier:
            # The phases measured again keep their earlier figures under a name, with the
            # code they measured (e.g. before a change to the application).
            kept = dict(earlier[name].get("previous", {}))
            kept[params.keep_previous] = {
                "git": earlier[name].get("git"),
                **{phase: earlier[name][phase] for phase in params.phases if phase in earlier[name]},
            }
            report["databases"][name]["previous"] = kept
        elif "previous" in earlier.get(name, {}):
            report["databases"][name]["previous"] = earlier[name]["previous"]
        dbs.append(db)
    if "data" in params.phases:
        # One build at a time: the machine is shared.
        for db in dbs:
            run_phase(db, "data", report["databases"][db.name], phase_data)
            save()
    for db in dbs:
        results = report["databases"][db.name]
        if "error" in results.get("data", {}):
            continue  # nothing to measure
        try:
            results["engine"] = db.tickets_worker("dbinfo")
        except BenchError as exc:
            results["engine"] = {"error": str(exc)}
            continue
        for phase in params.phases:
            if phase != "data":
                run_phase(db, phase, results, PHASE_FUNCTIONS[phase])
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
