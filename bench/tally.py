"""Owners' vote tally benchmark: reading, checking and tallying a large electorate from files.

    .venv/bin/python bench/tally.py [--units 100000] [--turnout 0.7] [--xlsx-units N] [--runs 5]
                                    [--out bench/results/tally.json] [--keep DIR] [--quick]

Generates an electorate of ``--units`` units (with multi-unit owners, developer-held units
and parking) and ballots for about ``--turnout`` of its owners, as CSV and as .xlsx, in a
temporary folder; then measures, each in its own subprocess (``python bench/tally.py work
TASK ...``), so that every figure has a clean interpreter and its own peak RSS:

- ``csv_read``: the csv module reading every row of both files, nothing else (the baseline);
- ``tally_csv``: ``tally_io.tally_files`` on the CSV files (read, check, tally), in process;
- ``cli_csv``: the whole ``gongzhi tally`` command on the CSV files (Django start included);
- ``cli_tiny``: the same command on a one-unit electorate: the command's fixed cost;
- ``xlsx_read``, ``tally_xlsx``, ``cli_xlsx``: the same three for the workbooks;
- ``heap``: tracemalloc's peak of one ``tally_files`` run on the CSV files.

Ratios compare each case with its format's read baseline, measured in the same run. The
target: every process stays under 200 MB of peak RSS. The driver imports neither Django nor
openpyxl (see measure.py: a child's ru_maxrss starts from the driver's at fork time).

More cases (e.g. counting a decision stored in the database) are added as functions of the
form ``case(ctx: Context) -> dict`` and listed in ``CASES``; ``main`` runs them in order and
writes the JSON after each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from measure import ChildRun, own_peak_rss_mb, ratio, repeat, run_child, summarise_ms

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LOGS = BENCH / "results" / "tmp"
PYTHON = sys.executable
MEMORY_TARGET_MB = 200
MATTER = "6"  # a three-quarters matter, with deemed votes: every branch of the tally runs
UNITS_HEADER = ("unit_id", "owner_id", "area_m2", "kind", "developer_held")
BALLOTS_HEADER = ("unit_id", "choice")
RESULT_KEYS = ("total_units", "total_owners", "participating_owners", "approved")  # a sanity check


class BenchError(Exception):
    pass


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC).strftime('%H:%M:%SZ')}] {message}", file=sys.stderr, flush=True)


# ---- the generated electorate (run in a worker: it writes workbooks) -------------------------


def electorate_rows(
    units: int, turnout: float, seed: int = 278
) -> tuple[list[tuple[str, ...]], list[tuple[str, str]]]:
    """Units and ballots of a plausible compound-sized county: 1 in 12 owners holds two or three
    units, 1 % of the units are the developer's, 1 in 10 is a parking space; one will per
    owner, cast for each of their units (now and then for one unit only)."""
    rng = random.Random(seed)
    unit_rows: list[tuple[str, ...]] = []
    owner = 0
    wills: dict[str, str | None] = {}
    choices = ["agree"] * 12 + ["disagree"] * 5 + ["abstain"] * 2 + ["spoiled"]
    while len(unit_rows) < units:
        owner += 1
        owner_id = f"O{owner:07d}"
        wills[owner_id] = rng.choice(choices) if rng.random() < turnout else None
        holdings = 1 if rng.random() < 11 / 12 else rng.choice((2, 3))
        for _ in range(min(holdings, units - len(unit_rows))):
            number = len(unit_rows) + 1
            building, flat = divmod(number - 1, 120)
            if rng.random() < 0.1:
                unit_id, kind, area = f"P{number:06d}", "parking", rng.randint(1000, 1500)
            else:
                unit_id = f"{building + 1}-{flat // 4 + 1}{flat % 4 + 1:02d}"
                kind = "commercial" if rng.random() < 0.03 else "residential"
                area = rng.randint(4000, 16000)
            developer = rng.random() < 0.01
            unit_rows.append(
                (unit_id, owner_id, f"{area // 100}.{area % 100:02d}", kind, "1" if developer else "0")
            )
    developer_will = rng.choice(choices)
    ballot_rows = []
    for unit_id, owner_id, _area, _kind, developer in unit_rows:
        will = developer_will if developer == "1" else wills[owner_id]
        if will is not None and rng.random() < 0.95:
            ballot_rows.append((unit_id, will))
    rng.shuffle(ballot_rows)  # ballots come in the order they were collected
    return unit_rows, ballot_rows


def write_csv(path: Path, header: tuple[str, ...], rows: list[Any]) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def write_xlsx(path: Path, header: tuple[str, ...], rows: list[Any]) -> None:
    """As someone would save it from Excel: areas as numbers, ids and flags as typed."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(header))
    area_column = header.index("area_m2") if "area_m2" in header else -1
    for row in rows:
        sheet.append([float(v) if i == area_column else v for i, v in enumerate(row)])
    workbook.save(path)


# ---- worker tasks --------------------------------------------------------------------------


def task_generate(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    folder = Path(args.folder)
    units, ballots = electorate_rows(args.units, args.turnout)
    write_csv(folder / "units.csv", UNITS_HEADER, units)
    write_csv(folder / "ballots.csv", BALLOTS_HEADER, ballots)
    write_csv(folder / "tiny-units.csv", UNITS_HEADER, units[:1])
    write_csv(folder / "tiny-ballots.csv", BALLOTS_HEADER, [(units[0][0], "agree")])
    xlsx_units = units[: args.xlsx_units]
    kept = {row[0] for row in xlsx_units}
    write_xlsx(folder / "units.xlsx", UNITS_HEADER, xlsx_units)
    write_xlsx(folder / "ballots.xlsx", BALLOTS_HEADER, [b for b in ballots if b[0] in kept])
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "units": len(units),
        "parking_units": sum(1 for u in units if u[3] == "parking"),
        "developer_units": sum(1 for u in units if u[4] == "1"),
        "owners": len({u[1] for u in units}),
        "ballots": len(ballots),
        "xlsx_units": len(xlsx_units),
        "bytes": {p.name: p.stat().st_size for p in sorted(folder.iterdir())},
    }


def _read_csv(paths: list[Path]) -> int:
    import csv

    rows = 0
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            for _row in csv.reader(stream):
                rows += 1
    return rows


def _read_xlsx(paths: list[Path]) -> int:
    import openpyxl

    rows = 0
    for path in paths:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for _row in workbook.worksheets[0].iter_rows(values_only=True):
            rows += 1
        workbook.close()
    return rows


def task_timed(args: argparse.Namespace) -> dict[str, Any]:
    """``read`` (the baseline) or ``tally`` (tally_io.tally_files), repeated in this process."""
    sys.path.insert(0, str(ROOT))
    folder, fmt = Path(args.folder), args.format
    paths = [folder / f"units.{fmt}", folder / f"ballots.{fmt}"]
    last: list[Any] = [None]
    if args.what == "read":
        reader = _read_csv if fmt == "csv" else _read_xlsx

        def call(_i: int) -> None:
            last[0] = reader(paths)
    else:
        from gongzhi.decisions.tally_io import tally_files

        def call(_i: int) -> None:
            last[0] = tally_files(paths[0], paths[1], int(MATTER), deemed_votes=True)

    samples = repeat(call, times=args.runs, budget_s=args.budget, warmup=1, minimum=min(3, args.runs))
    out: dict[str, Any] = summarise_ms(samples)
    if args.what == "read":
        out["rows"] = last[0]
    else:
        data = last[0].to_dict()
        out["result"] = {key: data[key] for key in RESULT_KEYS}
    out["own_peak_rss_mb"] = own_peak_rss_mb()
    return out


def task_heap(args: argparse.Namespace) -> dict[str, Any]:
    """Peak of Python allocations (tracemalloc) during one tally of the CSV files."""
    sys.path.insert(0, str(ROOT))
    import tracemalloc

    from gongzhi.decisions.tally_io import tally_files

    folder = Path(args.folder)
    tracemalloc.start()
    started = time.perf_counter()
    tally_files(folder / "units.csv", folder / "ballots.csv", int(MATTER), deemed_votes=True)
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"tracemalloc_peak_mb": round(peak / 2**20, 1), "seconds_traced": round(seconds, 3)}


WORK: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "generate": task_generate,
    "timed": task_timed,
    "heap": task_heap,
}


def work(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/tally.py work")
    parser.add_argument("task", choices=sorted(WORK))
    parser.add_argument("--folder", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--units", type=int, default=0)
    parser.add_argument("--xlsx-units", type=int, default=0)
    parser.add_argument("--turnout", type=float, default=0.7)
    parser.add_argument("--what", choices=("read", "tally"), default="read")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=float, default=120.0)
    args = parser.parse_args(argv)
    Path(args.result).write_text(json.dumps(WORK[args.task](args)))
    return 0


# ---- the driver ----------------------------------------------------------------------------


@dataclass
class Params:
    units: int
    turnout: float
    xlsx_units: int
    runs: int
    keep: Path | None
    out: Path = field(repr=False)


@dataclass
class Context:
    """What every case gets: the parameters, the folder of generated files, and child runners."""

    params: Params
    folder: Path
    log_path: Path
    results: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)

    def child(self, *cmd: str, stdout_path: Path | None = None) -> ChildRun:
        run = run_child(cmd, env=self.env, log_path=self.log_path, cwd=ROOT, stdout_path=stdout_path)
        if run.returncode != 0:
            raise BenchError(f"{' '.join(cmd[1:5])} exited {run.returncode}; see {self.log_path}")
        return run

    def worker(self, task: str, *args: str) -> dict[str, Any]:
        """Run a worker task; its JSON result plus the process's wall time and peak RSS."""
        result = self.folder / f"{task}-result.json"
        result.unlink(missing_ok=True)
        run = self.child(
            PYTHON,
            str(Path(__file__)),
            "work",
            task,
            "--folder",
            str(self.folder),
            "--result",
            str(result),
            *args,
        )
        data = json.loads(result.read_text())
        data["process"] = run.as_json()
        return data

    def cli(self, units: str, ballots: str, runs: int) -> dict[str, Any]:
        """``gongzhi tally`` as a user runs it, ``runs`` times: wall time and peak RSS of each."""
        output = self.folder / "cli-output.json"
        command = (
            PYTHON, "-m", "gongzhi", "tally", "--units", str(self.folder / units),
            "--ballots", str(self.folder / ballots), "--matter", MATTER, "--deemed-votes",
        )  # fmt: skip
        runs_done = [self.child(*command, stdout_path=output) for _ in range(runs)]
        data = json.loads(output.read_text())
        seconds = [r.seconds for r in runs_done]
        return {
            **summarise_ms(seconds),
            "peak_rss_mb": max(r.peak_rss_mb for r in runs_done),
            "output_bytes": output.stat().st_size,
            "result": {key: data[key] for key in RESULT_KEYS},
        }


def case_data(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    args = ("--units", str(p.units), "--turnout", str(p.turnout), "--xlsx-units", str(p.xlsx_units))
    return ctx.worker("generate", *args)


def _timed(ctx: Context, what: str, fmt: str) -> dict[str, Any]:
    runs = ctx.params.runs if fmt == "csv" else max(2, ctx.params.runs // 2)  # workbooks are slow
    return ctx.worker("timed", "--what", what, "--format", fmt, "--runs", str(runs))


def case_csv_read(ctx: Context) -> dict[str, Any]:
    return _timed(ctx, "read", "csv")


def case_tally_csv(ctx: Context) -> dict[str, Any]:
    data = _timed(ctx, "tally", "csv")
    return {**data, "vs_read": ratio(data["p50_ms"], ctx.results["csv_read"]["p50_ms"])}


def case_cli_tiny(ctx: Context) -> dict[str, Any]:
    return ctx.cli("tiny-units.csv", "tiny-ballots.csv", ctx.params.runs)


def case_cli_csv(ctx: Context) -> dict[str, Any]:
    data = ctx.cli("units.csv", "ballots.csv", ctx.params.runs)
    read = ctx.results["csv_read"]["p50_ms"]
    return {
        **data,
        "vs_read": ratio(data["p50_ms"], read),
        "minus_fixed_cost_vs_read": ratio(data["p50_ms"] - ctx.results["cli_tiny"]["p50_ms"], read),
        "same_result_as_in_process": data["result"] == ctx.results["tally_csv"].get("result"),
    }


def case_xlsx_read(ctx: Context) -> dict[str, Any]:
    return _timed(ctx, "read", "xlsx")


def case_tally_xlsx(ctx: Context) -> dict[str, Any]:
    data = _timed(ctx, "tally", "xlsx")
    return {**data, "vs_read": ratio(data["p50_ms"], ctx.results["xlsx_read"]["p50_ms"])}


def case_cli_xlsx(ctx: Context) -> dict[str, Any]:
    data = ctx.cli("units.xlsx", "ballots.xlsx", max(2, ctx.params.runs // 2))
    read = ctx.results["xlsx_read"]["p50_ms"]
    return {
        **data,
        "vs_read": ratio(data["p50_ms"], read),
        "minus_fixed_cost_vs_read": ratio(data["p50_ms"] - ctx.results["cli_tiny"]["p50_ms"], read),
        "same_result_as_csv": data["result"] == ctx.results["cli_csv"].get("result")
        or ctx.params.xlsx_units < ctx.params.units,
    }


def case_heap(ctx: Context) -> dict[str, Any]:
    return ctx.worker("heap")


# In order: later cases use earlier results (baselines, the fixed cost of the command).
CASES: dict[str, Callable[[Context], dict[str, Any]]] = {
    "data": case_data,
    "csv_read": case_csv_read,
    "tally_csv": case_tally_csv,
    "cli_tiny": case_cli_tiny,
    "cli_csv": case_cli_csv,
    "xlsx_read": case_xlsx_read,
    "tally_xlsx": case_tally_xlsx,
    "cli_xlsx": case_cli_xlsx,
    "heap": case_heap,
}


def memory_verdict(results: dict[str, Any]) -> dict[str, Any]:
    peaks = {
        name: data.get("peak_rss_mb") or data.get("process", {}).get("peak_rss_mb")
        for name, data in results.items()
        if isinstance(data, dict) and name != "data" and "error" not in data
    }
    worst = max((v for v in peaks.values() if v is not None), default=None)
    return {
        "peak_rss_mb_by_case": peaks,
        "worst_peak_rss_mb": worst,
        "target_mb": MEMORY_TARGET_MB,
        "meets_target": worst is not None and worst < MEMORY_TARGET_MB,
    }


def summary_lines(report: dict[str, Any]) -> list[str]:
    r = report["results"]
    lines = []
    if "units" in r.get("data", {}):
        d = r["data"]
        lines.append(
            f"electorate: {d['units']:,} units ({d['parking_units']:,} parking), {d['owners']:,} owners, "
            f"{d['ballots']:,} ballots; workbooks with {d['xlsx_units']:,} units"
        )
    for name in CASES:
        data = r.get(name, {})
        if name == "data" or not data:
            continue
        if "error" in data:
            lines.append(f"{name}: {data['error']}")
            continue
        rss = data.get("peak_rss_mb") or data.get("process", {}).get("peak_rss_mb")
        if "p50_ms" in data:
            vs = f", x{data['vs_read']} the read" if data.get("vs_read") is not None else ""
            lines.append(f"{name}: p50 {data['p50_ms']:.0f} ms (n={data['n']}){vs}; peak RSS {rss} MB")
        elif "tracemalloc_peak_mb" in data:
            lines.append(f"{name}: tracemalloc peak {data['tracemalloc_peak_mb']} MB; peak RSS {rss} MB")
    mem = report.get("memory", {})
    if mem:
        lines.append(
            f"worst peak RSS {mem['worst_peak_rss_mb']} MB (target < {mem['target_mb']} MB: "
            f"{'met' if mem['meets_target'] else 'NOT met'})"
        )
    return lines


def parse_args(argv: list[str]) -> Params:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--turnout", type=float, default=0.7, help="share of owners who vote")
    parser.add_argument("--xlsx-units", type=int, help="units in the workbooks (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "tally.json")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--quick", action="store_true", help="10,000 units, 2 runs: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.units, args.runs = 10_000, 2
        if args.out == BENCH / "results" / "tally.json":
            args.out = BENCH / "results" / "tally-quick.json"
    xlsx_units = min(args.xlsx_units or args.units, args.units)
    return Params(args.units, args.turnout, xlsx_units, args.runs, args.keep, args.out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["work"]:
        return work(args[1:])
    from run import git_state, machine

    params = parse_args(args)
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / "tally.log"
    log_path.write_text("")
    folder = params.keep or Path(tempfile.mkdtemp(prefix="gongzhi-tally-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GONGZHI_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
        "PYTHONHASHSEED": "0",
    }
    ctx = Context(params, folder, log_path, {}, env)
    report: dict[str, Any] = {
        "benchmark": "gongzhi-tally",
        "schema": 1,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/tally.py", *args]),
        "machine": machine(),
        "git": git_state(),
        "parameters": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(params).items() if k != "out"
        },
        "matter": int(MATTER),
        "results": ctx.results,
    }

    def save() -> None:
        report["driver_peak_rss_mb"] = own_peak_rss_mb()
        report["memory"] = memory_verdict(ctx.results)
        params.out.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report, ensure_ascii=False, indent=1, default=str).replace(str(ROOT) + "/", "")
        params.out.write_text(text + "\n")

    try:
        for name, case in CASES.items():
            log(f"{name} ...")
            try:
                ctx.results[name] = case(ctx)
            except (BenchError, KeyError) as exc:
                ctx.results[name] = {"error": str(exc)}
                if name == "data":
                    break
            save()
    finally:
        if params.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    report["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    report["git_at_end"] = git_state()
    report["code_changed_during_run"] = report["git"]["app_code"] != report["git_at_end"]["app_code"]
    save()
    print("\n".join(summary_lines(report)))
    print(f"results: {params.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
