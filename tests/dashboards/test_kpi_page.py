"""The KPI page by role: the county sees every area, a grid worker their grid, a unit liaison
their unit's row and the league of units; others are refused."""

from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from gongzhi.dashboards.kpi import Duration, bucket_of, bucket_value
from gongzhi.dashboards.queries import may_view_kpis
from gongzhi.dashboards.rollups import refresh_rollups
from gongzhi.dashboards.views import format_duration
from gongzhi.demo.seed import DEMO_LOGINS, DEMO_PASSWORD
from gongzhi.orgs.models import Area
from tests.dashboards.scenario import START, file_request, walk_to_rating

pytestmark = pytest.mark.django_db

PERIOD = "?from=2031-01&to=2031-02"
POWER, WATER = "国网岱山县供电公司", "县自来水公司"


def signed_in(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def page(username: str, query: str = PERIOD) -> tuple[str, str]:
    """The page's main table and its league table, as HTML."""
    response = signed_in(username).get("/kpi/" + query)
    assert response.status_code == 200
    body = response.content.decode()
    main, league = body.split('data-testid="kpi-league"')
    return main, league


@pytest.fixture
def two_requests(counting_from_here):  # type: ignore[no-untyped-def]
    """A water leak in the demo grid worker's grid, a leaning pole in another community."""
    leak = walk_to_rating(file_request(START, place="育才新村", code="water"), START)
    pole = walk_to_rating(
        file_request(START + dt.timedelta(days=2), place="大峧小区", code="power", phone="13957009876"),
        START + dt.timedelta(days=2),
        resolution="partly",
        satisfaction="basic",
    )
    return leak, pole


def test_the_county_sees_every_unit_and_both_requests(two_requests):
    main, league = page("county")
    assert 'data-testid="kpi-reported">2<' in main
    assert POWER in main and WATER in main and "高亭镇人民政府" in main
    assert POWER in league and WATER in league
    # The water unit: one task signed for in time, resolved and satisfied: 100 on every count.
    assert league.index(WATER) < league.index(POWER)


def test_the_county_can_read_by_grid_category_and_community(two_requests):
    leak, pole = two_requests
    by_grid, _ = page("county", PERIOD + "&dim=grid")
    assert leak.grid.name in by_grid and pole.grid.name in by_grid
    by_community, _ = page("county", PERIOD + "&dim=community")
    assert "南峰社区" in by_community and "大峧社区" in by_community
    by_category, _ = page("county", PERIOD + "&dim=category")
    assert "供水" in by_category and "电力设施" in by_category


def test_a_grid_worker_sees_only_their_grid(two_requests):
    leak, pole = two_requests
    main, league = page("grid")
    assert 'data-testid="kpi-reported">1<' in main
    assert WATER in main and POWER not in main
    assert POWER not in league
    town = Area.objects.get(name="高亭镇")
    assert signed_in("grid").get(f"/kpi/{PERIOD}&area={town.code}").status_code == 404
    assert signed_in("grid").get(f"/kpi/{PERIOD}&area={pole.grid.code}").status_code == 404


def test_a_unit_liaison_sees_their_row_and_the_league_but_no_area_figures(two_requests):
    main, league = page("liaison", PERIOD + "&dim=grid")
    table = main.split('data-testid="kpi-table"')[1]
    assert POWER in table and WATER not in table
    assert "kpi-reported" not in main  # no area totals
    assert 'name="dim"' not in main
    assert POWER in league and WATER in league
    # Never who reported or who rated.
    assert "王秀英" not in main + league and "13957009876" not in main + league
    community = Area.objects.get(name="南峰社区")
    assert signed_in("liaison").get(f"/kpi/{PERIOD}&area={community.code}").status_code == 404


@pytest.mark.parametrize("username", ["resident", "branch", "committee", "volunteer"])
def test_roles_below_an_area_have_no_kpi_page(demo_county, username):
    assert signed_in(username).get("/kpi/").status_code == 403


@pytest.mark.parametrize("username", [login[0] for login in DEMO_LOGINS])
def test_the_menu_offers_the_page_to_exactly_those_who_may_open_it(demo_county, username):
    user = get_user_model().objects.get(username=username)
    status = signed_in(username).get("/kpi/").status_code
    assert status in (200, 403)
    assert may_view_kpis(user) == (status == 200)


def test_the_refresh_command_counts_new_events(counting_from_here):
    file_request(START, code="water")
    out = io.StringIO()
    call_command("refresh-kpi", stdout=out)
    assert out.getvalue().strip() == "1 events counted"
    call_command("refresh-kpi", stdout=out)
    assert out.getvalue().strip().endswith("0 events counted")


def test_signing_in_is_needed(demo_county):
    response = Client().get("/kpi/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_medians_need_the_minimum_count(two_requests, settings):
    settings.GONGZHI_KPI_MIN_COUNT = 2
    main, _ = page("county", PERIOD + "&dim=category")
    assert "too few" in main  # one request per category
    settings.GONGZHI_KPI_MIN_COUNT = 1
    main, _ = page("county", PERIOD + "&dim=category")
    # The leak was closed 12 hours after it was reported (six steps of two hours).
    with translation.override("en"):
        twelve_hours = format_duration(Duration(bucket_value(bucket_of(12 * 3600))))
    assert "too few" not in main and f">{twelve_hours}<" in main
    assert twelve_hours.endswith(" h") and abs(Fraction(twelve_hours[:-2]) - 12) <= Fraction(12, 10)


def test_the_page_costs_the_same_queries_for_two_or_twelve_requests(two_requests):
    client = signed_in("county")
    client.get("/kpi/" + PERIOD)  # sessions and caches warm
    with CaptureQueriesContext(connection) as few:
        client.get("/kpi/" + PERIOD)
    for n in range(10):
        at = START + dt.timedelta(days=5 + n)
        walk_to_rating(file_request(at, place="大峧小区", code="water", phone=f"1395700{n:04d}"), at)
    refresh_rollups()
    with CaptureQueriesContext(connection) as many:
        response = client.get("/kpi/" + PERIOD)
    assert 'data-testid="kpi-reported">12<' in response.content.decode()
    assert len(many) == len(few)
