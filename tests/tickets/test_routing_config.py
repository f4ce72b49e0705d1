"""County staff edit routing rules; the next request follows them and says why."""

from __future__ import annotations

import pytest
from django.test import Client

from gongzhi.core.models import AuditEvent
from gongzhi.demo.seed import DEMO_PASSWORD
from gongzhi.orgs.models import Area, ServiceCategory
from gongzhi.tickets.models import RoutingRule

pytestmark = pytest.mark.django_db


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def test_a_community_rule_overrides_the_county_default(file, units):
    water = ServiceCategory.objects.get(code="water")
    community = Area.objects.get(name="南峰社区")
    county = login("county")
    assert county.get("/tickets/routing/").status_code == 200
    response = county.post(
        "/tickets/routing/",
        {
            "category": water.pk,
            "area": community.code,
            "lead_unit": units["MU12"].pk,
            "co_units": [units["MU04"].pk],
        },
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get(category=water, area=community)
    assert rule.lead_unit == units["MU12"]
    assert AuditEvent.objects.filter(action="tickets.routing_rule.save", object_id=str(rule.pk)).exists()
    ticket = file("water", "2幢水管爆裂，楼道里全是水")
    assert ticket.suggested_lead == units["MU12"]
    assert "南峰社区" in ticket.routing_note


def test_the_county_default_is_used_elsewhere_and_cannot_be_removed(file, units):
    ticket = file("water", "水压太低，五楼没水")
    assert ticket.suggested_lead == units["MU04"]
    default = RoutingRule.objects.get(category__code="water", area__isnull=True)
    login("county").post(
        "/tickets/routing/", {"op": "delete", "category": default.category_id, "rule": default.pk}
    )
    assert RoutingRule.objects.filter(pk=default.pk).exists()


@pytest.mark.parametrize("username", ["town", "community", "grid", "liaison", "resident"])
def test_only_county_admins_edit_routing(username, units):
    client = login(username)
    assert client.get("/tickets/routing/").status_code == 403
    water = ServiceCategory.objects.get(code="water")
    client.post("/tickets/routing/", {"category": water.pk, "lead_unit": units["MU12"].pk})
    assert RoutingRule.objects.get(category=water, area__isnull=True).lead_unit == units["MU04"]
