"""Django-side tasks of the resident-request benchmark, one per process, started by ``bench/tickets.py``.

    DATABASE_URL=... GONGZHI_ENV=test python bench/tickets_worker.py TASK --result out.json [options]

Each task writes one JSON object to ``--result``. Nothing here changes application code or
settings; the helpers shared with the registry benchmark come from ``bench/worker.py``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import own_peak_rss_mb, repeat, summarise_ms, with_ratios
from worker import client_for, fresh, get_user, setup_django, task_analyze, task_dbinfo, task_pg_reset

# Demo logins (gongzhi/demo/seed.py): a grid worker, the power company's liaison, the county.
LIST_USERS = ("grid", "liaison", "county")
# (case, login, query): the default table is by member unit; ``dim=grid`` lists every grid.
KPI_CASES = (
    ("county", "county", {}),
    ("county_by_grid", "county", {"dim": "grid"}),
    ("town", "town", {}),
    ("grid", "grid", {}),
    ("liaison", "liaison", {}),
)
DEEP_FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)
TICKETS_URL = "/tickets/"
TASKS_URL = "/tickets/tasks/"
KPI_URL = "/kpi/"
EXPORT_URL = "/kpi/tickets.csv"
PROBE_TABLE = "bench_intake_probe"
# Categories a partner may file without a photo or a required answer (gongzhi/demo/county.py).
INTAKE_CATEGORIES = ("parking", "disputes", "stairwell", "greening", "water", "environment", "welfare")
EXPORT_BATCH = 2000


def url_exists(url: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(url)
    except Resolver404:
        return False
    return True


def get_ok(client: Any, url: str, params: dict[str, Any] | None = None) -> Any:
    response = client.get(url, params or {})
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} {params} -> {response.status_code}")
    return response


# ---- data ------------------------------------------------------------------------------------


def task_seed(args: argparse.Namespace) -> dict[str, Any]:
    """The demo county at ``--scale``, from ``gongzhi.demo.seed.seed`` (no demo requests)."""
    setup_django()
    from gongzhi.demo.seed import seed

    started = time.perf_counter()
    counts = seed(scale=args.scale)
    return {"seconds": round(time.perf_counter() - started, 3), "counts": counts}


def task_generate(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from tickets_data import check_sample, generate

    result = generate(args.tickets, log=lambda m: print(m, file=sys.stderr, flush=True))
    result["check"] = check_sample()
    return result


def task_counts(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.db import connection

    from gongzhi.housing.models import Unit
    from gongzhi.orgs.models import Area
    from gongzhi.tickets.models import Task, Ticket, TicketEvent

    counts: dict[str, Any] = {
        "units": Unit.objects.count(),
        "grids": Area.objects.filter(level=Area.Level.GRID).count(),
        "tickets": Ticket.objects.count(),
        "tasks": Task.objects.count(),
        "events": TicketEvent.objects.count(),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select page_count * page_size from pragma_page_count(), pragma_page_size()")
        else:
            cursor.execute("select pg_database_size(current_database())")
        counts["database_mb"] = round(cursor.fetchone()[0] / 1024 / 1024, 1)
    return counts


# ---- lists -----------------------------------------------------------------------------------


def _cursors(ordered_ids: Any, total: int) -> list[int]:
    """Ids at fixed fractions of a newest-first list: where page N would continue from."""
    return [ordered_ids[int(total * f)] for f in DEEP_FRACTIONS if int(total * f) < total]


def _plan(qs: Any) -> str:
    try:
        return qs.explain()
    except Exception as exc:  # noqa: BLE001 - a plan is informative only
        return f"(no plan: {exc})"


def task_lists(args: argparse.Namespace) -> dict[str, Any]:
    """p50/p95 of the ticket and task lists (the ``queries`` functions and the pages)."""
    setup_django()
    from gongzhi.orgs import policy
    from gongzhi.tickets import queries
    from gongzhi.tickets.models import Task, Ticket

    def measure(call: Callable[[int], object]) -> dict[str, Any]:
        return summarise_ms(repeat(call, times=args.requests, budget_s=args.case_seconds))

    page_size = 50
    plain = measure(lambda i: list(Ticket.objects.order_by("-pk")[:page_size]))
    plain_tasks = measure(lambda i: list(Task.objects.order_by("-pk")[:page_size]))
    admin = get_user("admin")  # a superuser: the same page queries without any scoping
    unscoped = {
        "ticket_first": measure(lambda i: queries.ticket_page(fresh(admin))),
        "task_first": measure(lambda i: queries.task_page(fresh(admin))),
    }
    pages = {"tickets": url_exists(TICKETS_URL), "tasks": url_exists(TASKS_URL)}
    users: dict[str, Any] = {}
    for username in LIST_USERS:
        user = get_user(username)
        tickets = policy.scope(fresh(user), "ticket", policy.VIEW)
        tasks = policy.scope(fresh(user), "task", policy.VIEW)
        ticket_total, task_total = tickets.count(), tasks.count()
        ticket_cursors = _cursors(tickets.order_by("-pk").values_list("pk", flat=True), ticket_total)
        task_cursors = _cursors(tasks.order_by("-pk").values_list("pk", flat=True), task_total)
        open_filter = queries.TicketFilters(group="open")

        def tc(i: int, c: list[int] = ticket_cursors) -> int | None:
            return c[i % len(c)] if c else None

        def kc(i: int, c: list[int] = task_cursors) -> int | None:
            return c[i % len(c)] if c else None

        orm_cases: dict[str, Callable[[int], object]] = {
            "ticket_first": lambda i, u=user: queries.ticket_page(fresh(u)),
            "ticket_deep": lambda i, u=user: queries.ticket_page(fresh(u), after=tc(i)),
            "ticket_open": lambda i, u=user, f=open_filter: queries.ticket_page(fresh(u), f),
            "task_first": lambda i, u=user: queries.task_page(fresh(u)),
            "task_deep": lambda i, u=user: queries.task_page(fresh(u), after=kc(i)),
            "task_active": lambda i, u=user: queries.task_page(fresh(u), active_only=True),
        }
        id_queries = {
            "ticket_first": tickets.order_by("-pk").values_list("pk", flat=True)[: page_size + 1],
            "ticket_deep": tickets.filter(pk__lt=tc(2) or 0)
            .order_by("-pk")
            .values_list("pk", flat=True)[:51],
            "ticket_open": open_filter.apply(tickets).order_by("-pk").values_list("pk", flat=True)[:51],
            "task_first": tasks.order_by("-pk").values_list("pk", flat=True)[: page_size + 1],
            "task_active": tasks.filter(state__in=queries.W.ACTIVE_TASK_STATES)
            .order_by("-pk")
            .values_list("pk", flat=True)[: page_size + 1],
        }
        entry: dict[str, Any] = {
            "scope_tickets": ticket_total,
            "scope_tasks": task_total,
            "first_page_rows": len(queries.ticket_page(fresh(user)).rows),
            "open_page_rows": len(queries.ticket_page(fresh(user), open_filter).rows),
            "orm": {},
            "view": {},
            "plans": {name: _plan(qs) for name, qs in id_queries.items()},
        }
        for case, call in orm_cases.items():
            base = plain_tasks if case.startswith("task") else plain
            entry["orm"][case] = with_ratios(measure(call), base)
        client = client_for(user)
        view_cases: dict[str, Callable[[int], object]] = {}
        if pages["tickets"]:
            view_cases["ticket_first"] = lambda i, c=client: get_ok(c, TICKETS_URL)
            view_cases["ticket_deep"] = lambda i, c=client: get_ok(c, TICKETS_URL, {"after": tc(i) or ""})
            view_cases["ticket_open"] = lambda i, c=client: get_ok(c, TICKETS_URL, {"group": "open"})
        if pages["tasks"]:
            view_cases["task_first"] = lambda i, c=client: get_ok(c, TASKS_URL, {"all": "1"})
            view_cases["task_deep"] = lambda i, c=client: get_ok(
                c, TASKS_URL, {"all": "1", "after": kc(i) or ""}
            )
            view_cases["task_active"] = lambda i, c=client: get_ok(c, TASKS_URL)
        for case, call in view_cases.items():
            url = TASKS_URL if case.startswith("task") else TICKETS_URL
            status = client.get(url).status_code
            if status != 200:  # e.g. the task page is for unit liaisons only
                entry["view_status"] = {**entry.get("view_status", {}), case: status}
                continue
            base = plain_tasks if case.startswith("task") else plain
            entry["view"][case] = with_ratios(measure(call), base)
        users[username] = entry
        print(
            f"  {username}: {ticket_total} tickets, {task_total} tasks in scope", file=sys.stderr, flush=True
        )
    return {
        "page_size": page_size,
        "pages_present": pages,
        "baseline_plain": plain,
        "baseline_plain_tasks": plain_tasks,
        "baseline_plain_after": measure(lambda i: list(Ticket.objects.order_by("-pk")[:page_size])),
        "baseline_unscoped": {
            k: with_ratios(v, plain if k.startswith("ticket") else plain_tasks) for k, v in unscoped.items()
        },
        "users": users,
    }


# ---- KPI page --------------------------------------------------------------------------------


def task_kpi(args: argparse.Namespace) -> dict[str, Any]:
    """The rollup consumer's throughput, then p50/p95 of ``/kpi/`` or, with a backlog left, of
    the rollup reads the page makes.

    ``refresh_rollups`` runs in slices of 2,000 events for at most ``--refresh-seconds``. If it
    caught up, the page is measured through the test client. If not, every page view would
    spend its own refresh budget on the backlog (up to ``PAGE_REFRESH_BUDGET`` events) and
    measure that instead, so only the page's reads are timed (``queries.total_row``,
    ``unit_rows``, ``league``, ``kpi_table`` by grid) over the rollups built so far.
    """
    setup_django()
    from django.utils import timezone

    from gongzhi.tickets.models import Ticket, TicketEvent

    try:
        from gongzhi.dashboards import queries as kq
        from gongzhi.dashboards.models import RollupCursor
        from gongzhi.dashboards.rollups import refresh_rollups
    except ImportError as exc:
        return {"skipped": f"gongzhi.dashboards is not complete yet ({exc})"}
    total_events = TicketEvent.objects.count()
    out: dict[str, Any] = {"events_total": total_events}
    consumed, caught_up = 0, False
    started = time.perf_counter()
    while time.perf_counter() - started < args.refresh_seconds:
        result = refresh_rollups(max_events=2000)
        consumed += result.events
        if result.caught_up:
            caught_up = True
            break
    seconds = time.perf_counter() - started
    cursor = RollupCursor.objects.order_by("id").first()
    done = cursor.events_done if cursor else consumed
    rate = consumed / seconds if seconds else None
    out["refresh"] = {
        "seconds": round(seconds, 3),
        "events_consumed": consumed,
        "events_done": done,
        "caught_up": caught_up,
        "events_per_s": round(rate, 1) if rate else None,
        "projected_catch_up_s": round((total_events - done) / rate) if rate and not caught_up else 0,
    }
    t0 = time.perf_counter()
    refresh_rollups(max_events=2000)
    out["refresh"]["next_call_s"] = round(time.perf_counter() - t0, 4)
    plain = summarise_ms(
        repeat(lambda i: list(Ticket.objects.order_by("-pk")[:50]), times=args.requests, budget_s=30)
    )
    out["baseline_plain"] = plain
    out["cases"] = {}
    if caught_up and url_exists(KPI_URL):
        out["measured"] = "page"
        out["cases"] = _kpi_pages(args, plain)
        return out
    from django.db import connection

    if connection.vendor == "postgresql" and url_exists(KPI_URL):
        # Another consumer (the sweep, ``refresh-kpi``) holding the cursor makes the page skip
        # its own refresh (``wait=False``) and only read: hold it from a second connection.
        import psycopg

        db = connection.settings_dict
        holder = psycopg.connect(
            dbname=db["NAME"],
            user=db["USER"],
            password=db["PASSWORD"] or None,
            host=db["HOST"],
            port=db["PORT"],
        )
        try:
            holder.execute(f"SELECT id FROM {RollupCursor._meta.db_table} FOR UPDATE")  # noqa: S608
            out["page_while_cursor_held"] = _kpi_pages(args, plain)
        finally:
            holder.rollback()
            holder.close()
    out["measured"] = "reads (backlog left)"
    from gongzhi.orgs.models import Area

    period = kq.Period.from_query({}, timezone.localdate())
    county = Area.objects.get(level=Area.Level.COUNTY)
    town = Area.objects.filter(level=Area.Level.TOWN).order_by("path").first()

    def page_reads(area: Any, dimension: str) -> object:
        units = kq.unit_rows(area, period)
        rows = units if dimension == kq.UNIT else kq.kpi_table(area, dimension, period)
        return kq.total_row(area, period), rows, kq.league(units)

    for name, area, dimension in (
        ("county", county, kq.UNIT),
        ("county_by_grid", county, kq.GRID),
        ("town", town, kq.UNIT),
    ):
        samples = repeat(
            lambda i, a=area, d=dimension: page_reads(a, d), times=args.requests, budget_s=args.case_seconds
        )
        out["cases"][name] = with_ratios(summarise_ms(samples), plain)
    return out


def _kpi_pages(args: argparse.Namespace, plain: dict[str, Any]) -> dict[str, Any]:
    cases: dict[str, Any] = {}
    for name, username, params in KPI_CASES:
        client = client_for(get_user(username))
        response = client.get(KPI_URL, params)
        if response.status_code != 200:
            cases[name] = {"status": response.status_code}
            continue
        samples = repeat(
            lambda i, c=client, q=params: get_ok(c, KPI_URL, q),
            times=args.requests,
            budget_s=args.case_seconds,
            warmup=2,
        )
        cases[name] = {"bytes": len(response.content), **with_ratios(summarise_ms(samples), plain)}
    return cases


def task_path_index(args: argparse.Namespace) -> dict[str, Any]:
    """PostgreSQL only: the grid worker's first page and its plan, as migrated, then with a
    ``varchar_pattern_ops`` index on (area_path, id) built for the experiment and dropped again."""
    setup_django()
    from django.db import connection

    from gongzhi.orgs import policy
    from gongzhi.tickets import queries

    if connection.vendor != "postgresql":
        return {"skipped": "PostgreSQL only"}
    user = get_user("grid")
    ids = policy.scope(fresh(user), "ticket", policy.VIEW).order_by("-pk").values_list("pk", flat=True)[:51]
    tasks = policy.scope(fresh(user), "task", policy.VIEW).order_by("-pk").values_list("pk", flat=True)[:51]

    def state(label: str) -> dict[str, Any]:
        def page(i: int) -> object:
            return queries.ticket_page(fresh(user))

        def task_page(i: int) -> object:
            return queries.task_page(fresh(user))

        return {
            "label": label,
            "ticket_page": summarise_ms(repeat(page, times=args.requests, budget_s=60)),
            "task_page": summarise_ms(repeat(task_page, times=args.requests, budget_s=60)),
            "ticket_plan": ids.explain(analyze=True),
            "task_plan": tasks.explain(analyze=True),
        }

    out = {"before": state("as migrated")}
    name = "bench_ticket_path_pattern"
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(f"CREATE INDEX {name} ON tickets_ticket (area_path varchar_pattern_ops, id)")
        out["build_s"] = round(time.perf_counter() - started, 3)
        cursor.execute("ANALYZE tickets_ticket")
    try:
        out["after"] = state("with (area_path varchar_pattern_ops, id)")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {name}")
    return out


# ---- export memory ---------------------------------------------------------------------------


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.bytes += len(data)
        return len(data)


def task_export(args: argparse.Namespace) -> dict[str, Any]:
    """One export in this process, so that its peak RSS is the export's own.

    ``--mode view``: the county admin's ``/kpi/tickets.csv`` through the test client, the
    streamed body consumed chunk by chunk and thrown away. ``--mode keyset``: the reachable
    alternative and the baseline, the county's scoped tickets read in keyset batches of
    2,000 ids and written as CSV to nowhere. ``--mode idle``: Django set up and the user
    signed in, nothing exported (the floor under both).
    """
    setup_django()
    from django.db import connection

    from gongzhi.orgs import policy

    user = get_user("county")
    started = time.perf_counter()
    out: dict[str, Any] = {"mode": args.mode}
    if args.mode == "idle":
        client_for(user)
    elif args.mode == "view":
        if not url_exists(EXPORT_URL):
            return {"skipped": f"{EXPORT_URL} is not routed yet", "self_peak_rss_mb": own_peak_rss_mb()}
        client = client_for(user)
        response = client.get(EXPORT_URL)
        out["status"] = response.status_code
        out["streaming"] = bool(getattr(response, "streaming", False))
        size = lines = 0
        chunks = response.streaming_content if out["streaming"] else [response.content]
        for chunk in chunks:
            size += len(chunk)
            lines += chunk.count(b"\n")
        out.update(bytes=size, lines=lines, content_type=response.get("Content-Type", ""))
        out["queries"] = None
    else:
        sink = _Sink()
        text = io.TextIOWrapper(sink, encoding="utf-8", newline="")
        writer = csv.writer(text)
        scoped = policy.scope(user, "ticket", policy.VIEW)
        fields = (
            "id",
            "token",
            "state",
            "category__name",
            "area_path",
            "compound__name",
            "created_at",
            "closed_at",
            "lead_unit__name",
            "satisfaction",
        )
        writer.writerow(fields)
        after: int | None = None
        rows = batches = 0
        while True:
            ids_qs = scoped.order_by("-pk")
            if after is not None:
                ids_qs = ids_qs.filter(pk__lt=after)
            ids = list(ids_qs.values_list("pk", flat=True)[:EXPORT_BATCH])
            if not ids:
                break
            batch = scoped.model._default_manager.filter(pk__in=ids).order_by("-pk").values_list(*fields)
            for row in batch:
                writer.writerow(row)
                rows += 1
            batches += 1
            after = ids[-1]
        text.flush()
        out.update(rows=rows, batches=batches, bytes=sink.bytes, vendor=connection.vendor)
    out["seconds"] = round(time.perf_counter() - started, 3)
    out["self_peak_rss_mb"] = own_peak_rss_mb()
    return out


# ---- intake ----------------------------------------------------------------------------------


def task_intake_setup(args: argparse.Namespace) -> dict[str, Any]:
    """The probe table of the minimal view, a partner key and the request bodies to send."""
    setup_django()
    from django.db import connection

    from gongzhi.housing.models import Unit
    from gongzhi.tickets.models import ApiKey, Ticket

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PROBE_TABLE}")
        serial = (
            "INTEGER PRIMARY KEY AUTOINCREMENT" if connection.vendor == "sqlite" else "BIGSERIAL PRIMARY KEY"
        )
        cursor.execute(
            f"CREATE TABLE {PROBE_TABLE} (id {serial}, description VARCHAR(200) NOT NULL, "
            "created_at TIMESTAMP WITH TIME ZONE NOT NULL)"
        )
    out: dict[str, Any] = {"tickets_before": Ticket.objects.count()}
    try:
        from gongzhi.tickets import apikeys
    except ImportError:
        out["api_key"] = None
    else:
        ApiKey.objects.filter(name="bench-intake").delete()
        _key, raw = apikeys.create("bench-intake")
        out["api_key"] = raw
    units = list(Unit.objects.order_by("id").values_list("id", "building_id", "compound_id")[::97][:400])
    bodies = []
    for n, (unit, building, compound) in enumerate(units):
        category = INTAKE_CATEGORIES[n % len(INTAKE_CATEGORIES)]
        body: dict[str, Any] = {
            "category": category,
            "description": f"基准测试诉求 {n}：楼道灯坏了，请尽快处理。",
        }
        if n % 3 == 0:
            body["unit"] = unit
        elif n % 3 == 1:
            body["building"] = building
        else:
            body["compound"], body["address_text"] = compound, "小区大门口"
        bodies.append(body)
    Path(args.path).write_text(json.dumps(bodies, ensure_ascii=False))
    out["bodies"] = len(bodies)
    return out


def task_intake_count(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.db import connection

    from gongzhi.tickets.models import Ticket

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {PROBE_TABLE}")  # noqa: S608 - a constant
        probes = cursor.fetchone()[0]
    return {"tickets": Ticket.objects.count(), "probe_rows": probes}


TASKS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "pg-reset": task_pg_reset,
    "dbinfo": task_dbinfo,
    "analyze": task_analyze,
    "seed": task_seed,
    "generate": task_generate,
    "counts": task_counts,
    "lists": task_lists,
    "kpi": task_kpi,
    "export": task_export,
    "intake-setup": task_intake_setup,
    "intake-count": task_intake_count,
    "path-index": task_path_index,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--case-seconds", type=float, default=60.0)
    parser.add_argument("--refresh-seconds", type=float, default=120.0)
    parser.add_argument("--mode", choices=("view", "keyset", "idle"), default="view")
    parser.add_argument("--path")
    args = parser.parse_args(argv)
    result = TASKS[args.task](args)
    args.result.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
