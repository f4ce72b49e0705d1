"""What the demo's meetings will be: who convenes which meeting when, on what agenda, and
how each item ends. Read from the seeded county, written by nothing: ``gongzhi.demo.meetings``
plays the plans through the meeting actions.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from gongzhi.consultations.models import Consultation, Household, Opinion
from gongzhi.demo import meeting_texts as X
from gongzhi.demo.meeting_texts import Topic, Work
from gongzhi.housing.models import Compound, Resident
from gongzhi.meetings import actions as A
from gongzhi.meetings import warnings as W
from gongzhi.meetings.models import AgendaItem, Meeting
from gongzhi.orgs.models import Area, Membership, Organisation, Person, Role, RoleGrant
from gongzhi.tickets.models import Task, Ticket, TicketEvent

COMMUNITY = "南峰社区"
YUCAI = "育才新村"
PILOTS = ("育才新村", "南峰小区", "渔港新村")
MONTHS_HELD = 6
K, Src = Meeting.Kind, AgendaItem.Source
HOUR, DAY, MINUTE = dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(minutes=1)


@dataclass
class ItemPlan:
    """One agenda item as planned: what goes on the agenda, and how it ends."""

    title: str
    description: str = ""
    source: str = Src.FREE
    ticket: Ticket | None = None
    consultation: Consultation | None = None
    opinion: Opinion | None = None
    presenter_org: Organisation | None = None
    minutes: str = ""
    resolution: str = ""
    works: tuple[Work, ...] = ()
    abstain: int | None = None  # hands abstaining, where a body decides by hands
    redispatch: bool = False
    who: dict[str, Organisation] = field(default_factory=dict)  # "lead"/"co" of a request
    added_at: dt.datetime | None = None  # None: on the agenda from the start


@dataclass
class MeetingPlan:
    kind: str
    title: str
    convener: Organisation
    actor: Any
    starts_at: dt.datetime
    place: str
    created_at: dt.datetime
    announced_at: dt.datetime | None
    area: Area | None = None
    compound: Compound | None = None
    body: Organisation | None = None
    orgs: list[Organisation] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    items: list[ItemPlan] = field(default_factory=list)
    residents: list[tuple[str, str]] = field(default_factory=list)  # (name, represents)
    held: bool = False
    signed_at: dt.datetime | None = None  # None for a meeting held: minutes still open
    addendum_at: dt.datetime | None = None
    hot: bool = False  # take the compound's hot-issue warning onto the agenda
    force_late: bool = False  # its first work is never done: overdue and carried
    meeting: Meeting | None = None


def last_weekday(year: int, month: int, weekday: int) -> dt.date:
    """The last ``weekday`` (Monday 0) of the month."""
    day = dt.date(year + month // 12, month % 12 + 1, 1) - DAY
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def month_back(day: dt.date, k: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 - k
    return index // 12, index % 12 + 1


class Planner:
    """The county as seeded, and the plans of every meeting."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = timezone.now()
        self.tz = timezone.get_default_timezone()
        self.counts: dict[str, int] = {}

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    def today(self) -> dt.date:
        return timezone.localdate(self.now)

    def load(self) -> bool:
        """Read the bodies, their members and the demo logins; False outside the demo."""
        community = Area.objects.filter(name=COMMUNITY, level=Area.Level.COMMUNITY).first()
        if community is None or community.parent is None:
            return False
        self.community: Area = community
        self.town: Area = community.parent
        names = ["community", "town", "branch", "committee", "liaison", "liaison2", "grid"]
        self.users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
        if len(self.users) < len(names):
            return False
        self.units = {u.name: u for u in Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT)}
        self.unit_users: dict[int, Any] = {}
        grants = RoleGrant.objects.filter(
            role=Role.UNIT_LIAISON, revoked_at__isnull=True, organisation__isnull=False
        )
        for grant in grants.select_related("user").order_by("id"):
            if grant.organisation_id is not None:
                self.unit_users.setdefault(grant.organisation_id, grant.user)
        party = Organisation.objects.filter(kind=Organisation.Kind.PARTY_ORG, area__parent=self.town)
        self.party_orgs = {o.area_id: o for o in party}
        self.party_org = self.party_orgs[self.community.pk]
        self.compounds = {c.name: c for c in Compound.objects.filter(community=self.community)}
        self.branches: dict[int, list[Organisation]] = {}
        self.committees: dict[int, Organisation] = {}
        bodies = Organisation.objects.filter(compound__community__parent=self.town, dissolved_on__isnull=True)
        for org in bodies.order_by("code"):
            if org.compound_id is None:
                continue
            if org.kind == Organisation.Kind.JOINT_BRANCH:
                self.branches.setdefault(org.compound_id, []).append(org)
            elif org.kind in Organisation.COMMITTEE_KINDS:
                self.committees[org.compound_id] = org
        self.members: dict[int, list[Membership]] = {}
        rank = {r: i for i, r in enumerate(Membership.RANK)}
        for m in Membership.objects.filter(left_on__isnull=True).select_related("person").order_by("id"):
            self.members.setdefault(m.organisation_id, []).append(m)
        for rows in self.members.values():
            rows.sort(key=lambda m: (rank.get(m.role, 99), m.pk))
        self.grid_person = Person.objects.filter(user=self.users["grid"]).first()
        return all(name in self.compounds for name in PILOTS)

    # ---- helpers ---------------------------------------------------------------------------
    def timing(self, starts: dt.datetime, convened: int, announced: int) -> tuple[dt.datetime, dt.datetime]:
        """When a meeting is convened and its notice published (days ahead; the notice at
        least the days its kind requires), never after now: an upcoming meeting is
        convened and announced already."""
        created = min(starts - dt.timedelta(days=convened), self.now - 2 * HOUR)
        notice = min(starts - dt.timedelta(days=announced), self.now - HOUR)
        return created, max(created + MINUTE, notice)

    def held(self, starts: dt.datetime) -> bool:
        return starts + 3 * HOUR < self.now

    def referrals(self, communities: list[Area]) -> list[tuple[dt.datetime, Ticket]]:
        """The referred requests of the communities, with when they were (last) referred."""
        events = (
            TicketEvent.objects.filter(
                action="refer", ticket__referred=True, ticket__community__in=communities
            )
            .select_related(
                "ticket__compound", "ticket__building", "ticket__category__parent", "ticket__lead_unit"
            )
            .order_by("at", "id")
        )
        latest = {e.ticket_id: (e.at, e.ticket) for e in events}
        return sorted(latest.values(), key=lambda r: (r[0], r[1].pk))

    def escalated(self) -> list[Ticket]:
        """The community's requests supervised or reopened, not referred: a joint meeting
        looks for a lasting remedy."""
        found = Ticket.objects.filter(
            community=self.community, referred=False, created_at__gte=self.now - 250 * DAY
        )
        found = found.filter(Q(supervision_level__gt=0) | Q(reopen_count__gt=0))
        related = ("compound", "building", "category__parent", "lead_unit")
        return list(found.select_related(*related).order_by("created_at", "id"))

    def ticket_item(self, ticket: Ticket, added: dt.datetime | None) -> ItemPlan:
        """A request on the agenda: the units of its latest round discuss it; the
        resolution gives them work and, for a referral, sends the request to them again."""
        tasks = list(
            Task.objects.filter(ticket=ticket).select_related("unit").order_by("-round", "role", "id")
        )
        top = tasks[0].round if tasks else 0
        units = [t.unit for t in tasks if t.round == top and t.role == Task.Role.LEAD]
        units += [t.unit for t in tasks if t.round == top and t.role == Task.Role.CO]
        code = ticket.category.code
        parent = ticket.category.parent.code if ticket.category.parent else ""
        talk, resolution, works = (
            X.TICKET_TALK.get(code) or X.TICKET_TALK.get(parent) or X.TICKET_TALK_DEFAULT
        )
        lead = units[0] if units else (ticket.lead_unit or self.units[X.CO_UNIT_DEFAULT])
        co = units[1] if len(units) > 1 else self.units[X.CO_UNIT.get(code, X.CO_UNIT_DEFAULT)]
        if co.pk == lead.pk:
            co = self.units["县住建局" if lead.name != "县住建局" else X.CO_UNIT_DEFAULT]
        where = ticket.compound.name if ticket.compound else ""
        if ticket.building is not None:
            where += f"{ticket.building.number}幢"
        text = ticket.description.strip().rstrip("。")
        minutes, why = X.TICKET_MINUTES, ""
        if not ticket.referred:
            minutes = X.TICKET_MINUTES_ESCALATED
            why = X.ESCALATED_WHY["supervised" if ticket.supervision_level else "reopened"]
        return ItemPlan(
            title=f"{where}：{text}"[:60],
            description=f"诉求#{ticket.pk}（{ticket.category.name}）：{text}。{ticket.referred_reason}".strip(),
            source=Src.TICKET,
            ticket=ticket,
            presenter_org=lead,
            minutes=minutes.format(compound=where, text=text, lead=lead.name, talk=talk, why=why),
            resolution=resolution,
            works=works,
            redispatch=ticket.referred,
            who={"lead": lead, "co": co},
            added_at=added,
        )

    def topic_item(self, topic: Topic, **values: Any) -> ItemPlan:
        return ItemPlan(
            title=topic.title,
            description=topic.description,
            presenter_org=self.units.get(topic.presenter),
            minutes=topic.minutes.format(**values) if values else topic.minutes,
            resolution=topic.resolution,
            works=topic.works,
        )

    def units_of(self, items: list[ItemPlan]) -> list[Organisation]:
        """The member units an agenda concerns: presenters, request units, those given work."""
        out: dict[int, Organisation] = {}
        for item in items:
            for org in [item.presenter_org, *item.who.values()]:
                if org is not None and org.kind == Organisation.Kind.MEMBER_UNIT:
                    out[org.pk] = org
            for work in item.works:
                if work.who in self.units:
                    out[self.units[work.who].pk] = self.units[work.who]
        return list(out.values())

    def compound_bodies(self, compounds: list[Compound]) -> list[Organisation]:
        out: list[Organisation] = []
        for c in compounds:
            out += [o for o in self.branches.get(c.pk, []) if o not in out]
            if c.pk in self.committees and self.committees[c.pk] not in out:
                out.append(self.committees[c.pk])
        return out

    def pick_topics(self, topics: Sequence[Topic], month: int, n: int, recent: list[str]) -> list[Topic]:
        """``n`` topics of the month, not one of the ``recent`` ones where possible."""
        fits = [t for t in topics if month in t.months or not t.months]
        fresh = [t for t in fits if t.title not in recent]
        chosen = self.rng.sample(fresh, min(n, len(fresh)))
        stale = sorted((t for t in fits if t.title in recent), key=lambda t: -recent.index(t.title))
        return chosen + stale[: n - len(chosen)]

    # ---- joint meetings --------------------------------------------------------------------
    def community_plans(self) -> list[MeetingPlan]:
        """The monthly joint meeting (last Thursday): the last six held, the next announced."""
        rng = self.rng
        starts = [self.at(last_weekday(*month_back(self.today(), k), 3), 14, 30) for k in range(8, -2, -1)]
        held = [s for s in starts if self.held(s)][-MONTHS_HELD:]
        upcoming = next(s for s in starts if not self.held(s))
        referred = self.referrals([self.community])
        escalated = self.escalated()
        taken: set[int] = set()
        recent: list[str] = []
        plans: list[MeetingPlan] = []
        for index, start in enumerate([*held, upcoming]):
            past = start in held
            created, announced = self.timing(start, 10, max(7, A.notice_days(K.JOINT)))
            items: list[ItemPlan] = []
            for referred_at, ticket in referred:
                added = max(created, referred_at + 4 * HOUR)
                fits = referred_at + DAY <= start and start - referred_at <= dt.timedelta(days=45)
                if ticket.pk in taken or not fits or added >= start - 2 * HOUR or len(items) >= 3:
                    continue
                taken.add(ticket.pk)
                items.append(self.ticket_item(ticket, None if added == created else added))
            for ticket in escalated:  # fewer than two referrals: a supervised or reopened one
                age = created - ticket.created_at
                if len(items) < 2 and ticket.pk not in taken and 3 * DAY <= age <= 40 * DAY:
                    taken.add(ticket.pk)
                    items.append(self.ticket_item(ticket, None))
            topics = self.pick_topics(X.COMMUNITY_TOPICS, start.month, 1 if len(items) >= 2 else 2, recent)
            recent = [t.title for t in topics] + recent
            items = [self.topic_item(t) for t in topics] + items
            compounds = [i.ticket.compound for i in items if i.ticket and i.ticket.compound]
            orgs = self.units_of(items)
            if self.units["高亭镇人民政府"] not in orgs:
                orgs.append(self.units["高亭镇人民政府"])
            orgs += self.compound_bodies(compounds)
            signed = self.at(timezone.localdate(start) + dt.timedelta(days=rng.randint(1, 4)), 16)
            plan = MeetingPlan(
                kind=K.JOINT,
                title=f"{COMMUNITY}红色物业党建联席会议（{start.year}年{start.month}月）",
                convener=self.party_org,
                actor=self.users["community"],
                starts_at=start,
                place=X.PLACE_COMMUNITY,
                created_at=created,
                announced_at=announced,
                area=self.community,
                orgs=orgs,
                people=[m.person for m in self.members.get(self.party_org.pk, [])[:1]]
                + ([self.grid_person] if self.grid_person is not None else []),
                items=items,
                held=past,
                signed_at=signed if past and signed <= self.now else None,
                force_late=past and index in (len(held) - 4, len(held) - 3),
            )
            if past and index == len(held) - 4 and plan.signed_at is not None:
                plan.addendum_at = plan.signed_at + 6 * DAY
            plans.append(plan)
        self.add("joint_meetings_community", len(plans))
        return plans

    def town_plans(self) -> list[MeetingPlan]:
        """The town's quarterly joint meeting (third Tuesday of the quarter's last month),
        convened by the town government."""
        government = self.units.get("高亭镇人民政府")
        if government is None:
            return []
        months = [month_back(self.today(), k) for k in range(8, -4, -1)]
        starts = [self.at(nth_weekday(y, m, 1, 3), 9, 30) for y, m in months if m % 3 == 0]
        held = [s for s in starts if self.held(s) and self.now - s < dt.timedelta(days=200)]
        upcoming = next(s for s in starts if not self.held(s))
        referred = self.referrals(list(Area.objects.filter(parent=self.town).exclude(pk=self.community.pk)))
        rounds = list(Consultation.objects.filter(area_path__startswith=self.town.path).order_by("opens_on"))
        plans: list[MeetingPlan] = []
        since = (held[0] if held else upcoming) - dt.timedelta(days=100)
        for index, start in enumerate([*held, upcoming]):
            past = start in held
            created, announced = self.timing(start, 14, max(10, A.notice_days(K.JOINT)))
            items: list[ItemPlan] = []
            opened = [c for c in rounds if c.opened_at and c.opened_at < created]
            if opened:
                items.append(self.renovation_item(opened[-1], created))
            fits = [t for t in X.TOWN_TOPICS if start.month in t.months or not t.months]
            items.append(self.topic_item(fits[index % len(fits)]))
            mine = [t for r, t in referred if since < r <= start - DAY]
            items += [self.ticket_item(t, None) for t in mine[-3:]]
            since = start
            compounds = [i.ticket.compound for i in items if i.ticket and i.ticket.compound]
            orgs = self.units_of(items) + sorted(self.party_orgs.values(), key=lambda o: o.code)
            orgs += self.compound_bodies(compounds)
            signed = self.at(timezone.localdate(start) + dt.timedelta(days=self.rng.randint(2, 5)), 10)
            quarter = (start.month - 1) // 3 + 1
            soon = past or start - self.now < dt.timedelta(days=30)
            plans.append(
                MeetingPlan(
                    kind=K.JOINT,
                    title=f"{self.town.name}红色物业党建联席会议（{start.year}年第{quarter}季度）",
                    convener=government,
                    actor=self.users["town"],
                    starts_at=start,
                    place=X.PLACE_TOWN,
                    created_at=created,
                    announced_at=announced if soon else None,  # a later one is being prepared
                    area=self.town,
                    orgs=orgs,
                    items=items,
                    held=past,
                    signed_at=signed if past and signed <= self.now else None,
                )
            )
        self.add("joint_meetings_town", len(plans))
        return plans

    def renovation_item(self, consultation: Consultation, at: dt.datetime) -> ItemPlan:
        households = Household.objects.filter(consultation=consultation)
        opinions = Opinion.objects.filter(consultation=consultation, created_at__lte=at)
        item = self.topic_item(
            X.RENOVATION_TOWN,
            consultation=consultation.title,
            households=consultation.households_count or households.count(),
            responded=households.filter(responded_at__lte=at).count(),
            opinions=opinions.count(),
            answered=opinions.filter(answered_at__lte=at).count(),
        )
        item.source, item.consultation = Src.CONSULTATION, consultation
        return item

    # ---- discussion halls and the committee ------------------------------------------------
    def hall(
        self,
        compound: Compound,
        title: str,
        starts: dt.datetime,
        items: list[ItemPlan],
        *,
        units: Sequence[str] = (),
        hot: bool = False,
    ) -> MeetingPlan:
        """A hall convened by the compound's (first) joint branch, residents invited."""
        actor = self.users["branch"] if compound.name == YUCAI else self.users["community"]
        created, announced = self.timing(starts, 3, max(2, A.notice_days(K.HALL)))
        orgs = self.compound_bodies([compound])
        orgs += [self.units[u] for u in units if self.units[u] not in orgs]
        orgs += [o for o in self.units_of(items) if o not in orgs]
        past = self.held(starts)
        signed = self.at(timezone.localdate(starts) + dt.timedelta(days=self.rng.randint(1, 3)), 20)
        return MeetingPlan(
            kind=K.HALL,
            title=title,
            convener=self.branches[compound.pk][0],
            actor=actor,
            starts_at=starts,
            place=X.PLACE_HALL.format(compound=compound.name),
            created_at=created,
            announced_at=announced,
            compound=compound,
            orgs=orgs,
            people=[self.grid_person] if self.grid_person is not None and compound.name == YUCAI else [],
            items=items,
            residents=self.residents_of(compound) if past else [],
            held=past,
            signed_at=signed if past and signed <= self.now else None,
            hot=hot,
        )

    def residents_of(self, compound: Compound) -> list[tuple[str, str]]:
        rows = list(
            Resident.objects.filter(unit__compound=compound, moved_out__isnull=True, is_household_head=True)
            .values_list("name", "unit__building__number")
            .order_by("id")[:200]
        )
        chosen = self.rng.sample(rows, min(len(rows), self.rng.randint(4, 8)))
        return [(name, f"{number}幢居民") for name, number in chosen]

    def hall_plans(self) -> list[MeetingPlan]:
        yucai = self.compounds[YUCAI]
        corridor = X.HALL_TOPICS["corridor"]
        plans = [
            self.hall(
                yucai,
                f"{YUCAI}红色议事厅：楼道堆物清理",
                self.at(self.today() - dt.timedelta(days=95), 19),
                [self.topic_item(corridor, compound=YUCAI)],
                units=["县消防救援大队"],
                hot=True,
            )
        ]
        # The first pilot compound whose hot-issue warning fired in recent months holds a
        # hall on its roofs, convened the evening the warning fired.
        pick = None
        for days in range(160, 45, -4):
            moment = self.at(self.today() - dt.timedelta(days=days), 19)
            found = W.warnings_for(self.users["community"], now=moment)
            hits = [w for w in found if w.compound_name in PILOTS[1:]]
            if hits:
                pick = (self.compounds[hits[0].compound_name], moment)
                break
        fallback = (self.compounds[PILOTS[1]], self.at(self.today() - dt.timedelta(days=120), 19))
        compound, moment = pick or fallback
        roof = self.topic_item(X.HALL_TOPICS["roof"], compound=compound.name)
        title = f"{compound.name}红色议事厅：顶楼漏水问题"
        plans.append(self.hall(compound, title, moment + 3 * DAY, [roof], hot=pick is not None))
        # A hall recorded on a request's timeline ("红色议事厅议事：…") is held that evening.
        notes = TicketEvent.objects.filter(
            action="note", note__startswith="红色议事厅", ticket__compound__name__in=PILOTS
        ).select_related("ticket__compound", "ticket__category")
        for note in notes.order_by("at"):
            ticket = note.ticket
            key = X.HALL_TICKET.get(ticket.category.code)
            if key is None or not (self.now - 200 * DAY < note.at < self.now - DAY):
                continue
            item = self.topic_item(X.HALL_TOPICS[key], compound=ticket.compound.name)
            item.source, item.ticket = Src.TICKET, ticket
            title = f"{ticket.compound.name}红色议事厅：{X.HALL_TOPICS[key].title}"
            plans.append(self.hall(ticket.compound, title, note.at, [item]))
        charging = X.HALL_TOPICS["charging"]
        plans.append(
            self.hall(
                yucai,
                f"{YUCAI}红色议事厅：{charging.title}",
                self.at(self.today() + dt.timedelta(days=5), 19),
                [ItemPlan(charging.title, charging.description)],
                units=["国网岱山县供电公司", "县消防救援大队"],
            )
        )
        self.add("discussion_halls", len(plans))
        return plans

    def round_plans(self) -> list[MeetingPlan]:
        """Each round of the renovation consultation discussed in a hall of a renovation
        compound: a week after it closed, or while it is open."""
        first = (
            Consultation.objects.filter(area_path__startswith=self.town.path, series__isnull=True)
            .order_by("id")
            .first()
        )
        if first is None:
            return []
        rounds = [first, *Consultation.objects.filter(series=first).order_by("round_number")][:3]
        places = [self.compounds[n] for n in (PILOTS[1], PILOTS[2], PILOTS[0])]
        plans: list[MeetingPlan] = []
        for number, consultation in enumerate(rounds):
            compound = places[number]
            if consultation.opens_on is None or consultation.closes_on is None:
                continue
            if consultation.state == "open":
                day = consultation.opens_on + dt.timedelta(days=9)
            else:
                day = consultation.closes_on + dt.timedelta(days=6)
            starts = self.at(day, 19)
            if not self.held(starts):
                continue
            items = [self.round_item(number, consultation, compound, starts - 2 * DAY)]
            items += self.opinion_items(consultation, compound)
            title = X.ROUND_HALL_TITLE.format(compound=compound.name, short=X.ROUND_SHORT[number])
            plans.append(self.hall(compound, title, starts, items, units=["县住建局", "岱山县安澜城投集团"]))
        self.add("renovation_halls", len(plans))
        return plans

    def round_item(
        self, number: int, consultation: Consultation, compound: Compound, at: dt.datetime
    ) -> ItemPlan:
        households = Household.objects.filter(consultation=consultation, compound=compound)
        answered = households.filter(responded_at__lte=at)
        counts: dict[str, int] = {}
        opinions = Opinion.objects.filter(consultation=consultation, compound=compound, created_at__lte=at)
        rows = list(opinions.values_list("category__code", "category__name"))
        for code, name in rows:
            if code != "other":
                counts[name] = counts.get(name, 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        minutes = X.ROUND_MINUTES.format(
            consultation=consultation.title,
            households=households.count(),
            responded=answered.count(),
            willing=answered.filter(willingness="willing").count(),
            opinions=len(rows),
            top="、".join(n for n, _c in top) or "施工安排",
            voice=X.ROUND_VOICES[number],
            closing=X.ROUND_CLOSING[number],
        )
        return ItemPlan(
            title=f"{consultation.title}情况通报",
            description=f"{consultation.title}（第{consultation.round_number}轮）：{compound.name}居民意见交流。",
            source=Src.CONSULTATION,
            consultation=consultation,
            presenter_org=self.units.get("县住建局"),
            minutes=minutes,
            resolution=X.ROUND_RESOLUTIONS[number],
            works=X.ROUND_WORKS[number],
        )

    def opinion_items(self, consultation: Consultation, compound: Compound) -> list[ItemPlan]:
        """An opinion of the compound not adopted, taken up again in the hall."""
        opinion = (
            Opinion.objects.filter(consultation=consultation, compound=compound, outcome="rejected")
            .select_related("assignee")
            .order_by("id")
            .first()
        )
        if opinion is None or opinion.assignee is None:
            return []
        assignee = opinion.assignee
        return [
            ItemPlan(
                title=f"居民意见：{opinion.text}"[:60],
                description=opinion.text,
                source=Src.OPINION,
                opinion=opinion,
                presenter_org=assignee if assignee.kind == Organisation.Kind.MEMBER_UNIT else None,
                minutes=X.ROUND_OPINION_MINUTES.format(
                    text=opinion.text,
                    outcome=X.OUTCOME_WORDS.get(opinion.outcome, "已答复"),
                    assignee=assignee.name,
                ),
                resolution=X.ROUND_OPINION_RESOLUTION.format(assignee=assignee.name),
            )
        ]

    def committee_plan(self) -> MeetingPlan:
        """育才新村's owners' committee: notice 7 days ahead, decided by hands with a quorum,
        minutes signed off the next day (decisions published within 3 days)."""
        committee = self.committees[self.compounds[YUCAI].pk]
        starts = self.at(self.today() - dt.timedelta(days=26), 19)
        created, announced = self.timing(starts, 12, max(9, A.notice_days(K.COMMITTEE)))
        items = [
            ItemPlan(title, description, minutes=minutes, resolution=resolution, works=works, abstain=abstain)
            for title, description, minutes, resolution, works, abstain in X.COMMITTEE_ITEMS
        ]
        self.add("committee_meetings")
        return MeetingPlan(
            kind=K.COMMITTEE,
            title=f"{committee.name}{starts.month}月例会",
            convener=committee,
            actor=self.users["committee"],
            starts_at=starts,
            place=X.PLACE_HALL.format(compound=YUCAI),
            created_at=created,
            announced_at=announced,
            body=committee,
            items=items,
            held=True,
            signed_at=self.at(timezone.localdate(starts) + DAY, 10),
        )

    def plans(self) -> list[MeetingPlan]:
        return [
            *self.community_plans(),
            *self.town_plans(),
            *self.hall_plans(),
            self.committee_plan(),
            *self.round_plans(),
        ]
