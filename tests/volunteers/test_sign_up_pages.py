"""Signing up on the activity's page: a volunteer and a resident without a person record
get one (placed in their community), a second sign-up is refused, a sign-up is withdrawn,
and staff sign up a resident who has no phone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.orgs.models import Person
from gongzhi.volunteers.models import SignUp

pytestmark = pytest.mark.django_db


def test_the_volunteer_and_the_resident_sign_up(users, make_activity, client_for):
    activity = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2))
    for name in ("volunteer", "resident"):
        client = client_for(users[name])
        response = client.post(reverse("activity-sign-up", args=[activity.pk]))
        assert response.status_code == 302
        person = Person.objects.get(user=users[name])
        assert SignUp.objects.filter(activity=activity, person=person, cancelled_at__isnull=True).exists()
        page = client.get(reverse("activity-detail", args=[activity.pk])).content.decode()
        assert "You are signed up" in page
    staff_page = client_for(users["committee"]).get(reverse("activity-detail", args=[activity.pk]))
    assert 'data-testid="taken">2/20<' in staff_page.content.decode()


def test_a_resident_without_a_person_record_gets_one_in_their_community(
    newcomer, make_activity, nanfeng, client_for
):
    activity = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2))
    assert not Person.objects.filter(user=newcomer).exists()
    response = client_for(newcomer).post(reverse("activity-sign-up", args=[activity.pk]))
    assert response.status_code == 302
    person = Person.objects.get(user=newcomer)
    # Named as the compound knows them, and placed in their community: its staff look after
    # their hours and points.
    assert (person.name, person.home_area) == ("李新来", nanfeng)
    assert SignUp.objects.get(activity=activity).person == person


def test_signing_up_twice_is_refused_with_a_message(users, make_activity, client_for):
    activity = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2))
    client = client_for(users["volunteer"])
    client.post(reverse("activity-sign-up", args=[activity.pk]))
    again = client.post(reverse("activity-sign-up", args=[activity.pk]))
    assert again.status_code == 400
    assert "is already signed up" in again.content.decode()
    assert SignUp.objects.filter(activity=activity).count() == 1


def test_a_full_activity_refuses_the_next_volunteer(users, make_activity, client_for):
    activity = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2), capacity=1)
    client_for(users["resident"]).post(reverse("activity-sign-up", args=[activity.pk]))
    client = client_for(users["volunteer"])
    assert (
        "All places are taken." in client.get(reverse("activity-detail", args=[activity.pk])).content.decode()
    )
    refused = client.post(reverse("activity-sign-up", args=[activity.pk]))
    assert refused.status_code == 400
    assert "All 1 places are taken." in refused.content.decode()
    assert SignUp.objects.filter(activity=activity).count() == 1


def test_a_volunteer_withdraws_their_sign_up(users, make_activity, client_for):
    activity = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2))
    client = client_for(users["volunteer"])
    client.post(reverse("activity-sign-up", args=[activity.pk]))
    response = client.post(reverse("activity-sign-up-cancel", args=[activity.pk]))
    assert response.status_code == 302
    signup = SignUp.objects.get(activity=activity)
    assert signup.cancelled_at is not None
    again = client.post(reverse("activity-sign-up-cancel", args=[activity.pk]))
    assert again.status_code == 400 and "You are not signed up." in again.content.decode()


def test_staff_sign_up_someone_from_their_area_and_residents_cannot(
    users, make_activity, resident_person, client_for
):
    activity = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2))
    url = reverse("activity-enrol", args=[activity.pk])
    assert client_for(users["resident"]).post(url, {"person": resident_person.pk}).status_code == 403
    client = client_for(users["community"])
    assert resident_person.name in client.get(reverse("activity-detail", args=[activity.pk])).content.decode()
    response = client.post(url, {"person": resident_person.pk})
    assert response.status_code == 302
    signup = SignUp.objects.get(activity=activity, person=resident_person)
    assert signup.recorded_by == users["community"]
    twice = client.post(url, {"person": resident_person.pk})
    assert twice.status_code == 400
    assert SignUp.objects.filter(activity=activity).count() == 1


def test_staff_cannot_sign_up_someone_outside_their_scope(users, make_activity, client_for):
    activity = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2))
    stranger = Person.objects.create(name="外县来客")
    response = client_for(users["community"]).post(
        reverse("activity-enrol", args=[activity.pk]), {"person": stranger.pk}
    )
    assert response.status_code == 400
    assert not SignUp.objects.filter(activity=activity).exists()
