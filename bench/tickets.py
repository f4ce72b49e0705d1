"""Resident-request benchmark: intake throughput, ticket and task lists, KPI page, export memory.

    .venv/bin/python bench/tickets.py [--tickets 1000000] [--db sqlite|postgres|both]
                                      [--out bench/results/tickets.json] [--quick]
    .venv/bin/python bench/tickets.py --report bench/results/tickets.json   # markdown tables

For each database: a fresh database with the demo county at ``--scale`` (20 copies of every
community: 580 grids) and ``--tickets`` resident requests with their tasks and events
(``bench/tickets_data.py``), then the measurements. Every measurement runs in its own
subprocess (``bench/tickets_worker.py``, ``bench/tickets_load.py``, gunicorn), so each has a
clean interpreter and its own peak RSS; this driver imports no Django. With ``--db both`` the
two databases are built at the same time (the build is not what is measured) and measured
one after the other. Figures come with a baseline measured in the same run, and the JSON is
written after every phase.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import signal
import socket
import subprocess
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
    run_child,
    sqlite_url,
)
from run import git_state, machine

PYTHON = sys.executable
PHASES = ("data", "lists", "kpi", "export", "intake")
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_tickets"
LIST_P95_TARGET_MS = 50
KPI_P95_TARGET_MS = 200
GUNICORN_WORKERS = 2 * (os.cpu_count() or 1) + 1  # gunicorn's own rule of thumb
PORT = 8765


@dataclass
class Params:
    tickets: int
    scale: int
    dbs: list[str]
    requests: int
    case_seconds: float
    load_seconds: float
    concurrency: list[int]
    phases: list[str]
    pg_url: str
    quick: bool
    out: Path = field(repr=False)


def open_database(name: str, params: Params) -> Database:
    url = sqlite_url("tickets", params.quick) if name == "sqlite" else params.pg_url
    return Database(name, url, params, prefix="tickets", worker_script="tickets_worker.py")


# ---- phases --------------------------------------------------------------------------------


def phase_data(db: Database) -> dict[str, Any]:
    """The demo county and the requests (``bench/tickets_data.py``)."""
    return build_county_with_requests(db)


def phase_lists(db: Database) -> dict[str, Any]:
    p = db.params
    return db.worker("lists", "--requests", str(p.requests), "--case-seconds", str(p.case_seconds))


def phase_kpi(db: Database) -> dict[str, Any]:
    p = db.params
    refresh = "60" if p.quick else "120"  # a bounded sample: the consumer's rate, not a full catch-up
    args = (
        "--requests",
        str(p.requests),
        "--case-seconds",
        str(p.case_seconds),
        "--refresh-seconds",
        refresh,
    )
    return db.worker("kpi", *args)


def phase_export(db: Database) -> dict[str, Any]:
    runs = {mode: db.worker("export", "--mode", mode) for mode in ("idle", "keyset", "view")}
    out: dict[str, Any] = {"runs": runs}
    floor = runs["idle"]["process"]["peak_rss_mb"]
    keyset = runs["keyset"]
    out["floor_rss_mb"] = floor
    out["keyset_rss_mb"] = keyset["process"]["peak_rss_mb"]
    view = runs["view"]
    if "skipped" in view:
        out["view_missing"] = view["skipped"]
    else:
        out["view_rss_mb"] = view["process"]["peak_rss_mb"]
        out["view_vs_keyset_rss"] = ratio(out["view_rss_mb"], out["keyset_rss_mb"])
        out["view_vs_keyset_time"] = ratio(view["seconds"], keyset["seconds"])
    return out


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited {proc.returncode}")
        if _port_open(port):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/bench/minimal")  # 405: Django is up and routing
            conn.getresponse().read()
            conn.close()
            return
        time.sleep(0.3)
    raise BenchError("gunicorn did not start")


def phase_intake(db: Database) -> dict[str, Any]:
    """Requests per second through gunicorn: the real endpoint against a one-row insert."""
    p = db.params
    bodies = TMP / f"tickets-{db.tag}-bodies.json"
    setup = db.worker("intake-setup", "--path", str(bodies))
    key = setup.get("api_key")
    api_ready = (ROOT / "gongzhi" / "tickets" / "api.py").exists() and key
    targets = [("minimal", "/bench/minimal", []), ("action", "/bench/file-ticket", [])]
    if api_ready:
        targets.append(("api", "/api/v1/tickets", ["--header", f"X-Api-Key: {key}"]))
    env = {**db.env, "DJANGO_SETTINGS_MODULE": "tickets_server.settings"}
    port = PORT + 1 if p.quick else PORT  # a smoke run may go on beside a full one
    server_log = TMP / f"tickets-{db.tag}-gunicorn.log"
    cmd = [
        str(Path(PYTHON).parent / "gunicorn"),
        "--pythonpath",
        str(BENCH),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(GUNICORN_WORKERS),
        "--worker-class",
        "sync",
        "--backlog",
        "512",
        "--preload",
        "tickets_server.wsgi",
    ]
    if _port_open(port):
        raise BenchError(f"port {port} is already in use")
    with server_log.open("wb") as out_log:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out_log, stderr=out_log)
        try:
            _wait_ready(port, server)
            cases: dict[str, dict[str, Any]] = {}
            result = TMP / f"tickets-{db.tag}-load.json"

            def load(path: str, concurrency: int, seconds: float, extra: list[str]) -> dict[str, Any]:
                cmd = [PYTHON, str(BENCH / "tickets_load.py"), "--url", f"http://127.0.0.1:{port}{path}"]
                cmd += ["--bodies", str(bodies), "--concurrency", str(concurrency), "--seconds", str(seconds)]
                run_child([*cmd, "--result", str(result), *extra], env=db.env, log_path=db.log_path, cwd=ROOT)
                return json.loads(result.read_text())

            # Every worker serves a few requests of each kind first (Django loads its URLconf
            # and templates lazily, in each worker); none of these is counted.
            for _name, path, extra in targets:
                load(path, 2 * GUNICORN_WORKERS, 3.0, extra)
            for concurrency in p.concurrency:
                for name, path, extra in targets:
                    data = load(path, concurrency, p.load_seconds, extra)
                    cases.setdefault(name, {})[str(concurrency)] = data
                    log(
                        f"{db.name}: {name} x{concurrency}: {data['requests_per_s']} req/s {data['statuses']}"
                    )
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    after = db.worker("intake-count")
    out: dict[str, Any] = {
        "server": {"command": " ".join(cmd[1:]), "workers": GUNICORN_WORKERS, "worker_class": "sync"},
        "measured_endpoint": "/api/v1/tickets" if api_ready else "/bench/file-ticket (the API was missing)",
        "setup": {k: v for k, v in setup.items() if k != "api_key"},
        "cases": cases,
        "tickets_after": after["tickets"],
        "probe_rows": after["probe_rows"],
        "ratios": {},
    }
    for concurrency in map(str, p.concurrency):
        base = cases["minimal"][concurrency]
        for name in cases:
            if name == "minimal":
                continue
            case = cases[name][concurrency]
            out["ratios"][f"{name}_x{concurrency}"] = {
                "throughput_vs_minimal": ratio(case["requests_per_s"] or 0, base["requests_per_s"] or 0),
                "p50_vs_minimal": ratio(case["latency"]["p50_ms"], base["latency"]["p50_ms"]),
                "p95_vs_minimal": ratio(case["latency"]["p95_ms"], base["latency"]["p95_ms"]),
            }
    return out


def phase_path_index(db: Database) -> dict[str, Any]:
    """Not in the default phases: the grid worker's list with and without a pattern index."""
    return db.worker("path-index", "--requests", str(db.params.requests))


PHASE_FUNCTIONS = {
    "path_index": phase_path_index,
    "lists": phase_lists,
    "kpi": phase_kpi,
    "export": phase_export,
    "intake": phase_intake,
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


# ---- report --------------------------------------------------------------------------------


def summary_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for name, data in report["databases"].items():
        lines.append(f"== {name} {data.get('engine', {}).get('version', '')}")
        gen = data.get("data", {}).get("generate", {})
        if "tickets" in gen:
            lines.append(
                f"data: {gen['tickets']:,} tickets, {gen['tasks']:,} tasks, {gen['events']:,} events "
                f"in {gen['seconds']:.0f}s ({gen['rows_per_s']:,.0f} rows/s); "
                f"check: {gen['check']['problems']} problems"
            )
        lists = data.get("lists", {})
        if "users" in lists:
            lines.append(
                f"lists baseline (plain 50 newest tickets): p50 {lists['baseline_plain']['p50_ms']} ms"
            )
            for user, entry in lists["users"].items():
                for kind in ("orm", "view"):
                    cells = ", ".join(
                        f"{case} {v['p50_ms']:.1f}/{v['p95_ms']:.1f} (x{v['ratio_p50']})"
                        for case, v in entry[kind].items()
                    )
                    if cells:
                        lines.append(f"  {user:<8} {kind:<4} p50/p95 ms: {cells}")
        kpi = data.get("kpi", {})
        if "refresh" in kpi:
            lines.append(f"kpi refresh: {kpi['refresh']}; measured: {kpi['measured']}")
            for case, entry in kpi.get("cases", {}).items():
                if "p50_ms" in entry:
                    lines.append(f"  kpi {case}: p50 {entry['p50_ms']} ms, p95 {entry['p95_ms']} ms")
        elif "skipped" in kpi:
            lines.append(f"kpi: {kpi['skipped']}")
        exp = data.get("export", {})
        if "keyset_rss_mb" in exp:
            lines.append(
                f"export: floor {exp['floor_rss_mb']} MB, keyset stream {exp['keyset_rss_mb']} MB "
                f"({exp['runs']['keyset'].get('rows', 0):,} rows in {exp['runs']['keyset']['seconds']} s), "
                + (
                    f"/kpi/tickets.csv {exp['view_rss_mb']} MB in {exp['runs']['view']['seconds']} s"
                    if "view_rss_mb" in exp
                    else exp.get("view_missing", "")
                )
            )
        intake = data.get("intake", {})
        if "cases" in intake:
            for case, levels in intake["cases"].items():
                cells = ", ".join(
                    f"x{c}: {v['requests_per_s']} req/s p50 {v['latency']['p50_ms']} ms"
                    for c, v in levels.items()
                )
                lines.append(f"intake {case}: {cells}")
            for key, value in intake["ratios"].items():
                lines.append(f"  {key}: {value}")
        for phase in PHASES:
            if isinstance(data.get(phase), dict) and ("error" in data[phase] or "skipped" in data[phase]):
                lines.append(f"{phase}: {data[phase].get('error') or data[phase].get('skipped')}")
    return lines


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def _ms(v: dict[str, Any]) -> str:
    return f"{v['p50_ms']:.1f} / {v['p95_ms']:.1f}"


def markdown(report: dict[str, Any]) -> str:
    """Tables for docs/performance.md from a result file (``--report``)."""
    parts = []
    for name, data in report["databases"].items():
        gen = data.get("data", {}).get("generate", {})
        counts = data.get("data", {}).get("counts", {})
        if gen:
            parts.append(
                f"**{name}** — {gen['tickets']:,} tickets, {gen['tasks']:,} tasks, {gen['events']:,} events, "
                f"{counts.get('grids', '?')} grids, database {counts.get('database_mb', '?')} MB; "
                f"generated in {gen['seconds']:.0f} s ({gen['rows_per_s']:,.0f} rows/s, {gen['writer']})\n"
            )
        lists = data.get("lists", {})
        if "users" in lists:
            rows = [
                ["baseline: 50 newest tickets, plain ORM", "", "", _ms(lists["baseline_plain"]), "×1"],
                [
                    "baseline: 50 newest tasks, plain ORM (for task rows)",
                    "",
                    "",
                    _ms(lists["baseline_plain_tasks"]),
                    "×1",
                ],
            ]
            rows += [
                [f"unscoped page (superuser), {case}", "", "", _ms(v), f"×{v['ratio_p50']}"]
                for case, v in lists["baseline_unscoped"].items()
            ]
            for user, entry in lists["users"].items():
                for case, orm in entry["orm"].items():
                    view = entry["view"].get(case)
                    scope = entry["scope_tasks"] if case.startswith("task") else entry["scope_tickets"]
                    rows.append(
                        [
                            f"{user}: {case}",
                            f"{scope:,}",
                            _ms(view) if view else "–",
                            _ms(orm),
                            f"×{orm['ratio_p50']}" + (f" (page ×{view['ratio_p50']})" if view else ""),
                        ]
                    )
            header = ["case", "rows in scope", "page p50 / p95 ms", "query p50 / p95 ms", "÷ baseline (p50)"]
            parts.append(f"Lists ({name}):\n\n" + _table(header, rows) + "\n")
        kpi = data.get("kpi", {})
        if "cases" in kpi:
            rows = [
                [case, _ms(v), f"×{v['ratio_p50']}"]
                if "p50_ms" in v
                else [case, f"status {v.get('status')}", ""]
                for case, v in kpi["cases"].items()
            ]
            r = kpi["refresh"]
            parts.append(
                f"KPI ({name}; {kpi['measured']}; rollup consumer {r['events_per_s']} events/s, "
                f"{r['events_done']:,} of {kpi['events_total']:,} events consumed):\n\n"
                + _table(["case", "p50 / p95 ms", "÷ baseline (p50)"], rows)
                + "\n"
            )
            held = kpi.get("page_while_cursor_held", {})
            if held:
                rows = [
                    [case, _ms(v), f"×{v['ratio_p50']}"]
                    if "p50_ms" in v
                    else [case, f"status {v.get('status')}", ""]
                    for case, v in held.items()
                ]
                parts.append(
                    f"KPI page /kpi/ ({name}), another consumer holding the rollup cursor:\n\n"
                    + _table(["case", "p50 / p95 ms", "÷ baseline (p50)"], rows)
                    + "\n"
                )
        exp = data.get("export", {})
        if "runs" in exp:
            rows = []
            for mode, label in (
                ("idle", "floor: Django set up, signed in"),
                ("keyset", "keyset batches"),
                ("view", "/kpi/tickets.csv"),
            ):
                run = exp["runs"][mode]
                rows.append(
                    [
                        label,
                        run.get("rows", run.get("lines", "")),
                        run.get("seconds", ""),
                        run["process"]["peak_rss_mb"],
                    ]
                )
            parts.append(
                f"Export ({name}):\n\n" + _table(["process", "rows", "s", "peak RSS MB"], rows) + "\n"
            )
        intake = data.get("intake", {})
        if "cases" in intake:
            rows = []
            for case, levels in intake["cases"].items():
                for level, v in levels.items():
                    r = intake["ratios"].get(f"{case}_x{level}", {})
                    rows.append(
                        [
                            case,
                            level,
                            v["requests_per_s"],
                            _ms(v["latency"]),
                            f"×{r['throughput_vs_minimal']}" if r else "×1",
                        ]
                    )
            header = ["endpoint", "clients", "req/s", "p50 / p95 ms", "throughput ÷ minimal"]
            parts.append(f"Intake ({name}):\n\n" + _table(header, rows) + "\n")
    return "\n".join(parts)


def parse_args(argv: list[str] | None) -> Params:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument(
        "--scale", type=int, default=20, help="copies of every demo community (20: 580 grids)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=200, help="measured calls per list case")
    parser.add_argument("--case-seconds", type=float, default=60.0, help="time budget per measured case")
    parser.add_argument("--load-seconds", type=float, default=20.0, help="measured seconds per intake case")
    parser.add_argument("--concurrency", default="1,8", help="concurrent intake clients, comma-separated")
    parser.add_argument("--phases", default=",".join(PHASES), help="subset of " + ",".join(PHASES))
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "tickets.json")
    parser.add_argument("--quick", action="store_true", help="20,000 tickets, fewer samples: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.tickets, args.requests, args.load_seconds = 20_000, 30, 5.0
        if args.pg_url == DEFAULT_PG_URL:  # a smoke run leaves the full data set alone
            args.pg_url += "_quick"
    phases = [phase for phase in args.phases.split(",") if phase]
    if unknown := set(phases) - {*PHASES, "path_index"}:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if not args.pg_url.rsplit("/", 1)[-1].startswith("gongzhi_bench"):
        parser.error("the PostgreSQL database name must start with gongzhi_bench (it is dropped)")
    return Params(
        tickets=args.tickets,
        scale=args.scale,
        dbs=["sqlite", "postgres"] if args.db == "both" else [args.db],
        requests=args.requests,
        case_seconds=args.case_seconds,
        load_seconds=args.load_seconds,
        concurrency=[int(c) for c in args.concurrency.split(",") if c],
        phases=phases,
        pg_url=args.pg_url,
        quick=args.quick,
        out=args.out,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--report"]:
        print(markdown(json.loads(Path(args[1]).read_text())))
        return 0
    params = parse_args(argv)
    TMP.mkdir(parents=True, exist_ok=True)
    (TMP / ".gitignore").write_text("*\n")  # scratch space: databases, logs, bodies
    report: dict[str, Any] = {
        "benchmark": "gongzhi-tickets",
        "schema": 1,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            [".venv/bin/python", "bench/tickets.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "machine": machine(),
        "git": git_state(),
        "parameters": {k: v for k, v in asdict(params).items() if k != "out"},
        "targets": {"list_p95_ms": LIST_P95_TARGET_MS, "kpi_p95_ms": KPI_P95_TARGET_MS},
        "databases": {},
    }
    lock = threading.Lock()

    def save() -> None:
        with lock:
            report["driver_peak_rss_mb"] = own_peak_rss_mb()
            params.out.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(report, ensure_ascii=False, indent=1, default=str).replace(str(ROOT) + "/", "")
            params.out.write_text(text + "\n")

    earlier: dict[str, Any] = {}
    if "data" not in params.phases and params.out.exists():
        # Measuring an existing data set again: keep how it was built and what is not re-run.
        earlier = json.loads(params.out.read_text()).get("databases", {})
    dbs = []
    for name in params.dbs:
        db = open_database(name, params)
        db.log_path.write_text("")
        report["databases"][name] = {"url": db.url, "git": git_state()}
        for phase in PHASES + ("path_index",):
            if phase in earlier.get(name, {}) and phase not in params.phases:
                report["databases"][name][phase] = {**earlier[name][phase], "from_earlier_invocation": True}
        dbs.append(db)
    if "data" in params.phases:
        threads = [
            threading.Thread(target=run_phase, args=(db, "data", report["databases"][db.name], phase_data))
            for db in dbs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        save()
    for db in dbs:
        results = report["databases"][db.name]
        if "error" in results.get("data", {}):
            continue  # nothing to measure
        try:
            results["engine"] = db.worker("dbinfo")
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
