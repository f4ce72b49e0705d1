"""The KPI consumer against a direct count: incremental, idempotent, and exact when a request
is excluded after the fact."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from gongzhi.dashboards.kpi import Tally, bucket_of, histogram_percentile, percentile
from gongzhi.dashboards.models import KpiRollup, RollupCursor, TicketFact
from gongzhi.dashboards.rollups import CURSOR_NAME, GAP_WAIT, rebuild_rollups, refresh_rollups
from gongzhi.orgs.models import Area, Organisation
from gongzhi.tickets.models import Ticket, TicketEvent
from tests.dashboards.scenario import (
    START,
    Run,
    direct_cells,
    file_request,
    mark_unreachable,
    mark_unreasonable,
    negative_cells,
    rollup_cells,
    walk_to_rating,
)

pytestmark = pytest.mark.django_db


def county_cell(cells: dict, dimension: str = "all", key: int = 0) -> Tally:
    county = Area.objects.get(level=Area.Level.COUNTY)
    total = Tally()
    for (area, dim, k, _month), tally in cells.items():
        if area == county.pk and dim == dimension and k == key:
            total.add(tally)
    return total


@pytest.mark.parametrize("seed", [20310106, 7])
def test_rollups_match_a_direct_count_of_forty_requests(counting_from_here, seed):
    run = Run(random.Random(seed), counting_from_here, lambda size: refresh_rollups(batch_size=size))
    run.play(40)
    refresh_rollups()

    expected = direct_cells(counting_from_here)
    assert run.refreshes > 3  # counted bit by bit while the requests moved on
    assert county_cell(expected).counts["rated"] > 5  # the run reached follow-ups
    assert Ticket.objects.filter(id__gt=counting_from_here, unreasonable=True).exists() or not run.marked
    assert rollup_cells() == expected
    assert negative_cells() == []
    mine = TicketFact.objects.filter(ticket_id__gt=counting_from_here)
    excluded = set(mine.exclude(excluded_by="").values_list("ticket_id", flat=True))
    assert excluded == {
        t.pk
        for t in Ticket.objects.filter(id__gt=counting_from_here)
        if t.unreasonable or t.merged_into_id or t.unreachable
    }


def test_medians_read_from_buckets_fall_in_the_bucket_of_the_exact_median(counting_from_here):
    run = Run(random.Random(11), counting_from_here, lambda size: refresh_rollups(batch_size=size))
    run.play(30)
    refresh_rollups()
    counted = county_cell(rollup_cells())
    closes = []
    for ticket in Ticket.objects.filter(
        id__gt=counting_from_here, unreasonable=False, unreachable=False, merged_into__isnull=True
    ):
        first = ticket.events.filter(action="close").order_by("id").first()
        if first is not None:
            closes.append(int((first.at - ticket.created_at).total_seconds()))
    assert len(closes) >= 5
    for p in (50, 90):
        assert histogram_percentile(counted.close_hist, p) == bucket_of(percentile(closes, p))


def test_consuming_again_changes_nothing(counting_from_here):
    run = Run(random.Random(3), counting_from_here, lambda size: refresh_rollups(batch_size=size))
    run.play(15)
    refresh_rollups()
    before = rollup_cells()
    position = RollupCursor.objects.get(name=CURSOR_NAME).position

    again = refresh_rollups()

    assert again.events == 0 and again.caught_up
    assert rollup_cells() == before
    assert RollupCursor.objects.get(name=CURSOR_NAME).position == position


def test_counting_step_by_step_equals_counting_in_one_go(counting_from_here):
    run = Run(random.Random(5), counting_from_here, lambda size: refresh_rollups(batch_size=size))
    run.play(25)
    refresh_rollups()
    step_by_step = rollup_cells()
    # Forget everything and start again from the first event ever: the demo's own requests, if
    # any, join in, so compare the requests of this test only (their months are their own).
    rebuild_rollups(batch_size=500)
    months = {cell[3] for cell in step_by_step}
    in_one_go = {cell: tally for cell, tally in rollup_cells().items() if cell[3] in months}
    assert in_one_go == step_by_step


def test_marking_a_rated_request_unreasonable_takes_back_all_it_counted(counting_from_here):
    kept = walk_to_rating(file_request(START, code="water"), START, resolution="resolved")
    spurious = walk_to_rating(
        file_request(START + dt.timedelta(days=1), code="water", number="2"),
        START + dt.timedelta(days=1),
        resolution="not",
        satisfaction="dissatisfied",
    )
    refresh_rollups()
    water = Organisation.objects.get(code="MU04").pk
    before = county_cell(rollup_cells(), "unit", water).counts
    assert (before["rated"], before["resolved"], before["reopened"], before["tasks"]) == (2, 1, 1, 3)
    assert spurious.reopen_count == 1

    mark_unreasonable(spurious, START + dt.timedelta(days=3))
    refresh_rollups()

    after = county_cell(rollup_cells(), "unit", water)
    assert (after.counts["rated"], after.counts["resolved"], after.counts["reopened"]) == (1, 1, 0)
    assert after.counts["tasks"] == 1 and after.counts["closed"] == 1
    assert rollup_cells() == direct_cells(counting_from_here)
    assert TicketFact.objects.get(ticket=spurious).excluded_by == "unreasonable"
    assert TicketFact.objects.get(ticket=kept).excluded_by == ""


def test_an_excluded_request_stays_out_while_it_moves_on(counting_from_here):
    ticket = file_request(START, code="environment")
    refresh_rollups()
    mark_unreasonable(ticket, START + dt.timedelta(hours=1))
    walk_to_rating(ticket, START + dt.timedelta(hours=2))  # handled anyway, but not counted
    refresh_rollups()
    assert rollup_cells() == {}
    assert negative_cells() == []


def test_a_merged_duplicate_and_an_unreachable_reporter_are_left_out(counting_from_here, users):
    from gongzhi.tickets import actions

    parent = file_request(START, code="water")
    child = file_request(START + dt.timedelta(hours=1), code="water", phone="13957005678")
    actions.accept(users["admin"], child, now=START + dt.timedelta(hours=2))
    child.refresh_from_db()
    actions.dispatch(users["admin"], child, lead_unit=child.suggested_lead, now=START + dt.timedelta(hours=3))
    refresh_rollups()
    assert county_cell(rollup_cells()).counts["tasks"] == 1

    actions.merge(users["admin"], child, parent, now=START + dt.timedelta(hours=4))
    walk_to_rating(parent, START + dt.timedelta(hours=5))
    mark_unreachable(parent, START + dt.timedelta(days=2))
    refresh_rollups()

    assert rollup_cells() == {}
    mine = TicketFact.objects.filter(ticket_id__gt=counting_from_here)
    assert set(mine.values_list("excluded_by", flat=True)) == {"merge", "unreachable"}


def test_an_event_that_turns_up_late_is_still_counted_once(counting_from_here):
    first = file_request(START, code="water")
    second = file_request(START, code="water", number="2")
    refresh_rollups()
    top = TicketEvent.objects.order_by("-id").first().id
    lead = first.suggested_lead_id
    rating = {"resolution": "resolved", "satisfaction": "satisfied", "lead": lead}
    # Id top+2 commits first; top+1 belongs to a transaction that is still open.
    TicketEvent.objects.create(id=top + 2, ticket=first, action="rate", at=START, data=rating)
    refresh_rollups()
    cursor = RollupCursor.objects.get(name=CURSOR_NAME)
    assert cursor.position == top + 2 and set(cursor.gaps) == {str(top + 1)}

    TicketEvent.objects.create(id=top + 1, ticket=second, action="rate", at=START, data=rating)
    refresh_rollups()
    refresh_rollups()

    assert county_cell(rollup_cells()).counts["rated"] == 2
    assert RollupCursor.objects.get(name=CURSOR_NAME).gaps == {}


def test_an_id_that_never_turns_up_is_forgotten_after_a_while(counting_from_here):
    ticket = file_request(START, code="water")
    refresh_rollups()
    top = TicketEvent.objects.order_by("-id").first().id
    TicketEvent.objects.create(id=top + 2, ticket=ticket, action="note", at=START)
    now = dt.datetime(2031, 2, 1, 9, tzinfo=dt.UTC)
    refresh_rollups(now=now)
    assert set(RollupCursor.objects.get(name=CURSOR_NAME).gaps) == {str(top + 1)}
    refresh_rollups(now=now + GAP_WAIT / 2)
    assert set(RollupCursor.objects.get(name=CURSOR_NAME).gaps) == {str(top + 1)}
    refresh_rollups(now=now + GAP_WAIT)
    assert RollupCursor.objects.get(name=CURSOR_NAME).gaps == {}


def test_nothing_new_costs_two_queries(counting_from_here, django_assert_num_queries):
    file_request(START, code="water")
    refresh_rollups()
    with django_assert_num_queries(2):
        result = refresh_rollups()
    assert result.events == 0 and KpiRollup.objects.exists()
