"""Phones are masked; revealing one needs the permission and a reason, and is logged."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.core.masking import mask_name, mask_phone
from gongzhi.core.models import AuditEvent
from gongzhi.demo.seed import DEMO_PASSWORD
from gongzhi.housing.models import Resident

pytestmark = pytest.mark.django_db


def client_for(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password=DEMO_PASSWORD)
    return c


def test_masks():
    assert mask_phone("13857001986") == "138****1986"
    assert mask_phone("0580-4472303") == "058****2303"
    assert mask_phone("12345") == "***45"
    assert mask_phone("") == ""
    assert mask_name("张志毅") == "张**"


def test_unit_page_shows_masked_phones_only(demo_county):
    resident = Resident.objects.get(name="张志毅")
    body = client_for("grid").get(reverse("unit-detail", args=[resident.unit_id])).content.decode()
    assert "138****1986" in body
    assert "13857001986" not in body


def test_a_grid_worker_reveals_a_phone_with_a_reason_and_it_is_logged(demo_county):
    resident = Resident.objects.get(name="张志毅")
    response = client_for("grid").post(
        reverse("reveal-phone", args=["resident", resident.pk]), {"reason": "上门核实漏水"}
    )
    assert response.status_code == 200
    assert "13857001986" in response.content.decode()
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.ACCESS, object_id=str(resident.pk)).latest("id")
    assert event.actor_label == "grid" and event.reason == "上门核实漏水"


def test_revealing_without_a_reason_is_refused_and_not_logged(demo_county):
    resident = Resident.objects.get(name="张志毅")
    before = AuditEvent.objects.filter(kind=AuditEvent.Kind.ACCESS).count()
    response = client_for("grid").post(
        reverse("reveal-phone", args=["resident", resident.pk]), {"reason": " "}
    )
    assert response.status_code == 400
    assert "13857001986" not in response.content.decode()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ACCESS).count() == before


@pytest.mark.parametrize("username", ["branch", "committee", "volunteer", "liaison"])
def test_roles_without_reveal_never_see_the_number(demo_county, username):
    resident = Resident.objects.get(name="张志毅")
    response = client_for(username).post(
        reverse("reveal-phone", args=["resident", resident.pk]), {"reason": "x"}
    )
    assert response.status_code == 403
    assert "13857001986" not in response.content.decode()
