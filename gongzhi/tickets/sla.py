"""Time-limit clocks: deadlines in calendar or working time, and how far along a clock is.

Pure functions. ``calendar`` maps a date to True (a make-up working day) or False (a day
off); dates not in it follow the week (Monday–Friday work).

Days off are calendar days where the request is handled, not in UTC: pass ``tz`` (the
deployment's zone) when the datetimes are aware, or a request filed at 07:00 on a Monday in
Beijing time (23:00 on Sunday in UTC) would wait for a Sunday that is already over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

WARN_AT = (50, 80)
HOUR = dt.timedelta(hours=1)


def is_working_day(day: dt.date, calendar: Mapping[dt.date, bool]) -> bool:
    if day in calendar:
        return calendar[day]
    return day.weekday() < 5


def _day_start(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _local(moment: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    """``moment`` on the wall clock of ``tz`` (unchanged when naive or without ``tz``)."""
    if tz is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(tz)


def add_hours(
    start: dt.datetime,
    hours: int,
    *,
    working_days: bool = False,
    calendar: Mapping[dt.date, bool] | None = None,
    tz: dt.tzinfo | None = None,
) -> dt.datetime:
    """The deadline ``hours`` after ``start``. In working time the clock stops on days off:
    24 hours are one working day, and a request filed on a Saturday starts on Monday."""
    if not working_days:
        return start + hours * HOUR
    cal = calendar or {}
    left = dt.timedelta(hours=hours)
    moment = _local(start, tz)
    for _ in range(3660):  # ten years of days: a safety bound, never reached in practice
        next_day = _day_start(moment) + dt.timedelta(days=1)
        if is_working_day(moment.date(), cal):
            today = next_day - moment
            if left <= today:
                return moment + left
            left -= today
        moment = next_day
    raise ValueError("time limit too long")


def working_time_between(
    start: dt.datetime,
    end: dt.datetime,
    *,
    working_days: bool = False,
    calendar: Mapping[dt.date, bool] | None = None,
    tz: dt.tzinfo | None = None,
) -> dt.timedelta:
    """Time on the clock between two moments (zero if ``end`` is before ``start``)."""
    if end <= start:
        return dt.timedelta(0)
    if not working_days:
        return end - start
    cal = calendar or {}
    total = dt.timedelta(0)
    moment, end = _local(start, tz), _local(end, tz)
    while moment < end:
        next_day = min(_day_start(moment) + dt.timedelta(days=1), end)
        if is_working_day(moment.date(), cal):
            total += next_day - moment
        moment = next_day
    return total


def percent_elapsed(
    start: dt.datetime,
    due: dt.datetime,
    now: dt.datetime,
    *,
    working_days: bool = False,
    calendar: Mapping[dt.date, bool] | None = None,
    tz: dt.tzinfo | None = None,
) -> int:
    """Whole percent of the time limit used up at ``now`` (may exceed 100)."""
    allowed = working_time_between(start, due, working_days=working_days, calendar=calendar, tz=tz)
    used = working_time_between(start, now, working_days=working_days, calendar=calendar, tz=tz)
    if allowed <= dt.timedelta(0):
        return 100 if now >= due else 0
    return int(used * 100 // allowed)


def warning_level(percent: int, thresholds: tuple[int, ...] = WARN_AT) -> int:
    """The highest threshold reached (0 when none); 100 means overdue."""
    if percent >= 100:
        return 100
    reached = [t for t in thresholds if percent >= t]
    return max(reached) if reached else 0
