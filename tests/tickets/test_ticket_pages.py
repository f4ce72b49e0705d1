"""The request pages: the resident's phone form from a QR poster, tracking, and staff pages."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from gongzhi.demo.seed import DEMO_PASSWORD
from gongzhi.housing.models import ServiceChannel
from gongzhi.orgs.models import ServiceCategory
from gongzhi.tickets.models import Task, Ticket

pytestmark = pytest.mark.django_db


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def jpeg() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(buf, "JPEG")
    buf.seek(0)
    buf.name = "pole.jpg"
    return buf


def poster(building1) -> ServiceChannel:  # type: ignore[no-untyped-def]
    return ServiceChannel.objects.filter(
        building=building1, kind="qr_poster", retired_at__isnull=True
    ).first() or (
        ServiceChannel.objects.create(compound=building1.compound, building=building1, kind="qr_poster")
    )


def test_resident_files_from_the_qr_poster_with_a_photo_and_follows_it(building1):
    channel = poster(building1)
    client = Client()
    page = client.get(f"/report/?c={channel.token}")
    assert page.status_code == 200
    assert building1.compound.name in page.content.decode()
    lighting = ServiceCategory.objects.get(code="lighting")
    response = client.post(
        "/report/",
        {
            "c": channel.token,
            "category": lighting.pk,
            "description": "1幢楼下路灯<script>alert(1)</script>坏了三天",
            "building": building1.pk,
            "reporter_phone": "13900001111",
            "key": "form-1",
            "photos": jpeg(),
            "confirm_new": "1",
        },
    )
    # The lighting category asks which lamp: without the answer the form says so and files nothing.
    assert response.status_code == 400
    assert not Ticket.objects.filter(reporter_phone="13900001111").exists()
    question = lighting.questions.get(code="fixture")
    response = client.post(
        "/report/",
        {
            "c": channel.token,
            "category": lighting.pk,
            "description": "1幢楼下路灯坏了三天",
            "building": building1.pk,
            "reporter_phone": "13900001111",
            "key": "form-1",
            "photos": jpeg(),
            "confirm_new": "1",
            f"q_{question.pk}": "street",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(reporter_phone="13900001111")
    assert ticket.attributes == {"fixture": "street"}
    assert ticket.attachments.get().content_type == "image/jpeg"


def test_resident_files_and_tracks_and_html_is_escaped(building1):
    channel = poster(building1)
    client = Client()
    water = ServiceCategory.objects.get(code="water")
    response = client.post(
        "/report/",
        {
            "c": channel.token,
            "category": water.pk,
            "description": "停水两天了<script>alert(1)</script>",
            "building": building1.pk,
            "reporter_phone": "13900001112",
            "key": "form-2",
            "photos": jpeg(),
            "confirm_new": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get(reporter_phone="13900001112")
    assert ticket.channel == Ticket.Channel.QR_POSTER and ticket.building == building1
    assert ticket.attachments.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    # Posting the same form again (same key) files nothing new.
    client.post(
        "/report/",
        {
            "c": channel.token,
            "category": water.pk,
            "description": "停水两天了",
            "building": building1.pk,
            "reporter_phone": "13900001112",
            "key": "form-2",
            "confirm_new": "1",
        },
    )
    assert Ticket.objects.filter(reporter_phone="13900001112").count() == 1


@pytest.mark.parametrize(
    "username", ["grid", "community", "town", "county", "branch", "committee", "resident"]
)
def test_list_pages_render_for_every_role_that_sees_tickets(username, file):
    file()
    assert login(username).get("/tickets/").status_code == 200


def test_liaison_works_from_the_task_page_and_never_sees_the_reporter(file, users, units):
    from gongzhi.tickets import actions

    ticket = file()
    actions.accept(users["grid"], ticket)
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"])
    liaison = login("liaison")
    assert str(ticket.pk) in liaison.get("/tickets/tasks/").content.decode()
    page = liaison.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "13857001986" not in page and "张志毅" not in page
    task = ticket.tasks.get()
    ticket.refresh_from_db()
    liaison.post(f"/tickets/tasks/{task.pk}/act/accept/", {"version": ticket.version})
    assert Task.objects.get(pk=task.pk).state == "accepted"
    assert login("liaison2").get(f"/tickets/{ticket.pk}/").status_code == 403


def test_desk_moves_from_the_detail_page(file, users):
    ticket = file()
    grid = login("grid")
    page = grid.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-testid="act-accept"' in page
    grid.post(f"/tickets/{ticket.pk}/act/accept/", {"version": ticket.version})
    ticket.refresh_from_db()
    assert ticket.state == "accepted"
    page = grid.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "dispatch-form" in page
    # A stale version is refused, nothing changes.
    grid.post(f"/tickets/{ticket.pk}/act/reject/", {"version": 1, "note": "x"})
    ticket.refresh_from_db()
    assert ticket.state == "accepted"
