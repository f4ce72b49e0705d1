"""Requests walked through the real ticket actions at chosen times, and a direct count of
what the KPI rollups should hold, made by scanning tickets, tasks and events.

The direct count shares nothing with the consumer but the bucket table and the definitions in
``gongzhi.dashboards.kpi``: it reads task and ticket fields where they say it (dispatch,
sign-for, due times), and events only for what no field keeps (first reply, first close,
every rating and reopen).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Max, Q

from gongzhi.dashboards.kpi import COUNTERS, Tally, bucket_of
from gongzhi.dashboards.models import KpiRollup
from gongzhi.housing.models import Building
from gongzhi.orgs.models import Area, Organisation, ServiceCategory
from gongzhi.tickets import actions
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Approval, Task, Ticket, TicketEvent

TZ = ZoneInfo("Asia/Shanghai")
# Far from the demo's own dates, so the requests of a test are the only ones in their months.
START = dt.datetime(2031, 1, 6, 8, 30, tzinfo=TZ)
PLACES = ("育才新村", "大峧小区", "东沙老街小区", "秀东小区", "岛斗小区", "龙头小区")
CATEGORIES = ("power", "water", "environment", "parking", "telecom", "disputes", "greening", "gas")
RATINGS = (
    ("resolved", "satisfied"),
    ("resolved", "basic"),
    ("partly", "basic"),
    ("resolved", "dissatisfied"),
    ("not", "dissatisfied"),
    ("partly", "satisfied"),
)
Cell = tuple[int, str, int, dt.date]  # area, dimension, key, month


def last_event_id() -> int:
    """The last request-event id handed out: on PostgreSQL the sequence runs ahead of the table
    (ids of rolled-back transactions, such as earlier tests', are never used)."""
    top = TicketEvent.objects.aggregate(m=Max("id"))["m"] or 0
    if connection.vendor == "postgresql":
        table = TicketEvent._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id'))", [table])
            handed_out = cursor.fetchone()[0]
        top = max(top, handed_out or 0)
    return top


def user(name: str):  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(username=name)


def building_of(compound: str, number: str = "1") -> Building:
    return Building.objects.get(compound__name=compound, number=number)


def file_request(
    at: dt.datetime,
    *,
    place: str = "育才新村",
    number: str = "1",
    code: str = "water",
    phone: str = "13957001234",
    **extra,  # type: ignore[no-untyped-def]
) -> Ticket:
    """A request a resident phoned in, entered by the county desk at ``at``."""
    return actions.file_ticket(
        user("admin"),
        channel="staff_call",
        category=ServiceCategory.objects.get(code=code),
        description="楼道口水管漏水，地面积水" if code != "power" else "电线垂到路边",
        building=building_of(place, number),
        reporter_name="王秀英",
        reporter_phone=phone,
        consent_note="电话中同意代为登记",
        attributes={"hazard": "no"} if code == "power" else {},
        now=at,
        **extra,
    )


def walk_to_rating(
    ticket: Ticket,
    at: dt.datetime,
    *,
    resolution: str = "resolved",
    satisfaction: str = "satisfied",
    step: dt.timedelta = dt.timedelta(hours=2),
) -> Ticket:
    """Accept, dispatch as routed, sign for and reply by every unit, verify, close and rate,
    one ``step`` apart."""
    admin = user("admin")
    clock = [at]

    def later() -> dt.datetime:
        clock[0] += step
        return clock[0]

    actions.accept(admin, ticket, now=later())
    actions.dispatch(
        admin,
        ticket,
        lead_unit=routed_lead(ticket),
        co_units=list(ticket.suggested_co_units.all()),
        now=later(),
    )
    for task in ticket.tasks.filter(state=Task.State.DISPATCHED):
        actions.task_accept(admin, task, now=later())
    for task in ticket.tasks.filter(state=Task.State.ACCEPTED):
        actions.task_reply(admin, task, result="已更换阀门", now=later())
    ticket.refresh_from_db()
    actions.verify(admin, ticket, now=later())
    actions.close(admin, ticket, now=later())
    actions.rate(
        admin, ticket, resolution=resolution, satisfaction=satisfaction, via="staff_call", now=later()
    )
    ticket.refresh_from_db()
    return ticket


def routed_lead(ticket: Ticket) -> Organisation:
    assert ticket.suggested_lead is not None, ticket.routing_note
    return ticket.suggested_lead


def mark_unreasonable(ticket: Ticket, at: dt.datetime) -> None:
    """Asked by one desk user, approved by another, as the workflow requires."""
    approval = actions.request_approval(
        user("admin"), ticket, kind=Approval.Kind.UNREASONABLE, reason="同一诉求恶意反复投诉", now=at
    )
    actions.decide_approval(user("county"), approval, approve=True, note="核实", now=at)


def mark_unreachable(ticket: Ticket, at: dt.datetime) -> None:
    """The follow-up could not reach the reporter: the flag and its event."""
    Ticket.objects.filter(pk=ticket.pk).update(unreachable=True)
    TicketEvent.objects.create(ticket=ticket, action="unreachable", actor_label="回访", at=at, public=False)


# ------------------------------------------------------------------------------ a mixed run


@dataclass
class Run:
    rng: random.Random
    first_id: int  # requests above this id belong to the run
    refresh: Callable[[int], object]  # consume with a batch size
    refreshes: int = 0
    marked: set[int] = field(default_factory=set)

    def story(self, number: int) -> Iterator[None]:  # noqa: C901 - one request's whole life
        rng, admin = self.rng, user("admin")
        clock = [START + dt.timedelta(days=rng.randrange(0, 80), minutes=rng.randrange(0, 600))]

        def later(low: int, high: int) -> dt.datetime:
            clock[0] += dt.timedelta(minutes=rng.randint(low, high))
            return clock[0]

        ticket = file_request(
            clock[0],
            place=rng.choice(PLACES),
            code=rng.choice(CATEGORIES),
            phone=f"139{number:08d}",
        )
        yield
        if rng.random() < 0.08:
            actions.reject(admin, ticket, reason="不属于受理范围", now=later(5, 60))
            return
        if rng.random() < 0.05:
            return  # waits at the desk
        actions.accept(admin, ticket, now=later(5, 300))
        yield
        if rng.random() < 0.06 and self.merge(ticket, later(5, 60)):
            return
        ticket.refresh_from_db()
        actions.dispatch(
            admin,
            ticket,
            lead_unit=routed_lead(ticket),
            co_units=list(ticket.suggested_co_units.all()),
            now=later(5, 600),
        )
        yield
        if rng.random() < 0.05 and self.merge(ticket, later(5, 60)):
            return
        for _round in range(3):
            for task in list(ticket.tasks.filter(state=Task.State.DISPATCHED)):
                if rng.random() < 0.06:
                    return  # never signed for
                actions.task_accept(admin, task, now=later(10, 40 * 60))
                yield
            for task in list(ticket.tasks.filter(state=Task.State.ACCEPTED)):
                actions.task_reply(admin, task, result="已处理", now=later(60, 12 * 24 * 60))
                yield
            if rng.random() < 0.15:
                actions.send_back(admin, ticket, reason="现场核查仍有问题", now=later(60, 24 * 60))
                yield
                for task in list(ticket.tasks.filter(state=Task.State.IN_PROGRESS)):
                    actions.task_reply(admin, task, result="已整改", now=later(60, 3 * 24 * 60))
                    yield
            ticket.refresh_from_db()
            actions.verify(admin, ticket, now=later(30, 3 * 24 * 60))
            yield
            actions.close(admin, ticket, now=later(10, 600))
            yield
            if rng.random() < 0.1:
                return  # not followed up yet
            resolution, satisfaction = rng.choice(RATINGS)
            actions.rate(
                admin,
                ticket,
                resolution=resolution,
                satisfaction=satisfaction,
                via="staff_call",
                now=later(60, 3 * 24 * 60),
            )
            yield
            ticket.refresh_from_db()
            if ticket.state != W.State.DISPATCHED:
                return

    def merge(self, child: Ticket, at: dt.datetime) -> bool:
        candidates = list(
            Ticket.objects.filter(id__gt=self.first_id, state__in=W.OPEN_STATES, merged_into__isnull=True)
            .exclude(pk=child.pk)
            .order_by("id")
        )
        if not candidates:
            return False
        actions.merge(user("admin"), child, self.rng.choice(candidates), now=at)
        return True

    def maybe_exclude(self) -> None:
        """Now and then mark a request unreasonable, at whatever stage it is in."""
        allowed = W.OPEN_STATES | {W.State.CLOSED, W.State.FOLLOWED_UP}
        candidates = list(
            Ticket.objects.filter(id__gt=self.first_id, state__in=allowed, unreasonable=False).order_by("id")
        )
        ticket = self.rng.choice(candidates) if candidates else None
        if ticket is not None and not ticket.approvals.filter(state=Approval.State.PENDING).exists():
            mark_unreasonable(ticket, START + dt.timedelta(days=100 + len(self.marked)))
            self.marked.add(ticket.pk)

    def play(self, requests: int) -> None:
        """Interleave the stories step by step, consuming now and then in small batches."""
        stories = [self.story(n) for n in range(requests)]
        while stories:
            story = self.rng.choice(stories)
            try:
                next(story)
            except StopIteration:
                stories.remove(story)
            if self.rng.random() < 0.01:
                self.maybe_exclude()
            if self.rng.random() < 0.08:
                self.refresh(self.rng.randint(1, 30))
                self.refreshes += 1
        last = Ticket.objects.filter(id__gt=self.first_id, state=W.State.FOLLOWED_UP).order_by("-id").first()
        if last is not None:
            mark_unreachable(last, START + dt.timedelta(days=120))


# ------------------------------------------------------------------------------ the direct count


def _month(moment: dt.datetime) -> dt.date:
    return moment.astimezone(TZ).date().replace(day=1)


def _paths(path: str) -> list[str]:
    codes = [c for c in path.strip("/").split("/") if c]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def _bump(*names: str) -> Callable[[Tally], None]:
    def change(tally: Tally) -> None:
        for name in names:
            tally.counts[name] += 1

    return change


def _timed(histogram: str, seconds: int, *names: str) -> Callable[[Tally], None]:
    def change(tally: Tally) -> None:
        _bump(*names)(tally)
        buckets = getattr(tally, histogram)
        buckets[bucket_of(seconds)] = buckets.get(bucket_of(seconds), 0) + 1

    return change


def direct_cells(first_id: int) -> dict[Cell, Tally]:
    """The rollup cells of the requests above ``first_id``, counted from scratch."""
    area_ids = dict(Area.objects.values_list("path", "id"))
    cells: dict[Cell, Tally] = defaultdict(Tally)

    def put(ticket: Ticket, when: dt.datetime, unit: int | None, change: Callable[[Tally], None]) -> None:
        month = _month(when)
        for area in [area_ids[p] for p in _paths(ticket.area_path) if p in area_ids]:
            change(cells[(area, "all", 0, month)])
            change(cells[(area, "category", ticket.category_id, month)])
            if unit is not None:
                change(cells[(area, "unit", unit, month)])

    resolution = {"resolved": "resolved", "partly": "partly", "not": "unresolved"}
    for ticket in Ticket.objects.filter(id__gt=first_id).prefetch_related("tasks", "events"):
        if ticket.unreasonable or ticket.merged_into_id or ticket.unreachable:
            continue
        events = sorted(ticket.events.all(), key=lambda e: e.id)
        tasks = sorted(ticket.tasks.all(), key=lambda t: t.id)
        put(ticket, ticket.created_at, None, _bump("reported"))
        for task in tasks:
            put(ticket, task.dispatched_at, task.unit_id, _bump("tasks"))
            if task.accepted_at is not None:
                waited = int((task.accepted_at - task.dispatched_at).total_seconds())
                names = ["signed"] + (["signed_in_time"] if task.accepted_at <= task.accept_due_at else [])
                put(ticket, task.dispatched_at, task.unit_id, _timed("sign_hist", waited, *names))
            reply = next((e for e in events if e.task_id == task.pk and e.action == "task_reply"), None)
            if reply is not None:
                names = ["replied"] + (["replied_on_time"] if reply.at <= task.due_at else [])
                put(ticket, reply.at, task.unit_id, _bump(*names))
        close = next((e for e in events if e.action == "close"), None)
        if close is not None:
            leads = [t for t in tasks if t.role == Task.Role.LEAD and t.dispatched_at <= close.at]
            lead = max(leads, key=lambda t: (t.dispatched_at, t.id)).unit_id
            took = int((close.at - ticket.created_at).total_seconds())
            put(ticket, close.at, lead, _timed("close_hist", took, "closed"))
        for event in events:
            if event.action == "rate":
                counted = ("rated", resolution[event.data["resolution"]], event.data["satisfaction"])
                put(ticket, event.at, event.data["lead"], _bump(*counted))
            elif event.action == "reopen":
                put(ticket, event.at, event.data["lead"], _bump("reopened"))
    return {cell: tally for cell, tally in cells.items() if not tally.is_zero()}


def rollup_cells() -> dict[Cell, Tally]:
    """What the consumer wrote for the months of these tests (the demo's requests are years
    earlier), leaving out cells that were counted and taken back to zero."""
    out: dict[Cell, Tally] = {}
    for row in KpiRollup.objects.filter(month__gte=_month(START)):
        tally = Tally.from_stored(
            {n: getattr(row, n) for n in COUNTERS}, row.sign_hist or {}, row.close_hist or {}
        )
        if not tally.is_zero():
            out[(row.area_id, row.dimension, row.key, row.month)] = tally
    return out


def negative_cells() -> list[KpiRollup]:
    """Rollup rows with a counter or a bucket below zero: taken back more than was added."""
    below = reduce(or_, (Q(**{f"{n}__lt": 0}) for n in COUNTERS))
    rows = list(KpiRollup.objects.filter(below))
    for row in KpiRollup.objects.all():
        if any(v < 0 for v in (*row.sign_hist.values(), *row.close_hist.values())):
            rows.append(row)
    return rows
