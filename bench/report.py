"""Markdown tables from a benchmark result, for docs/performance.md.

.venv/bin/python bench/report.py [bench/results/latest.json]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).resolve().parent / "results" / "latest.json"
CASES = ("first_page", "deep_page", "name_search")


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(summary: dict[str, Any]) -> str:
    return f"{summary['p50_ms']:.1f} / {summary['p95_ms']:.1f}"


def x(value: Any) -> str:
    return "–" if value is None else f"×{value}"


def git(report: dict[str, Any]) -> str:
    state = report["git"]
    dirty = state.get("uncommitted_files", state.get("dirty_files"))
    text = f"{state['commit'][:10]} (+{dirty} uncommitted files)"
    if report.get("code_changed_during_run"):
        text += " — **the application code changed during the run**"
    return text


def machine(report: dict[str, Any]) -> str:
    m = report["machine"]
    engines = {name: db.get("engine", {}).get("version", "?") for name, db in report["databases"].items()}
    rows = [
        ("CPU", f"{m.get('cpu_model')} ({m['cpu_count']} cores)"),
        ("memory", m.get("memory")),
        (
            "Python / Django / openpyxl",
            f"{m['python']} / {m['packages']['django']} / {m['packages']['openpyxl']}",
        ),
        ("SQLite", engines.get("sqlite", "–")),
        ("PostgreSQL", engines.get("postgres", "–")),
        ("command", f"`{report['command']}`"),
        ("git", git(report)),
    ]
    return table(("", ""), rows)


def seeding(dbs: dict[str, Any]) -> str:
    rows = []
    for name, db in dbs.items():
        s = db.get("seed", {})
        if "units" in s:
            rows.append(
                (
                    name,
                    f"{s['units']:,}",
                    f"{s['counts']['owners']:,}",
                    f"{s['counts']['residents']:,}",
                    f"{s['seed_s']:.0f}",
                    f"{s['units_per_s']:,.0f}",
                    f"{s['analyze_s']:.1f}",
                    f"{s['counts']['database_mb']:,.0f}",
                )
            )
    header = ("database", "units", "owners", "residents", "seed s", "units/s", "analyze s", "DB MB")
    return table(header, rows)


def latency(name: str, db: dict[str, Any]) -> str:
    lat = db.get("latency", {})
    if "users" not in lat:
        return f"({name}: no latency figures)"
    base = lat["baseline_plain"]
    unscoped = lat["baseline_unscoped"]
    rows: list[Sequence[Any]] = [
        ("baseline: `Unit.objects.order_by('pk')[:50]`", "all", "", "", ms(base), "×1"),
    ]
    rows += [
        (
            f"unscoped ORM, {case}",
            "all",
            "",
            "",
            ms(unscoped[case]),
            x(round(unscoped[case]["p50_ms"] / base["p50_ms"], 2)),
        )
        for case in CASES
    ]
    for user, entry in lat["users"].items():
        for case in CASES:
            view, orm = entry["view"][case], entry["orm"][case]
            rows.append(
                (
                    f"{user}: {case}",
                    f"{entry['scope_units']:,}",
                    ms(view),
                    x(view["ratio_p50"]),
                    ms(orm),
                    f"{x(orm['ratio_p50'])} ({x(orm['ratio_unscoped_same_query_p50'])})",
                )
            )
    header = (
        "case",
        "units in scope",
        "view p50 / p95 ms",
        "view ÷ baseline (p50)",
        "ORM p50 / p95 ms",
        "ORM ÷ baseline (÷ unscoped same query)",
    )
    return table(header, rows)


def coverage(dbs: dict[str, Any]) -> str:
    rows = []
    for name, db in dbs.items():
        cov = db.get("coverage", {})
        for user in ("county", "town"):
            if user in cov:
                c = cov[user]
                rows.append(
                    (
                        name,
                        user,
                        f"{c['unmanaged_buildings']:,}",
                        c["gaps"],
                        ms(c["compute"]),
                        ms(c["page_view"]),
                    )
                )
        if "cli_json" in cov:
            cli = cov["cli_json"]
            rows.append(
                (
                    name,
                    "`gongzhi coverage --json` (whole process)",
                    "",
                    "",
                    f"{cli['seconds'] * 1000:.0f}",
                    "",
                )
            )
    header = ("database", "who", "unmanaged buildings", "gaps", "compute p50 / p95 ms", "page p50 / p95 ms")
    return table(header, rows)


def imports(dbs: dict[str, Any]) -> str:
    rows = []
    for name, db in dbs.items():
        imp = db.get("import", {})
        if "first" not in imp:
            continue
        read = imp["openpyxl_read"]
        rows.append(
            (
                name,
                "openpyxl read-only, every cell (baseline)",
                read["rows"],
                read["seconds"],
                read["rows_per_s"],
                "×1",
            )
        )
        for label, key, vs in (
            ("import, new units", "first", "first_vs_read"),
            ("same file again", "repeat", "repeat_vs_read"),
        ):
            run = imp[key]
            r = run["result"]
            what = f"{label} (created {r['created']:,}, unchanged {r['unchanged']:,})"
            rows.append((name, what, r["rows"], run["seconds"], run["rows_per_s"], x(imp[vs])))
    header = ("database", "run", "rows", "seconds", "rows/s", "time ÷ openpyxl")
    return table(header, rows)


def memory(dbs: dict[str, Any]) -> str:
    rows = []
    for name, db in dbs.items():
        mem = db.get("memory", {})
        if "import" not in mem:
            continue
        floor = mem["django_floor"]["process"]["peak_rss_mb"]
        read, imp = mem["openpyxl_read"], mem["import"]
        rows.append((name, "Django + importer imported, nothing read (floor)", "", floor, ""))
        rows.append(
            (name, "openpyxl read-only, every cell", read["seconds"], read["process"]["peak_rss_mb"], "×1")
        )
        ok = "met" if mem["meets_target"] else "**not met**"
        rows.append(
            (
                name,
                f"import_registry, {imp['result']['rows']:,} rows "
                f"(created {imp['result']['created']:,}); target < 300 MB: {ok}",
                imp["seconds"],
                imp["process"]["peak_rss_mb"],
                x(mem["import_vs_read_rss"]),
            )
        )
    header = ("database", "process", "seconds", "peak RSS MB", "RSS ÷ openpyxl")
    return table(header, rows)


def profile(dbs: dict[str, Any]) -> str:
    parts = []
    for name, db in dbs.items():
        prof = db.get("import", {}).get("profiled_first_import", {}).get("profile")
        if not prof:
            continue
        stages = [
            (label, v["seconds"], f"{v['share_of_wall']:.0%}")
            for label, v in prof.get("stages_cumulative", {}).items()
        ]
        groups = [
            (label, v["seconds"], f"{v['share']:.0%}") for label, v in prof["own_time_by_group"].items()
        ]
        rows = db["import"]["profiled_first_import"]["result"]["rows"]
        parts.append(f"**{name}**, {rows:,} new rows, {prof['profiled_wall_s']} s under cProfile\n")
        parts.append(table(("stage (cumulative)", "seconds", "share of wall"), stages))
        parts.append("")
        parts.append(table(("own time by library", "seconds", "share"), groups))
        parts.append("")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    report = json.loads(Path(args[0] if args else DEFAULT).read_text())
    dbs = report["databases"]
    sections = [("Machine and run", machine(report)), ("Seeding", seeding(dbs))]
    sections += [(f"Scoped registry list ({name})", latency(name, db)) for name, db in dbs.items()]
    sections += [
        ("Coverage", coverage(dbs)),
        ("Import throughput", imports(dbs)),
        ("Import memory", memory(dbs)),
        ("Import profile", profile(dbs)),
    ]
    for title, body in sections:
        print(f"### {title}\n\n{body}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
