"""Two submissions of the same form at the same moment — a double tap on a slow phone, two
browser tabs — meet at the consultation's row lock: the first writes, the second finds what
the first wrote. Only PostgreSQL has the row locks this is about.

These tests commit (``transaction=True``) on a small county of their own (``policy_world``);
when a later test of the session needs the demo county, it is put back afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import timezone

from gongzhi.consultations import actions
from gongzhi.consultations.models import (
    BulkReply,
    Channel,
    Consultation,
    Opinion,
    OpinionCategory,
    Reply,
    Response,
)
from tests.concurrency import COMMITTING, demo_county_afterwards, together  # noqa: F401 - the fixture is autouse
from tests.policy_world import build_world

pytestmark = COMMITTING


@pytest.fixture
def consultation() -> tuple[Any, Consultation]:
    world = build_world()
    admin = world.users["county_admin"]
    category, _ = OpinionCategory.objects.get_or_create(code="other", defaults={"name": "其他"})
    c = actions.create_consultation(admin, title="并发", compounds=[world.get("compound", "X")])
    actions.open_consultation(admin, c)
    for i in range(3):
        Opinion.objects.create(
            consultation=c,
            compound=world.get("compound", "X"),
            category=category,
            text=f"意见{i}",
            source="meeting",
            area_path=c.area_path,
            created_at=timezone.now(),
        )
    return admin, c


def test_a_bulk_reply_submitted_twice_at_once_publishes_once(consultation):
    admin, c = consultation
    ids = list(Opinion.objects.filter(consultation=c).values_list("pk", flat=True))
    key = uuid.uuid4().hex

    def submit() -> Any:
        return actions.bulk_reply(admin, c, ids, outcome="accepted", text="统一答复", key=key)

    first, second = together(submit, submit)
    assert isinstance(first, BulkReply) and isinstance(second, BulkReply), (first, second)
    assert first.pk == second.pk
    assert Reply.objects.filter(opinion__consultation=c).count() == 3


def test_a_response_submitted_twice_at_once_is_recorded_once(consultation):
    _admin, c = consultation
    household = c.households.first()

    def submit() -> Any:
        return actions.record_response(
            None, household, willingness="willing", channel=Channel.PHONE_PAGE, idempotency_key="phone:twice"
        )

    first, second = together(submit, submit)
    assert isinstance(first, Response) and isinstance(second, Response), (first, second)
    assert first.pk == second.pk
    assert Response.objects.filter(household=household).count() == 1
