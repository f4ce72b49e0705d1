"""Checking in and out: by the QR code at the venue on the volunteer's phone, and at the
staff desk with the times given; the refusals come back as messages and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.volunteers import actions
from gongzhi.volunteers.models import Attendance

pytestmark = pytest.mark.django_db


def local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def test_the_poster_carries_the_qr_code_of_the_scan_page(users, make_activity, client_for):
    activity = make_activity()
    response = client_for(users["grid"]).get(reverse("activity-poster", args=[activity.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    scan = reverse("activity-scan", args=[activity.checkin_code])
    assert f"http://testserver{scan}" in page
    assert "<svg" in page
    for name in ("resident", "volunteer", "committee"):
        assert client_for(users[name]).get(reverse("activity-poster", args=[activity.pk])).status_code == 403


def test_the_scan_page_sends_a_stranger_to_sign_in_first(make_activity, client):  # type: ignore[no-untyped-def]
    activity = make_activity()
    response = client.get(reverse("activity-scan", args=[activity.checkin_code]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_volunteer_checks_in_then_out_by_scanning(users, make_activity, client_for):
    activity = make_activity()
    url = reverse("activity-scan", args=[activity.checkin_code])
    client = client_for(users["volunteer"])
    first = client.get(url)
    assert first.status_code == 200
    assert 'value="in"' in first.content.decode() and 'value="out"' not in first.content.decode()
    assert client.post(url, {"move": "in"}).status_code == 302
    attendance = Attendance.objects.get(activity=activity, person__user=users["volunteer"])
    assert attendance.checked_in_by == Attendance.Method.QR and attendance.checked_out_at is None
    second = client.get(url).content.decode()
    assert 'value="out"' in second and "You checked in at" in second
    assert client.post(url, {"move": "out"}).status_code == 302
    attendance.refresh_from_db()
    assert attendance.checked_out_by == Attendance.Method.QR
    assert attendance.checked_out_at is not None and attendance.checked_out_at > attendance.checked_in_at
    assert "Thank you!" in client.get(url).content.decode()


def test_checking_in_twice_by_scanning_says_so_and_keeps_the_first(users, make_activity, client_for):
    activity = make_activity()
    url = reverse("activity-scan", args=[activity.checkin_code])
    client = client_for(users["resident"])
    client.post(url, {"move": "in"})
    first = Attendance.objects.get(activity=activity)
    again = client.post(url, {"move": "in"})
    assert again.status_code == 400
    assert "张志毅 has already checked in." in again.content.decode()
    assert list(Attendance.objects.filter(activity=activity)) == [first]
    assert Attendance.objects.get(activity=activity).checked_in_at == first.checked_in_at


def test_checking_out_before_checking_in_is_refused(users, make_activity, client_for):
    activity = make_activity()
    response = client_for(users["volunteer"]).post(
        reverse("activity-scan", args=[activity.checkin_code]), {"move": "out"}
    )
    assert response.status_code == 400
    assert "Check in first." in response.content.decode()
    assert not Attendance.objects.filter(activity=activity).exists()


def test_the_code_does_not_work_long_before_the_start(users, make_activity, client_for):
    activity = make_activity(start=dt.timedelta(days=2), end=dt.timedelta(days=2, hours=2))
    url = reverse("activity-scan", args=[activity.checkin_code])
    client = client_for(users["volunteer"])
    assert "The code works from" in client.get(url).content.decode()
    response = client.post(url, {"move": "in"})
    assert response.status_code == 400
    assert "Check-in is open from an hour before the start" in response.content.decode()
    assert not Attendance.objects.filter(activity=activity).exists()


def test_an_unknown_code_is_not_found(users, client_for):
    assert (
        client_for(users["volunteer"]).get(reverse("activity-scan", args=["no-such-code"])).status_code == 404
    )


def test_staff_check_people_in_and_out_at_the_desk_with_times(
    users, make_activity, resident_person, client_for
):
    activity = make_activity(start=dt.timedelta(hours=-4), end=dt.timedelta(hours=-1))
    # The grid worker keeps the desk for those who signed up (the resident did, the day before).
    actions.sign_up(users["resident"], activity, now=activity.starts_at - dt.timedelta(days=1))
    url = reverse("activity-desk", args=[activity.pk])
    client = client_for(users["grid"])
    came = activity.starts_at + dt.timedelta(minutes=10)
    left = came + dt.timedelta(minutes=95)
    assert (
        client.post(url, {"person": resident_person.pk, "at": local(came), "move": "in"}).status_code == 302
    )
    assert (
        client.post(url, {"person": resident_person.pk, "at": local(left), "move": "out"}).status_code == 302
    )
    attendance = Attendance.objects.get(activity=activity, person=resident_person)
    assert attendance.checked_in_by == attendance.checked_out_by == Attendance.Method.STAFF
    assert local(attendance.checked_in_at) == local(came) and local(attendance.checked_out_at) == local(left)
    assert attendance.recorded_by == users["grid"]
    page = client.get(reverse("activity-detail", args=[activity.pk])).content.decode()
    assert 'data-testid="present">95<' in page and 'data-testid="counting">95<' in page


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        ("in", "in", "张志毅 has already checked in."),
        (None, "out", "Check in first."),
    ],
)
def test_the_desk_refuses_a_second_check_in_and_a_check_out_without_one(
    users, make_activity, resident_person, client_for, first, then, message
):
    activity = make_activity(start=dt.timedelta(hours=-4), end=dt.timedelta(hours=-1))
    url = reverse("activity-desk", args=[activity.pk])
    client = client_for(users["community"])
    at = local(activity.starts_at + dt.timedelta(minutes=5))
    if first:
        client.post(url, {"person": resident_person.pk, "at": at, "move": first})
    before = list(Attendance.objects.filter(activity=activity).values())
    response = client.post(url, {"person": resident_person.pk, "at": at, "move": then})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(Attendance.objects.filter(activity=activity).values()) == before


def test_the_desk_refuses_a_check_out_before_the_check_in_and_a_time_to_come(
    users, make_activity, resident_person, client_for
):
    activity = make_activity(start=dt.timedelta(hours=-4), end=dt.timedelta(hours=-1))
    url = reverse("activity-desk", args=[activity.pk])
    client = client_for(users["community"])
    came = activity.starts_at + dt.timedelta(hours=1)
    client.post(url, {"person": resident_person.pk, "at": local(came), "move": "in"})
    early = client.post(
        url, {"person": resident_person.pk, "at": local(came - dt.timedelta(minutes=30)), "move": "out"}
    )
    assert early.status_code == 400
    assert "The check-out must be after the check-in." in early.content.decode()
    later = client.post(
        url,
        {"person": resident_person.pk, "at": local(timezone.now() + dt.timedelta(hours=1)), "move": "out"},
    )
    assert later.status_code == 400 and "The time cannot be in the future." in later.content.decode()
    assert Attendance.objects.get(activity=activity).checked_out_at is None


def test_residents_have_no_desk(users, make_activity, resident_person, client_for):
    activity = make_activity()
    client = client_for(users["resident"])
    assert (
        'data-testid="desk-form"'
        not in client.get(reverse("activity-detail", args=[activity.pk])).content.decode()
    )
    response = client.post(
        reverse("activity-desk", args=[activity.pk]), {"person": resident_person.pk, "move": "in"}
    )
    assert response.status_code == 403
    assert not Attendance.objects.filter(activity=activity).exists()
