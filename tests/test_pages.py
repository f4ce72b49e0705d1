"""Every demo role can open its pages; out-of-scope pages answer 403/404 in the user's language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.demo.seed import DEMO_LOGINS, DEMO_PASSWORD
from gongzhi.housing.models import Compound, Unit

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


@pytest.mark.parametrize("username", [login[0] for login in DEMO_LOGINS])
def test_every_demo_login_gets_a_home_page(demo_county, username):
    response = signed_in(username).get(reverse("home"))
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("county", 200),
        ("town", 200),
        ("community", 200),
        ("grid", 200),
        ("branch", 200),
        ("committee", 200),
        ("volunteer", 200),
        ("resident", 200),
        ("liaison", 403),
    ],
)
def test_the_yucai_compound_page_by_role(demo_county, username, status):
    response = signed_in(username).get(
        reverse("compound-detail", args=[Compound.objects.get(name="育才新村").code])
    )
    assert response.status_code == status


def test_the_compound_page_shows_branch_committee_overlap(demo_county):
    body = (
        signed_in("community")
        .get(reverse("compound-detail", args=[Compound.objects.get(name="育才新村").code]))
        .content.decode()
    )
    assert "育才新村第一兼合式党支部" in body
    assert "育才新村业主委员会" in body
    assert "同时在支部和业委会任职" in body or "Serving on both" in body


def test_a_grid_worker_is_refused_another_grids_compound(demo_county):
    other = Compound.objects.get(name="文峰小区")  # 南峰社区, grid 2
    response = signed_in("grid").get(reverse("compound-detail", args=[other.code]))
    assert response.status_code == 403
    assert "没有权限" in response.content.decode()


def test_unknown_addresses_get_a_translated_404(demo_county):
    response = signed_in("county").get("/registry/compounds/NOPE/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    english = signed_in("county")
    english.cookies["django_language"] = "en"
    assert "Page not found" in english.get("/no/such/page/").content.decode()


@pytest.mark.parametrize(
    "name",
    ["compound-list", "unit-list", "owner-list", "org-list", "coverage", "audit-log", "registry-import"],
)
def test_county_admin_lists_open(demo_county, name):
    assert signed_in("county").get(reverse(name)).status_code == 200


def test_coverage_page_shows_the_county_figures(demo_county):
    body = signed_in("county").get(reverse("coverage")).content.decode()
    assert "155" in body and "岱山县" in body


def test_a_resident_sees_only_their_own_household(demo_county):
    client = signed_in("resident")
    mine = Unit.objects.get(residents__name="张志毅")
    assert client.get(reverse("unit-detail", args=[mine.pk])).status_code == 200
    neighbour = Unit.objects.filter(building=mine.building).exclude(pk=mine.pk).first()
    assert client.get(reverse("unit-detail", args=[neighbour.pk])).status_code == 403
    listing = client.get(reverse("unit-list")).context["page"].rows
    assert [u.pk for u in listing] == [mine.pk]


def test_public_qr_landing_needs_no_login_and_shows_no_residents(demo_county):
    compound = Compound.objects.get(name="育才新村")
    channel = compound.channels.filter(kind="qr_poster").first()
    body = Client().get(reverse("public-channel", args=[channel.token])).content.decode()
    assert compound.name in body
    assert "张志毅" not in body


def test_the_printable_poster_carries_a_qr_code(demo_county):
    compound = Compound.objects.get(name="育才新村")
    body = signed_in("grid").get(reverse("coverage-compound-posters", args=[compound.code])).content.decode()
    assert body.count("<svg") == compound.buildings.count()
    assert "/q/" in body
