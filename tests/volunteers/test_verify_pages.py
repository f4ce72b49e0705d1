"""Verifying an activity on its page: everyone who checked in and out is credited the time
present, at most two hours, and a point per hour counted; the page and "My volunteering"
say who got how much."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from gongzhi.volunteers import actions, queries
from gongzhi.volunteers.models import Activity, HoursEntry, PointsAccount, PointsEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def morning(users, make_activity, resident_person, volunteer_person):  # type: ignore[no-untyped-def]
    """A four-hour clean-up that ended an hour ago: the resident stayed three hours (by the
    desk), the volunteer checked in and never checked out."""
    activity = make_activity(start=dt.timedelta(hours=-5), end=dt.timedelta(hours=-1))
    desk = users["community"]
    came = activity.starts_at + dt.timedelta(minutes=15)
    actions.check_in(desk, activity, person=resident_person, at=came)
    actions.check_out(desk, activity, person=resident_person, at=came + dt.timedelta(hours=3))
    actions.check_in(desk, activity, person=volunteer_person, at=came)
    return activity


def test_verifying_credits_two_of_three_hours_and_two_points(users, morning, resident_person, client_for):
    before = queries.balances(resident_person)
    client = client_for(users["community"])
    page = client.get(reverse("activity-detail", args=[morning.pk])).content.decode()
    assert 'data-testid="present">180<' in page and 'data-testid="counting">120<' in page
    response = client.post(reverse("activity-verify", args=[morning.pk]), {"version": morning.version})
    assert response.status_code == 302
    hours = HoursEntry.objects.get(activity=morning)
    assert (hours.person, hours.minutes_present, hours.minutes_counted) == (resident_person, 180, 120)
    assert hours.points_entry.points == Decimal("2.0")
    assert hours.points_entry.kind == PointsEntry.Kind.EARN
    account = PointsAccount.objects.get(person=resident_person)
    assert (account.minutes - before.minutes, account.points - before.points) == (120, Decimal("2.0"))
    shown = client.get(response["Location"])
    text = shown.content.decode()
    assert "张志毅 120 min, 2.0 points" in text
    assert 'data-testid="points">2.0<' in text and "People credited: 1." in text
    assert Activity.objects.get(pk=morning.pk).state == Activity.State.VERIFIED


def test_the_volunteer_sees_the_credit_on_their_pages(users, morning, resident_person, client_for):
    actions.verify_activity(users["community"], morning)
    client = client_for(users["resident"])
    detail = client.get(reverse("activity-detail", args=[morning.pk])).content.decode()
    assert "Credited: 120 minutes of volunteer time and 2.0 points." in detail
    me = client.get(reverse("volunteer-me")).content.decode()
    totals = queries.balances(resident_person)
    assert f'data-testid="hours-total">{totals.hours}<' in me
    assert f'data-testid="points-balance">{totals.points}<' in me
    assert f'data-activity="{morning.pk}"' in me and 'data-testid="minutes-counted">120<' in me
    # Residents see their own credit, not the attendance table of everyone.
    assert 'data-testid="attendance"' not in detail


def test_nothing_is_credited_without_a_check_out(users, morning, volunteer_person):
    actions.verify_activity(users["community"], morning)
    assert HoursEntry.objects.filter(activity=morning).count() == 1
    assert not HoursEntry.objects.filter(person=volunteer_person, activity=morning).exists()


def test_an_activity_not_over_cannot_be_verified(users, make_activity, client_for):
    activity = make_activity()
    response = client_for(users["community"]).post(reverse("activity-verify", args=[activity.pk]))
    assert response.status_code == 400
    assert "An activity is verified after it ends." in response.content.decode()
    assert Activity.objects.get(pk=activity.pk).state == Activity.State.OPEN


def test_a_stale_page_does_not_verify_twice(users, morning, client_for):
    client = client_for(users["community"])
    version = morning.version
    client.post(reverse("activity-verify", args=[morning.pk]), {"version": version})
    again = client.post(reverse("activity-verify", args=[morning.pk]), {"version": version})
    assert again.status_code == 400
    assert HoursEntry.objects.filter(activity=morning).count() == 1


def test_the_grid_worker_keeps_the_desk_but_does_not_verify(users, morning, client_for):
    client = client_for(users["grid"])
    assert (
        'data-testid="verify-form"'
        not in client.get(reverse("activity-detail", args=[morning.pk])).content.decode()
    )
    assert client.post(reverse("activity-verify", args=[morning.pk])).status_code == 403
    assert not HoursEntry.objects.filter(activity=morning).exists()


def test_the_organiser_cancels_with_a_reason(users, make_activity, client_for):
    activity = make_activity(start=dt.timedelta(days=1), end=dt.timedelta(days=1, hours=2))
    client = client_for(users["branch"])
    empty = client.post(reverse("activity-cancel", args=[activity.pk]), {"reason": ""})
    assert empty.status_code == 400
    assert Activity.objects.get(pk=activity.pk).state == Activity.State.OPEN
    done = client.post(reverse("activity-cancel", args=[activity.pk]), {"reason": "台风预警，改期"})
    assert done.status_code == 302
    assert Activity.objects.get(pk=activity.pk).state == Activity.State.CANCELLED
    signup = client_for(users["volunteer"]).post(reverse("activity-sign-up", args=[activity.pk]))
    assert signup.status_code == 400 and "Cancelled" in signup.content.decode()
