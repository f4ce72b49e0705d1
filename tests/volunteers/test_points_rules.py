"""Hours and points (DOMAIN §5): only verified service counts, at most two hours of it per
activity, an hour is a point, and points spent never take hours away.

A clean-up of 育才新村 organised by its first joint branch; the community's staff
(``community``) keep attendance at the desk and verify it. 王阿姨, 陈师傅 and 小刘 live in
南峰社区 and volunteer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone, translation

from gongzhi.core.models import AuditEvent
from gongzhi.orgs.models import Area, Person, Role, RoleGrant
from gongzhi.volunteers import actions
from gongzhi.volunteers.models import Activity, Attendance, HoursEntry, PointsAccount, PointsEntry

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def desk(users: dict[str, Any]) -> Any:
    return users["community"]


@pytest.fixture
def neighbours(nanfeng: Area) -> dict[str, Person]:
    return {
        name: Person.objects.create(name=name, home_area=nanfeng) for name in ("王阿姨", "陈师傅", "小刘")
    }


@pytest.fixture
def past(make_activity: Callable[..., Activity]) -> Activity:
    """Three hours of clean-up that ended two hours ago."""
    return make_activity(start=dt.timedelta(hours=-5), end=dt.timedelta(hours=-2))


def attend(desk: Any, activity: Activity, person: Person, minutes_in: int, minutes_out: int | None) -> None:
    """Check in (and out) at the desk, in minutes from the activity's start."""
    actions.check_in(desk, activity, person=person, at=activity.starts_at + minutes_in * MINUTE)
    if minutes_out is not None:
        actions.check_out(desk, activity, person=person, at=activity.starts_at + minutes_out * MINUTE)


def refusal(call: Callable[[], Any]) -> ValidationError:
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        call()
    return caught.value


def account(person: Person) -> PointsAccount | None:
    return PointsAccount.objects.filter(person=person).first()


def ledger_of(person: Person) -> list[tuple[Any, ...]]:
    return list(
        PointsEntry.objects.filter(person=person).values_list("seq", "kind", "points", "balance_after")
    )


def footprint(person: Person) -> tuple[Any, ...]:
    acc = account(person)
    return (
        ledger_of(person),
        (acc.minutes, acc.points, acc.entries_count) if acc else None,
        HoursEntry.objects.filter(person=person).count(),
        AuditEvent.objects.count(),
    )


# ---- hours come only from verified activities ---------------------------------------------------


def test_checking_in_alone_earns_nothing(desk, past, neighbours):
    wang, chen = neighbours["王阿姨"], neighbours["陈师傅"]
    attend(desk, past, wang, 0, None)  # forgot to check out
    attend(desk, past, chen, 0, 60)
    # Before verification nobody has anything, whatever the attendance says.
    assert not HoursEntry.objects.filter(activity=past).exists()
    assert account(chen) is None
    credited = actions.verify_activity(desk, past)
    assert [h.person for h in credited] == [chen]
    assert account(wang) is None and ledger_of(wang) == []
    assert account(chen).minutes == 60 and ledger_of(chen) == [(1, "earn", Decimal("1.0"), Decimal("1.0"))]


def test_a_cancelled_activity_credits_nothing(desk, past, neighbours):
    attend(desk, past, neighbours["王阿姨"], 0, 90)
    actions.cancel_activity(desk, past, reason="台风停办")
    assert "Cancelled" in " ".join(refusal(lambda: actions.verify_activity(desk, past)).messages)
    assert not HoursEntry.objects.filter(activity=past).exists()


@pytest.mark.parametrize(
    ("minutes_in", "minutes_out", "present", "counted", "points"),
    [
        (0, 60, 60, 60, "1.0"),
        (0, 90, 90, 90, "1.5"),
        (0, 50, 50, 50, "0.8"),  # 0.833… rounded down to a tenth
        (0, 120, 120, 120, "2.0"),
        (0, 180, 180, 120, "2.0"),  # three hours there, two counted
        (-45, 30, 30, 30, "0.5"),  # came early: only the activity's time counts
        (150, 240, 30, 30, "0.5"),  # stayed on after the end: the same
    ],
)
def test_at_most_two_hours_count_and_an_hour_is_a_point(
    desk, past, neighbours, minutes_in, minutes_out, present, counted, points
):
    wang = neighbours["王阿姨"]
    attend(desk, past, wang, minutes_in, minutes_out)
    (hours,) = actions.verify_activity(desk, past)
    assert (hours.minutes_present, hours.minutes_counted) == (present, counted)
    assert hours.points_entry.points == Decimal(points)
    assert account(wang).minutes == counted and account(wang).points == Decimal(points)


@override_settings(GONGZHI_MAX_HOURS_PER_ACTIVITY=3)
def test_the_hours_counted_per_activity_follow_the_setting(desk, past, neighbours):
    attend(desk, past, neighbours["王阿姨"], 0, 180)
    (hours,) = actions.verify_activity(desk, past)
    assert hours.minutes_counted == 180 and hours.points_entry.points == Decimal("3.0")


@override_settings(GONGZHI_POINTS_PER_HOUR=2)
def test_the_points_per_hour_follow_the_setting(desk, past, neighbours):
    attend(desk, past, neighbours["王阿姨"], 0, 90)
    attend(desk, past, neighbours["陈师傅"], 0, 180)
    wang, chen = actions.verify_activity(desk, past)
    assert wang.points_entry.points == Decimal("3.0")
    assert chen.minutes_counted == 120 and chen.points_entry.points == Decimal("4.0")


def test_hours_add_up_over_activities_and_points_carry_their_balance(desk, make_activity, neighbours):
    wang = neighbours["王阿姨"]
    for days in (3, 2):
        activity = make_activity(start=dt.timedelta(days=-days), end=dt.timedelta(days=-days, hours=3))
        attend(desk, activity, wang, 0, 150)
        actions.verify_activity(desk, activity)
    assert account(wang).minutes == 240
    assert ledger_of(wang) == [
        (1, "earn", Decimal("2.0"), Decimal("2.0")),
        (2, "earn", Decimal("2.0"), Decimal("4.0")),
    ]


# ---- verification -------------------------------------------------------------------------------


def test_an_activity_is_verified_after_its_end_and_once(desk, make_activity, neighbours):
    activity = make_activity(start=dt.timedelta(hours=-1), end=dt.timedelta(hours=2))
    attend(desk, activity, neighbours["王阿姨"], 0, 30)
    assert "after it ends" in " ".join(
        refusal(lambda: actions.verify_activity(desk, activity, now=activity.ends_at - MINUTE)).messages
    )
    assert not HoursEntry.objects.filter(activity=activity).exists()
    actions.verify_activity(desk, activity, now=activity.ends_at)
    assert HoursEntry.objects.filter(activity=activity).count() == 1
    before = footprint(neighbours["王阿姨"])
    error = refusal(lambda: actions.verify_activity(desk, activity, now=activity.ends_at + MINUTE))
    assert "Done and verified" in " ".join(error.messages)
    assert footprint(neighbours["王阿姨"]) == before


@pytest.mark.parametrize("who", ["grid", "committee", "volunteer", "resident", "liaison"])
def test_only_the_organisers_verify(users, past, neighbours, desk, who):
    attend(desk, past, neighbours["王阿姨"], 0, 60)
    with pytest.raises(PermissionDenied):
        actions.verify_activity(users[who], past)
    assert not HoursEntry.objects.filter(activity=past).exists()
    assert Activity.objects.get(pk=past.pk).state == Activity.State.OPEN


# ---- attendance ---------------------------------------------------------------------------------


def test_a_second_check_in_is_refused(desk, make_activity, users, volunteer_person):
    activity = make_activity()
    actions.check_in(users["volunteer"], activity, code=activity.checkin_code)
    for call in (
        lambda: actions.check_in(users["volunteer"], activity, code=activity.checkin_code),
        lambda: actions.check_in(desk, activity, person=volunteer_person),
    ):
        assert "already checked in" in " ".join(refusal(call).messages)
    assert Attendance.objects.filter(activity=activity, person=volunteer_person).count() == 1


def test_a_wrong_code_checks_nobody_in(make_activity, users):
    activity = make_activity()
    with pytest.raises(PermissionDenied):
        actions.check_in(users["volunteer"], activity, code="not-the-code")
    assert not activity.attendances.exists()


def test_the_qr_code_works_only_around_the_activity(make_activity, users):
    activity = make_activity(start=dt.timedelta(hours=3), end=dt.timedelta(hours=5))
    error = refusal(lambda: actions.check_in(users["volunteer"], activity, code=activity.checkin_code))
    assert "hour before the start" in " ".join(error.messages)
    assert not activity.attendances.exists()


def test_check_out_comes_after_check_in(desk, past, neighbours):
    wang, chen = neighbours["王阿姨"], neighbours["陈师傅"]
    out = refusal(lambda: actions.check_out(desk, past, person=chen, at=past.starts_at + 30 * MINUTE))
    assert "Check in first" in " ".join(out.messages)
    attend(desk, past, wang, 30, None)
    for minutes in (30, 10):
        error = refusal(
            lambda minutes=minutes: actions.check_out(
                desk, past, person=wang, at=past.starts_at + minutes * MINUTE
            )
        )
        assert "at" in error.message_dict
    assert Attendance.objects.get(activity=past, person=wang).checked_out_at is None
    actions.check_out(desk, past, person=wang, at=past.starts_at + 31 * MINUTE)
    again = refusal(lambda: actions.check_out(desk, past, person=wang, at=past.starts_at + 40 * MINUTE))
    assert "already checked out" in " ".join(again.messages)


def test_the_desk_does_not_record_the_future(desk, make_activity, neighbours):
    activity = make_activity()
    error = refusal(
        lambda: actions.check_in(
            desk, activity, person=neighbours["王阿姨"], at=timezone.now() + dt.timedelta(minutes=5)
        )
    )
    assert "at" in error.message_dict


# ---- bonuses, deductions, redemptions -----------------------------------------------------------


@pytest.fixture
def earned(desk, past, neighbours) -> Person:
    """王阿姨 with two hours and two points from the clean-up."""
    wang = neighbours["王阿姨"]
    attend(desk, past, wang, 0, 150)
    actions.verify_activity(desk, past)
    return wang


def test_redeeming_points_never_reduces_hours(desk, earned):
    hours_before = list(HoursEntry.objects.filter(person=earned).values_list("minutes_counted", flat=True))
    entry = actions.adjust_points(
        desk, earned, kind="redeem", points="1.5", reason="兑换大米一袋", evidence="积分超市兑换单 No.0012"
    )
    assert (entry.points, entry.balance_after, entry.approved_by) == (Decimal("-1.5"), Decimal("0.5"), desk)
    assert account(earned).minutes == 120 and account(earned).points == Decimal("0.5")
    assert (
        list(HoursEntry.objects.filter(person=earned).values_list("minutes_counted", flat=True))
        == hours_before
    )


def test_redeeming_more_than_the_balance_writes_nothing(desk, earned, neighbours):
    before = footprint(earned)
    error = refusal(
        lambda: actions.adjust_points(
            desk, earned, kind="redeem", points="2.1", reason="兑换", evidence="单据"
        )
    )
    assert "points" in error.message_dict and "2.0" in error.message_dict["points"][0]
    assert footprint(earned) == before
    # Someone who never earned anything has no account, and refusing them makes none.
    newcomer = neighbours["小刘"]
    refusal(
        lambda: actions.adjust_points(
            desk, newcomer, kind="redeem", points="1", reason="兑换", evidence="单据"
        )
    )
    assert account(newcomer) is None
    actions.adjust_points(desk, earned, kind="redeem", points="2", reason="兑换", evidence="单据")
    assert account(earned).points == Decimal("0.0")


def test_a_deduction_needs_evidence_and_cannot_go_below_zero(desk, earned):
    before = footprint(earned)
    for missing in ("reason", "evidence"):
        fields = {"reason": "未按时到岗", "evidence": "签到表"} | {missing: "  "}
        error = refusal(
            lambda fields=fields: actions.adjust_points(desk, earned, kind="deduct", points="1", **fields)
        )
        assert missing in error.message_dict
    refusal(
        lambda: actions.adjust_points(desk, earned, kind="deduct", points="3", reason="违规", evidence="记录")
    )
    assert footprint(earned) == before
    entry = actions.adjust_points(
        desk, earned, kind="deduct", points="0.5", reason="未按时到岗", evidence="3月2日签到表"
    )
    assert entry.kind == "deduct" and entry.points == Decimal("-0.5") and entry.evidence == "3月2日签到表"


def test_a_bonus_needs_evidence(desk, neighbours):
    wang = neighbours["王阿姨"]
    assert (
        "evidence"
        in refusal(
            lambda: actions.adjust_points(
                desk, wang, kind="bonus", points="5", reason="台风夜值守", evidence=""
            )
        ).message_dict
    )
    assert account(wang) is None
    entry = actions.adjust_points(
        desk, wang, kind="bonus", points="5", reason="台风夜值守", evidence="社区值班记录"
    )
    assert entry.balance_after == Decimal("5.0") and account(wang).minutes == 0


@pytest.mark.parametrize(
    ("points", "says"),
    [
        ("0", "above zero"),
        ("-2", "above zero"),
        ("1.25", "one decimal"),
        ("十", "number"),
        ("10000.1", "At most"),
    ],
)
def test_points_are_a_positive_number_to_a_tenth(desk, neighbours, points, says):
    wang = neighbours["王阿姨"]
    error = refusal(
        lambda: actions.adjust_points(desk, wang, kind="bonus", points=points, reason="r", evidence="e")
    )
    assert says in error.message_dict["points"][0]
    assert account(wang) is None


def test_points_are_not_earned_by_hand(desk, neighbours):
    error = refusal(
        lambda: actions.adjust_points(
            desk, neighbours["王阿姨"], kind="earn", points="2", reason="r", evidence="e"
        )
    )
    assert "kind" in error.message_dict


@pytest.mark.parametrize("who", ["grid", "branch", "committee", "volunteer", "resident", "liaison"])
def test_only_the_community_above_a_volunteer_adjusts_their_points(users, earned, who):
    before = footprint(earned)
    with pytest.raises(PermissionDenied):
        actions.adjust_points(users[who], earned, kind="bonus", points="1", reason="r", evidence="e")
    assert footprint(earned) == before


def test_staff_of_another_community_cannot_adjust_points(users, earned, nanfeng):
    other = Area.objects.filter(level=Area.Level.COMMUNITY).exclude(pk=nanfeng.pk).first()
    outsider = get_user_model().objects.create_user(username="outsider_staff", password="x-not-used-1")  # noqa: S106
    RoleGrant.objects.create(user=outsider, role=Role.COMMUNITY_STAFF, area=other)
    with pytest.raises(PermissionDenied):
        actions.adjust_points(outsider, earned, kind="bonus", points="1", reason="r", evidence="e")
    # The town above 南峰社区 may.
    entry = actions.adjust_points(
        users["town"], earned, kind="bonus", points="1", reason="表彰", evidence="镇文件"
    )
    assert entry.balance_after == Decimal("3.0")


# ---- the database keeps the rules too -----------------------------------------------------------


def raw_points(person: Person, approver: Any, **fields: Any) -> PointsEntry:
    values: dict[str, Any] = {
        "person": person,
        "seq": 90,
        "kind": "bonus",
        "points": Decimal("1.0"),
        "balance_after": Decimal("1.0"),
        "reason": "直接写入",
        "evidence": "无",
        "approved_by": approver,
        "at": timezone.now(),
    }
    values.update(fields)
    with transaction.atomic():
        return PointsEntry.objects.create(**values)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"kind": "earn"}, id="earn-without-hours"),
        pytest.param({"points": Decimal("-1.0")}, id="negative-bonus"),
        pytest.param({"kind": "redeem"}, id="positive-redemption"),
        pytest.param({"kind": "deduct"}, id="positive-deduction"),
        pytest.param({"balance_after": Decimal("-0.1")}, id="negative-balance"),
    ],
)
def test_the_database_refuses_an_impossible_points_entry(desk, neighbours, fields):
    wang = neighbours["王阿姨"]
    with pytest.raises(IntegrityError):
        raw_points(wang, desk, **fields)
    assert ledger_of(wang) == []


def test_the_database_allows_earning_only_with_hours(desk, past, neighbours):
    wang = neighbours["王阿姨"]
    hours = HoursEntry.objects.create(
        person=wang, activity=past, minutes_present=60, minutes_counted=60, at=timezone.now()
    )
    raw_points(wang, desk, kind="earn", hours=hours)
    with pytest.raises(IntegrityError):
        raw_points(wang, desk, kind="earn", seq=91)
    with pytest.raises(IntegrityError), transaction.atomic():
        HoursEntry.objects.create(
            person=neighbours["陈师傅"],
            activity=past,
            minutes_present=60,
            minutes_counted=61,
            at=timezone.now(),
        )


def test_the_database_refuses_a_negative_account_and_double_attendance(desk, past, neighbours):
    wang = neighbours["王阿姨"]
    acc = PointsAccount.objects.create(person=wang)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(pk=acc.pk).update(points=Decimal("-0.1"))
    attend(desk, past, wang, 0, None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.create(
            activity=past, person=wang, checked_in_at=past.starts_at, checked_in_by=Attendance.Method.STAFF
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.filter(activity=past, person=wang).update(checked_out_at=past.starts_at)
