"""Django-side tasks of the owners' vote benchmark, one per process, started by ``bench/votes.py``.

    DATABASE_URL=... GONGZHI_ENV=test python bench/votes_worker.py TASK --result out.json [options]

Each task writes one JSON object to ``--result``. Nothing here changes application code or
settings; the data comes from ``bench/votes_data.py``, shared helpers from ``bench/worker.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import own_peak_rss_mb, ratio, repeat, summarise_ms
from votes_data import ADMIN, COMPOUND_CODE
from worker import client_for, setup_django

TRIVIAL_URL = "/login/"


class BenchError(Exception):
    pass


def task_build(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    from votes_data import build

    return build(args.units)


def _decision() -> Any:
    setup_django()
    from gongzhi.decisions.models import Decision

    return Decision.objects.get(compound__code=COMPOUND_CODE)


def _read_querysets(decision: Any) -> tuple[Any, Any]:
    """The two querysets ``count_decision`` reads, column for column."""
    from gongzhi.decisions.models import BallotEntry, Elector

    electors = Elector.objects.filter(decision=decision).values_list(
        "unit_id", "owner_key", "area_m2", "kind", "developer_held"
    )
    entries = BallotEntry.objects.filter(decision=decision).values_list(
        "seq", "elector__unit_id", "choice", "channel", "cast_at"
    )
    return electors, entries


def read_rows(decision: Any) -> int:
    """The baseline: every row ``count_decision`` reads, read and dropped."""
    n = 0
    for qs in _read_querysets(decision):
        for _row in qs.iterator(chunk_size=5000):
            n += 1
    return n


def read_raw(decision: Any) -> int:
    """The same SQL through a bare cursor: no ORM conversion of rows into Python values."""
    from django.db import connection

    n = 0
    for qs in _read_querysets(decision):
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(5000):
                n += len(rows)
    return n


def _summary(result: Any) -> dict[str, Any]:
    figures = result.to_dict()
    keys = (
        "total_units",
        "total_area",
        "total_owners",
        "participating_units",
        "participating_area",
        "participating_owners",
        "agree_area",
        "agree_owners",
        "ignored_parking_ballots",
        "quorum_met",
        "approved",
    )
    return {key: figures[key] for key in keys if key in figures}


def _median_s(samples: list[float]) -> float:
    return round(statistics.median(samples), 4)


def task_count(args: argparse.Namespace) -> dict[str, Any]:
    decision = _decision()
    from gongzhi.decisions import ballots as B
    from gongzhi.decisions import queries
    from gongzhi.decisions.counting import _voter, count_decision
    from gongzhi.decisions.tally import Choice, tally

    rows = read_rows(decision)
    result = count_decision(decision)  # warms caches; its figures go into the report
    read_raw(decision)
    samples: dict[str, list[float]] = {"read": [], "raw": [], "count": []}
    for _ in range(args.repeat):  # alternating, so drift on a shared machine hits all alike
        for name, call in (("read", read_rows), ("raw", read_raw), ("count", count_decision)):
            gc.collect()
            t0 = time.perf_counter()
            call(decision)
            samples[name].append(time.perf_counter() - t0)
    # Where the count's time goes beyond reading: the two pure steps on inputs already read.
    electors, entries_qs = _read_querysets(decision)
    voters = [_voter(*row) for row in electors.iterator(chunk_size=5000)]
    entries = [B.Entry(seq, str(u), c, ch, at) for seq, u, c, ch, at in entries_qs.iterator(chunk_size=5000)]
    effective_s, tally_s = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        chosen = B.effective(entries, decision.precedence)
        t1 = time.perf_counter()
        tally(voters, {u: Choice(e.choice) for u, e in chosen.items()}, decision.matter)
        tally_s.append(time.perf_counter() - t1)
        effective_s.append(t1 - t0)
    _buildings, overall = queries.progress(decision)
    read_s, count_s = _median_s(samples["read"]), _median_s(samples["count"])
    return {
        "rows_read": rows,
        "repeat": args.repeat,
        "read_median_s": read_s,
        "raw_cursor_median_s": _median_s(samples["raw"]),
        "count_median_s": count_s,
        "count_vs_read": ratio(count_s, read_s),
        "count_units_per_s": round(len(voters) / count_s),
        "read_rows_per_s": round(rows / read_s),
        "samples_s": {k: [round(v, 4) for v in vs] for k, vs in samples.items()},
        "pure_steps_median_s": {
            "ballots.effective": _median_s(effective_s),
            "tally.tally": _median_s(tally_s),
        },
        "result": _summary(result),
        "progress_agrees_with_count": overall.voted_units == result.participating_units,
    }


def task_memory(args: argparse.Namespace) -> dict[str, Any]:
    """Memory of one count, each mode in a fresh process: ``idle`` (Django set up, the
    decision read: the floor), ``read`` (the baseline's rows read once), ``count`` (one
    ``count_decision`` and nothing else, so the process's peak RSS is the count's) and
    ``trace`` (tracemalloc's peak of a count and of the pure tally on inputs already read;
    tracemalloc's own bookkeeping inflates RSS, hence a process of its own)."""
    import tracemalloc

    decision = _decision()
    from gongzhi.decisions import ballots as B
    from gongzhi.decisions.counting import _voter, count_decision
    from gongzhi.decisions.tally import Choice, tally

    out: dict[str, Any] = {"mode": args.mode, "floor_rss_mb": own_peak_rss_mb()}
    gc.collect()
    t0 = time.perf_counter()
    if args.mode == "read":
        read_rows(decision)
    elif args.mode == "count":
        count_decision(decision)
    elif args.mode == "trace":
        tracemalloc.start()
        count_decision(decision)
        out["count_tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
        electors, entries_qs = _read_querysets(decision)
        voters = [_voter(*row) for row in electors.iterator(chunk_size=5000)]
        entries = [B.Entry(s, str(u), c, ch, at) for s, u, c, ch, at in entries_qs.iterator(chunk_size=5000)]
        ballots = {u: Choice(e.choice) for u, e in B.effective(entries, decision.precedence).items()}
        del entries
        gc.collect()
        tracemalloc.start()
        tally(voters, ballots, decision.matter)
        out["tally_alone_tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
        tracemalloc.stop()
    out["seconds"] = round(time.perf_counter() - t0, 3)
    out["peak_rss_mb"] = own_peak_rss_mb()
    return out


def task_progress(args: argparse.Namespace) -> dict[str, Any]:
    decision = _decision()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from gongzhi.decisions import queries
    from gongzhi.decisions.models import Decision

    def timed(call: Callable[[int], object]) -> dict[str, Any]:
        return summarise_ms(
            repeat(call, times=args.calls, budget_s=args.case_seconds, warmup=3, minimum=args.calls)
        )

    def after_new_ballot() -> None:
        # Progress is cached per chain length: forgetting it is what a new ballot does.
        queries._PROGRESS.clear()

    out: dict[str, Any] = {
        "orm_floor": timed(lambda _i: Decision.objects.get(pk=decision.pk)),
        # The worst case: a ballot arrived since the last refresh, every time.
        "progress_query": timed(lambda _i: (after_new_ballot(), queries.progress(decision))),
        "progress_query_unchanged": timed(lambda _i: queries.progress(decision)),
    }
    try:
        url = reverse("decision-progress", args=[decision.pk])
    except NoReverseMatch:
        out["page"] = {"skipped": "the URL decision-progress does not exist: measured queries.progress only"}
        return out
    client = client_for(get_user_model().objects.get(username=ADMIN))
    anonymous = Client(HTTP_HOST="localhost")

    def get(client: Any, url: str, marker: str) -> Any:
        response = client.get(url)
        if response.status_code != 200 or marker not in response.content.decode():
            raise BenchError(f"GET {url} -> {response.status_code}")
        return response

    with CaptureQueriesContext(connection) as queries_made:
        page = get(client, url, "progress-table")
    out["page_url"] = url
    out["page_queries"] = len(queries_made)
    out["page_bytes"] = len(page.content)
    out["trivial_url"] = TRIVIAL_URL
    out["trivial_page"] = timed(lambda _i: get(anonymous, TRIVIAL_URL, "<form"))
    out["page"] = timed(lambda _i: (after_new_ballot(), get(client, url, "progress-table")))
    out["page_unchanged"] = timed(lambda _i: get(client, url, "progress-table"))
    out["page_vs_trivial_p50"] = ratio(out["page"]["p50_ms"], out["trivial_page"]["p50_ms"])
    out["page_vs_trivial_p95"] = ratio(out["page"]["p95_ms"], out["trivial_page"]["p95_ms"])
    out["query_share_of_page_p50"] = ratio(out["progress_query"]["p50_ms"], out["page"]["p50_ms"])
    return out


def task_pg_reset(args: argparse.Namespace) -> dict[str, Any]:
    """Drop and create the benchmark's database (only ever one named gz_bench_votes*)."""
    from urllib.parse import unquote, urlparse

    import psycopg

    url = urlparse(args.url)
    name = unquote(url.path.lstrip("/"))
    if not name.startswith("gz_bench_votes"):
        raise SystemExit(f"refusing to drop {name!r}: this benchmark only recreates gz_bench_votes*")
    conninfo: dict[str, Any] = {
        "host": url.hostname,
        "port": url.port or 5432,
        "user": unquote(url.username or "postgres"),
    }
    if url.password:
        conninfo["password"] = unquote(url.password)
    with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return {"database": name}


def task_dbinfo(args: argparse.Namespace) -> dict[str, Any]:
    from worker import task_dbinfo as dbinfo

    return dbinfo(args)


TASKS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "build": task_build,
    "count": task_count,
    "memory": task_memory,
    "progress": task_progress,
    "pg-reset": task_pg_reset,
    "dbinfo": task_dbinfo,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--case-seconds", type=float, default=120.0)
    parser.add_argument("--mode", choices=("idle", "read", "count", "trace"), default="count")
    args = parser.parse_args(argv)
    result = TASKS[args.task](args)
    args.result.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
