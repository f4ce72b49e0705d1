"""Filing a request costs a fixed, small number of queries, whatever the county's size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.tickets import actions

pytestmark = pytest.mark.django_db


def test_intake_query_budget(building1, category):
    water = category("water")
    actions.file_ticket(
        None,
        channel="api",
        category=water,
        description="预热",
        building=building1,
        reporter_phone="13900000000",
    )
    with CaptureQueriesContext(connection) as ctx:
        actions.file_ticket(
            None,
            channel="api",
            category=water,
            description="停水了",
            building=building1,
            reporter_phone="13900000001",
            idempotency_key="q-1",
        )
    # idempotency lookup, category setting, questions, joint branch, routing rule + its co-units;
    # then the ticket, its event, the audit event, the desk's grants, one bulk notification
    # insert, and the two savepoint statements of the transaction inside the test's.
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) <= 13, "\n".join(s[:120] for s in sql)
