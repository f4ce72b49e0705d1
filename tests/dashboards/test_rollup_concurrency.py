"""Two consumers started at the same moment, each on its own database connection, count every
event exactly once: the second waits for the cursor row the first has locked (on SQLite, for
the write lock its IMMEDIATE transactions take)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Max

from gongzhi.dashboards.models import RollupCursor
from gongzhi.dashboards.rollups import CURSOR_NAME, RefreshResult, refresh_rollups
from gongzhi.orgs.models import Area
from gongzhi.tickets.models import Ticket, TicketEvent
from tests.dashboards.scenario import (
    START,
    direct_cells,
    file_request,
    last_event_id,
    rollup_cells,
    walk_to_rating,
)
from tests.demo_snapshot import seed_demo


@contextmanager
def database_for_threads() -> Iterator[None]:
    """What connections opened by other threads use: the test database on PostgreSQL. SQLite's
    test database lives in memory, shared between threads through table locks that fail at
    once instead of waiting; there the threads get a file copy of it, as a deployment has."""
    if connection.vendor != "sqlite":
        yield
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kpi.sqlite3"
        copy = sqlite3.connect(path)
        connection.ensure_connection()
        connection.connection.backup(copy)
        copy.close()
        settings = connections.settings[DEFAULT_DB_ALIAS]
        name = settings["NAME"]
        settings["NAME"] = str(path)
        try:
            yield
        finally:
            settings["NAME"] = name


def in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs at once, each in a thread with its own connection; their results in order."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=10)
            results[index] = job()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_consumers_at_once_count_every_event_once():
    if not Area.objects.exists():  # an earlier test flushed the shared demo county
        seed_demo()
    first_event = last_event_id()
    first_ticket = Ticket.objects.aggregate(m=Max("id"))["m"] or 0
    RollupCursor.objects.update_or_create(
        name=CURSOR_NAME, defaults={"position": first_event, "gaps": {}, "events_done": 0}
    )
    for n in range(8):
        at = START + dt.timedelta(days=n)
        ticket = file_request(
            at, place="大峧小区", code="water" if n % 2 else "power", phone=f"1395600{n:04d}"
        )
        walk_to_rating(ticket, at, resolution="partly" if n % 3 else "resolved")
    new_events = TicketEvent.objects.filter(id__gt=first_event).count()

    with database_for_threads():
        results = in_threads(lambda: refresh_rollups(batch_size=7), lambda: refresh_rollups(batch_size=7))
        [(done, cells, expected)] = in_threads(
            lambda: (
                RollupCursor.objects.get(name=CURSOR_NAME).events_done,
                rollup_cells(),
                direct_cells(first_ticket),
            )
        )

    assert all(isinstance(r, RefreshResult) and r.caught_up for r in results), results
    assert sum(r.events for r in results) == new_events
    assert done == new_events
    assert cells == expected and len(cells) > 20
