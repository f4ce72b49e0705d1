"""The deadline sweep: warnings, overdue flags, automatic supervision and archiving.

``gongzhi sweep-deadlines`` runs this from cron (every 15 minutes is a good rhythm). For each
request the units are working on it works out how much of the time limit is used up — in
working time when the time limit says so, with the ``Holiday`` calendar — and then, once
each: a "warn" event at 50 % and at 80 % (the units still working are told), an "overdue"
event at 100 % (the units and the supervising staff are told), and supervision level 2 once
a request is overdue by the whole time limit again (it goes to the lead unit's superior).
A unit that has not signed for its task by the sign-for deadline gets one reminder.
Requests followed up seven days ago or more are archived.

Two sweeps may run at the same time (a slow run overlapping the next cron tick): every
request is handled in its own transaction under a row lock, and everything is checked again
under that lock, so each warning is written once. On PostgreSQL a sweep skips the rows
another sweep holds instead of waiting for them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.orgs.models import Role, RoleGrant
from gongzhi.tickets import actions, sla
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Holiday, Task, Ticket, TicketEvent
from gongzhi.tickets.notify import enqueue

log = logging.getLogger(__name__)

SUPERVISE_AT = 200  # percent of the time limit: overdue by the whole limit again
SUPERVISE_LEVEL = 2
ARCHIVE_AFTER = dt.timedelta(days=7)
# Staff told when a request becomes overdue: those who supervise the area it lies in.
SUPERVISOR_ROLES = (Role.COUNTY_ADMIN, Role.TOWN_STAFF, Role.COMMUNITY_STAFF)
# Task states in which a unit still owes its answer.
WORKING = (Task.State.DISPATCHED, Task.State.ACCEPTED, Task.State.IN_PROGRESS)

COUNTERS = ("checked", "warned", "overdue", "supervised", "reminded", "archived", "skipped", "errors")


def parse_moment(value: str | None) -> dt.datetime | None:
    """An ISO 8601 moment given on the command line (a moment without a zone is local time)."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date and time: {value!r}") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def load_calendar() -> dict[dt.date, bool]:
    """Days off and make-up working days, for time limits that count working days only."""
    return dict(Holiday.objects.values_list("date", "is_workday"))


def _claim(pk: int) -> Ticket | None:
    """Lock one ticket row for this transaction; None when another sweep holds it
    (PostgreSQL) or it is gone."""
    # Lock the ticket's row only: the time limit comes through an outer join, which
    # PostgreSQL will not lock.
    qs = Ticket.objects.filter(pk=pk).select_related("time_limit")
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",)).first()
    return qs.select_for_update(of=("self",)).first()


@dataclass
class Mark:
    """One thing the sweep writes on a request: a "warn" (resolve clock at 50 or 80 %, or a
    task's sign-for time passed), an "overdue", or an automatic supervision."""

    action: str  # "warn", "overdue" or "supervise"
    data: dict[str, Any]
    subject: str
    body: str
    task: Task | None = None  # the task whose sign-for time passed
    units: list[Any] = field(default_factory=list)  # member units to tell
    supervisors: bool = False  # tell the staff supervising the area too
    fields: dict[str, Any] = field(default_factory=dict)  # ticket fields to set first
    level: int = 0  # for "supervise"


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def marks_due(
    ticket: Ticket,
    tasks: list[Task],
    reminded: Collection[Task],
    now: dt.datetime,
    calendar: Mapping[dt.date, bool],
) -> list[Mark]:
    """What the sweep should write on ``ticket`` at ``now``, in order; pure, no database.

    ``tasks`` are the ticket's active tasks, latest round first; ``reminded`` holds those of
    them that already had their sign-for reminder."""
    if ticket.state not in W.WITH_UNITS or ticket.due_at is None:
        return []
    marks: list[Mark] = []
    for task in tasks:
        late = task.state == Task.State.DISPATCHED and task.accept_due_at <= now
        if late and not any(done is task for done in reminded):
            marks.append(
                Mark(
                    "warn",
                    {"clock": "accept", "unit": task.unit_id, "due": task.accept_due_at.isoformat()},
                    _("Request #%(id)s: please sign for it") % {"id": ticket.pk},
                    _("The time to sign for request #%(id)s (%(title)s) ended at %(due)s.")
                    % {"id": ticket.pk, "title": ticket.title, "due": _when(task.accept_due_at)},
                    task=task,
                    units=[task.unit],
                )
            )
    lead = next((t for t in tasks if t.role == Task.Role.LEAD), None)
    start = lead.dispatched_at if lead is not None else ticket.dispatched_at
    if start is None:
        return marks
    limit = ticket.time_limit
    pct = sla.percent_elapsed(
        start,
        ticket.due_at,
        now,
        working_days=bool(limit and limit.working_days),
        calendar=calendar,
        tz=timezone.get_current_timezone(),
    )
    level = sla.warning_level(pct)
    working = list({t.unit_id: t.unit for t in tasks if t.state in WORKING}.values())
    due_text = _when(ticket.due_at)
    if level in sla.WARN_AT and level > ticket.warned_pct:
        marks.append(
            Mark(
                "warn",
                {"clock": "resolve", "pct": pct, "threshold": level, "due": ticket.due_at.isoformat()},
                _("Request #%(id)s: %(pct)s%% of the time limit used") % {"id": ticket.pk, "pct": level},
                _("%(title)s — to be resolved by %(due)s.") % {"title": ticket.title, "due": due_text},
                units=working,
                fields={"warned_pct": level},
            )
        )
    if level == 100 and not ticket.overdue:
        marks.append(
            Mark(
                "overdue",
                {
                    "pct": pct,
                    "due": ticket.due_at.isoformat(),
                    "units": [t.unit_id for t in tasks if t.state in WORKING],
                },
                _("Request #%(id)s is overdue") % {"id": ticket.pk},
                _("%(title)s — it was due by %(due)s.") % {"title": ticket.title, "due": due_text},
                units=working,
                supervisors=True,
                fields={"overdue": True, "warned_pct": 100},
            )
        )
    if pct >= SUPERVISE_AT and ticket.supervision_level < SUPERVISE_LEVEL:
        note = _("Overdue by the whole time limit again (%(pct)s%% used): supervised automatically.") % {
            "pct": pct
        }
        marks.append(Mark("supervise", {}, "", note, level=SUPERVISE_LEVEL))
    return marks


def supervisor_grants(ticket: Ticket) -> Any:
    """Grants of the staff who supervise the area the ticket lies in."""
    codes = [c for c in ticket.area_path.strip("/").split("/") if c]
    paths = ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
    return (
        RoleGrant.objects.filter(
            role__in=SUPERVISOR_ROLES, revoked_at__isnull=True, area__path__in=paths, user__is_active=True
        )
        .select_related("user")
        .order_by("id")
    )


def supervisors(ticket: Ticket) -> list[Any]:
    seen: dict[int, Any] = {}
    for grant in supervisor_grants(ticket):
        seen.setdefault(grant.user_id, grant.user)
    return list(seen.values())


def _apply(ticket: Ticket, mark: Mark, now: dt.datetime, counts: dict[str, int]) -> None:
    """Write one mark through the actions, on a ticket locked by this transaction."""
    if mark.action == "supervise":
        actions.supervise(None, ticket, note=mark.body, level=mark.level, now=now)
        counts["supervised"] += 1
        return
    for name, value in mark.fields.items():
        setattr(ticket, name, value)
    actions.mark_deadline(ticket, mark.action, task=mark.task, data=mark.data, now=now)
    for unit in mark.units:
        actions.notify_unit(unit, ticket, mark.subject, mark.body)
    if mark.supervisors:
        for user in supervisors(ticket):
            enqueue(
                channel="inbox",
                recipient=user,
                subject=mark.subject,
                body=mark.body,
                ticket=ticket,
                url=f"/tickets/{ticket.pk}/",
                now=now,
            )
    if mark.action == "overdue":
        counts["overdue"] += 1
    elif mark.task is not None:
        counts["reminded"] += 1
    else:
        counts["warned"] += 1


def _sweep_clock(
    ticket: Ticket, now: dt.datetime, calendar: Mapping[dt.date, bool], counts: dict[str, int]
) -> None:
    """Warn, flag overdue and supervise one locked ticket as far as its clock has run."""
    if ticket.state not in W.WITH_UNITS or ticket.due_at is None:
        return
    counts["checked"] += 1
    tasks = list(
        ticket.tasks.filter(state__in=W.ACTIVE_TASK_STATES).select_related("unit").order_by("-round", "id")
    )
    unsigned = [t.pk for t in tasks if t.state == Task.State.DISPATCHED]
    reminded = set(
        Task.objects.filter(pk__in=unsigned, events__action="warn").values_list("pk", flat=True).distinct()
    )
    for mark in marks_due(ticket, tasks, [t for t in tasks if t.pk in reminded], now, calendar):
        _apply(ticket, mark, now, counts)


def _archive_due(ticket: Ticket, now: dt.datetime) -> bool:
    return (
        ticket.state == Ticket.State.FOLLOWED_UP
        and ticket.rated_at is not None
        and ticket.rated_at <= now - ARCHIVE_AFTER
    )


def _sweep_one(
    pk: int, now: dt.datetime, calendar: Mapping[dt.date, bool], counts: dict[str, int]
) -> Ticket | None:
    """Everything the sweep does to one ticket, in one transaction under its row lock."""
    try:
        with transaction.atomic():
            ticket = _claim(pk)
            if ticket is None:
                counts["skipped"] += 1
                return None
            if _archive_due(ticket, now):
                ticket = actions.archive(None, ticket, now=now)
                counts["archived"] += 1
            else:
                _sweep_clock(ticket, now, calendar, counts)
            return ticket
    except actions.Refused:
        # The ticket moved on between the scan and the lock; the next run sees it afresh.
        counts["skipped"] += 1
    except Exception:
        log.exception("sweep of request %s failed", pk)
        counts["errors"] += 1
    return None


def sweep_ticket(
    pk: int, now: dt.datetime | None = None, calendar: Mapping[dt.date, bool] | None = None
) -> dict[str, int]:
    """Sweep one request as a run at ``now`` would (used to replay history)."""
    counts = dict.fromkeys(COUNTERS, 0)
    _sweep_one(pk, now or timezone.now(), load_calendar() if calendar is None else calendar, counts)
    return counts


def _clock_candidates(now: dt.datetime, calendar: Mapping[dt.date, bool]) -> list[int]:
    """Tickets with units whose clock may have passed a mark not yet written, or with a task
    not signed for in time. Read without locks; each is checked again under its lock."""
    lead_start = (
        Task.objects.filter(ticket=OuterRef("pk"), role=Task.Role.LEAD, state__in=W.ACTIVE_TASK_STATES)
        .order_by("-round", "-id")
        .values("dispatched_at")[:1]
    )
    unsigned = Task.objects.filter(
        ticket=OuterRef("pk"), state=Task.State.DISPATCHED, accept_due_at__lte=now
    ).exclude(Exists(TicketEvent.objects.filter(task=OuterRef("pk"), action="warn")))
    rows = (
        Ticket.objects.filter(state__in=W.WITH_UNITS, due_at__isnull=False)
        .filter(Q(overdue=False) | Q(supervision_level__lt=SUPERVISE_LEVEL) | Exists(unsigned))
        .annotate(start=Subquery(lead_start), unsigned=Exists(unsigned))
        .values_list(
            "pk",
            "start",
            "dispatched_at",
            "due_at",
            "warned_pct",
            "overdue",
            "supervision_level",
            "unsigned",
            "time_limit__working_days",
        )
        .order_by("due_at", "pk")
    )
    due: list[int] = []
    zone = timezone.get_current_timezone()
    for pk, start, dispatched, due_at, warned, overdue, level, unsigned_task, working_days in rows.iterator(
        chunk_size=2000
    ):
        begin = start or dispatched
        if unsigned_task:
            due.append(pk)
            continue
        if begin is None or due_at is None:
            continue
        pct = sla.percent_elapsed(
            begin, due_at, now, working_days=bool(working_days), calendar=calendar, tz=zone
        )
        mark = sla.warning_level(pct)
        if (
            (mark in sla.WARN_AT and mark > warned)
            or (mark == 100 and not overdue)
            or (pct >= SUPERVISE_AT and level < SUPERVISE_LEVEL)
        ):
            due.append(pk)
    return due


def _archive_candidates(now: dt.datetime) -> list[int]:
    return list(
        Ticket.objects.filter(state=Ticket.State.FOLLOWED_UP, rated_at__lte=now - ARCHIVE_AFTER)
        .order_by("rated_at", "pk")
        .values_list("pk", flat=True)
    )


def refresh_dashboards() -> bool:
    """Refresh the dashboards' rollups when that app is installed; False when it is not."""
    try:
        from gongzhi.dashboards import rollups
    except ModuleNotFoundError as missing:
        if missing.name in ("gongzhi.dashboards", "gongzhi.dashboards.rollups"):
            return False
        raise
    refresh = getattr(rollups, "refresh_rollups", None)
    if refresh is None:
        return False
    refresh()
    return True


def sweep(now: dt.datetime | None = None, *, rollups: bool = True) -> dict[str, Any]:
    """One run of the sweep at ``now`` (default: the current time). Returns what it did."""
    now = now or timezone.now()
    calendar = load_calendar()
    counts = dict.fromkeys(COUNTERS, 0)
    for pk in _clock_candidates(now, calendar):
        _sweep_one(pk, now, calendar, counts)
    for pk in _archive_candidates(now):
        _sweep_one(pk, now, calendar, counts)
    summary: dict[str, Any] = {"at": now.isoformat(), **counts}
    summary["rollups"] = refresh_dashboards() if rollups else False
    return summary
