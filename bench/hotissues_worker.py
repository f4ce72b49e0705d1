"""Django-side tasks of the hot-issue warning benchmark, one per process, started by
``bench/hotissues.py``.

    DATABASE_URL=... GONGZHI_ENV=test python bench/hotissues_worker.py TASK --result out.json [options]

Each task writes one JSON object to ``--result``. Nothing here changes application code or
settings. The data's clock: the requests end at ``tickets_data.NOW`` (2026-11-20), so every
call is made with ``now`` = that time; the home page, which takes ``timezone.now()``, sees
the same instant through a clock set on the warnings module of this process only.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import sys
import time
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import own_peak_rss_mb, ratio, summarise_ms, with_ratios
from tickets_data import NOW
from worker import client_for, fresh, get_user, setup_django

# Demo logins (gongzhi/demo/seed.py), narrowest first.
USERS = ("grid", "community", "town", "county")
# Those whose home page carries the warnings (they may manage meetings).
HOME_USERS = ("community", "county")
HOME_URL = "/"
# The ticket's own columns that the signal query reads (no joins).
PLAIN_COLUMNS = (
    "id",
    "compound_id",
    "building_id",
    "category_id",
    "created_at",
    "updated_at",
    "reopen_count",
    "satisfaction",
    "state",
    "unreasonable",
    "area_path",
)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def interleaved(calls: dict[str, Callable[[int], object]], args: argparse.Namespace) -> dict[str, Any]:
    """p50/p95 of several cases measured in turn (a, b, c, a, b, c, ...), so that a change in
    the machine's load during the case touches all of them alike. Up to ``--repeats`` rounds
    within ``--case-seconds`` (at least 5), after one unmeasured round."""
    load = loadavg()
    for call in calls.values():
        call(-1)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    started = time.perf_counter()
    for i in range(args.repeats):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call(i)
            samples[name].append(time.perf_counter() - t0)
        if i + 1 >= 5 and time.perf_counter() - started > args.case_seconds:
            break
    return {name: {**summarise_ms(values), "loadavg": load} for name, values in samples.items()}


def _span() -> tuple[Any, dt.datetime, dt.datetime]:
    """The thresholds in force, the start of the two windows and of the current one."""
    from gongzhi.meetings.models import HotIssueSettings
    from gongzhi.meetings.warnings import thresholds_of

    thresholds = thresholds_of(HotIssueSettings.current())
    window = dt.timedelta(days=thresholds.window_days)
    return thresholds, NOW - 2 * window, NOW - window


def _area_path(user: Any) -> str:
    from gongzhi.orgs import policy

    paths = sorted(g.area.path for g in policy.active_grants(fresh(user)) if g.area is not None)
    if not paths:
        raise RuntimeError(f"{user.username} has no area grant")
    return paths[0]


def plain_read(path: str, since: dt.datetime) -> Any:
    """Baseline: the same rows (reported in the two windows under the user's area) read with a
    hand-written filter, the ticket's own columns, no policy and no joins."""
    from gongzhi.core.paths import under
    from gongzhi.tickets.models import Ticket

    return Ticket.objects.filter(under("area_path", path), created_at__gt=since).values(*PLAIN_COLUMNS)


def scoped_count(user: Any, since: dt.datetime) -> int:
    """Baseline: the user's scoped requests reported in the two windows, counted."""
    from gongzhi.orgs import policy

    return policy.scope(fresh(user), "ticket").filter(created_at__gt=since).count()


def signals_of(user: Any, since: dt.datetime, active_since: dt.datetime) -> list[Any]:
    from gongzhi.meetings.warnings import signals_in
    from gongzhi.orgs import policy

    u = fresh(user)
    return signals_in(policy.scope(u, "ticket"), policy.scope(u, "opinion"), since, active_since=active_since)


def _explain(sql: str) -> str:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                return "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
    except Exception as exc:  # noqa: BLE001 - a plan is informative only
        return f"(no plan: {exc})"


def _plans(captured: list[dict[str, Any]]) -> dict[str, Any]:
    """The plans of the signal queries among those ``warnings_for`` made."""
    out: dict[str, Any] = {}
    for query in captured:
        sql = query["sql"]
        if "reopen_count" in sql and '"tickets_ticket"' in sql and "created_at" in sql:
            out["ticket_signals"] = {"sql": sql, "plan": _explain(sql)}
        elif '"consultations_opinion"' in sql and "created_at" in sql and "outcome" in sql:
            out["opinion_signals"] = {"sql": sql, "plan": _explain(sql)}
    return out


def _signal_counts(signals: list[Any], since: dt.datetime, start: dt.datetime) -> dict[str, int]:
    from gongzhi.meetings.hotissues import TICKET

    tickets = [s for s in signals if s.source == TICKET]
    return {
        "total": len(signals),
        "tickets": len(tickets),
        "opinions": len(signals) - len(tickets),
        "current_window": sum(1 for s in signals if start < s.at <= NOW),
        "previous_window": sum(1 for s in signals if since < s.at <= start),
        "reopened_older": sum(1 for s in tickets if s.at <= since),
        "without_compound": sum(1 for s in signals if s.compound_id is None),
    }


# ---- warnings_for per login ------------------------------------------------------------------


def task_warnings(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gongzhi.meetings import hotissues
    from gongzhi.meetings import warnings as hw
    from gongzhi.tickets.models import Ticket

    thresholds, since, start = _span()
    out: dict[str, Any] = {
        "now": NOW.isoformat(),
        "window_days": thresholds.window_days,
        "tickets_total": Ticket.objects.count(),
        "tickets_in_span_unscoped": Ticket.objects.filter(created_at__gt=since).count(),
        "users": {},
    }
    for login in USERS:
        user = get_user(login)
        path = _area_path(user)
        log(f"  {login}: {path}")
        with CaptureQueriesContext(connection) as ctx:
            found = hw.warnings_for(fresh(user), now=NOW)
        signals = signals_of(user, since, start)
        raw = hotissues.detect(signals, thresholds, NOW)
        entry: dict[str, Any] = {
            "area_path": path,
            "loadavg_at_start": loadavg(),
            "rows_in_span": scoped_count(user, since),
            "read_rows": len(list(plain_read(path, since))),
            "signals": _signal_counts(signals, since, start),
            "warnings": {
                "total": len(found),
                "before_dismissed_and_adopted": len(raw),
                "by_rule": dict(Counter(w.rule for w in found)),
                "signal_ids_in_warnings": sum(len(w.ticket_ids) + len(w.opinion_ids) for w in found),
            },
            "queries": len(ctx.captured_queries),
            "query_ms": {
                q["sql"][:60] + "…": round(float(q["time"]) * 1000, 1) for q in ctx.captured_queries
            },
            "plans": _plans(ctx.captured_queries),
        }
        cases = interleaved(
            {
                "count": lambda i, u=user: scoped_count(u, since),
                "read": lambda i, p=path: list(plain_read(p, since)),
                "full": lambda i, u=user: hw.warnings_for(fresh(u), now=NOW),
            },
            args,
        )
        count, read, full = cases["count"], cases["read"], cases["full"]
        entry["baseline_count"] = count
        entry["baseline_read"] = read
        entry["warnings_for"] = with_ratios(full, count)
        entry["ratio_vs_read_p50"] = ratio(full["p50_ms"], read["p50_ms"])
        entry["ratio_vs_read_p95"] = ratio(full["p95_ms"], read["p95_ms"])
        entry["stages"] = interleaved(
            {
                "signals_in": lambda i, u=user: signals_of(u, since, start),
                "detect": lambda i, s=signals: hotissues.detect(s, thresholds, NOW),
                "still_open": lambda i, r=raw: hw._still_open(r, start),
            },
            args,
        )
        out["users"][login] = entry
        log(
            f"  {login}: {entry['signals']['total']:,} signals, {len(found):,} warnings, "
            f"warnings_for p50 {full['p50_ms']:.1f} ms, count {count['p50_ms']:.1f} ms, "
            f"read {read['p50_ms']:.1f} ms"
        )
    return out


# ---- the pure rules ----------------------------------------------------------------------------


def _profile(call: Callable[[], object], top: int = 18) -> dict[str, Any]:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    call()
    profiler.disable()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((tottime, cumtime, calls, f"{Path(filename).name}:{line}:{function}"))
    rows.sort(reverse=True)
    return {
        "wall_s_profiled": round(wall, 3),
        "top_own_time": [
            {"function": name, "calls": calls, "own_s": round(own, 3), "cumulative_s": round(cum, 3)}
            for own, cum, calls, name in rows[:top]
        ],
    }


def task_detect(args: argparse.Namespace) -> dict[str, Any]:
    """``hotissues.detect`` on the county's signals, built once, against grouping them with a
    Counter; and a profile of one ``warnings_for`` of the county."""
    setup_django()
    from gongzhi.meetings import hotissues
    from gongzhi.meetings import warnings as hw

    thresholds, since, start = _span()
    user = get_user("county")
    signals = signals_of(user, since, start)
    found = hotissues.detect(signals, thresholds, NOW)
    cases = interleaved(
        {
            "counter": lambda i: Counter((s.compound_id, s.category_code) for s in signals),
            "detect": lambda i: hotissues.detect(signals, thresholds, NOW),
        },
        args,
    )
    counter, detect = cases["counter"], cases["detect"]
    groups = Counter((s.compound_id, s.category_code) for s in signals)
    return {
        "signals": len(signals),
        "groups": len(groups),
        "warnings": len(found),
        "by_rule": dict(Counter(w.rule for w in found)),
        "baseline_counter": counter,
        "detect": with_ratios(detect, counter),
        "profile_warnings_for_county": _profile(lambda: hw.warnings_for(fresh(user), now=NOW)),
    }


# ---- the home page -----------------------------------------------------------------------------


def task_home(args: argparse.Namespace) -> dict[str, Any]:
    """``/`` through the test client with and without the warning section, and
    ``hot_issues_summary`` alone, for the logins whose home page carries it."""
    setup_django()
    from gongzhi.core import views as core_views
    from gongzhi.meetings import views_warnings
    from gongzhi.meetings import warnings as hw

    # The page asks for timezone.now(); the data ends at NOW.
    hw.timezone = types.SimpleNamespace(now=lambda: NOW)  # type: ignore[assignment]
    real_summary = core_views.hot_issues_summary

    def get(client: Any) -> Any:
        response = client.get(HOME_URL)
        if response.status_code != 200:
            raise RuntimeError(f"GET {HOME_URL} -> {response.status_code}")
        return response

    def get_without(client: Any) -> Any:
        # The view's call answers None, which the template treats as no section.
        core_views.hot_issues_summary = lambda *a, **k: None  # type: ignore[assignment]
        try:
            return get(client)
        finally:
            core_views.hot_issues_summary = real_summary

    out: dict[str, Any] = {"users": {}}
    for login in HOME_USERS:
        user = get_user(login)
        client = client_for(user)
        page = get(client).content
        entry: dict[str, Any] = {
            "loadavg_at_start": loadavg(),
            "bytes_with": len(page),
            "section_present": b'data-testid="hot-issues"' in page,
        }
        page = get_without(client).content
        entry["bytes_without"] = len(page)
        entry["section_present_without"] = b'data-testid="hot-issues"' in page
        cases = interleaved(
            {
                "with": lambda i, c=client: get(c),
                "without": lambda i, c=client: get_without(c),
                "summary": lambda i, u=user: views_warnings.hot_issues_summary(fresh(u)),
            },
            args,
        )
        with_page, without, summary = cases["with"], cases["without"], cases["summary"]
        entry["with"] = with_ratios(with_page, without)
        entry["without"] = without
        entry["summary"] = summary
        entry["warning_share_p50"] = ratio(summary["p50_ms"], with_page["p50_ms"])
        entry["difference_p50_ms"] = round(with_page["p50_ms"] - without["p50_ms"], 1)
        out["users"][login] = entry
        log(
            f"  home {login}: with {with_page['p50_ms']:.1f} ms, without {without['p50_ms']:.1f} ms, "
            f"summary {summary['p50_ms']:.1f} ms"
        )
    return out


# ---- memory --------------------------------------------------------------------------------


def task_memory(args: argparse.Namespace) -> dict[str, Any]:
    """One thing in this process, so that its peak RSS is that thing's: ``idle`` (Django set up,
    the county admin and their grants loaded), ``read`` (the county's rows of the two windows
    read plainly into a list), ``county`` (the county's warnings)."""
    setup_django()
    from gongzhi.meetings import warnings as hw
    from gongzhi.orgs import policy

    _thresholds, since, _start = _span()
    user = get_user("county")
    policy.active_grants(user)
    started = time.perf_counter()
    out: dict[str, Any] = {"mode": args.mode, "loadavg_at_start": loadavg()}
    if args.mode == "read":
        rows = list(plain_read(_area_path(user), since))
        out["rows"] = len(rows)
    elif args.mode == "county":
        found = hw.warnings_for(fresh(user), now=NOW)
        out["warnings"] = len(found)
    out["seconds"] = round(time.perf_counter() - started, 3)
    out["self_peak_rss_mb"] = own_peak_rss_mb()
    return out


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


TASKS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "warnings": task_warnings,
    "detect": task_detect,
    "home": task_home,
    "memory": task_memory,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--case-seconds", type=float, default=60.0)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--mode", choices=("idle", "read", "county"), default="county")
    args = parser.parse_args(argv)
    result = TASKS[args.task](args)
    args.result.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
