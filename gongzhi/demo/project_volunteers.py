"""The demo's volunteers (``gongzhi.demo.projects``): serving party members register with
南峰社区 (双报到) and take posts from the needs list; clean-ups over the past months are
signed up for, attended (by QR code with an account, else at the desk) and verified into
hours (at most two counted) and points; bonuses and redemptions with their evidence; and
next Saturday's clean-up open, the ``volunteer`` and ``resident`` logins signed up.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from gongzhi.demo import project_texts as X
from gongzhi.demo.meeting_plans import DAY, HOUR, MINUTE, last_weekday, month_back
from gongzhi.demo.project_steps import NANFENG, YUCAI, YUGANG, DemoSteps
from gongzhi.demo.project_texts import ActivityText
from gongzhi.housing.models import Compound
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Person
from gongzhi.volunteers import actions as V
from gongzhi.volunteers.models import Activity, PointsAccount


class VolunteerPlans(DemoSteps):
    """Activities, points, registrations and posts, queued on the shared timeline."""

    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        super().__init__(log)
        self.seen: dict[tuple[int, int], bool] = {}  # (person, activity) → sees it
        self.taken: set[dt.date] = set()  # the Saturdays with an activity already

    def free(self, day: dt.date) -> dt.date:
        """``day``, or the Saturday a week earlier while another activity has it: nobody
        is at two clean-ups at once."""
        while day in self.taken:
            day -= 7 * DAY
        self.taken.add(day)
        return day

    # ---- one activity --------------------------------------------------------------------------
    def activity(
        self,
        key: str,
        text: ActivityText,
        *,
        creator: Any,
        organiser: Organisation,
        created: dt.datetime,
        starts: dt.datetime,
        hours: float,
        people: Sequence[Person],
        desk: Any,
        compound: Compound | None = None,
        project_key: str = "",
        no_shows: Sequence[Person] = (),
        withdrawn: Sequence[Person] = (),
        values: dict[str, Any] | None = None,
    ) -> None:
        """Queue an activity: made, signed up for (yourself if you have an account, or by
        the organiser; ``withdrawn`` cancel a day later, ``no_shows`` just do not come),
        checked in and out (by QR code if you can, else at the desk), verified that
        afternoon — as far as it has happened by now."""
        rng = self.rng
        ends = starts + dt.timedelta(hours=hours)
        values = values or {}

        def create(t: dt.datetime) -> None:
            self.s[key] = V.create_activity(
                creator,
                title=text.title.format(**values),
                kind=Activity.Kind.CLEANUP,
                community=self.community,
                organiser=organiser,
                place=text.place.format(**values),
                description=text.description,
                starts_at=starts,
                ends_at=ends,
                capacity=30,
                compound=compound,
                project=self.s[project_key] if project_key else None,
                now=t,
            )
            self.add("volunteer_activities")

        self.later(created, create)
        # Sign-ups from an hour after it is made until an hour before it starts (or today).
        until = min(starts, self.at(self.today(), 0))
        span = max(0.5, (until - created).total_seconds() / 3600 - 2)
        for person in [*people, *no_shows, *withdrawn]:
            when = (created + dt.timedelta(hours=1 + span * rng.random())).replace(second=0, microsecond=0)
            self.later(when, functools.partial(self.sign_up, key, person, creator))
            if person in withdrawn:
                self.later(min(when + DAY, until), functools.partial(self.withdraw, key, person, creator))
        for person in people:
            came = starts - rng.randint(0, 15) * MINUTE
            left = (
                ends + rng.randint(0, 10) * MINUTE
                if rng.random() < 0.8
                else ends - rng.randint(25, 70) * MINUTE
            )
            self.later(came, functools.partial(self.attend, key, person, desk, True))
            self.later(left, functools.partial(self.attend, key, person, desk, False))
        self.later(ends + 4 * HOUR, functools.partial(self.verify, key, creator))

    def sees(self, person: Person, activity: Activity) -> bool:
        """Whether the person has an account that sees the activity (and so signs up and
        scans the QR code themselves)."""
        if person.user is None:
            return False
        key = (person.pk, activity.pk)
        if key not in self.seen:
            self.seen[key] = policy.can(person.user, policy.VIEW, activity)
        return self.seen[key]

    def sign_up(self, key: str, person: Person, staff: Any, t: dt.datetime) -> None:
        activity = self.s[key]
        if self.sees(person, activity):
            V.sign_up(person.user, activity, now=t)
        else:
            V.sign_up(staff, activity, person=person, now=t)
        self.add("volunteer_signups")

    def withdraw(self, key: str, person: Person, staff: Any, t: dt.datetime) -> None:
        signup = self.s[key].signups.get(person=person, cancelled_at__isnull=True)
        V.cancel_sign_up(person.user if self.sees(person, self.s[key]) else staff, signup, now=t)
        self.add("volunteer_signups_cancelled")

    def attend(self, key: str, person: Person, desk: Any, arriving: bool, t: dt.datetime) -> None:
        activity = self.s[key]
        step = V.check_in if arriving else V.check_out
        if self.sees(person, activity):
            step(person.user, activity, code=activity.checkin_code, now=t)
        else:
            step(desk, activity, person=person, at=t, now=t)
        if arriving:
            self.add("volunteer_attendances")

    def verify(self, key: str, actor: Any, t: dt.datetime) -> None:
        self.add("volunteer_hours", len(V.verify_activity(actor, self.s[key], now=t)))

    # ---- all of the volunteers -----------------------------------------------------------------
    def volunteers(self) -> None:
        volunteer = self.person("volunteer")
        yucai_people = self.people_of(*self.bodies(YUCAI))
        everyone = self.people_of(*(o for name in sorted(self.compounds) for o in self.bodies(name)))
        serving = self.serving_members()
        self.register(serving)
        # The Saturdays: the corridors' follows the hall, the project's shifts its work.
        self.corridor([*yucai_people, volunteer, *serving][:18])
        self.shifts([p for p in yucai_people if p.is_party_member])
        self.cleanups(yucai_people, everyone, serving)
        self.points([*everyone, volunteer, *serving])
        self.posts(yucai_people, everyone, serving)

    def corridor(self, crew: list[Person]) -> None:
        """育才新村's corridors, cleared the Saturday after the hall agreed on it; the last
        one signed up does not come."""
        yucai = self.compounds[YUCAI]
        hall = self.s.get("hall.corridor")
        met = hall.starts_at if hall is not None else self.ago(95, 19)
        held = timezone.localdate(met)
        saturday = self.free(held + dt.timedelta(days=(5 - held.weekday()) % 7 or 7))
        self.activity(
            "corridor",
            X.CORRIDOR_CLEANUP,
            creator=self.users["branch"],
            organiser=self.branches[yucai.pk][0],
            created=met + 2 * HOUR,
            starts=self.at(saturday, 8, 30),
            hours=3,
            people=crew[:-1],
            no_shows=crew[-1:],
            desk=self.users["grid"],
            compound=yucai,
        )

    def cleanups(self, yucai_people: list[Person], everyone: list[Person], serving: list[Person]) -> None:
        """The community's monthly clean-ups, 渔港新村's corridors, and next Saturday's."""
        rng, users = self.rng, self.users
        community, grid, branch_user = users["community"], users["grid"], users["branch"]
        yucai, yugang = self.compounds[YUCAI], self.compounds[YUGANG]
        team = Organisation.objects.get(kind=Organisation.Kind.VOLUNTEER_TEAM, area=self.town)
        volunteer, resident = self.person("volunteer"), self.person("resident")
        # The community's monthly clean-up, the last Saturday of each of the past months.
        for k, places in zip((3, 2, 1), X.MONTHLY_PLACES, strict=True):
            year, month = month_back(self.today(), k)
            day = self.free(last_weekday(year, month, 5))
            crew = rng.sample(everyone, 8) + [volunteer] + rng.sample(serving, 2)
            if k == 1:
                crew.append(resident)
            self.activity(
                f"monthly{k}",
                X.MONTHLY_CLEANUP,
                creator=community,
                organiser=team,
                created=self.at(day - dt.timedelta(days=8), 10),
                starts=self.at(day, 8),
                hours=2.5 if k == 2 else 2,
                people=crew,
                no_shows=rng.sample([p for p in everyone if p not in crew], 1),
                desk=community,
                values={"month": month, "places": places},
            )
        crew = rng.sample(self.people_of(*self.bodies(YUGANG)), 9)
        saturday = self.free(self.saturday(44))
        self.activity(
            "yugang",
            X.YUGANG_CLEANUP,
            creator=community,
            organiser=self.branches[yugang.pk][0],
            created=self.at(saturday - dt.timedelta(days=6), 9),
            starts=self.at(saturday, 14),
            hours=2.5,
            people=crew,
            desk=grid,
            compound=yugang,
        )
        # Next Saturday's clean-up, open: the volunteer and resident logins have signed up.
        party = rng.sample([p for p in yucai_people if p.is_party_member], 5)
        upcoming = self.today() + dt.timedelta(days=(5 - self.today().weekday()) % 7 or 7)
        if (upcoming - self.today()).days < 2:
            upcoming += 7 * DAY
        self.activity(
            "winter",
            X.WINTER_CLEANUP,
            creator=branch_user,
            organiser=self.branches[yucai.pk][0],
            created=self.ago(4, 9),
            starts=self.at(upcoming, 8, 30),
            hours=2.5,
            people=[volunteer, resident, *party[:4]],
            withdrawn=party[4:5],  # called out to sea
            desk=grid,
            compound=yucai,
        )

    def shifts(self, party: list[Person]) -> None:
        """The lighting project's labour shifts (筹劳): party members, and the volunteer."""
        rng, community = self.rng, self.users["community"]
        crews = (rng.sample(party, 6) + [self.person("volunteer")], rng.sample(party, 5))
        self.s["shift.people"] = [p for crew in crews for p in crew]
        branch = self.branches[self.compounds[YUCAI].pk][0]
        timing = ((125, 8, 3), (88, 14, 2))  # days ago, starting hour, hours
        for i, (text, crew, (days, hour, hours)) in enumerate(
            zip(X.LIGHTING_SHIFTS, crews, timing, strict=True)
        ):
            saturday = self.free(self.saturday(days))
            self.activity(
                f"shift{i}",
                text,
                creator=community,
                organiser=branch,
                created=self.at(saturday - dt.timedelta(days=4), 16),
                starts=self.at(saturday, hour),
                hours=hours,
                people=crew,
                desk=self.users["grid"],
                project_key="p1",
            )

    def serving_members(self) -> list[Person]:
        """Party members working in member units who live in 南峰社区 (the liaison logins'
        persons first)."""
        units = [self.units[n] for n in ("国网岱山县供电公司", "高亭镇人民政府", "县住建局", "县自来水公司")]
        out: list[Person] = []
        for unit in units:
            rows = [m.person for m in self.members.get(unit.pk, []) if m.person.is_party_member]
            rows.sort(key=lambda p: p.user_id is None)
            out += rows[:1]
        return out

    def register(self, serving: Sequence[Person]) -> None:
        """双报到: each registers with 南峰社区 — themselves if they have an account."""
        for i, person in enumerate(serving):
            when = self.ago(230 - 9 * i, 10 + i)

            def go(person: Person, t: dt.datetime) -> None:
                actor = person.user or self.users["community"]
                V.register_party_member(actor, person, self.community, on=timezone.localdate(t), now=t)
                self.add("party_registrations")

            self.later(when, functools.partial(go, person))

    def points(self, people: Sequence[Person]) -> None:
        """Bonuses with evidence, then redemptions by those with enough points."""
        rng = self.rng
        grid_name = self.person("grid").name
        for (reason, evidence, points), days, n in zip(X.BONUSES, (70, 25), (3, 2), strict=True):
            for j, person in enumerate(rng.sample(list(people), n)):
                self.later(
                    self.ago(days, 15, 10 * j),
                    functools.partial(
                        self.adjust, person, "bonus", points, reason, evidence.format(grid=grid_name)
                    ),
                )
        number = iter(range(12, 100, 7))
        for days, (reason, evidence, points) in zip((18, 6), X.REDEMPTIONS, strict=True):

            def redeem(reason: str, evidence: str, points: str, t: dt.datetime) -> None:
                rich = list(
                    PointsAccount.objects.filter(points__gte=Decimal(points))
                    .select_related("person")
                    .order_by("person_id")
                )
                for j, account in enumerate(rng.sample(rich, min(3, len(rich)))):
                    self.adjust(
                        account.person,
                        "redeem",
                        points,
                        reason,
                        evidence.format(n=next(number)),
                        t + j * MINUTE,
                    )

            self.later(self.ago(days, 10), functools.partial(redeem, reason, evidence, points))

    def adjust(
        self, person: Person, kind: str, points: str, reason: str, evidence: str, t: dt.datetime
    ) -> None:
        V.adjust_points(
            self.users["community"], person, kind=kind, points=points, reason=reason, evidence=evidence, now=t
        )
        self.add(f"points_{kind}")

    def posts(self, yucai_people: list[Person], everyone: list[Person], serving: list[Person]) -> None:
        """The needs list: each post listed, taken by registered party members."""
        community, branch_user, rng = self.users["community"], self.users["branch"], self.rng
        places = {"yucai": YUCAI, "nanfeng": NANFENG, "yugang": YUGANG}
        party = [p for p in everyone if p.is_party_member]
        secretary = self.person("branch")
        holders: dict[str, Sequence[Person | None]] = {
            "楼道长": [None, *[p for p in yucai_people if p.is_party_member and p.pk != secretary.pk][:3]],
            "政策宣传员": list(serving[:2]),
            "矛盾调解员": rng.sample([p for p in party if p.pk != secretary.pk], 2),
            "环境监督员": [p for p in self.people_of(*self.bodies(NANFENG)) if p.is_party_member][1:2],
            "平安巡防员（夜间）": [p for p in self.people_of(*self.bodies(YUGANG)) if p.is_party_member][:3],
        }
        for i, (title, description, slots, where) in enumerate(X.POSTS):
            compound = self.compounds[places[where]] if where else None
            branch = self.branches[compound.pk][0] if compound is not None else None

            def create(
                title: str,
                description: str,
                slots: int,
                compound: Compound | None,
                branch: Any,
                t: dt.datetime,
            ) -> None:
                self.s[f"post.{title}"] = V.create_post(
                    community,
                    community=self.community,
                    title=title,
                    description=description,
                    slots=slots,
                    compound=compound,
                    branch=branch,
                    now=t,
                )
                self.add("posts")

            self.later(
                self.ago(160, 10, i), functools.partial(create, title, description, slots, compound, branch)
            )
            for j, person in enumerate(holders[title]):

                def take(title: str, person: Person | None, t: dt.datetime) -> None:
                    post = self.s[f"post.{title}"]
                    if person is None:
                        self.s[f"taking.{title}"] = V.take_post(branch_user, post, now=t)
                    else:
                        self.s[f"taking.{title}"] = V.take_post(community, post, person, now=t)
                    self.add("post_takings")

                self.later(self.ago(150 - 11 * j - i, 16), functools.partial(take, title, person))
        last = X.POSTS[-1][0]

        def leave(t: dt.datetime) -> None:
            V.leave_post(community, self.s[f"taking.{last}"], now=t)  # went back to sea

        self.later(self.ago(30, 11), leave)
