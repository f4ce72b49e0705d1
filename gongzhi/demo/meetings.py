"""The demo's meetings, held through the same actions staff, branches and committees use.

* 南峰社区's monthly joint meeting (联席会议), convened by its party committee on the last
  Thursday of the month: the last six held and signed off (the latest may still have its
  minutes being written; one has an addendum), next month's announced. The community's
  requests referred to the joint meeting come onto the agenda with free topics; resolutions
  give member units work with deadlines; most is done with evidence, some is late, and work
  not done comes back on the next meeting's agenda by itself.
* 高亭镇's quarterly joint meeting, convened by the town government, with the renovation and
  the referred requests of the town's other communities.
* Discussion halls (红色议事厅) of the pilot compounds 育才新村, 南峰小区 and 渔港新村 — one
  takes a hot-issue warning onto its agenda, one is the hall where 育才新村's owners agreed on
  their parking spaces — and one upcoming in 育才新村.
* 育才新村's owners' committee meeting: quorum, show of hands, signed off the next day.
* The three rounds of the 高亭镇 renovation consultation, each discussed in a hall.

``meeting_plans`` decides what happens; here every step is played from one time-ordered
queue at its own moment (``now=``), with the action-item sweep run the morning after a
deadline that is missed, so late work is marked overdue and carried exactly as it would have
been. Dates are relative to the seeding day, as the consultation's are; the requests keep
their own dates. The demo logins ``committee``, ``branch``, ``liaison`` and ``liaison2`` get
their person records first, so that they can sign in by QR code.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import io
import random
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F, Max
from django.utils import timezone
from PIL import Image, ImageDraw

from gongzhi.demo import meeting_texts as X
from gongzhi.demo.meeting_plans import DAY, MINUTE, YUCAI, ItemPlan, K, MeetingPlan, Planner
from gongzhi.demo.meeting_texts import Work
from gongzhi.meetings import actions as A
from gongzhi.meetings import resolutions as R
from gongzhi.meetings import warnings as W
from gongzhi.meetings.models import ActionItem, AgendaItem, Attendance, HotIssueSettings
from gongzhi.meetings.sweep import sweep
from gongzhi.orgs.models import Area, Membership, Organisation, Person
from gongzhi.tickets.models import Notification
from gongzhi.tickets.photos import CleanPhoto, clean_photo

SEED = 20250212
Step = Callable[[dt.datetime], None]


def _photo(seed: int) -> CleanPhoto:
    """A plain picture standing in for a photo of the work done."""
    rng = random.Random(seed)
    colour = (rng.randint(120, 220), rng.randint(120, 220), rng.randint(120, 220))
    image = Image.new("RGB", (200, 150), colour)
    draw = ImageDraw.Draw(image)
    for _ in range(5):
        x, y = rng.randint(0, 160), rng.randint(0, 110)
        draw.rectangle(
            (x, y, x + rng.randint(10, 40), y + rng.randint(10, 40)), outline=(60, 60, 60), width=2
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return clean_photo(SimpleUploadedFile(f"evidence-{seed}.jpg", out.getvalue(), content_type="image/jpeg"))


class MeetingSeeder(Planner):
    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        super().__init__(random.Random(SEED))
        self.log = log or (lambda _m: None)
        self.queue: list[tuple[dt.datetime, int, Step]] = []
        self.seq = 0
        self.item_plans: dict[int, ItemPlan] = {}  # agenda item id → its plan
        self.notes: dict[int, str] = {}  # action item id → its last progress note
        self.sweeps: set[dt.date] = set()

    # ---- people ------------------------------------------------------------------------------
    def ensure_people(self) -> None:
        """Liaisons for member units with none, secretaries for the town's community party
        organisations with no member, and person records for the demo logins."""
        names = iter(X.LIAISONS)
        for unit in sorted(self.units.values(), key=lambda u: u.code):
            if not any(m.role == Membership.Role.LIAISON for m in self.members.get(unit.pk, [])):
                self._member(unit, next(names, "联络员"), Membership.Role.LIAISON)
        secretaries = iter(X.SECRETARIES)
        for org in sorted(self.party_orgs.values(), key=lambda o: o.code):
            if not self.members.get(org.pk):
                self._member(org, next(secretaries, "社区书记"), Membership.Role.SECRETARY)
        yucai = self.compounds[YUCAI]
        secretary = self.members[self.branches[yucai.pk][0].pk][0].person
        self._link("branch", secretary)
        for m in self.members[self.committees[yucai.pk].pk]:
            if m.person.pk != secretary.pk and m.person.user_id is None:
                self._link("committee", m.person)
                break
        for username, unit_name in (("liaison", "国网岱山县供电公司"), ("liaison2", "高亭镇人民政府")):
            unit = self.units[unit_name]
            rows = self.members.get(unit.pk, [])
            free = [m.person for m in rows if m.role == Membership.Role.LIAISON and m.person.user_id is None]
            person = free[0] if free else self._member(unit, next(names, "联络员"), Membership.Role.LIAISON)
            self._link(username, person)

    def _member(self, org: Organisation, name: str, role: str) -> Person:
        home = org.area if org.area.level != Area.Level.COUNTY else None
        person = Person.objects.create(name=name, home_area=home)
        started = org.founded_on or dt.date(2023, 3, 1)
        membership = Membership.objects.create(organisation=org, person=person, role=role, started_on=started)
        self.members.setdefault(org.pk, []).insert(0, membership)
        self.add("meeting_people_added")
        return person

    def _link(self, username: str, person: Person) -> None:
        user = self.users[username]
        if person.user_id is not None or Person.objects.filter(user=user).exists():
            return  # the login has its person already
        person.user = user
        person.save(update_fields=["user"])
        self.add("demo_logins_linked")

    # ---- the queue ---------------------------------------------------------------------------
    def later(self, when: dt.datetime, step: Step) -> None:
        if when <= self.now:
            self.seq += 1
            heapq.heappush(self.queue, (when, self.seq, step))

    def play(self) -> None:
        """Run every step in time order; the messages a step queued are dated with it."""
        last = self.first_notification = Notification.objects.aggregate(m=Max("id"))["m"] or 0
        stamps: list[tuple[int, int, dt.datetime]] = []
        while self.queue:
            when, _seq, step = heapq.heappop(self.queue)
            step(when)
            newest = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
            if newest > last:
                stamps.append((last, newest, when))
                last = newest
        for low, high, when in stamps:
            Notification.objects.filter(pk__gt=low, pk__lte=high).update(created_at=when, send_after=when)

    def schedule(self, plan: MeetingPlan) -> None:
        self.later(plan.created_at, lambda t: self.create(plan, t))
        for item in plan.items:
            if item.added_at is not None:
                self.later(item.added_at, functools.partial(self.add_item, plan, item))
        if plan.announced_at is not None:
            self.later(plan.announced_at, lambda t: self.announce(plan, t))
        if plan.held:
            self.later(plan.starts_at - 20 * MINUTE, lambda t: self.hold(plan, t))
        if plan.signed_at is not None:
            self.later(plan.signed_at, lambda t: self.sign_off(plan, t))
            if plan.addendum_at is not None:
                self.later(plan.addendum_at, lambda t: self.addendum(plan, t))

    # ---- the steps of a meeting --------------------------------------------------------------
    def create(self, plan: MeetingPlan, t: dt.datetime) -> None:
        plan.meeting = A.create_meeting(
            plan.actor,
            kind=plan.kind,
            title=plan.title,
            convener=plan.convener,
            starts_at=plan.starts_at,
            place=plan.place,
            area=plan.area,
            compound=plan.compound,
            body=plan.body,
            organisations=plan.orgs,
            people=plan.people,
            now=t,
        )
        self.add("meetings")
        for item in plan.items:
            if item.added_at is None:
                self.add_item(plan, item, t)
        if plan.hot:
            self.adopt_hot_issue(plan, t)

    def add_item(self, plan: MeetingPlan, item: ItemPlan, t: dt.datetime) -> None:
        assert plan.meeting is not None
        agenda = A.add_agenda_item(
            plan.actor,
            plan.meeting,
            title=item.title,
            description=item.description,
            source=item.source,
            ticket=item.ticket,
            consultation=item.consultation,
            opinion=item.opinion,
            presenter_org=item.presenter_org,
            now=t,
        )
        self.item_plans[agenda.pk] = item
        self.add("agenda_items")

    def adopt_hot_issue(self, plan: MeetingPlan, t: dt.datetime) -> None:
        """Take the compound's most urgent hot-issue warning onto the agenda, if one fires."""
        assert plan.meeting is not None and plan.compound is not None
        found = [w for w in W.warnings_for(plan.actor, now=t) if w.compound_id == plan.compound.pk]
        if not found:
            return
        warning = found[0]
        agenda = W.adopt_warning(plan.actor, plan.meeting, warning.key, now=t)
        if warning.rule == "dispute":
            what = "矛盾纠纷类诉求和意见（含不满意评价、未采纳的意见）"
        elif warning.rule in ("reopen", "reopens") or not warning.category_name:
            what = "反复重开的诉求"
        else:
            what = f"“{warning.category_name}”类诉求和意见"
        minutes = X.HOT_MINUTES.format(
            days=HotIssueSettings.current().window_days,
            compound=plan.compound.name,
            what=what,
            count=warning.count,
            threshold=warning.threshold,
        )
        self.item_plans[agenda.pk] = ItemPlan(
            agenda.title, minutes=minutes, resolution=X.HOT_RESOLUTION, works=(X.HOT_WORK,)
        )
        self.add("agenda_items")
        self.add("agenda_hot_issues")

    def announce(self, plan: MeetingPlan, t: dt.datetime) -> None:
        assert plan.meeting is not None
        A.announce(plan.actor, plan.meeting, now=t)

    def hold(self, plan: MeetingPlan, t: dt.datetime) -> None:
        """Sign-in from twenty minutes before; then each item's minutes, resolution and work.
        A meeting whose minutes are not signed off yet still lacks its last resolution."""
        meeting = plan.meeting
        assert meeting is not None
        for i, (person, name, label, qr) in enumerate(self.attendees(plan)):
            when = t + i * MINUTE // 2
            if qr and person is not None and person.user is not None:
                A.sign_in(person.user, meeting, method=Attendance.Method.QR, now=when)
            else:
                A.sign_in(plan.actor, meeting, person=person, name=name, represents_label=label, now=when)
            self.add("attendances")
        A.open_session(plan.actor, meeting, now=plan.starts_at)
        items = list(meeting.agenda_items.order_by("position", "id"))
        at = plan.starts_at + 10 * MINUTE
        for index, agenda in enumerate(items):
            item = self.item_plans.get(agenda.pk) or self.follow_up(agenda, at)
            if item.minutes:
                A.write_minutes(plan.actor, agenda, minutes=item.minutes, now=at)
            if plan.signed_at is None and index == len(items) - 1:
                break  # the secretary has not finished the minutes yet
            self.resolve(plan, agenda, item, at + 8 * MINUTE)
            at += self.rng.randint(12, 25) * MINUTE
        A.end_session(plan.actor, meeting, now=at + 10 * MINUTE)

    def attendees(self, plan: MeetingPlan) -> list[tuple[Person | None, str, str, bool]]:
        """Who signs in — (person, name, represents, by QR): the members of a deciding body
        but one away at sea; otherwise a representative of each invited body (sometimes a
        second, the odd unit sends apologies), the people invited and residents."""
        rng = self.rng
        seen: set[int] = set()
        out: list[tuple[Person | None, str, str, bool]] = []

        def person(p: Person) -> None:
            if p.pk not in seen:
                seen.add(p.pk)
                out.append((p, p.name, "", p.user_id is not None and rng.random() < 0.8))

        if plan.body is not None:
            rows = self.members.get(plan.body.pk, [])
            rows = sorted(rows, key=lambda m: m.person.user_id is None)  # the logins come
            for m in rows[: len(rows) - (1 if len(rows) >= 5 else 0)]:
                person(m.person)
            return out
        for org in plan.orgs:
            rows = self.members.get(org.pk, [])
            unit = org.kind == Organisation.Kind.MEMBER_UNIT
            if not rows or (unit and rng.random() < 0.08):
                continue
            extra = 2 if org.kind == Organisation.Kind.JOINT_BRANCH and plan.kind == K.HALL else 0
            extra += 1 if unit and rng.random() < 0.15 else 0
            for m in rows[: 1 + extra]:
                person(m.person)
        for p in plan.people:
            person(p)
        out += [(None, name, label, False) for name, label in plan.residents]
        return out

    def resolve(self, plan: MeetingPlan, agenda: AgendaItem, item: ItemPlan, at: dt.datetime) -> None:
        votes: dict[str, int] = {}
        if plan.body is not None:  # every member present votes: in favour, or abstaining
            presence = A.presence(agenda.meeting)
            assert presence is not None
            abstain = item.abstain or 0
            votes = {"votes_for": presence.members_present - abstain, "votes_abstain": abstain}
        resolution = R.resolve(plan.actor, agenda, text=item.resolution or "会议同意。", now=at, **votes)
        self.add("resolutions")
        owners = {**item.who, **self.bodies_of(plan)}
        for work in item.works:
            owner = owners.get(work.who) or self.units.get(work.who)
            if owner is None:
                continue
            action = R.add_action_item(
                plan.actor,
                resolution,
                title=work.title,
                assignee_org=owner,
                deadline=timezone.localdate(at) + dt.timedelta(days=work.days),
                now=at,
            )
            self.add("action_items")
            self.plan_work(plan, action, work, at, never=plan.force_late)
            plan.force_late = False
        if item.redispatch and agenda.ticket_id is not None:
            try:
                R.redispatch_ticket(plan.actor, resolution, now=at + 2 * MINUTE)
                self.add("tickets_redispatched")
            except ValidationError:
                pass  # the request is closed already: the resolution stands on its timeline

    def bodies_of(self, plan: MeetingPlan) -> dict[str, Organisation]:
        out: dict[str, Organisation] = {"community": self.party_org}
        if plan.compound is not None:
            if self.branches.get(plan.compound.pk):
                out["branch"] = self.branches[plan.compound.pk][0]
            if plan.compound.pk in self.committees:
                out["committee"] = self.committees[plan.compound.pk]
        return out

    def follow_up(self, agenda: AgendaItem, at: dt.datetime) -> ItemPlan:
        """Minutes and resolution of an action item carried from an earlier meeting, as it
        stands on the day."""
        assert agenda.carried_item_id is not None
        item = ActionItem.objects.select_related("assignee_org").get(pk=agenda.carried_item_id)
        values = {"owner": item.owner_label, "deadline": f"{item.deadline.month}月{item.deadline.day}日"}
        if item.is_done and item.done_at is not None:
            done = timezone.localtime(item.done_at)
            values |= {"evidence": item.evidence.rstrip("。"), "done": f"{done.month}月{done.day}日"}
            minutes, resolution = X.CARRIED_DONE, X.CARRIED_DONE_RESOLUTION
        elif item.overdue or item.deadline < timezone.localdate(at):
            values["reason"] = self.rng.choice(X.LATE_REASONS)
            minutes, resolution = X.CARRIED_LATE, X.CARRIED_LATE_RESOLUTION
        else:
            values["note"] = self.notes.get(item.pk, "已着手安排")
            minutes, resolution = X.CARRIED_ON_TRACK, X.CARRIED_ON_TRACK_RESOLUTION
        return ItemPlan(
            agenda.title, minutes=minutes.format(**values), resolution=resolution.format(**values)
        )

    # ---- the work ----------------------------------------------------------------------------
    def plan_work(
        self, plan: MeetingPlan, item: ActionItem, work: Work, at: dt.datetime, *, never: bool
    ) -> None:
        """When the work is reported on and done: mostly in time, some late (marked overdue
        and carried first), a few not at all — only recent work is left undone."""
        rng = self.rng
        day = timezone.localdate(at)
        span = max(1, (item.deadline - day).days)
        roll = 1.0 if never else rng.random()
        if roll >= 0.92 and not never and self.now - at > 75 * DAY:
            roll = 0.9  # old work is finished in the end, however late
        owner = item.assignee_org
        actor = (self.unit_users.get(owner.pk) if owner is not None else None) or plan.actor
        done: dt.datetime | None = None
        if roll < 0.77:
            done = self.at(
                day + dt.timedelta(days=max(1, round(span * rng.uniform(0.3, 0.95)))), rng.randint(9, 17)
            )
        elif roll < 0.92:
            late = rng.randint(3, 18) if roll < 0.88 else rng.randint(30, 60)
            done = self.at(item.deadline + dt.timedelta(days=late), rng.randint(9, 17))
        if done is None or done.date() > item.deadline or span >= 14:
            note = rng.choice(X.PROGRESS_NOTES)
            when = self.at(
                day + dt.timedelta(days=max(1, round(span * rng.uniform(0.2, 0.4)))), rng.randint(9, 17)
            )
            if done is None or when < done:
                self.later(when, lambda t: self.progress(actor, item, note, t))
        if done is not None:
            self.later(done + rng.randint(0, 59) * MINUTE, lambda t: self.complete(actor, item, work, t))
        if (done is None or done.date() > item.deadline) and item.deadline + DAY not in self.sweeps:
            self.sweeps.add(item.deadline + DAY)  # the morning sweep that finds it overdue
            self.later(self.at(item.deadline + DAY, 7), self.sweep_at)

    def progress(self, actor: Any, item: ActionItem, note: str, t: dt.datetime) -> None:
        R.report_progress(actor, item, note=note, now=t)
        self.notes[item.pk] = note

    def complete(self, actor: Any, item: ActionItem, work: Work, t: dt.datetime) -> None:
        photos = [_photo(SEED + item.pk)] if self.rng.random() < 0.35 else []
        R.complete(actor, item, evidence=work.evidence, photos=photos, now=t)
        self.add("action_items_done")

    def sweep_at(self, t: dt.datetime) -> None:
        for name, n in sweep(now=t).items():
            self.add(f"meeting_sweep_{name}", n)

    def sign_off(self, plan: MeetingPlan, t: dt.datetime) -> None:
        assert plan.meeting is not None
        A.sign_off(plan.actor, plan.meeting, now=t)
        self.add("meetings_signed")

    def addendum(self, plan: MeetingPlan, t: dt.datetime) -> None:
        """A representative left off the sign-in sheet, recorded after the sign-off."""
        assert plan.meeting is not None
        signed = set(plan.meeting.attendances.values_list("person_id", flat=True))
        for org in plan.orgs:
            missing = [m.person for m in self.members.get(org.pk, []) if m.person.pk not in signed]
            if org.kind == Organisation.Kind.MEMBER_UNIT and missing:
                text = X.ADDENDUM.format(org=org.name, name=missing[0].name)
                A.add_addendum(plan.actor, plan.meeting, text=text, now=t)
                self.add("addenda")
                return

    # ---- all of it ---------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        if not self.load():
            return {}
        self.ensure_people()
        for plan in self.plans():
            self.schedule(plan)
        self.play()
        self.sweep_at(self.now)
        # The messages belong to the past: delivered, and read unless recent.
        mine = Notification.objects.filter(pk__gt=self.first_notification)
        mine.update(sent_at=F("send_after"), attempts=1)
        week = self.now - 7 * DAY
        mine.filter(channel=Notification.Channel.INBOX, created_at__lt=week).update(read_at=F("send_after"))
        self.add("meeting_notifications", mine.count())
        return self.counts


def seed_meetings(log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Seed the demo's meetings into the demo county; returns what was created."""
    counts = MeetingSeeder(log=log).run()
    if counts and log:
        log(
            f"  meetings: {counts.get('meetings', 0)} meetings, "
            f"{counts.get('agenda_items', 0)} agenda items, {counts.get('action_items', 0)} action items"
        )
    return counts
