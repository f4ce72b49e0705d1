"""Two people — or two cron runs — acting on the same request at the same moment.

Each case starts real threads, each with its own database connection, on a barrier, so the
moves meet at the ticket's row lock. Exactly one move may win; the other is refused with a
reason (or finds nothing left to do), and the events show one move.

These tests commit (``transaction=True``), so the database is emptied after each one; they
build a small county of their own. When a later test of the session needs the demo county,
it is seeded again at the end of this module.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gongzhi.housing.models import Building, Compound, CompoundGrid
from gongzhi.orgs.models import Area, Organisation, Role, RoleGrant, ServiceCategory
from gongzhi.tickets import actions
from gongzhi.tickets.models import CategorySetting, Notification, Task, Ticket, TicketEvent, TimeLimit
from gongzhi.tickets.sweep import sweep
from tests.concurrency import COMMITTING, demo_county_afterwards, together  # noqa: F401 - the fixture is autouse

pytestmark = COMMITTING
TZ = timezone.get_default_timezone()
T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=TZ)


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    units: dict[str, Organisation] = field(default_factory=dict)
    building: Building | None = None
    category: ServiceCategory | None = None


@pytest.fixture
def world() -> World:
    """A grid with two desk workers, one compound, two member units with a liaison each, and
    a power category with a 4-hour sign-for and 24-hour resolve limit."""
    w = World()

    def area(code: str, name: str, level: str, parent: Area | None) -> Area:
        path = (parent.path if parent else "/") + code + "/"
        return Area.objects.create(
            code=code,
            name=name,
            level=level,
            parent=parent,
            path=path,
            depth=0 if parent is None else parent.depth + 1,
        )

    county = area("CC", "并发县", Area.Level.COUNTY, None)
    town = area("CCT", "并发镇", Area.Level.TOWN, county)
    community = area("CCTC", "并发社区", Area.Level.COMMUNITY, town)
    grid = area("CCTCG", "并发社区第1网格", Area.Level.GRID, community)
    compound = Compound.objects.create(
        code="CCX", name="并发小区", community=community, area_path=community.path, unmanaged=True, open=True
    )
    CompoundGrid.objects.create(compound=compound, grid=grid)
    w.building = Building.objects.create(compound=compound, number="1", floors=6, grid=grid)
    w.category = ServiceCategory.objects.create(code="cc-power", name="电力设施")
    limit = TimeLimit.objects.create(code="cc-24h", name="水电气", accept_hours=4, resolve_hours=24)
    CategorySetting.objects.create(category=w.category, time_limit=limit)
    User = get_user_model()
    for code, name in (("CCU1", "供电公司"), ("CCU2", "镇政府")):
        w.units[code] = Organisation.objects.create(
            kind=Organisation.Kind.MEMBER_UNIT, name=name, code=code, area=county, phone="0580-4400000"
        )
        w.users[code] = User.objects.create_user(username=f"cc-{code.lower()}", password="x-not-used-1")
        RoleGrant.objects.create(user=w.users[code], role=Role.UNIT_LIAISON, organisation=w.units[code])
    for name in ("desk1", "desk2"):
        w.users[name] = User.objects.create_user(username=f"cc-{name}", password="x-not-used-1")
        RoleGrant.objects.create(user=w.users[name], role=Role.GRID_WORKER, area=grid)
    w.users["town"] = User.objects.create_user(username="cc-town", password="x-not-used-1")
    RoleGrant.objects.create(user=w.users["town"], role=Role.TOWN_STAFF, area=town)
    return w


def report(w: World, *, key: str | None = None, now: dt.datetime = T0) -> Ticket:
    return actions.file_ticket(
        None,
        channel=Ticket.Channel.QR_POSTER,
        category=w.category,  # type: ignore[arg-type]
        description="1幢门口电线杆倾斜，电线垂到路边",
        building=w.building,
        reporter_phone="13900007777",
        idempotency_key=key,
        now=now,
    )


def dispatched(w: World, *, co: bool = False, start: dt.datetime = T0) -> Ticket:
    ticket = report(w, now=start - dt.timedelta(minutes=10))
    actions.accept(w.users["desk1"], ticket, now=start - dt.timedelta(minutes=5))
    co_units = [w.units["CCU2"]] if co else []
    return actions.dispatch(w.users["desk1"], ticket, lead_unit=w.units["CCU1"], co_units=co_units, now=start)


def moves(ticket: Ticket) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, task__isnull=True)
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize("with_version", [False, True])
def test_accept_and_reject_at_the_same_moment_one_wins(world, with_version):
    desk1, desk2 = world.users["desk1"], world.users["desk2"]
    for _ in range(4):
        ticket = report(world)
        version = ticket.version if with_version else None
        results = together(
            lambda t=ticket, v=version: actions.accept(desk1, t, version=v, now=T0),
            lambda t=ticket, v=version: actions.reject(desk2, t, reason="不属于公共事务", version=v, now=T0),
        )
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], actions.Refused), results
        ticket.refresh_from_db()
        assert moves(ticket)[1:] in (["accept"], ["reject"])
        assert (
            ticket.state
            == {"accept": Ticket.State.ACCEPTED, "reject": Ticket.State.REJECTED}[moves(ticket)[1]]
        )
        assert ticket.version == 2


def test_two_units_reply_at_the_same_moment_and_the_request_is_replied_once(world):
    for _ in range(3):
        ticket = dispatched(world, co=True)
        lead, co = ticket.tasks.get(role=Task.Role.LEAD), ticket.tasks.get(role=Task.Role.CO)
        actions.task_accept(world.users["CCU1"], lead, now=T0 + dt.timedelta(hours=1))
        actions.task_accept(world.users["CCU2"], co, now=T0 + dt.timedelta(hours=1))
        at = T0 + dt.timedelta(hours=5)
        results = together(
            lambda t=lead, at=at: actions.task_reply(
                world.users["CCU1"], t, result="已校正电杆并加装拉线", now=at
            ),
            lambda t=co, at=at: actions.task_reply(world.users["CCU2"], t, result="已通知受影响住户", now=at),
        )
        assert not any(isinstance(r, Exception) for r in results), results
        ticket.refresh_from_db()
        # Whichever replied last saw the other's reply under the ticket's lock.
        assert ticket.state == Ticket.State.REPLIED
        assert moves(ticket).count("replied") == 1
        assert TicketEvent.objects.filter(ticket=ticket, action="task_reply").count() == 2


def test_dispatching_while_another_desk_worker_rejects(world):
    desk1, desk2 = world.users["desk1"], world.users["desk2"]
    outcomes = Counter()
    for _ in range(4):
        ticket = report(world)

        def accept_and_dispatch(t: Ticket = ticket) -> Ticket:
            with transaction.atomic():
                actions.accept(desk1, t, now=T0)
                return actions.dispatch(desk1, t, lead_unit=world.units["CCU1"], now=T0)

        results = together(
            accept_and_dispatch,
            lambda t=ticket: actions.reject(desk2, t, reason="不属于本网格", now=T0),
        )
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], actions.Refused), results
        ticket.refresh_from_db()
        if ticket.state == Ticket.State.REJECTED:
            assert moves(ticket) == ["report", "reject"] and not ticket.tasks.exists()
        else:
            assert ticket.state == Ticket.State.DISPATCHED
            assert moves(ticket) == ["report", "accept", "dispatch"] and ticket.tasks.count() == 1
        outcomes[ticket.state] += 1
    assert sum(outcomes.values()) == 4


def test_two_sweeps_at_once_write_each_mark_once(world):
    now = T0 + dt.timedelta(hours=60)
    # Dispatched so that at ``now`` the clock stands at 55 %, 85 %, 110 % and 250 %.
    tickets = {
        pct: dispatched(world, start=now - dt.timedelta(hours=24 * pct / 100)) for pct in (55, 85, 110, 250)
    }
    for ticket in tickets.values():
        task = ticket.tasks.get()
        actions.task_accept(world.users["CCU1"], task, now=task.dispatched_at + dt.timedelta(minutes=30))
    unsigned = dispatched(world, start=now - dt.timedelta(hours=5))  # 4 hours to sign for it
    summaries = together(lambda: sweep(now), lambda: sweep(now))
    assert not any(isinstance(s, Exception) for s in summaries), summaries
    expected = {
        55: [("warn", 50)],
        85: [("warn", 80)],
        110: [("overdue", None)],
        250: [("overdue", None), ("supervise", 2)],
    }
    for pct, ticket in tickets.items():
        written = [
            (e.action, e.data.get("threshold") or e.data.get("level"))
            for e in TicketEvent.objects.filter(
                ticket=ticket, action__in=["warn", "overdue", "supervise"]
            ).order_by("id")
        ]
        assert written == expected[pct], pct
    reminders = TicketEvent.objects.filter(ticket=unsigned, action="warn")
    assert [e.data["clock"] for e in reminders] == ["accept"]
    total = Counter()
    for summary in summaries:
        total.update({k: v for k, v in summary.items() if isinstance(v, int)})
    assert (total["warned"], total["overdue"], total["supervised"], total["reminded"]) == (2, 2, 1, 1)
    # Nobody was told the same thing twice.
    sent = Counter(Notification.objects.values_list("ticket_id", "recipient_id", "address", "subject"))
    assert max(sent.values()) == 1


def test_the_same_intake_posted_twice_at_once_makes_one_request(world):
    for n in range(3):
        key = f"web:double-tap-{n}"
        results = together(lambda k=key: report(world, key=k), lambda k=key: report(world, key=k))
        assert not any(isinstance(r, Exception) for r in results), results
        assert results[0].pk == results[1].pk
        assert Ticket.objects.filter(idempotency_key=key).count() == 1
        assert moves(results[0]) == ["report"]
        assert Notification.objects.filter(ticket=results[0], recipient=world.users["desk1"]).count() == 1
