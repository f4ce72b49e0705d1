"""The time-limit clock: deadlines in calendar and working time, how far along a clock is,
and when the overdue warnings fire. Pure functions, so most of it is properties."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.tickets.sla import (
    add_hours,
    is_working_day,
    percent_elapsed,
    warning_level,
    working_time_between,
)

H = dt.timedelta(hours=1)
TICK = dt.timedelta(microseconds=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")

# 2025's National Day week: 1–8 October off, Sunday 28 September and Saturday 11 October
# worked instead.
NATIONAL_DAY_2025 = {
    **{dt.date(2025, 10, d): False for d in range(1, 9)},
    dt.date(2025, 9, 28): True,
    dt.date(2025, 10, 11): True,
}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A moment on the wall clock where the requests are handled."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# Hypothesis takes naive bounds and attaches the zone itself.
FIRST, LAST = dt.datetime(2024, 1, 1), dt.datetime(2026, 12, 31)  # noqa: DTZ001
starts = st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(SHANGHAI))
hours = st.integers(min_value=0, max_value=24 * 40)


@st.composite
def calendars(draw: st.DrawFn, near: dt.datetime) -> dict[dt.date, bool]:
    """Days off and make-up working days in the weeks after ``near``: weekdays off, weekend
    days worked, and any mix of the two."""
    offsets = draw(st.lists(st.integers(min_value=-3, max_value=70), max_size=25, unique=True))
    return {(near + dt.timedelta(days=o)).date(): draw(st.booleans()) for o in offsets}


@st.composite
def clocks(draw: st.DrawFn) -> tuple[dt.datetime, int, dict[dt.date, bool]]:
    start = draw(starts)
    return start, draw(hours), draw(calendars(start))


# ---- deadlines --------------------------------------------------------------------------


@given(start=starts, n=hours)
def test_in_calendar_time_a_deadline_is_plain_addition(start: dt.datetime, n: int):
    assert add_hours(start, n) == start + n * H
    assert working_time_between(start, start + n * H) == n * H


@given(clocks())
def test_a_working_time_deadline_holds_exactly_the_hours_given(clock):  # type: ignore[no-untyped-def]
    start, n, cal = clock
    due = add_hours(start, n, working_days=True, calendar=cal)
    assert due >= start + n * H  # days off only ever push it later
    assert working_time_between(start, due, working_days=True, calendar=cal) == n * H


@given(clocks())
def test_a_working_time_deadline_is_the_first_moment_the_hours_are_used_up(clock):  # type: ignore[no-untyped-def]
    start, n, cal = clock
    due = add_hours(start, n, working_days=True, calendar=cal)
    if n > 0:
        just_before = due - TICK
        assert working_time_between(start, just_before, working_days=True, calendar=cal) < n * H
        # The clock was running just before the deadline: it cannot fall due on a day off.
        assert is_working_day(just_before.date(), cal)


@given(clocks(), st.integers(min_value=1, max_value=24 * 10))
def test_adding_hours_in_two_steps_is_adding_them_at_once(clock, more: int):  # type: ignore[no-untyped-def]
    start, n, cal = clock
    first = add_hours(start, n, working_days=True, calendar=cal)
    assert add_hours(first, more, working_days=True, calendar=cal) == add_hours(
        start, n + more, working_days=True, calendar=cal
    )


@given(clocks(), st.integers(min_value=0, max_value=24 * 10))
def test_more_hours_never_give_an_earlier_deadline(clock, more: int):  # type: ignore[no-untyped-def]
    start, n, cal = clock
    assert add_hours(start, n, working_days=True, calendar=cal) <= add_hours(
        start, n + more, working_days=True, calendar=cal
    )


def test_a_request_filed_on_saturday_starts_on_monday():
    saturday = at(2025, 6, 7, 10, 30)
    assert add_hours(saturday, 2, working_days=True) == at(2025, 6, 9, 2, 0)
    assert working_time_between(saturday, at(2025, 6, 9), working_days=True) == dt.timedelta(0)


def test_a_holiday_week_stops_the_clock_and_a_make_up_sunday_runs_it():
    tuesday_noon = at(2025, 9, 30, 12, 0)
    # 12 h on the 30th, 1–8 October off, 24 h on the 9th, 12 h on the 10th.
    assert add_hours(tuesday_noon, 48, working_days=True, calendar=NATIONAL_DAY_2025) == at(
        2025, 10, 10, 12, 0
    )
    saturday = at(2025, 9, 27, 10, 0)
    # Saturday the 27th is off, Sunday the 28th is worked.
    assert add_hours(saturday, 24, working_days=True, calendar=NATIONAL_DAY_2025) == at(2025, 9, 29, 0, 0)
    # Without the calendar the same Sunday is a day off.
    assert add_hours(saturday, 24, working_days=True) == at(2025, 9, 30, 0, 0)
    friday = at(2025, 10, 10, 18, 0)
    # Friday 6 h, the make-up Saturday 24 h, Sunday off, Monday 6 h.
    assert add_hours(friday, 36, working_days=True, calendar=NATIONAL_DAY_2025) == at(2025, 10, 13, 6, 0)


def test_days_off_are_the_local_days_not_utcs():
    monday_7am_beijing = at(2025, 6, 9, 7, 0)
    as_utc = monday_7am_beijing.astimezone(dt.UTC)  # 23:00 on Sunday in UTC
    due = add_hours(as_utc, 1, working_days=True, tz=SHANGHAI)
    assert due == at(2025, 6, 9, 8, 0)
    friday_8pm_beijing = at(2025, 6, 13, 20, 0)
    due = add_hours(friday_8pm_beijing.astimezone(dt.UTC), 8, working_days=True, tz=SHANGHAI)
    # Four hours left on Friday, the weekend off, four hours on Monday.
    assert due == at(2025, 6, 16, 4, 0)
    assert (
        working_time_between(
            friday_8pm_beijing.astimezone(dt.UTC), due.astimezone(dt.UTC), working_days=True, tz=SHANGHAI
        )
        == 8 * H
    )


utc_starts = st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(dt.UTC))


@given(start=utc_starts, n=hours)
def test_utc_moments_read_in_the_local_zone_round_trip(start: dt.datetime, n: int):
    cal = NATIONAL_DAY_2025
    due = add_hours(start, n, working_days=True, calendar=cal, tz=SHANGHAI)
    assert working_time_between(
        start, due.astimezone(dt.UTC), working_days=True, calendar=cal, tz=SHANGHAI
    ) == (n * H)
    if n > 0:
        assert is_working_day((due - TICK).astimezone(SHANGHAI).date(), cal)


# ---- how far along, and the warnings ----------------------------------------------------


@given(clocks(), st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=60)), st.booleans())
def test_the_percentage_used_only_grows(clock, step: dt.timedelta, working: bool):  # type: ignore[no-untyped-def]
    start, n, cal = clock
    due = add_hours(start, n, working_days=working, calendar=cal)
    earlier = start + step / 2
    later = start + step
    assert percent_elapsed(start, due, earlier, working_days=working, calendar=cal) <= percent_elapsed(
        start, due, later, working_days=working, calendar=cal
    )


@given(clocks())
def test_the_clock_reads_0_at_the_start_and_100_at_the_deadline(clock):  # type: ignore[no-untyped-def]
    start, n, cal = clock
    due = add_hours(start, n, working_days=True, calendar=cal)
    assert percent_elapsed(start, due, due, working_days=True, calendar=cal) == 100
    if n > 0:
        assert percent_elapsed(start, due, start, working_days=True, calendar=cal) == 0
        assert percent_elapsed(start, due, due - TICK, working_days=True, calendar=cal) == 99


@pytest.mark.parametrize(
    ("percent", "level"),
    [(0, 0), (49, 0), (50, 50), (51, 50), (79, 50), (80, 80), (99, 80), (100, 100), (250, 100)],
)
def test_warnings_fire_at_exactly_50_80_and_100_percent(percent: int, level: int):
    assert warning_level(percent) == level


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=0, max_value=500))
def test_the_warning_level_never_drops_as_time_goes_on(a: int, b: int):
    low, high = sorted((a, b))
    assert warning_level(low) <= warning_level(high)
    assert warning_level(low) in (0, 50, 80, 100)


def test_half_of_a_working_time_limit_warns_at_the_exact_moment():
    friday_noon = at(2025, 6, 13, 12, 0)
    due = add_hours(friday_noon, 48, working_days=True)
    assert due == at(2025, 6, 17, 12, 0)  # Friday 12 h, Monday 24 h, Tuesday 12 h
    half = at(2025, 6, 16, 12, 0)  # Friday 12 h + Monday 12 h

    def level(now: dt.datetime) -> int:
        return warning_level(percent_elapsed(friday_noon, due, now, working_days=True))

    assert level(at(2025, 6, 15, 23, 0)) == 0  # the weekend does not count
    assert level(half - TICK) == 0
    assert level(half) == 50
    eighty = friday_noon + dt.timedelta(days=3) + dt.timedelta(hours=14, minutes=24)  # 38.4 h used
    assert eighty == at(2025, 6, 17, 2, 24)
    assert level(eighty - TICK) == 50
    assert level(eighty) == 80
    assert level(due - TICK) == 80
    assert level(due) == 100


def test_a_zero_length_limit_is_due_at_once():
    start = at(2025, 6, 9, 9, 0)
    assert percent_elapsed(start, start, start - TICK) == 0
    assert percent_elapsed(start, start, start) == 100
