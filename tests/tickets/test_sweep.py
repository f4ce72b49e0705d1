"""The deadline sweep and the notification worker, run as cron would, at chosen moments."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import ClassVar

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from gongzhi.tickets import actions, notify
from gongzhi.tickets.models import CategorySetting, Holiday, Notification, Ticket, TicketEvent, TimeLimit
from gongzhi.tickets.sweep import sweep

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


START = at(12, 7)
LIAISON = {"MU03": "liaison", "MU13": "liaison2"}


@pytest.fixture
def dispatched(file, users, units):  # type: ignore[no-untyped-def]
    """A power request (24-hour limit) dispatched to the power company at 09:00 on 7 December,
    which signs for it half an hour later (unless ``signed=False``)."""

    def _dispatched(  # type: ignore[no-untyped-def]
        start: dt.datetime = START, code: str = "power", lead: str = "MU03", signed: bool = True, **extra
    ) -> Ticket:
        ticket = file(code, now=start - dt.timedelta(minutes=20), **extra)
        actions.accept(users["grid"], ticket, now=start - dt.timedelta(minutes=10))
        actions.dispatch(users["grid"], ticket, lead_unit=units[lead], now=start)
        if signed:
            actions.task_accept(
                users[LIAISON[lead]], ticket.tasks.get(), now=start + dt.timedelta(minutes=30)
            )
        ticket.refresh_from_db()
        return ticket

    return _dispatched


def marks(ticket: Ticket) -> list[tuple[str, object]]:
    return [
        (e.action, e.data.get("threshold") or e.data.get("level") or e.data.get("clock"))
        for e in TicketEvent.objects.filter(
            ticket=ticket, action__in=["warn", "overdue", "supervise"]
        ).order_by("id")
    ]


def run(*args: str) -> dict:
    out = StringIO()
    call_command("sweep-deadlines", "--no-rollups", *args, stdout=out)
    return json.loads(out.getvalue())


def test_warnings_at_50_and_80_percent_then_overdue_then_supervision(dispatched, users):
    ticket = dispatched()
    start = at(12, 7)
    sweep(start + dt.timedelta(hours=11, minutes=59), rollups=False)
    assert marks(ticket) == []
    sweep(start + dt.timedelta(hours=12), rollups=False)
    assert marks(ticket) == [("warn", 50)]
    told = Notification.objects.filter(ticket=ticket, recipient=users["liaison"], subject__contains="50%")
    assert told.count() == 1
    sweep(start + dt.timedelta(hours=19, minutes=12), rollups=False)
    assert marks(ticket) == [("warn", 50), ("warn", 80)]
    sweep(start + dt.timedelta(hours=24), rollups=False)
    ticket.refresh_from_db()
    assert marks(ticket)[-1] == ("overdue", None) and ticket.overdue and ticket.warned_pct == 100
    # Overdue goes to the staff supervising the area, not only to the unit.
    for name in ("town", "county", "community"):
        assert Notification.objects.filter(ticket=ticket, recipient=users[name], channel="inbox").exists(), (
            name
        )
    assert not Notification.objects.filter(ticket=ticket, recipient=users["branch"]).exists()
    sweep(start + dt.timedelta(hours=47, minutes=59), rollups=False)
    assert len(marks(ticket)) == 3
    sweep(start + dt.timedelta(hours=48), rollups=False)
    ticket.refresh_from_db()
    assert ticket.supervision_level == 2
    supervised = TicketEvent.objects.get(ticket=ticket, action="supervise")
    assert supervised.actor is None and supervised.data == {"level": 2}


def test_a_late_first_run_writes_only_the_highest_mark(dispatched):
    ticket = dispatched()
    sweep(at(12, 7) + dt.timedelta(hours=21), rollups=False)
    assert marks(ticket) == [("warn", 80)]


def test_running_twice_writes_nothing_twice(dispatched):
    ticket = dispatched()
    moment = (at(12, 7) + dt.timedelta(hours=30)).isoformat()
    first = run("--now", moment)
    events = TicketEvent.objects.count()
    notes = Notification.objects.count()
    second = run("--now", moment)
    assert first["overdue"] >= 1 and marks(ticket) == [("overdue", None)]
    assert (second["warned"], second["overdue"], second["supervised"], second["reminded"]) == (0, 0, 0, 0)
    assert TicketEvent.objects.count() == events and Notification.objects.count() == notes


def test_a_unit_that_has_not_signed_for_its_task_is_reminded_once(dispatched, users):
    ticket = dispatched(signed=False)
    task = ticket.tasks.get()
    sweep(task.accept_due_at - dt.timedelta(minutes=1), rollups=False)
    assert not TicketEvent.objects.filter(task=task, action="warn").exists()
    sweep(task.accept_due_at, rollups=False)
    sweep(task.accept_due_at + dt.timedelta(minutes=15), rollups=False)
    reminder = TicketEvent.objects.get(task=task, action="warn")
    assert reminder.data["clock"] == "accept" and not reminder.public
    assert (
        Notification.objects.filter(
            ticket=ticket, recipient=users["liaison"], subject__contains="sign"
        ).count()
        + (
            Notification.objects.filter(
                ticket=ticket, recipient=users["liaison"], subject__contains="签收"
            ).count()
        )
        == 1
    )
    actions.task_accept(users["liaison"], task, now=task.accept_due_at + dt.timedelta(minutes=20))
    sweep(task.accept_due_at + dt.timedelta(hours=1), rollups=False)
    assert TicketEvent.objects.filter(task=task, action="warn").count() == 1


def test_working_days_only_count_on_the_calendar(dispatched, category):
    """Two working days from Wednesday 30 September: the National Day week (1–7 October) is off,
    so the clock is at half on Thursday 8 October and runs out on Friday 9 October."""
    two_days = TimeLimit.objects.create(
        code="two-working-days", name="两个工作日", accept_hours=24, resolve_hours=48, working_days=True
    )
    CategorySetting.objects.filter(category=category("stairwell")).update(time_limit=two_days)
    for day in range(1, 8):
        Holiday.objects.create(date=dt.date(2026, 10, day), name="国庆节")
    Holiday.objects.create(date=dt.date(2026, 10, 10), name="国庆调休", is_workday=True)
    ticket = dispatched(at(9, 30, 10), "stairwell", lead="MU13", text="1幢2单元楼道声控灯全都不亮")
    assert timezone.localtime(ticket.due_at) == at(10, 9, 10)
    sweep(at(10, 5, 12), rollups=False)  # five calendar days later, 14 working hours
    assert marks(ticket) == []
    sweep(at(10, 8, 9, 59), rollups=False)
    assert marks(ticket) == []
    sweep(at(10, 8, 10), rollups=False)
    assert marks(ticket) == [("warn", 50)]
    sweep(at(10, 9, 10), rollups=False)
    assert marks(ticket)[-1] == ("overdue", None)


def test_followed_up_requests_are_archived_after_seven_days(dispatched, users):
    ticket = dispatched()
    task = ticket.tasks.get()
    actions.task_reply(users["liaison"], task, result="已收紧垂落线路", now=at(12, 7, 15))
    actions.verify(users["grid"], ticket, now=at(12, 8))
    actions.close(users["grid"], ticket, now=at(12, 8, 10))
    actions.rate(
        users["grid"],
        ticket,
        resolution="resolved",
        satisfaction="satisfied",
        via="staff_call",
        now=at(12, 9, 11),
    )
    run("--now", at(12, 16, 10, 59).isoformat())
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.FOLLOWED_UP
    summary = run("--now", at(12, 16, 11).isoformat())
    ticket.refresh_from_db()
    assert summary["archived"] >= 1 and ticket.state == Ticket.State.ARCHIVED
    assert ticket.archived_at == at(12, 16, 11)
    archived = TicketEvent.objects.get(ticket=ticket, action="archive")
    assert archived.actor is None and archived.from_state == Ticket.State.FOLLOWED_UP


def test_the_command_refuses_a_moment_it_cannot_read():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("sweep-deadlines", "--now", "next tuesday", stdout=StringIO())


def test_the_sweep_refreshes_the_dashboards(dispatched):
    from gongzhi.dashboards.models import RollupCursor

    dispatched()
    summary = sweep(at(12, 7, 22))
    assert summary["rollups"] is True
    newest = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first()
    assert RollupCursor.objects.get().position >= newest


# ---- delivering notifications ---------------------------------------------------------------
class FlakySms:
    """An SMS gateway that is down for its first ``failures`` sends, then delivers."""

    failures: ClassVar[int] = 0
    delivered: ClassVar[list[str]] = []

    def send(self, note: Notification) -> None:
        if FlakySms.failures > 0:
            FlakySms.failures -= 1
            raise notify.DeliveryError("gateway timed out")
        FlakySms.delivered.append(f"{note.address}: {note.body}")


FLAKY = {**settings.GONGZHI_NOTIFY_BACKENDS, "sms": f"{__name__}.FlakySms"}


def deliver(moment: dt.datetime) -> dict:
    out = StringIO()
    call_command("deliver-notifications", "--now", moment.isoformat(), stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def sms():  # type: ignore[no-untyped-def]
    FlakySms.delivered = []
    start = at(12, 7)
    note = notify.enqueue(channel="sms", address="13900001111", subject="s", body="您的诉求已办结", now=start)
    assert note is not None
    return note, start


@override_settings(GONGZHI_NOTIFY_BACKENDS=FLAKY)
def test_failed_sends_are_retried_with_backoff_then_delivered(sms):
    note, start = sms
    FlakySms.failures = 2
    assert deliver(start) == {"sent": 0, "retry": 1, "failed": 0}
    note.refresh_from_db()
    assert note.send_after == start + dt.timedelta(minutes=1) and note.last_error.endswith(
        "gateway timed out"
    )
    assert deliver(start + dt.timedelta(seconds=59)) == {"sent": 0, "retry": 0, "failed": 0}
    assert deliver(start + dt.timedelta(minutes=1)) == {"sent": 0, "retry": 1, "failed": 0}
    note.refresh_from_db()
    assert note.send_after == start + dt.timedelta(minutes=6)
    assert deliver(start + dt.timedelta(minutes=6)) == {"sent": 1, "retry": 0, "failed": 0}
    note.refresh_from_db()
    assert note.attempts == 3 and note.sent_at == start + dt.timedelta(minutes=6)
    assert FlakySms.delivered == ["13900001111: 您的诉求已办结"]


@override_settings(GONGZHI_NOTIFY_BACKENDS=FLAKY)
def test_a_message_that_keeps_failing_is_given_up(sms):
    note, start = sms
    FlakySms.failures = 99
    moment = start
    for pause in (1, 5, 30, 120):
        assert deliver(moment)["retry"] == 1
        moment += dt.timedelta(minutes=pause)
    assert deliver(moment) == {"sent": 0, "retry": 0, "failed": 1}
    assert deliver(moment + dt.timedelta(days=1)) == {"sent": 0, "retry": 0, "failed": 0}
    note.refresh_from_db()
    assert note.failed_at == moment and note.sent_at is None and note.attempts == 5
    assert FlakySms.delivered == []


@override_settings(GONGZHI_NOTIFY_BACKENDS=FLAKY)
def test_the_worker_loop_delivers_round_after_round():
    FlakySms.delivered, FlakySms.failures = [], 0
    note = notify.enqueue(
        channel="sms", address="13900002222", subject="s", body="已派单", now=timezone.now()
    )
    assert note is not None
    out = StringIO()
    call_command("deliver-notifications", "--loop", "0.01", "--rounds", "2", stdout=out)
    note.refresh_from_db()
    assert note.sent_at is not None
    assert json.loads(out.getvalue().splitlines()[0])["sent"] >= 1
