"""Eighteen months of resident requests for the demo county.

The demo should open on a county that has used the mechanism for a while: about 1,250
requests since May 2025 — over a thousand resolved and rated, a few rejected, withdrawn,
merged, referred to the joint meeting or supervised — and some thirty still open on the
demo date, in every state, for the demo grid worker and unit liaisons to work on. Among them
is the request of the source article: the pole in the crossing by 育才新村, moved within
two weeks by three member units.

Every request is planned first (``ticket_plans``: what happens and when, from a fixed
random seed), then all planned steps of all requests are played in one time-ordered queue,
each at its own moment (``now=``), the deadline sweep included. A step goes through
``gongzhi.tickets.actions`` when the request is still open on the demo date, is the
article's pole, or takes a path with approvals the writer does not know; the other,
finished requests are written by ``ticket_writer``, which produces the same rows in bulk
(checked by ``tests/tickets/test_demo_history.py``). The notifications the history queued
are marked sent at the end: they belong to the past.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import io
import random
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F, Max
from django.utils import timezone
from PIL import Image, ImageDraw

from gongzhi.demo import ticket_texts as X
from gongzhi.demo.ticket_plans import PHOTOS, Planner, Story, World
from gongzhi.demo.ticket_writer import Writer
from gongzhi.tickets import actions, sweep
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Approval, Notification, Task, Ticket, TicketEvent
from gongzhi.tickets.photos import CleanPhoto, clean_photo

HISTORY_SEED = 20240206
# Steps the writer mirrors; a finished request that needs any other goes through the actions.
WRITER_STEPS = frozenset(
    {
        "report",
        "accept",
        "reject",
        "withdraw",
        "dispatch",
        "task_accept",
        "task_start",
        "task_reply",
        "verify",
        "send_back",
        "close",
        "rate",
        "note",
        "unreachable",
        "archive",
        "merge",
        "me_too",
        "refer",
        "supervise",
        "ext_request",
        "ext_decide",
        "sweep",
    }
)


def _photo_bytes(seed: int) -> bytes:
    """A small, plain picture standing in for a resident's photo."""
    rng = random.Random(seed)
    image = Image.new("RGB", (160, 120), (rng.randint(90, 200), rng.randint(90, 200), rng.randint(90, 200)))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randint(0, 120), rng.randint(0, 80)
        shade = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        draw.rectangle((x, y, x + rng.randint(10, 40), y + rng.randint(10, 40)), fill=shade)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


class History:
    """Plays planned requests: each step through the actions or, for the requests
    ``bind`` gives it, through the bulk writer."""

    def __init__(self, world: World, log: Callable[[str], None] = lambda _m: None) -> None:
        self.world = world
        self.log = log
        self.writer = Writer(world.calendar)
        self.photos = [_photo_bytes(i) for i in range(PHOTOS)]
        self._clean: dict[int, CleanPhoto] = {}

    # ---- who plays what ---------------------------------------------------------------------
    def bind(self, stories: list[Story]) -> None:
        """Give each request that is over by the demo date (archived, or followed up and
        waiting to be archived) and takes no approval path to the writer; a duplicate and the
        request it is merged into go the same way."""
        now = self.world.now

        def writable(story: Story) -> bool:
            if story.scripted or story.reporter_user is not None:
                return False
            if any(s[2] not in WRITER_STEPS for s in story.steps):
                return False
            # Only the sweep archiving it may still be to come: nothing anyone acts on.
            later = [s for s in story.steps if s[0] >= now]
            rated = any(s[2] == "rate" for s in story.steps if s[0] < now)
            last = max(story.steps, key=lambda s: (s[0], s[1]))
            return not later or (later == [last] and last[2] == "sweep" and rated)

        ok = {id(s): writable(s) for s in stories}
        for story in stories:
            if story.parent is not None and not (ok[id(story)] and ok[id(story.parent)]):
                ok[id(story)] = ok[id(story.parent)] = False
        self.by_writer = {id(s) for s in stories if ok[id(s)]}

    # ---- playing ------------------------------------------------------------------------------
    def play(self, stories: list[Story]) -> None:
        now = self.world.now
        queue: list[tuple[dt.datetime, int, int, int]] = []
        for index, story in enumerate(stories):
            story.steps = sorted((s for s in story.steps if s[0] < now), key=lambda s: (s[0], s[1]))
            if story.steps:
                queue.append((story.steps[0][0], story.steps[0][1], index, 0))
        heapq.heapify(queue)
        reported = 0
        while queue:
            when, _order, index, position = heapq.heappop(queue)
            story = stories[index]
            _when, _o, name, kwargs = story.steps[position]
            self.do(story, when, name, kwargs)
            if name == "report":
                reported += 1
                if reported % 250 == 0:
                    self.log(f"  requests: {reported}/{len(stories)}")
            if position + 1 < len(story.steps):
                nxt = story.steps[position + 1]
                heapq.heappush(queue, (nxt[0], nxt[1], index, position + 1))
        self.writer.flush()

    def actor(self, story: Story, name: str) -> Any:
        if name == "desk":
            return story.desk
        if name == "supervisor":
            return self.world.supervisor_for(story.compound)
        return self.world.users[name]

    def do(self, story: Story, when: dt.datetime, name: str, kw: dict[str, Any]) -> None:
        """Play one step, through the writer or the actions."""
        if name == "report":
            (self.write_report if id(story) in self.by_writer else self.act_report)(story, when, kw["photo"])
            return
        if id(story) in self.by_writer:
            self.write(story, when, name, kw)
        else:
            self.act(story, when, name, kw)

    # ---- through the actions ----------------------------------------------------------------
    def act_report(self, story: Story, when: dt.datetime, photo: int | None) -> None:
        reporter = story.reporter
        staff = story.channel in Ticket.STAFF_CHANNELS
        uploads = []
        if photo is not None:
            uploads.append(SimpleUploadedFile("photo.jpg", self.photos[photo], content_type="image/jpeg"))
        story.ticket = actions.file_ticket(
            story.desk if staff else story.reporter_user,
            channel=story.channel,
            category=self.world.categories[story.category],
            description=story.text,
            compound=story.compound,
            building=story.building,
            urgency=story.urgency,
            reporter_name=reporter.name if reporter else "",
            reporter_phone=reporter.phone if reporter else "",
            reporter_resident=reporter,
            anonymous=story.anonymous,
            consent_note=X.CONSENT_NOTES.get(story.channel, ""),
            attributes=story.answers,
            photos=uploads,
            now=when,
        )

    def task(self, story: Story, unit: str, rnd: int) -> Task:
        if (unit, rnd) not in story.tasks:
            assert story.ticket is not None
            for task in story.ticket.tasks.filter(round=rnd):
                story.tasks[(self.world.code_of[task.unit_id], rnd)] = task
        return story.tasks[(unit, rnd)]

    def approval(self, story: Story, kind: str) -> Approval:
        return Approval.objects.get(ticket=story.ticket, kind=kind, state=Approval.State.PENDING)

    def act(self, story: Story, when: dt.datetime, name: str, kw: dict[str, Any]) -> None:
        ticket = story.ticket
        assert ticket is not None
        world = self.world
        desk = story.desk
        liaison = world.liaisons.get(kw.get("unit", ""))
        if name == "accept":
            actions.accept(desk, ticket, note=kw.get("note", ""), now=when)
        elif name == "reject":
            actions.reject(desk, ticket, reason=kw["reason"], now=when)
        elif name == "withdraw":
            actions.withdraw(desk, ticket, reason=kw["reason"], now=when)
        elif name == "dispatch":
            actions.dispatch(
                desk,
                ticket,
                lead_unit=world.units[kw["lead"]],
                co_units=[world.units[c] for c in kw["co"]],
                instructions=kw.get("instructions", ""),
                now=when,
            )
        elif name == "task_accept":
            actions.task_accept(liaison, self.task(story, kw["unit"], kw["round"]), now=when)
        elif name == "task_start":
            actions.task_start(liaison, self.task(story, kw["unit"], kw["round"]), note=kw["note"], now=when)
        elif name == "task_reply":
            actions.task_reply(
                liaison, self.task(story, kw["unit"], kw["round"]), result=kw["text"], now=when
            )
        elif name in ("ext_request", "return_request"):
            actions.request_approval(
                liaison,
                ticket,
                kind=Approval.Kind.EXTENSION if name == "ext_request" else Approval.Kind.RETURN,
                reason=kw["reason"],
                task=self.task(story, kw["unit"], kw["round"]),
                extra_hours=kw.get("hours"),
                now=when,
            )
        elif name in ("ext_decide", "return_decide"):
            kind = Approval.Kind.EXTENSION if name == "ext_decide" else Approval.Kind.RETURN
            actor = self.actor(story, kw.get("actor", "desk"))
            actions.decide_approval(
                actor, self.approval(story, kind), approve=True, note=kw["note"], now=when
            )
        elif name == "unreasonable_request":
            kind = Approval.Kind.UNREASONABLE
            actions.request_approval(desk, ticket, kind=kind, reason=kw["reason"], now=when)
        elif name == "unreasonable_decide":
            second = world.supervisor_for(story.compound)
            second = world.users["admin"] if second == desk else second
            approval = self.approval(story, Approval.Kind.UNREASONABLE)
            actions.decide_approval(second, approval, approve=True, note=kw["note"], now=when)
        elif name == "verify":
            actions.verify(self.actor(story, kw["actor"]), ticket, note=kw.get("note", ""), now=when)
        elif name == "send_back":
            actions.send_back(desk, ticket, reason=kw["reason"], now=when)
        elif name == "close":
            actions.close(desk, ticket, note=kw.get("note", ""), now=when)
        elif name == "rate":
            rater = story.reporter_user if kw["via"] == "phone_page" else desk
            actions.rate(
                rater,
                ticket,
                resolution=kw["resolution"],
                satisfaction=kw["satisfaction"],
                via=kw["via"],
                note=kw.get("note", ""),
                now=when,
            )
        elif name == "unreachable":
            actions.mark_unreachable(desk, ticket, note=kw["note"], now=when)
        elif name == "note":
            actions.add_note(self.actor(story, kw.get("actor", "desk")), ticket, note=kw["note"], now=when)
        elif name == "archive":
            actions.archive(desk, ticket, now=when)
        elif name == "merge":
            assert story.parent is not None and story.parent.ticket is not None
            actions.merge(desk, ticket, story.parent.ticket, now=when)
        elif name == "me_too":
            # A neighbour who already joined (or reported it) adds nothing.
            with contextlib.suppress(actions.Refused):
                if kw["phone"]:
                    actions.me_too(None, ticket, phone=kw["phone"], now=when)
        elif name == "refer":
            actions.refer(self.actor(story, kw["actor"]), ticket, reason=kw["reason"], now=when)
        elif name == "supervise":
            actions.supervise(self.actor(story, kw["actor"]), ticket, note=kw["note"], now=when)
        elif name == "sweep":
            counts = sweep.sweep_ticket(ticket.pk, now=when, calendar=world.calendar)
            if counts["errors"]:
                raise RuntimeError(f"the sweep failed on request {ticket.pk} at {when}")
        else:
            raise ValueError(f"unknown step {name}")

    # ---- through the writer -----------------------------------------------------------------
    def clean(self, photo: int) -> CleanPhoto:
        if photo not in self._clean:
            upload = SimpleUploadedFile("photo.jpg", self.photos[photo], content_type="image/jpeg")
            self._clean[photo] = clean_photo(upload)
        return self._clean[photo]

    def write_report(self, story: Story, when: dt.datetime, photo: int | None) -> None:
        staff = story.channel in Ticket.STAFF_CHANNELS
        story.live = self.writer.file(
            story.desk if staff else None,
            channel=story.channel,
            category=self.world.categories[story.category],
            description=story.text,
            building=story.building,
            limit=self.world.emergency
            if story.urgency == Ticket.Urgency.EMERGENCY
            else self.world.limit[story.category],
            urgency=story.urgency,
            reporter=story.reporter,
            anonymous=story.anonymous,
            consent_note=X.CONSENT_NOTES.get(story.channel, ""),
            attributes=story.answers,
            photos=[self.clean(photo)] if photo is not None else [],
            now=when,
        )

    def live_task(self, story: Story, unit: str, rnd: int) -> Task:
        assert story.live is not None
        code_of = self.world.code_of
        return next(t for t in story.live.tasks if t.round == rnd and code_of[t.unit_id] == unit)

    def write(self, story: Story, when: dt.datetime, name: str, kw: dict[str, Any]) -> None:
        live = story.live
        assert live is not None
        w, world, desk = self.writer, self.world, story.desk
        liaison = world.liaisons.get(kw.get("unit", ""))
        if name == "accept":
            w.accept(desk, live, note=kw.get("note", ""), now=when)
        elif name == "reject":
            w.reject(desk, live, reason=kw["reason"], now=when)
        elif name == "withdraw":
            w.withdraw(desk, live, reason=kw["reason"], now=when)
        elif name == "dispatch":
            co = [world.units[c] for c in kw["co"]]
            w.dispatch(
                desk,
                live,
                lead_unit=world.units[kw["lead"]],
                co_units=co,
                instructions=kw.get("instructions", ""),
                now=when,
            )
        elif name == "task_accept":
            w.task_accept(liaison, live, self.live_task(story, kw["unit"], kw["round"]), now=when)
        elif name == "task_start":
            w.task_start(
                liaison, live, self.live_task(story, kw["unit"], kw["round"]), note=kw["note"], now=when
            )
        elif name == "task_reply":
            task = self.live_task(story, kw["unit"], kw["round"])
            w.task_reply(liaison, live, task, result=kw["text"], now=when)
        elif name == "ext_request":
            task = self.live_task(story, kw["unit"], kw["round"])
            w.request_extension(liaison, live, task, hours=kw["hours"], reason=kw["reason"], now=when)
        elif name == "ext_decide":
            w.decide_extension(
                self.actor(story, kw.get("actor", "desk")), live, approve=True, note=kw["note"], now=when
            )
        elif name == "verify":
            w.verify(self.actor(story, kw["actor"]), live, note=kw.get("note", ""), now=when)
        elif name == "send_back":
            w.send_back(desk, live, reason=kw["reason"], now=when)
        elif name == "close":
            w.close(desk, live, note=kw.get("note", ""), now=when)
        elif name == "rate":
            w.rate(
                desk,
                live,
                resolution=kw["resolution"],
                satisfaction=kw["satisfaction"],
                via=kw["via"],
                note=kw.get("note", ""),
                now=when,
            )
        elif name == "unreachable":
            w.mark_unreachable(desk, live, note=kw["note"], now=when)
        elif name == "note":
            w.note(self.actor(story, kw.get("actor", "desk")), live, note=kw["note"], now=when)
        elif name == "archive":
            w.archive(desk, live, now=when)
        elif name == "merge":
            assert story.parent is not None and story.parent.live is not None
            w.merge(desk, live, story.parent.live, now=when)
        elif name == "me_too":
            if kw["phone"]:
                w.me_too(live, phone=kw["phone"], now=when)
        elif name == "refer":
            w.refer(self.actor(story, kw["actor"]), live, reason=kw["reason"], now=when)
        elif name == "supervise":
            w.supervise(self.actor(story, kw["actor"]), live, note=kw["note"], now=when)
        elif name == "sweep":
            w.sweep(live, now=when)
        else:
            raise ValueError(f"the writer cannot play step {name}")


def summary(first_notification: int) -> dict[str, int]:
    """Mark the history's notifications sent (and its inbox messages of finished requests
    read), and count what the county now holds."""
    mine = Notification.objects.filter(pk__gt=first_notification)
    mine.update(sent_at=F("send_after"), attempts=1)
    mine.filter(channel=Notification.Channel.INBOX).exclude(ticket__state__in=W.OPEN_STATES).update(
        read_at=F("send_after")
    )
    tickets = Ticket.objects.all()
    followed = tickets.filter(rated_at__isnull=False, state__in=[W.State.FOLLOWED_UP, W.State.ARCHIVED])
    return {
        "tickets": tickets.count(),
        "tickets_open": tickets.filter(state__in=W.OPEN_STATES).count(),
        "tickets_resolved_and_rated": followed.filter(resolution=Ticket.Resolution.RESOLVED).count(),
        "tickets_satisfied_or_basic": followed.filter(satisfaction__in=["satisfied", "basic"]).count(),
        "tickets_reopened": tickets.filter(reopen_count__gt=0).count(),
        "tickets_merged": tickets.filter(state=W.State.MERGED).count(),
        "tickets_rejected": tickets.filter(state=W.State.REJECTED).count(),
        "tickets_withdrawn": tickets.filter(state=W.State.WITHDRAWN).count(),
        "tickets_referred": tickets.filter(referred=True).count(),
        "tickets_supervised": tickets.filter(supervision_level__gt=0).count(),
        "ticket_events": TicketEvent.objects.count(),
        "notifications": mine.count(),
    }


def seed_ticket_history(seed: int = HISTORY_SEED, log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Add the demo county's request history; run once, after the ticket settings.

    Deterministic for a given ``seed``. Needs the demo logins, grid workers and routing
    rules; creates a liaison account for each member unit that has none."""
    from gongzhi.demo.seed import TODAY

    first = Notification.objects.aggregate(m=Max("id"))["m"] or 0
    world = World(dt.datetime.combine(TODAY, dt.time(8, 30), tzinfo=timezone.get_default_timezone()))
    rng = random.Random(seed)
    stories = Planner(world, rng).plan_history()
    history = History(world, log or (lambda _msg: None))
    history.bind(stories)
    history.play(stories)
    return summary(first)
