"""What the tests of concurrent writers share: they commit, they run only where row locks
exist, they release threads at one moment, and they leave the demo county as they found it.

A test module uses them with::

    from tests.concurrency import COMMITTING, demo_county_afterwards, together

    pytestmark = COMMITTING
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from gongzhi.demo.county import COUNTY
from gongzhi.orgs.models import Area
from tests.demo_snapshot import seed_demo

# SQLite's in-memory test database is shared between connections through a cache whose
# table locks fail at once ("database table is locked") instead of waiting like row locks
# do; what these tests check — row locks taken by concurrent transactions — exists only on
# PostgreSQL, where the suite runs as well.
COMMITTING = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="concurrent writers need row locks; SQLite's shared in-memory test database has none",
    ),
]


@pytest.fixture(scope="module", autouse=True)
def demo_county_afterwards(
    request: pytest.FixtureRequest, django_db_setup: Any, django_db_blocker: Any
) -> Any:
    """Leave the database as the module found it: if the demo county was there and a later
    test relies on it, put it back (each committing test ends by emptying the database)."""
    with django_db_blocker.unblock():
        had_demo = Area.objects.filter(code=COUNTY[0]).exists()
    yield
    items = request.session.items
    mine = [i for i, item in enumerate(items) if item.module is request.module]
    later = items[mine[-1] + 1 :] if mine else []
    if had_demo and any("demo_county" in getattr(item, "fixturenames", ()) for item in later):
        with django_db_blocker.unblock():
            if not Area.objects.exists():
                seed_demo()


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same moment; each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=20)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - handed back to the test to look at
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results
