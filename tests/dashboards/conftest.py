from __future__ import annotations

import pytest
from django.db.models import Max

from gongzhi.dashboards.models import RollupCursor
from gongzhi.dashboards.rollups import CURSOR_NAME
from gongzhi.tickets.models import Ticket
from tests.dashboards.scenario import last_event_id
from tests.tickets.conftest import building1, category, file, units, users, yucai  # noqa: F401


@pytest.fixture
def counting_from_here(demo_county, db) -> int:  # type: ignore[no-untyped-def]
    """Start the KPI consumer after the events already in the database, so a test counts only
    the requests it makes; returns the id of the last request made before the test."""
    RollupCursor.objects.update_or_create(
        name=CURSOR_NAME, defaults={"position": last_event_id(), "gaps": {}, "events_done": 0}
    )
    return Ticket.objects.aggregate(m=Max("id"))["m"] or 0
