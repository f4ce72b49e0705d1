"""Benchmark tasks that run inside Django, one per process, started by ``bench/run.py``.

    DATABASE_URL=... GONGZHI_ENV=test python bench/worker.py TASK --result out.json [options]

Each task writes one JSON object to ``--result``. The database comes from ``DATABASE_URL``
exactly as for the application; nothing here changes application code or settings.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from measure import own_peak_rss_mb, repeat, summarise_ms, with_ratios

UNITS_URL = "/registry/units/"
COVERAGE_URL = "/coverage/"
# Demo logins (gongzhi/demo/seed.py) whose scopes get narrower from left to right.
LIST_USERS = ("county", "town", "community", "grid")
COVERAGE_USERS = ("county", "town")
DEEP_FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)
PAGE = 50


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    os.environ.setdefault("GONGZHI_ENV", "test")
    import django

    django.setup()


def get_user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def fresh(user: Any) -> Any:
    """The user without the policy's per-request grant cache, as a new request would have it."""
    user.__dict__.pop("_gongzhi_grants", None)
    return user


def client_for(user: Any) -> Any:
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def fetch(client: Any, url: str, params: dict[str, Any] | None = None) -> Any:
    response = client.get(url, params or {})
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} {params} -> {response.status_code}")
    return response


# ---- database housekeeping -----------------------------------------------------------------


def task_pg_reset(args: argparse.Namespace) -> dict[str, Any]:
    """Drop and create the benchmark's PostgreSQL database (never touches any other)."""
    import psycopg

    url = urlparse(args.url)
    name = unquote(url.path.lstrip("/"))
    if not name.startswith("gongzhi_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the benchmark only recreates gongzhi_bench*")
    conninfo = {"host": url.hostname, "port": url.port or 5432, "user": unquote(url.username or "postgres")}
    if url.password:
        conninfo["password"] = unquote(url.password)
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return {"database": name}


def task_dbinfo(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
        else:
            cursor.execute("show server_version")
        version = cursor.fetchone()[0]
        settings: dict[str, str] = {}
        if connection.vendor == "postgresql":
            for name in (
                "shared_buffers",
                "work_mem",
                "effective_cache_size",
                "max_parallel_workers_per_gather",
            ):
                cursor.execute(f"show {name}")
                settings[name] = cursor.fetchone()[0]
        else:
            for name in ("journal_mode", "synchronous", "cache_size", "page_size"):
                cursor.execute(f"pragma {name}")
                settings[name] = str(cursor.fetchone()[0])
    return {"vendor": connection.vendor, "version": version, "settings": settings}


def task_counts(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.db import connection

    from gongzhi.housing.models import Building, Compound, Entrance, Owner, Ownership, Resident, Unit
    from gongzhi.orgs.models import Area

    models = {
        "areas": Area,
        "compounds": Compound,
        "buildings": Building,
        "entrances": Entrance,
        "units": Unit,
        "owners": Owner,
        "ownerships": Ownership,
        "residents": Resident,
    }
    counts: dict[str, Any] = {name: model.objects.count() for name, model in models.items()}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select page_count * page_size from pragma_page_count(), pragma_page_size()")
        else:
            cursor.execute("select pg_database_size(current_database())")
        counts["database_mb"] = round(cursor.fetchone()[0] / 1024 / 1024, 1)
    return counts


def task_analyze(args: argparse.Namespace) -> dict[str, Any]:
    """Planner statistics, as autovacuum (PostgreSQL) or ``PRAGMA optimize`` (SQLite) keep them."""
    setup_django()
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    return {"seconds": round(time.perf_counter() - started, 3)}


def task_codes(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from gongzhi.housing.models import Compound

    codes = list(Compound.objects.order_by("code").values_list("code", flat=True))
    Path(args.codes).write_text(json.dumps(codes))
    return {"compounds": len(codes)}


# ---- registry list latency -----------------------------------------------------------------


def _deep_cursors(scoped: Any, total: int) -> list[int]:
    """Ids at fixed fractions of the scoped, id-ordered list: where page N would start."""
    ordered = scoped.order_by("pk").values_list("pk", flat=True)
    return [ordered[int(total * fraction)] for fraction in DEEP_FRACTIONS if int(total * fraction) < total]


def _search_names(scoped: Any, cursors: list[int]) -> list[str]:
    """Owner names of units spread over the scope: what a clerk would type to find someone."""
    names: list[str] = []
    for cursor in cursors:
        name = (
            scoped.filter(pk__gt=cursor, ownerships__isnull=False)
            .order_by("pk")
            .values_list("ownerships__owner__name", flat=True)
            .first()
        )
        if name and name not in names:
            names.append(name)
    return names


# The page query of ``gongzhi.housing.views.unit_list`` (commit 4d42bca and later), rebuilt
# here without the request, middleware and template, so the two can be told apart.


def _name_search(qs: Any, q: str) -> Any:
    """Room number, or units of the owners of that name (owners found by the name index)."""
    from django.db.models import Q

    from gongzhi.housing.models import Owner, Ownership

    owned = Ownership.objects.filter(owner__in=Owner.objects.filter(name=q).values("id")).values("unit_id")
    return qs.filter(Q(number=q) | Q(id__in=owned))


def _decorate(rows: Any) -> Any:
    return rows.select_related("compound", "building", "entrance")


def _page(qs: Any, after: int | None, q: str) -> Any:
    from gongzhi.core.pagination import keyset_page

    return keyset_page(_name_search(qs, q) if q else qs, after, None, load=_decorate)


def _orm_page(user: Any, after: int | None = None, q: str = "") -> Any:
    from gongzhi.orgs import policy

    return _page(policy.scope(fresh(user), "unit"), after, q)


def _unscoped_page(after: int | None = None, q: str = "") -> Any:
    from gongzhi.housing.models import Unit

    return _page(Unit.objects.all(), after, q)


def _plan(user: Any, after: int | None = None, q: str = "") -> str:
    """The database's plan for the page's id query, the one that grows with the data (EXPLAIN only)."""
    from gongzhi.orgs import policy

    qs = policy.scope(fresh(user), "unit")
    if q:
        qs = _name_search(qs, q)
    if after is not None:
        qs = qs.filter(pk__gt=after)
    return qs.order_by("pk").values_list("pk", flat=True)[: PAGE + 1].explain()


def _cases(cursors: list[int], names: list[str]) -> dict[str, Callable[[int], dict[str, Any]]]:
    """Case name -> (request number -> keyword arguments of that request)."""
    return {
        "first_page": lambda i: {},
        "deep_page": lambda i: {"after": cursors[i % len(cursors)]},
        "name_search": lambda i: {"q": names[i % len(names)]},
    }


def _view_params(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in kwargs.items() if value not in (None, "")}


def task_latency(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from gongzhi.housing.models import Unit
    from gongzhi.orgs import policy

    def measure(call: Callable[[int], object]) -> dict[str, Any]:
        return summarise_ms(repeat(call, times=args.requests, budget_s=args.case_seconds))

    # The baseline of the brief: the same page size with no scoping, no joins, no view.
    plain = measure(lambda i: list(Unit.objects.order_by("pk")[:PAGE]))
    all_total = Unit.objects.count()
    all_cursors = _deep_cursors(Unit.objects.all(), all_total)
    all_names = _search_names(Unit.objects.all(), all_cursors)
    unscoped = {
        case: measure(lambda i, make=make: _unscoped_page(**make(i)))
        for case, make in _cases(all_cursors, all_names).items()
    }
    users: dict[str, Any] = {}
    for username in LIST_USERS:
        user = get_user(username)
        scoped = policy.scope(fresh(user), "unit")
        total = scoped.count()
        cursors = _deep_cursors(scoped, total)
        names = _search_names(scoped, cursors)
        client = client_for(user)
        cases = _cases(cursors, names)
        first = fetch(client, UNITS_URL)
        entry: dict[str, Any] = {
            "scope_units": total,
            "first_page_bytes": len(first.content),
            "search_names": [
                {"name": name, "matches_in_scope": _name_search(scoped, name).count()} for name in names
            ],
            "plans": {case: _plan(user, **make(0)) for case, make in cases.items()},
            "view": {},
            "orm": {},
        }
        for case, make in cases.items():
            view = measure(
                lambda i, make=make, client=client: fetch(client, UNITS_URL, _view_params(make(i)))
            )
            orm = measure(lambda i, make=make, user=user: _orm_page(user, **make(i)))
            entry["view"][case] = _ratios(view, plain, unscoped[case])
            entry["orm"][case] = _ratios(orm, plain, unscoped[case])
        users[username] = entry
        print(f"  {username}: {total} units in scope", file=sys.stderr, flush=True)
    plain_again = measure(lambda i: list(Unit.objects.order_by("pk")[:PAGE]))
    return {
        "page_size": PAGE,
        "total_units": all_total,
        "baseline_plain": plain,
        "baseline_plain_after": plain_again,
        "baseline_unscoped": unscoped,
        "users": users,
    }


def _ratios(summary: dict[str, Any], plain: dict[str, Any], same_query: dict[str, Any]) -> dict[str, Any]:
    """Ratios against the plain baseline and against the same query without scoping."""
    out = with_ratios(summary, plain)
    same = with_ratios(summary, same_query)
    out["ratio_unscoped_same_query_p50"] = same["ratio_p50"]
    out["ratio_unscoped_same_query_p95"] = same["ratio_p95"]
    return out


# ---- coverage --------------------------------------------------------------------------------


def task_coverage(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from gongzhi.coverage.compute import compute_coverage
    from gongzhi.orgs import policy

    out: dict[str, Any] = {}
    for username in COVERAGE_USERS:
        user = get_user(username)

        def compute(i: int, user: Any = user) -> Any:
            return compute_coverage(policy.scope(fresh(user), "compound"))

        report = compute(0)
        samples = repeat(compute, times=args.runs, budget_s=args.case_seconds, warmup=1, minimum=5)
        client = client_for(user)
        page = repeat(
            lambda i, client=client: fetch(client, COVERAGE_URL),
            times=args.runs,
            budget_s=args.case_seconds,
            warmup=1,
            minimum=5,
        )
        out[username] = {
            "unmanaged_compounds": report.unmanaged_compounds,
            "unmanaged_buildings": report.total.buildings,
            "gaps": len(report.gaps),
            "compute": summarise_ms(samples),
            "page_view": summarise_ms(page),
        }
    return out


# ---- import ----------------------------------------------------------------------------------


def _result_json(result: Any) -> dict[str, Any]:
    fields = ("ok", "rows", "created", "updated", "unchanged", "owners_created", "error_count", "fatal")
    data = {name: getattr(result, name, None) for name in fields}
    for extra in ("buildings_created", "entrances_created", "ownerships_added", "ownerships_removed"):
        if hasattr(result, extra):
            data[extra] = getattr(result, extra)
    data["first_errors"] = [str(error) for error in list(getattr(result, "errors", []))[:5]]
    return data


def _header_check() -> str | None:
    from workbook import HEADERS

    try:
        from gongzhi.housing.importing.columns import HEADERS as IMPORT_HEADERS
    except ImportError:
        return None
    if tuple(IMPORT_HEADERS) != HEADERS:
        return f"generated headers {HEADERS} differ from the importer's {tuple(IMPORT_HEADERS)}"
    return None


def task_import(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from gongzhi.housing.importer import import_registry

    path = Path(args.path)
    actor = get_user(args.actor)
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    result = import_registry(path, filename=path.name, actor=actor, max_bytes=args.max_bytes)
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    data = _result_json(result)
    rows = data.get("rows") or 0
    out: dict[str, Any] = {
        "result": data,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds, 1) if seconds and rows else None,
        "self_peak_rss_mb": own_peak_rss_mb(),
        "header_mismatch": _header_check(),
    }
    if profiler is not None:
        out["profile"] = _profile_summary(profiler, Path(args.profile), seconds)
    return out


def task_idle(args: argparse.Namespace) -> dict[str, Any]:
    """The floor under every import figure: Django set up, importer and openpyxl imported."""
    setup_django()
    import openpyxl  # noqa: F401

    with contextlib.suppress(ImportError):
        import gongzhi.housing.importer  # noqa: F401
    get_user("county")
    return {"self_peak_rss_mb": own_peak_rss_mb()}


# ---- profile summary -------------------------------------------------------------------------

_FILE_GROUPS = (
    ("/xml/etree/", "xml parsing (openpyxl)"),
    ("/openpyxl/", "openpyxl"),
    ("/et_xmlfile/", "openpyxl"),
    ("/psycopg/", "psycopg (driver, waiting on the server)"),
    ("/django/db/", "django.db (ORM, SQL compile)"),
    ("/django/", "django (other)"),
    ("/pydantic", "pydantic"),
    ("/gongzhi/", "gongzhi (importer and models code)"),
    ("/decimal.py", "decimal"),
)
# Built-ins have no file; their names tell what they are.
_BUILTIN_GROUPS = (
    ("XMLParser", "xml parsing (openpyxl)"),
    ("sqlite3", "sqlite3 (SQL execution in C)"),
    ("SQLiteCursorWrapper", "sqlite3 (SQL execution in C)"),
    ("psycopg", "psycopg (driver, waiting on the server)"),
    ("pydantic_core", "pydantic"),
    ("zlib", "zip inflate"),
    ("Decompress", "zip inflate"),
)


# Stages of an import: (label, file suffix, function); cumulative time of each.
_STAGES = (
    ("read rows (openpyxl, in the importer)", "importing/sources.py", "_xlsx_rows"),
    ("validate rows (pydantic)", "importing/rows.py", "parse_row"),
    ("admit rows (compound, permission, duplicate check)", "importing/writer.py", "admit"),
    ("write batches (queries and inserts)", "importing/writer.py", "process"),
    ("audit event", "core/audit.py", "record_change"),
)


def _stages(entries: dict[tuple[str, int, str], tuple[Any, ...]], wall_s: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, suffix, function in _STAGES:
        seconds = sum(
            stat[3]
            for (filename, _line, name), stat in entries.items()
            if filename.endswith(suffix) and name == function
        )
        out[label] = {
            "seconds": round(seconds, 3),
            "share_of_wall": round(seconds / wall_s, 3) if wall_s else None,
        }
    return out


def _group_of(filename: str, function: str) -> str:
    for marker, label in _FILE_GROUPS:
        if marker in filename:
            return label
    for marker, label in _BUILTIN_GROUPS:
        if marker in function:
            return label
    return "python builtins / other"


def _profile_summary(profiler: cProfile.Profile, dump: Path, wall_s: float, top: int = 20) -> dict[str, Any]:
    """Where the import's time goes: own time grouped by library, and the top functions."""
    profiler.dump_stats(str(dump))
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    groups: dict[str, float] = {}
    rows = []
    for (filename, line, function), (_cc, calls, own, cumulative, _callers) in entries.items():
        label = _group_of(filename, function)
        groups[label] = groups.get(label, 0.0) + own
        where = f"{Path(filename).name}:{line}({function})" if line else function
        rows.append((own, cumulative, calls, where, filename))
    total_own = sum(groups.values()) or 1.0
    by_own = sorted(rows, reverse=True)[:top]
    by_cumulative = sorted(rows, key=lambda r: r[1], reverse=True)[:top]
    return {
        "profiled_wall_s": round(wall_s, 3),
        "dump": str(dump),
        "stages_cumulative": _stages(entries, wall_s),
        "own_time_by_group": {
            label: {"seconds": round(sec, 3), "share": round(sec / total_own, 3)}
            for label, sec in sorted(groups.items(), key=lambda kv: -kv[1])
        },
        "top_own_time": [
            {"function": where, "own_s": round(own, 3), "cumulative_s": round(cum, 3), "calls": calls}
            for own, cum, calls, where, _f in by_own
        ],
        "top_cumulative": [
            {"function": where, "own_s": round(own, 3), "cumulative_s": round(cum, 3), "calls": calls}
            for own, cum, calls, where, filename in by_cumulative
            if "/gongzhi/" in filename or "/django/db/" in filename or "/openpyxl/" in filename
        ],
    }


# ---- entry point -----------------------------------------------------------------------------

TASKS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "pg-reset": task_pg_reset,
    "dbinfo": task_dbinfo,
    "counts": task_counts,
    "analyze": task_analyze,
    "codes": task_codes,
    "latency": task_latency,
    "coverage": task_coverage,
    "import": task_import,
    "idle": task_idle,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--codes")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--case-seconds", type=float, default=90.0)
    parser.add_argument("--path")
    parser.add_argument("--actor", default="county")
    parser.add_argument("--max-bytes", type=int, default=None)
    parser.add_argument("--profile", help="write a cProfile dump here and summarise it")
    args = parser.parse_args(argv)
    result = TASKS[args.task](args)
    args.result.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
