"""A person's points page: staff who look after the person give a bonus, deduct or redeem
points with a reason and evidence; redeeming reduces the points, never the hours; going
beyond the balance or without evidence is refused and changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from gongzhi.orgs.models import Person
from gongzhi.volunteers import actions, queries
from gongzhi.volunteers.models import PointsAccount, PointsEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def earned(users, make_activity, resident_person):  # type: ignore[no-untyped-def]
    """The resident earned 2 hours and 2 points at a verified clean-up (on top of what they
    had)."""
    activity = make_activity(start=dt.timedelta(hours=-5), end=dt.timedelta(hours=-1))
    desk = users["community"]
    actions.check_in(desk, activity, person=resident_person, at=activity.starts_at)
    actions.check_out(desk, activity, person=resident_person, at=activity.starts_at + dt.timedelta(hours=3))
    actions.verify_activity(desk, activity)
    return resident_person


def adjust(kind: str, points: str, evidence: str = "兑换登记表第12号") -> dict[str, str]:
    return {"kind": kind, "points": points, "reason": "积分超市兑换洗衣液", "evidence": evidence}


def test_redeeming_reduces_the_points_and_not_the_hours(users, earned, client_for):
    before = queries.balances(earned)
    assert before.points >= Decimal("2.0") and before.minutes >= 120
    client = client_for(users["community"])
    url = reverse("volunteer-person", args=[earned.pk])
    response = client.post(url, adjust(PointsEntry.Kind.REDEEM, "1.5"))
    assert response.status_code == 302
    account = PointsAccount.objects.get(person=earned)
    assert (account.points, account.minutes) == (before.points - Decimal("1.5"), before.minutes)
    entry = PointsEntry.objects.filter(person=earned).latest("seq")
    assert (entry.kind, entry.points, entry.balance_after) == ("redeem", Decimal("-1.5"), account.points)
    assert entry.approved_by == users["community"] and entry.evidence == "兑换登记表第12号"
    page = client.get(url).content.decode()
    assert f'data-testid="hours-total">{before.hours}<' in page
    assert f'data-testid="points-balance">{account.points}<' in page
    assert f'data-testid="balance-after">{account.points}<' in page
    assert f'data-testid="balance-after">{before.points}<' in page
    me = client_for(users["resident"]).get(reverse("volunteer-me")).content.decode()
    assert f'data-testid="hours-total">{before.hours}<' in me
    assert f'data-testid="points-balance">{account.points}<' in me


def test_redeeming_beyond_the_balance_is_refused_and_changes_nothing(users, earned, client_for):
    account = PointsAccount.objects.get(person=earned)
    entries = PointsEntry.objects.filter(person=earned).count()
    response = client_for(users["community"]).post(
        reverse("volunteer-person", args=[earned.pk]),
        adjust(PointsEntry.Kind.REDEEM, str(account.points + Decimal("0.5"))),
    )
    assert response.status_code == 400
    message = f"Only {account.points} points are left."
    assert message in response.context["form"].errors["points"]
    assert message in response.content.decode()
    after = PointsAccount.objects.get(person=earned)
    assert (after.points, after.minutes, after.entries_count) == (
        account.points,
        account.minutes,
        account.entries_count,
    )
    assert PointsEntry.objects.filter(person=earned).count() == entries


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (adjust(PointsEntry.Kind.BONUS, "3", evidence=""), "evidence", "This field is required."),
        (adjust(PointsEntry.Kind.BONUS, "0"), "points", "Enter a number of points above zero."),
        (adjust(PointsEntry.Kind.DEDUCT, "0.25"), "points", "Points go to one decimal at most."),
        (adjust(PointsEntry.Kind.BONUS, "两分"), "points", "Enter a number of points."),
    ],
)
def test_bad_adjustments_are_refused_with_the_fields_message(users, earned, client_for, data, field, message):
    entries = PointsEntry.objects.filter(person=earned).count()
    response = client_for(users["community"]).post(reverse("volunteer-person", args=[earned.pk]), data)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert PointsEntry.objects.filter(person=earned).count() == entries


def test_a_bonus_with_evidence_adds_points_but_no_hours(users, earned, client_for):
    before = queries.balances(earned)
    response = client_for(users["town"]).post(
        reverse("volunteer-person", args=[earned.pk]),
        {"kind": "bonus", "points": "5", "reason": "台风后清理积极", "evidence": "南峰社区表彰名单"},
    )
    assert response.status_code == 302
    account = PointsAccount.objects.get(person=earned)
    assert (account.points, account.minutes) == (before.points + 5, before.minutes)


def test_only_staff_who_look_after_the_person_see_and_adjust(users, earned, client_for):
    entries = PointsEntry.objects.filter(person=earned).count()
    url = reverse("volunteer-person", args=[earned.pk])
    for name in ("resident", "volunteer", "liaison"):
        assert client_for(users[name]).get(url).status_code == 403, name
        assert client_for(users[name]).post(url, adjust("bonus", "1")).status_code == 403, name
    assert PointsEntry.objects.filter(person=earned).count() == entries
    staff = client_for(users["community"]).get(url)
    assert staff.status_code == 200 and 'data-testid="adjust-form"' in staff.content.decode()
    elsewhere = Person.objects.create(name="外县来客")
    assert (
        client_for(users["community"]).get(reverse("volunteer-person", args=[elsewhere.pk])).status_code
        == 403
    )


def test_my_volunteering_without_a_record_shows_nothing_yet(newcomer, client_for):
    page = client_for(newcomer).get(reverse("volunteer-me"))
    assert page.status_code == 200
    assert "You have no volunteer record yet" in page.content.decode()
    assert 'data-testid="hours-total">0.0<' in page.content.decode()
    assert not Person.objects.filter(user=newcomer).exists()
