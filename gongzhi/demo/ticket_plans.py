"""Planning the demo county's requests: what happens to each one, and when.

A plan is a list of steps in time ("accept at 09:12", "the power company signs for it at
10:40", "the sweep at 14:15"); ``gongzhi.demo.tickets`` plays them. Everything is drawn from
one ``random.Random`` so the history is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from gongzhi.demo import ticket_texts as X
from gongzhi.demo.ticket_rows import Live
from gongzhi.housing.models import Building, Compound, Resident
from gongzhi.orgs.models import Membership, Organisation, Role, RoleGrant, ServiceCategory
from gongzhi.tickets import sweep
from gongzhi.tickets.models import CategorySetting, RoutingRule, Ticket, TimeLimit

HISTORY_TICKETS = 1190  # plus some 45 merged duplicates and the scripted requests
FIRST_MONTH = (2025, 5)  # eighteen months up to the demo date
MONTHS = 18
CRON = dt.timedelta(minutes=15)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
GAOTING = "330921100"
YUCAI = "育才新村"
# Share of dispatches that keep the co-units the routing rule suggests.
CO_UNITS_NEEDED = 0.35
# Typhoon days: a burst of urgent requests over a day and a half.
TYPHOONS = [((2025, 7, 30), 12), ((2026, 9, 14), 14)]
TYPHOON_MIX = ["typhoon"] * 5 + ["drainage"] * 3 + ["power"] * 2 + ["greening"] * 2
# When a unit returns a request as not its business: the unit the desk first chose by mistake.
WRONG_UNIT = {
    "drainage": "MU12",
    "lighting": "MU12",
    "greening": "MU13",
    "disputes": "MU08",
    "roads": "MU12",
    "stairwell": "MU01",
    "garbage": "MU13",
    "environment": "MU02",
}
# First follow-up: (resolution, satisfaction, weight). Not resolved or dissatisfied reopens.
OUTCOMES = [
    ("resolved", "satisfied", 67),
    ("resolved", "basic", 21),
    ("partly", "basic", 5.5),
    ("partly", "satisfied", 1.5),
    ("partly", "dissatisfied", 2),
    ("resolved", "dissatisfied", 1),
    ("not", "dissatisfied", 2),
]
AFTER_REOPEN = [
    ("resolved", "satisfied", 55),
    ("resolved", "basic", 30),
    ("partly", "basic", 7),
    ("not", "dissatisfied", 8),
]
PHOTOS = 12  # different pictures residents attach
CHANNELS = [("qr_poster", 34), ("phone_page", 18), ("staff_call", 22), ("door_to_door", 16), ("paper", 10)]

Step = tuple[dt.datetime, int, str, dict[str, Any]]


def ensure_unit_liaisons() -> dict[str, Any]:
    """A liaison account for every member unit (``mu01``…), unless the unit has one; the
    unit's first liaison in its membership list is the person behind the account."""
    User = get_user_model()
    liaisons: dict[str, Any] = {}
    for unit in Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT).order_by("code"):
        grant = (
            RoleGrant.objects.filter(organisation=unit, role=Role.UNIT_LIAISON, revoked_at__isnull=True)
            .select_related("user")
            .order_by("id")
            .first()
        )
        if grant is not None:
            liaisons[unit.code] = grant.user
            continue
        user = User(username=unit.code.lower(), is_active=True)
        user.set_unusable_password()
        user.save()
        RoleGrant.objects.create(user=user, role=Role.UNIT_LIAISON, organisation=unit)
        member = (
            Membership.objects.filter(
                organisation=unit, role=Membership.Role.LIAISON, person__user__isnull=True
            )
            .select_related("person")
            .order_by("id")
            .first()
        )
        if member is not None:
            member.person.user = user
            member.person.save(update_fields=["user"])
        liaisons[unit.code] = user
    return liaisons


@dataclass
class Story:
    """One request's plan: where, who, what, and its steps in time order."""

    category: str
    compound: Compound
    building: Building
    channel: str
    text: str
    answers: dict[str, str]
    reporter: Resident | None
    desk: Any
    urgency: str = Ticket.Urgency.NORMAL
    reporter_user: Any = None
    anonymous: bool = False
    steps: list[Step] = field(default_factory=list)
    rounds: int = 0
    lead: str = ""
    clock: tuple[dt.datetime, dt.datetime] | None = None
    parent: Story | None = None  # the request this duplicate is merged into
    scripted: bool = False
    # While playing: the ticket made through the actions, or the writer's record of it.
    ticket: Ticket | None = None
    live: Live | None = None
    tasks: dict[tuple[str, int], Any] = field(default_factory=dict)


class World:
    """The parts of the seeded county the history uses, read once."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.tz = timezone.get_default_timezone()
        User = get_user_model()
        names = ["grid", "branch", "community", "town", "county", "admin", "resident"]
        self.users = {u.username: u for u in User.objects.filter(username__in=names)}
        self.liaisons = ensure_unit_liaisons()
        self.units = {u.code: u for u in Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT)}
        self.code_of = {u.pk: code for code, u in self.units.items()}
        self.categories = {c.code: c for c in ServiceCategory.objects.select_related("parent")}
        limits = {t.code: t for t in TimeLimit.objects.all()}
        settings = {s.category_id: s for s in CategorySetting.objects.select_related("time_limit")}
        self.limit: dict[str, TimeLimit] = {}
        self.photo_required: dict[str, bool] = {}
        for code, cat in self.categories.items():
            setting = settings.get(cat.pk) or (settings.get(cat.parent_id) if cat.parent_id else None)
            self.limit[code] = setting.time_limit if setting else limits["general"]
            self.photo_required[code] = bool(settings.get(cat.pk) and settings[cat.pk].photo_required)
        self.emergency = limits["emergency"]
        self.rules: dict[tuple[int, str | None], tuple[str, list[str]]] = {}
        for rule in RoutingRule.objects.select_related("area", "lead_unit").prefetch_related("co_units"):
            key = (rule.category_id, rule.area.code if rule.area else None)
            co = [u.code for u in rule.co_units.all() if u.pk != rule.lead_unit_id]
            self.rules[key] = (rule.lead_unit.code, co)
        self.grid_desks: dict[int, list[Any]] = {}
        grants = RoleGrant.objects.filter(role=Role.GRID_WORKER, revoked_at__isnull=True)
        for grant in grants.select_related("user").order_by("id"):
            if grant.area_id is not None:
                self.grid_desks.setdefault(grant.area_id, []).append(grant.user)
        # Copy 0 of the county only: a scaled benchmark county gets its history once.
        self.compounds = list(
            Compound.objects.exclude(name__contains="（扩")
            .select_related("community", "community__parent")
            .order_by("id")
        )
        self.by_name = {c.name: c for c in self.compounds}
        self.buildings: dict[int, list[Building]] = {}
        compounds = {c.pk: c for c in self.compounds}
        for b in Building.objects.filter(compound__in=self.compounds).select_related("grid").order_by("id"):
            b.compound = compounds[b.compound_id]
            self.buildings.setdefault(b.compound_id, []).append(b)
        self.residents: dict[int, list[Resident]] = {}
        people = (
            Resident.objects.filter(unit__compound__in=self.compounds, moved_out__isnull=True)
            .exclude(phone="")
            .annotate(compound_id=F("unit__compound_id"))
            .only("id", "name", "phone", "unit", "user")
            .order_by("id")
        )
        for r in people:
            self.residents.setdefault(r.compound_id, []).append(r)  # type: ignore[attr-defined]
        self.demo_resident = Resident.objects.filter(user__username="resident").first()
        self.calendar = sweep.load_calendar()

    def town_of(self, compound: Compound) -> str:
        town = compound.community.parent
        return town.code if town is not None else ""

    def supervisor_for(self, compound: Compound) -> Any:
        return self.users["town"] if self.town_of(compound) == GAOTING else self.users["county"]

    def route(self, category: str, compound: Compound) -> tuple[str, list[str]]:
        """The units the routing rules suggest: the deepest area's rule of the category or
        its nearest parent (as ``gongzhi.tickets.routing`` decides)."""
        path = [c for c in compound.community.path.strip("/").split("/") if c]
        cat: ServiceCategory | None = self.categories[category]
        while cat is not None:
            for code in [*reversed(path), None]:
                if (cat.pk, code) in self.rules:
                    return self.rules[(cat.pk, code)]
            cat = cat.parent
        raise LookupError(f"no routing rule for {category}")


class Planner:
    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.now = world.now
        self.order = 0

    # ---- people, places and time ------------------------------------------------------------
    def desk_for(self, building: Building) -> Any:
        workers = self.world.grid_desks.get(building.grid_id or 0, [])
        demo = [u for u in workers if u.username == "grid"]
        if demo and self.rng.random() < 0.7:
            return demo[0]
        return workers[0] if workers else self.world.users["county"]

    def time_limit(self, story: Story) -> TimeLimit:
        if story.urgency == Ticket.Urgency.EMERGENCY:
            return self.world.emergency
        return self.world.limit[story.category]

    def at(self, year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(year, month, day, hour, minute, tzinfo=self.world.tz)

    def office(self, moment: dt.datetime) -> dt.datetime:
        """The first moment staff would act at or after ``moment``: 8:00–18:00, and many
        leave Sunday's work for Monday morning."""
        t = timezone.localtime(moment, self.world.tz)
        morning = dt.timedelta(minutes=self.rng.randint(0, 80))
        if t.hour < 8:
            t = t.replace(hour=8, minute=0, second=0, microsecond=0) + morning
        elif t.hour >= 18:
            t = (t + dt.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0) + morning
        if t.weekday() == 6 and self.rng.random() < 0.6:
            t = (t + dt.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0) + morning
        return t

    @staticmethod
    def tick(moment: dt.datetime) -> dt.datetime:
        """The cron run of the sweep at or after ``moment`` (every 15 minutes)."""
        base = moment.replace(minute=0, second=0, microsecond=0)
        while base < moment:
            base += CRON
        return base

    def step(self, story: Story, when: dt.datetime, name: str, **kwargs: Any) -> None:
        self.order += 1
        story.steps.append((when, self.order, name, kwargs))

    def clock_ticks(
        self, story: Story, start: dt.datetime, due: dt.datetime, since: dt.datetime, until: dt.datetime
    ) -> None:
        """Sweep runs when the clock (start → due) passes 50, 80, 100 and 200 % while the
        units are working on the request (between ``since`` and ``until``)."""
        span = due - start
        for pct in (50, 80, 100, sweep.SUPERVISE_AT):
            moment = start + span * pct / 100
            if since <= moment < until:
                self.step(story, self.tick(moment), "sweep")

    def pick_reporter(self, compound: Compound, other_than: Resident | None = None) -> Resident | None:
        people = self.world.residents.get(compound.pk, [])
        for _ in range(5 if people else 0):
            person = self.rng.choice(people)
            if other_than is None or person.phone != other_than.phone:
                return person
        return None

    def report(self, story: Story, when: dt.datetime) -> None:
        """The report step, with the photo the resident takes where the category needs one."""
        needed = self.world.photo_required[story.category]
        self.step(story, when, "report", photo=self.rng.randrange(PHOTOS) if needed else None)

    def reply_text(self, story: Story, unit: str) -> str:
        """What a unit answers: the lead unit about the job, a co-unit about its part."""
        if unit == story.lead or unit not in X.CO_REPLIES:
            text = self.rng.choice(X.REPLIES[story.category])
        else:
            text = self.rng.choice(X.CO_REPLIES[unit])
        return text.format(n=self.rng.randint(2, 5))

    def neighbour(self, story: Story) -> str:
        """The phone of another resident of the compound, who says "me too"."""
        other = self.pick_reporter(story.compound, story.reporter)
        return other.phone if other is not None else ""

    def fill(self, text: str, building: Building) -> str:
        others = [b.number for b in self.world.buildings[building.compound_id] if b.number != building.number]
        return text.format(
            b=building.number,
            b2=self.rng.choice(others) if others else building.number,
            e=self.rng.randint(1, 2),
            f=self.rng.randint(4, 6),
            n=self.rng.randint(2, 5),
        )

    def new_story(self, category: str, compound: Compound, building: Building | None = None) -> Story:
        rng = self.rng
        building = building or rng.choice(self.world.buildings[compound.pk])
        text, answers = rng.choice(X.DESCRIPTIONS[category])
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        story = Story(
            category=category,
            compound=compound,
            building=building,
            channel=channel,
            text=self.fill(text, building),
            answers=dict(answers),
            reporter=self.pick_reporter(compound),
            desk=self.desk_for(building),
            anonymous=channel in ("qr_poster", "phone_page") and rng.random() < 0.08,
        )
        if category in ("fire", "typhoon") or (category in ("power", "water") and rng.random() < 0.08):
            story.urgency = Ticket.Urgency.EMERGENCY
        return story

    # ---- one request ------------------------------------------------------------------------
    def plan_units(
        self,
        story: Story,
        start: dt.datetime,
        units: list[str],
        *,
        late: bool = False,
        very_late: bool = False,
        extension: bool = False,
        withdraw_at: dt.datetime | None = None,
    ) -> dt.datetime:
        """Plan one round of unit tasks from dispatch at ``start``; returns when the last
        unit replies (the request is "replied")."""
        rng = self.rng
        story.rounds += 1
        rnd = story.rounds
        limit = self.time_limit(story)
        around_the_clock = limit.resolve_hours <= 24
        resolve, accept_limit = limit.resolve_hours * HOUR, limit.accept_hours * HOUR
        due = start + resolve

        def when(moment: dt.datetime) -> dt.datetime:
            return moment if around_the_clock else self.office(moment)

        accepted: dict[str, dt.datetime] = {}
        for code in units:
            share = rng.uniform(1.05, 2.5) if rng.random() < 0.08 else rng.uniform(0.03, 0.8)
            accepted[code] = when(start + accept_limit * share)
            if accepted[code] > start + accept_limit:
                self.step(story, self.tick(start + accept_limit), "sweep")
        lead = units[0]
        if very_late:
            share = rng.uniform(2.05, 2.8)
        elif late:
            share = rng.uniform(1.02, 1.8)
        else:
            share = min(0.96, rng.betavariate(1.6, 3.4))
        replied = {lead: max(when(start + resolve * share), accepted[lead] + 2 * HOUR)}
        extended_at, new_due = None, due
        if extension:
            asked = max(accepted[lead] + HOUR, start + resolve * rng.uniform(0.35, 0.7))
            extended_at = self.office(asked + rng.uniform(0.5, 6) * HOUR)
            extra = rng.choice([72, 120, 168, limit.resolve_hours])
            new_due = due + extra * HOUR
            reply_at = when(start + (new_due - start) * rng.uniform(0.6, 0.95))
            replied[lead] = max(extended_at + 3 * HOUR, reply_at)
            reason = rng.choice(X.EXTENSION_REASONS)
            self.step(story, asked, "ext_request", unit=lead, round=rnd, hours=extra, reason=reason)
            self.step(story, extended_at, "ext_decide", approve=True, note="同意延期")
        for code in units[1:]:
            share = rng.uniform(0.45, 1.0)
            replied[code] = max(accepted[code] + HOUR, start + (replied[lead] - start) * share)
        end = max(replied.values())
        if withdraw_at is not None:
            for code in units:
                if accepted[code] < withdraw_at:
                    self.step(story, accepted[code], "task_accept", unit=code, round=rnd)
            self.clock_ticks(story, start, due, start, withdraw_at)
            return withdraw_at
        for code in units:
            self.step(story, accepted[code], "task_accept", unit=code, round=rnd)
            self.step(
                story, replied[code], "task_reply", unit=code, round=rnd, text=self.reply_text(story, code)
            )
        if extended_at is not None:
            self.clock_ticks(story, start, due, start, min(extended_at, end))
            self.clock_ticks(story, start, new_due, extended_at, end)
        else:
            self.clock_ticks(story, start, due, start, end)
        if end > due and rng.random() < 0.35:
            chased = self.office(due + (due - start) * rng.uniform(0.05, 0.6))
            if chased < end:
                self.step(story, chased, "supervise", actor="supervisor", note=rng.choice(X.SUPERVISE_NOTES))
        story.clock = (start, new_due)
        return end

    def plan_follow_up(
        self, story: Story, replied: dt.datetime, *, send_back: bool, unreachable: bool, round_no: int = 1
    ) -> None:
        """Verification, close, the follow-up call and archiving — and a reopen when the
        resident is not satisfied."""
        rng = self.rng
        verifier = "branch" if story.compound.name == YUCAI and rng.random() < 0.5 else "desk"
        checked = self.office(replied + rng.uniform(1.5, 30) * HOUR)
        if send_back:
            self.step(story, checked, "send_back", reason=rng.choice(X.SEND_BACK_REASONS))
            again = self.office(checked + rng.uniform(3, 48) * HOUR)
            text = self.reply_text(story, story.lead)
            self.step(story, again, "task_reply", unit=story.lead, round=story.rounds, text=text)
            if story.clock is not None:
                self.clock_ticks(story, *story.clock, checked, again)
            checked = self.office(again + rng.uniform(1.5, 24) * HOUR)
        self.step(story, checked, "verify", actor=verifier, note=rng.choice(X.VERIFY_NOTES))
        closed = self.office(checked + rng.uniform(0.2, 10) * HOUR)
        self.step(story, closed, "close", note=rng.choice(X.CLOSE_NOTES))
        if unreachable:
            self.step(
                story,
                self.office(closed + rng.uniform(24, 72) * HOUR),
                "unreachable",
                note=X.UNREACHABLE_NOTE,
            )
            self.step(story, self.office(closed + 10 * 24 * HOUR), "archive")
            return
        rated = self.office(closed + rng.uniform(3, 72) * HOUR)
        table = OUTCOMES if round_no == 1 else AFTER_REOPEN
        if round_no >= 3:
            table = [row for row in AFTER_REOPEN if row[1] != "dissatisfied"]
        resolution, satisfaction, _w = rng.choices(table, [row[2] for row in table])[0]
        if story.reporter_user is not None:
            via = "phone_page"  # the resident rates it on their own phone
        else:
            via = rng.choices(["staff_call", "door_to_door", "paper"], [75, 20, 5])[0]
        reopens = resolution == "not" or satisfaction == "dissatisfied"
        note = rng.choice(X.DISSATISFIED_NOTES) if reopens else rng.choice(X.RATE_NOTES)
        self.step(story, rated, "rate", resolution=resolution, satisfaction=satisfaction, via=via, note=note)
        if not reopens:
            self.step(story, self.tick(rated + sweep.ARCHIVE_AFTER), "sweep")
            return
        end = self.plan_units(story, rated, [story.lead])
        self.plan_follow_up(story, end, send_back=False, unreachable=False, round_no=round_no + 1)

    def plan(self, story: Story, reported: dt.datetime) -> None:
        """Plan a whole ordinary request reported at ``reported``."""
        rng = self.rng
        limit = self.time_limit(story)
        self.report(story, reported)
        if limit.resolve_hours <= 2:
            taken = reported + rng.uniform(3, 20) * MINUTE
        else:
            taken = self.office(reported + rng.lognormvariate(-0.2, 0.9) * HOUR)
        fate = rng.random()
        if fate < 0.02:
            self.step(story, taken, "reject", reason=rng.choice(X.REJECT_REASONS))
            return
        if fate < 0.024:
            self.step(story, taken, "unreasonable_request", reason=rng.choice(X.UNREASONABLE_REASONS))
            decided = self.office(taken + rng.uniform(2, 30) * HOUR)
            self.step(story, decided, "unreasonable_decide", note="核实属实，同意")
            rejected = decided + rng.uniform(5, 60) * MINUTE
            self.step(story, rejected, "reject", reason="经核实属无理诉求，不予受理")
            return
        if fate < 0.032:
            self.step(story, taken, "withdraw", reason=rng.choice(X.WITHDRAW_REASONS))
            return
        self.step(story, taken, "accept")
        sent = taken + rng.uniform(1, 5 if limit.resolve_hours <= 2 else 45) * MINUTE
        lead, co = self.world.route(story.category, story.compound)
        story.lead = lead
        if co and rng.random() > CO_UNITS_NEEDED:
            co = []  # a simple job: the desk sends it to the lead unit alone
        wrong = WRONG_UNIT.get(story.category)
        if fate < 0.042 and wrong is not None and wrong not in (lead, *co):
            self.step(story, sent, "dispatch", lead=wrong, co=[])
            story.rounds += 1
            signed = self.office(sent + rng.uniform(0.5, 8) * HOUR)
            asked = self.office(signed + rng.uniform(0.5, 8) * HOUR)
            agreed = self.office(asked + rng.uniform(0.5, 6) * HOUR)
            reason = rng.choice(X.RETURN_REASONS)
            self.step(story, signed, "task_accept", unit=wrong, round=story.rounds)
            self.step(story, asked, "return_request", unit=wrong, round=story.rounds, reason=reason)
            self.step(story, agreed, "return_decide", note="同意退回，改派")
            sent = agreed + rng.uniform(5, 40) * MINUTE
        self.step(story, sent, "dispatch", lead=lead, co=co)
        if fate < 0.05:
            gone = sent + (limit.resolve_hours * HOUR) * rng.uniform(0.05, 0.3)
            self.plan_units(story, sent, [lead, *co], withdraw_at=gone)
            self.step(story, gone, "withdraw", reason=rng.choice(X.WITHDRAW_REASONS))
            return
        referred = fate < 0.062
        extension = limit.resolve_hours > 24 and (rng.random() < (0.5 if referred else 0.03))
        late_draw = rng.random()
        end = self.plan_units(
            story, sent, [lead, *co], late=late_draw < 0.075, very_late=late_draw < 0.012, extension=extension
        )
        if referred:
            when = self.office(sent + (end - sent) * rng.uniform(0.1, 0.4))
            self.step(story, when, "refer", actor="supervisor", reason=rng.choice(X.REFER_REASONS))
        if rng.random() < 0.06:
            for _ in range(rng.randint(1, 4)):
                when = reported + (end - reported) * rng.uniform(0.05, 0.95)
                self.step(story, when, "me_too", phone=self.neighbour(story))
        fate2 = rng.random()
        self.plan_follow_up(story, end, send_back=fate2 < 0.02, unreachable=0.02 <= fate2 < 0.03)

    def plan_duplicate(self, parent: Story) -> Story | None:
        """A second resident reports the same thing; the desk merges it into the first."""
        rng = self.rng
        reported = parent.steps[0][0]
        verified = next((s[0] for s in parent.steps if s[2] in ("verify", "send_back")), None)
        if verified is None or verified - reported < 30 * HOUR:
            return None
        child = self.new_story(parent.category, parent.compound, parent.building)
        child.desk, child.parent = parent.desk, parent
        at = reported + rng.uniform(1, 20) * HOUR
        merged = self.office(at + rng.uniform(0.5, 5) * HOUR)
        if merged >= verified - HOUR:
            return None
        self.report(child, at)
        self.step(child, merged, "merge")
        return child

    # ---- eighteen months ----------------------------------------------------------------------
    def report_times(self) -> list[tuple[dt.datetime, str | None]]:
        rng = self.rng
        months = []
        for i in range(MONTHS):
            year, month = FIRST_MONTH[0] + (FIRST_MONTH[1] - 1 + i) // 12, (FIRST_MONTH[1] - 1 + i) % 12 + 1
            weight = (0.75 + 0.5 * i / (MONTHS - 1)) * (0.7 if month == 2 else 1.0)
            months.append(((year, month), weight))
        storms = sum(n for _, n in TYPHOONS)
        times: list[tuple[dt.datetime, str | None]] = []
        hours, hour_weights = [(7, 8), (8, 12), (12, 14), (14, 18), (18, 22)], [12, 30, 10, 28, 20]
        last = self.now - 2 * HOUR
        while len(times) < HISTORY_TICKETS - storms:
            (year, month), _w = rng.choices(months, [w for _, w in months])[0]
            day = rng.randint(1, 28 if month == 2 else 30)
            low, high = rng.choices(hours, hour_weights)[0]
            moment = self.at(year, month, day, low) + rng.uniform(0, high - low) * HOUR
            if moment < last:
                times.append((moment, None))
        for (year, month, day), count in TYPHOONS:
            storm = self.at(year, month, day, 6)
            for i in range(count):
                times.append((storm + rng.uniform(0, 36) * HOUR, TYPHOON_MIX[i % len(TYPHOON_MIX)]))
        times.sort(key=lambda item: item[0])
        return times

    def pick_category(self, month: int) -> str:
        codes, weights = [], []
        for code, (weight, months, factor) in X.CATEGORY_WEIGHTS.items():
            if code == "typhoon" and month not in months:
                continue
            codes.append(code)
            weights.append(weight * (factor if month in months else 1.0))
        return self.rng.choices(codes, weights)[0]

    def pick_compound(self) -> Compound:
        world = self.world
        weights = [
            len(world.buildings.get(c.pk, []))
            * (2.0 if world.town_of(c) == GAOTING else 1.0)
            * (1.0 if c.unmanaged else 0.12)
            for c in world.compounds
        ]
        return self.rng.choices(world.compounds, weights)[0]

    def plan_history(self) -> list[Story]:
        from gongzhi.demo.ticket_scripts import scripted_stories

        stories = scripted_stories(self)
        plain: list[Story] = []
        for moment, category in self.report_times():
            month = timezone.localtime(moment, self.world.tz).month
            story = self.new_story(category or self.pick_category(month), self.pick_compound())
            self.plan(story, moment)
            plain.append(story)
        stories += plain
        for parent in self.rng.sample(plain, 60):
            child = self.plan_duplicate(parent)
            if child is not None:
                stories.append(child)
        return stories
