"""Points and attendance written at the same moment, on PostgreSQL with real threads.

A person's points account is locked while an entry is written, so two redemptions that
together exceed the balance leave one done and one refused; an activity is locked while
someone checks in, so the same person scanning the poster twice at once checks in once.

These tests commit (``transaction=True``) on the small county of ``tests/policy_world``;
when a later test of the session needs the demo county, it is put back afterwards.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from gongzhi.orgs.models import Person, Role, RoleGrant
from gongzhi.volunteers import actions
from gongzhi.volunteers.models import Activity, Attendance, PointsAccount, PointsEntry
from tests.concurrency import COMMITTING, demo_county_afterwards, together  # noqa: F401 - the fixture is autouse
from tests.policy_world import World, build_world

pytestmark = COMMITTING


@pytest.fixture
def county() -> World:
    return build_world()


def points_of(person: Person) -> list[tuple[int, str, Decimal, Decimal]]:
    return list(
        PointsEntry.objects.filter(person=person).values_list("seq", "kind", "points", "balance_after")
    )


def test_two_redemptions_beyond_the_balance_leave_one_refused(county: World) -> None:
    staff = county.users["community_staff"]
    person = county.get("person", "X.branch.p")  # lives in community A1
    actions.adjust_points(staff, person, kind="bonus", points="2", reason="值守", evidence="值班表")

    def redeem() -> Any:
        return actions.adjust_points(
            staff, person, kind="redeem", points="1.5", reason="兑换", evidence="兑换单"
        )

    results = together(redeem, redeem)
    assert len([r for r in results if isinstance(r, ValidationError)]) == 1, results
    assert len([r for r in results if isinstance(r, PointsEntry)]) == 1, results
    assert points_of(person) == [
        (1, "bonus", Decimal("2.0"), Decimal("2.0")),
        (2, "redeem", Decimal("-1.5"), Decimal("0.5")),
    ]
    assert PointsAccount.objects.get(person=person).points == Decimal("0.5")


def test_many_entries_at_once_for_someone_without_an_account_number_without_gaps(county: World) -> None:
    staff = county.users["community_staff"]
    person = county.get("person", "X.committee.p")
    assert not PointsAccount.objects.filter(person=person).exists()
    results = together(
        *(
            lambda n=n: actions.adjust_points(
                staff, person, kind="bonus", points=str(n), reason="r", evidence="e"
            )
            for n in range(1, 6)
        )
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    entries = points_of(person)
    assert [seq for seq, *_ in entries] == [1, 2, 3, 4, 5]
    running = Decimal("0")
    for _seq, _kind, points, balance in entries:
        running += points
        assert balance == running
    assert PointsAccount.objects.get(person=person).points == Decimal("15.0") == running


def test_the_same_person_scanning_twice_at_once_checks_in_once(county: World) -> None:
    activity = county.get("activity", "X.activity")
    volunteer = county.users["volunteer"]  # no person record yet: the first scan makes one

    def scan() -> Any:
        return actions.check_in(volunteer, Activity.objects.get(pk=activity.pk), code=activity.checkin_code)

    results = together(scan, scan)
    assert len([r for r in results if isinstance(r, ValidationError)]) == 1, results
    assert Person.objects.filter(user=volunteer).count() == 1
    assert Attendance.objects.filter(activity=activity).count() == 1


def test_the_desk_and_the_poster_at_once_check_in_once(county: World) -> None:
    activity = county.get("activity", "X.activity")
    user = get_user_model().objects.create_user(username="cc_wang", password="x-not-used-1")  # noqa: S106
    RoleGrant.objects.create(user=user, role=Role.RESIDENT, compound=county.get("compound", "X"))
    wang = Person.objects.create(name="王阿姨", user=user, home_area=county.area("A1"))
    desk = county.users["grid_worker"]
    results = together(
        lambda: actions.check_in(user, Activity.objects.get(pk=activity.pk), code=activity.checkin_code),
        lambda: actions.check_in(desk, Activity.objects.get(pk=activity.pk), person=wang),
    )
    assert len([r for r in results if isinstance(r, ValidationError)]) == 1, results
    assert Attendance.objects.filter(activity=activity, person=wang).count() == 1
