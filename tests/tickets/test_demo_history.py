"""The demo's request history: the bulk writer produces exactly what the actions produce, and
the seeded county has the history the demo needs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from gongzhi.core.models import AuditEvent
from gongzhi.demo.seed import TODAY
from gongzhi.demo.ticket_plans import HOUR, MINUTE, YUCAI, Planner, Story, World
from gongzhi.demo.tickets import WRITER_STEPS, History
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Approval, Attachment, Notification, Supporter, Task, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
NOW = dt.datetime.combine(TODAY, dt.time(8, 30), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def world(demo_county):  # type: ignore[no-untyped-def]
    return World(NOW)


# ---- plans that take every path the writer knows -------------------------------------------------
def slow_story(p: Planner) -> Story:
    """A lighting request the power company signs for late and answers at 2.5 times its time
    limit (warnings, overdue, automatic supervision, sign-for reminder), then reopened."""
    compound = p.world.by_name[YUCAI]
    story = p.new_story("lighting", compound)
    story.lead = "MU03"
    t0 = p.at(2026, 3, 2, 9, 0)
    sent = t0 + 30 * MINUTE
    p.report(story, t0)
    p.step(story, t0 + 20 * MINUTE, "accept")
    p.step(story, sent, "dispatch", lead="MU03", co=["MU12"])
    p.step(story, sent + HOUR, "task_accept", unit="MU12", round=1)
    p.step(story, p.tick(sent + 24 * HOUR), "sweep")  # the power company has not signed for it
    p.step(story, sent + 30 * HOUR, "task_accept", unit="MU03", round=1)
    p.clock_ticks(story, sent, sent + 168 * HOUR, sent, sent + 420 * HOUR)
    p.step(story, sent + 100 * HOUR, "task_reply", unit="MU12", round=1, text="已配合修剪遮挡路灯的树枝")
    p.step(story, sent + 420 * HOUR, "task_reply", unit="MU03", round=1, text="已更换电缆")
    done = sent + 430 * HOUR
    p.step(story, done, "verify", actor="branch", note="")
    p.step(story, done + HOUR, "close", note="已办结")
    rated = done + 26 * HOUR
    p.step(
        story, rated, "rate", resolution="not", satisfaction="dissatisfied", via="staff_call", note="又坏了"
    )
    p.step(story, rated + 2 * HOUR, "task_accept", unit="MU03", round=2)
    p.step(story, rated + 30 * HOUR, "task_reply", unit="MU03", round=2, text="已再次检修")
    p.step(story, rated + 40 * HOUR, "verify", actor="desk", note="现场核查，已修好")
    p.step(story, rated + 41 * HOUR, "close", note="")
    p.step(
        story,
        rated + 60 * HOUR,
        "rate",
        resolution="resolved",
        satisfaction="basic",
        via="door_to_door",
        note="",
    )
    p.step(story, p.tick(rated + 60 * HOUR + 7 * 24 * HOUR), "sweep")
    return story


def extended_story(p: Planner) -> Story:
    """Extended once, warned before and after, sent back after the check, then supervised."""
    compound = p.world.by_name["渔港新村"]
    story = p.new_story("drainage", compound)
    story.lead = "MU04"
    t0 = p.at(2026, 5, 11, 10, 0)
    sent = t0 + HOUR
    p.report(story, t0)
    p.step(story, t0 + 40 * MINUTE, "accept")
    p.step(story, sent, "dispatch", lead="MU04", co=[])
    p.step(story, sent + 3 * HOUR, "task_accept", unit="MU04", round=1)
    p.step(story, sent + 90 * HOUR, "ext_request", unit="MU04", round=1, hours=120, reason="需要采购配件")
    p.step(story, p.tick(sent + 84 * HOUR), "sweep")
    p.step(story, sent + 92 * HOUR, "ext_decide", approve=True, actor="community", note="同意延期")
    p.clock_ticks(story, sent, sent + 288 * HOUR, sent + 92 * HOUR, sent + 260 * HOUR)
    p.step(story, sent + 170 * HOUR, "supervise", actor="town", note="请加快办理")
    p.step(story, sent + 260 * HOUR, "task_reply", unit="MU04", round=1, text="已疏通")
    p.step(story, sent + 270 * HOUR, "send_back", reason="现场核查仍未修好，请继续处理")
    p.step(story, sent + 290 * HOUR, "task_reply", unit="MU04", round=1, text="已更换破损管道")
    p.step(story, sent + 300 * HOUR, "verify", actor="desk", note="")
    p.step(story, sent + 301 * HOUR, "close", note="")
    p.step(story, sent + 330 * HOUR, "rate", resolution="partly", satisfaction="basic", via="paper", note="")
    p.step(story, p.tick(sent + 330 * HOUR + 7 * 24 * HOUR), "sweep")
    return story


def family(p: Planner) -> list[Story]:
    """A request with "me too", referred to the joint meeting, and a duplicate merged in."""
    compound = p.world.by_name["南峰小区"]
    parent = p.new_story("parking", compound)
    parent.lead = "MU08"
    t0 = p.at(2026, 6, 3, 19, 0)
    sent = p.at(2026, 6, 4, 9, 0)
    p.report(parent, t0)
    p.step(parent, sent - 10 * MINUTE, "accept")
    p.step(parent, sent, "dispatch", lead="MU08", co=["MU02"])
    p.step(parent, sent + HOUR, "task_accept", unit="MU08", round=1)
    p.step(parent, sent + 2 * HOUR, "task_accept", unit="MU02", round=1)
    p.step(parent, sent + 5 * HOUR, "me_too", phone=p.neighbour(parent))
    p.step(parent, sent + 6 * HOUR, "refer", actor="supervisor", reason="涉及多个单位职责，提请联席会议协调")
    p.step(parent, sent + 7 * HOUR, "note", actor="town", note="联席会议已排期")
    p.step(parent, sent + 50 * HOUR, "task_reply", unit="MU02", round=1, text="已劝导")
    p.step(parent, sent + 60 * HOUR, "task_reply", unit="MU08", round=1, text="已挪车")
    p.step(parent, sent + 70 * HOUR, "verify", actor="desk", note="")
    p.step(parent, sent + 71 * HOUR, "close", note="")
    p.step(
        parent,
        sent + 90 * HOUR,
        "rate",
        resolution="resolved",
        satisfaction="satisfied",
        via="staff_call",
        note="",
    )
    p.step(parent, p.tick(sent + 90 * HOUR + 7 * 24 * HOUR), "sweep")
    child = p.new_story("parking", compound, parent.building)
    child.desk, child.parent = parent.desk, parent
    p.report(child, sent + 3 * HOUR)
    p.step(child, sent + 4 * HOUR, "merge")
    return [parent, child]


def short_stories(p: Planner) -> list[Story]:
    """Rejected; withdrawn before and after dispatch; closed but never reached, archived."""
    yucai = p.world.by_name[YUCAI]
    rejected, early, late, unreached = (
        p.new_story(c, yucai) for c in ("disputes", "garbage", "power", "greening")
    )
    t0 = p.at(2026, 7, 6, 9, 0)
    p.report(rejected, t0)
    p.step(rejected, t0 + HOUR, "reject", reason="属于户内设施维修，不属于公共事务")
    p.report(early, t0)
    p.step(early, t0 + HOUR, "withdraw", reason="居民表示已自行解决")
    late.lead = "MU03"
    p.report(late, t0)
    p.step(late, t0 + HOUR, "accept")
    p.step(late, t0 + 2 * HOUR, "dispatch", lead="MU03", co=["MU13", "MU11"])
    p.step(late, t0 + 3 * HOUR, "task_accept", unit="MU13", round=1)
    p.step(late, t0 + 5 * HOUR, "withdraw", reason="居民重复提交，本条撤回")
    unreached.lead = "MU12"
    p.report(unreached, t0)
    p.step(unreached, t0 + HOUR, "accept")
    p.step(unreached, t0 + 2 * HOUR, "dispatch", lead="MU12", co=[])
    p.step(unreached, t0 + 3 * HOUR, "task_accept", unit="MU12", round=1)
    p.step(unreached, t0 + 4 * HOUR, "task_start", unit="MU12", round=1, note="已安排人员")
    p.step(unreached, t0 + 30 * HOUR, "task_reply", unit="MU12", round=1, text="已修剪")
    p.step(unreached, t0 + 40 * HOUR, "verify", actor="desk", note="")
    p.step(unreached, t0 + 41 * HOUR, "close", note="")
    p.step(unreached, t0 + 60 * HOUR, "note", note="已电话联系居民")
    p.step(unreached, t0 + 90 * HOUR, "unreachable", note="回访电话三次无人接听，已记录")
    p.step(unreached, t0 + 280 * HOUR, "archive")
    return [rejected, early, late, unreached]


def planned_stories(p: Planner, count: int) -> list[Story]:
    """Ordinary plans, as the history draws them, that the writer can play."""
    stories: list[Story] = []
    while len(stories) < count:
        moment = NOW - dt.timedelta(days=p.rng.uniform(30, 500))
        month = timezone.localtime(moment).month
        story = p.new_story(p.pick_category(month), p.pick_compound())
        p.plan(story, moment)
        if all(s[2] in WRITER_STEPS and s[0] < NOW for s in story.steps):
            stories.append(story)
    return stories


def twins(stories: list[Story]) -> list[Story]:
    copies = {
        id(s): dataclasses.replace(s, steps=list(s.steps), ticket=None, live=None, tasks={}) for s in stories
    }
    for s in stories:
        if s.parent is not None:
            copies[id(s)].parent = copies[id(s.parent)]
    return [copies[id(s)] for s in stories]


def play(world: World, stories: list[Story], *, writer: bool) -> list[int]:
    history = History(world)
    history.by_writer = {id(s) for s in stories} if writer else set()
    history.play(stories)
    return [(s.live.ticket if writer else s.ticket).pk for s in stories]  # type: ignore[union-attr]


# ---- comparing what was written ------------------------------------------------------------
def snapshot(pks: list[int]) -> list[dict[str, Any]]:
    """Everything about these tickets, with their ids, tokens and row ids replaced by names."""
    names = {pk: f"T{i}" for i, pk in enumerate(pks)}
    task_names: dict[int, str] = {}
    for pk in pks:
        for i, task_pk in enumerate(
            Task.objects.filter(ticket_id=pk).order_by("id").values_list("id", flat=True)
        ):
            task_names[task_pk] = f"{names[pk]}.{i}"

    def text(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = re.sub(r"#(\d+)", lambda m: "#" + names.get(int(m.group(1)), m.group(1)), value)
        value = re.sub(
            r"/tickets/(\d+)/", lambda m: f"/tickets/{names.get(int(m.group(1)), m.group(1))}/", value
        )
        value = re.sub(r"^(\d+)/", lambda m: names.get(int(m.group(1)), m.group(1)) + "/", value)
        return re.sub(r"/t/[^/]+/", "/t/TOKEN/", value)

    def data(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: names.get(v, v) if k in ("parent", "child") else data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [data(v) for v in value]
        return text(value)

    # Each row with every column, its own id dropped, ids of other rows named, and the
    # moments the actions take from the wall clock (not from ``now``) left out.
    renamed: dict[str, Any] = {
        "ticket_id": names.get,
        "merged_into_id": names.get,
        "from_ticket_id": names.get,
        "task_id": task_names.get,
        "token": lambda _v: "TOKEN",
    }
    wall_clock = {"id", "updated_at", "created_at", "send_after", "at", "file"}

    def row(obj: Any, keep: tuple[str, ...] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in type(obj)._meta.concrete_fields:
            name = f.attname
            if name in wall_clock and name not in keep:
                continue
            value = getattr(obj, name)
            if name in renamed and value is not None:
                value = renamed[name](value)
            elif name == "object_id":
                value = (
                    names.get(int(value)) if obj.object_type == "tickets.ticket" else task_names[int(value)]
                )
            out[name] = data(value)
        return out

    out = []
    for pk in pks:
        ticket = Ticket.objects.get(pk=pk)
        task_ids = list(Task.objects.filter(ticket_id=pk).values_list("id", flat=True))
        audits = AuditEvent.objects.filter(
            Q(object_type="tickets.ticket", object_id=str(pk))
            | Q(object_type="tickets.task", object_id__in=[str(t) for t in task_ids])
        ).order_by("id")
        notes = [row(n) for n in Notification.objects.filter(ticket_id=pk)]
        out.append(
            {
                "ticket": row(ticket, keep=("created_at",)),
                "co_units": sorted(ticket.suggested_co_units.values_list("id", flat=True)),
                "tasks": [row(t) for t in Task.objects.filter(ticket_id=pk).order_by("id")],
                "events": [
                    row(e, keep=("at",)) for e in TicketEvent.objects.filter(ticket_id=pk).order_by("id")
                ],
                "audit": [row(a) for a in audits],
                # Several messages of one move may be queued in either order.
                "notifications": sorted(notes, key=repr),
                "supporters": [
                    row(s, keep=("created_at",))
                    for s in Supporter.objects.filter(ticket_id=pk).order_by("id")
                ],
                "approvals": [row(a) for a in Approval.objects.filter(ticket_id=pk).order_by("id")],
                "photos": [
                    (a.event.action if a.event else None, row(a, keep=("created_at",)) | {"event_id": None})
                    for a in Attachment.objects.filter(ticket_id=pk).select_related("event").order_by("id")
                ],
            }
        )
    return out


def test_the_writer_writes_what_the_actions_write(world):
    planner = Planner(world, random.Random(20260118))
    stories = [slow_story(planner), extended_story(planner), *family(planner), *short_stories(planner)]
    stories += planned_stories(planner, 30)
    by_actions = snapshot(play(world, twins(stories), writer=False))
    by_writer = snapshot(play(world, twins(stories), writer=True))
    played = {e["action"] for t in by_actions for e in t["events"]}
    # The plans took every path: the sweep's marks, approvals, reopening, merging…
    assert {
        "warn",
        "overdue",
        "supervise",
        "reopen",
        "merge",
        "merged_in",
        "me_too",
        "refer",
        "send_back",
        "task_extend",
        "task_cancel",
        "withdraw",
        "reject",
        "archive",
        "note",
        "unreachable",
        "task_start",
    } <= played
    for i, (acted, written) in enumerate(zip(by_actions, by_writer, strict=True)):
        for part in acted:
            assert written[part] == acted[part], f"request {i} ({stories[i].category}): {part} differ"


def test_the_plan_is_the_same_every_time(world):
    def plan() -> list[tuple[Any, ...]]:
        stories = Planner(world, random.Random(5)).plan_history()
        return [
            (s.category, s.compound.pk, s.building.pk, s.text, [(t[0], t[2]) for t in s.steps])
            for s in stories
        ]

    assert plan() == plan()


# ---- the seeded county -------------------------------------------------------------------------
def test_over_a_thousand_requests_resolved_and_rated(demo_county):
    tickets = Ticket.objects.all()
    assert 1150 <= tickets.count() <= 1350
    followed = tickets.filter(state__in=[W.State.FOLLOWED_UP, W.State.ARCHIVED], rated_at__isnull=False)
    assert followed.filter(resolution="resolved").count() > 1000
    pleased = followed.filter(satisfaction__in=["satisfied", "basic"]).count()
    rated_events = TicketEvent.objects.filter(action="rate")
    unhappy = rated_events.filter(data__satisfaction="dissatisfied").count()
    assert 0.85 <= 1 - unhappy / rated_events.count() <= 0.97
    assert pleased / followed.count() > 0.95  # dissatisfied requests are reopened and fixed
    assert 0.03 <= tickets.filter(reopen_count__gt=0).count() / followed.count() <= 0.08
    for state in (W.State.REJECTED, W.State.WITHDRAWN, W.State.MERGED):
        assert tickets.filter(state=state).exists(), state
    assert tickets.filter(referred=True).exists()
    assert tickets.filter(supervision_level=2).exists() and tickets.filter(supervision_level=1).exists()
    assert Supporter.objects.filter(from_ticket__isnull=True).exists()  # "me too"
    assert Approval.objects.filter(kind="extension", state="approved").exists()
    assert TicketEvent.objects.filter(action="overdue").exists()
    assert not Notification.objects.filter(sent_at__isnull=True).exists()  # history is delivered


def test_the_pole_in_the_crossing_by_yucai(demo_county):
    pole = Ticket.objects.get(
        compound__name=YUCAI, building__number="1", description__contains="电线杆就竖在交叉路口"
    )
    tasks = {t.unit.code: t.role for t in pole.tasks.select_related("unit")}
    assert tasks == {"MU03": "lead", "MU13": "co", "MU11": "co"}
    assert pole.closed_at - pole.created_at < dt.timedelta(days=14)
    assert (pole.resolution, pole.satisfaction, pole.referred) == ("resolved", "satisfied", True)
    assert pole.state == W.State.ARCHIVED and pole.reporter_user.username == "resident"


def test_work_waits_for_the_demo_logins(demo_county):
    open_tickets = Ticket.objects.filter(state__in=W.OPEN_STATES)
    assert 25 <= open_tickets.count() <= 40
    assert {t.state for t in open_tickets} >= set(W.OPEN_STATES)
    grid1 = open_tickets.filter(grid__name="南峰社区第1网格")
    assert grid1.filter(state=W.State.REPORTED).count() >= 2
    power = Task.objects.filter(unit__code="MU03", state__in=W.ACTIVE_TASK_STATES, ticket__in=open_tickets)
    assert power.filter(state=Task.State.DISPATCHED).count() >= 2
    assert open_tickets.filter(overdue=True).exists() and open_tickets.filter(warned_pct=80).exists()
    assert Task.objects.filter(
        unit__code="MU13", ticket__in=open_tickets, state=Task.State.DISPATCHED
    ).exists()
