"""The demo's community projects (红色物业项目) and volunteers, made through the same actions
the community, the joint branches, the committees and the residents use.

* 育才新村's lighting project, done and closed: started from the residents' lighting
  requests; the owners' levy by area, most households paid (one mistyped contribution
  reversed and entered again), support from 国网岱山县供电公司 and the town's subsidy; five
  expenses each approved by the branch secretary and the committee's vice-chair and paid
  with a receipt; milestones with before/after photos; party members' labour shifts; a
  dispute over a lamp post settled after the discussion hall; residents' ratings at
  acceptance, the community's ratings of the unit and the party members; one objection
  answered.
* 南峰小区's garbage points, raising funds: some households paid, some in part, many not
  yet; a member unit's support received; one expense with one of its two approvals (its
  branch secretary and a committee member get accounts so that they can approve).
* 育才新村's parking spaces from the hall's resolution, under way: ground-floor owners
  dispute the layout (two mediation steps, open) and a resident's objection waits for an
  answer.
* Volunteers: serving party members register with 南峰社区 (双报到) and take posts of the
  needs list; clean-ups over the past months with sign-ups, check-in by QR code or at the
  desk, verified into hours (at most two counted) and points; bonuses and redemptions;
  the next clean-up open for sign-up.

As in ``gongzhi.demo.meetings`` every step is queued at its own moment (``now=``) and played
in time order, so ledgers, points balances and timelines read as they happened. Dates are
relative to the seeding day; requests and meetings are looked up, not assumed. The queue and
the shared steps are in ``project_steps``, the volunteers in ``project_volunteers``, the
words in ``project_texts``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.db.models import F, Max
from django.utils import timezone

from gongzhi.demo import project_texts as X
from gongzhi.demo.meeting_plans import DAY, HOUR, MINUTE
from gongzhi.demo.project_steps import NANFENG, YUCAI
from gongzhi.demo.project_volunteers import VolunteerPlans
from gongzhi.housing.models import Resident, Unit
from gongzhi.meetings.models import Meeting, Resolution
from gongzhi.projects import actions as PA
from gongzhi.projects.models import Project, ServiceType
from gongzhi.tickets.models import Notification
from gongzhi.volunteers.models import PointsEntry, Post

P = Project.State


class ProjectSeeder(VolunteerPlans):
    """The three projects, then the volunteers, played on one timeline."""

    # ---- 育才新村: lighting, closed ----------------------------------------------------------------
    def lighting(self) -> None:
        """育才新村's lighting from its lighting requests: raised, spent, done, checked and
        closed some six weeks ago."""
        yucai = self.compounds[YUCAI]
        branch, committee = self.branches[yucai.pk][0], self.committees[yucai.pk]
        power = self.units["国网岱山县供电公司"]
        users = self.users
        community, grid, branch_user, committee_user = (
            users["community"],
            users["grid"],
            users["branch"],
            users["committee"],
        )
        secretary, vice, liaison = self.person("branch"), self.person("committee"), self.person("liaison")
        member = next(p for p in self.people_of(branch) if p.is_party_member and p.pk != secretary.pk)
        self.s["lighting.people"] = (secretary, member, liaison)
        start = self.ago(190, 10)
        needs = self.tickets(yucai, ("lighting",), start, 3) or self.tickets(
            yucai, ("stairwell", "power"), start, 2
        )
        self.later(
            start,
            functools.partial(
                self.create,
                "p1",
                party_org=self.party_org,
                title=X.LIGHTING_TITLE,
                kind=Project.Kind.LIGHTING,
                summary=X.LIGHTING_SUMMARY,
                compounds=[yucai],
                branch=branch,
                committee=committee,
                member_units=[power],
                service_types=list(ServiceType.objects.exclude(code__in=["safety", "aftercare"])),
                budget=X.LIGHTING_BUDGET,
                levies_owners=True,
                tickets=needs,
                leads=list(zip((secretary, member, vice, liaison), X.LIGHTING_LEADS, strict=True)),
            ),
        )
        self.later(self.ago(187, 15), functools.partial(self.milestones, "p1", X.LIGHTING_MILESTONES))
        self.later(self.ago(183, 9, 30), functools.partial(self.move, "p1", P.RAISING))
        self.later(
            self.ago(182, 10),
            functools.partial(
                self.levy,
                "p1",
                X.LIGHTING_LEVY,
                X.LIGHTING_LEVY_NOTE,
                days=(181, 141),
                full=0.86,
                partial=0.0,
                desk=grid,
                mistype=True,
            ),
        )
        amount, purpose = X.LIGHTING_UNIT_SUPPORT
        self.later(
            self.ago(170, 15),
            functools.partial(self.income, "p1", "member_unit", amount, purpose, organisation=power),
        )
        amount, purpose = X.LIGHTING_SUBSIDY
        self.later(self.ago(150, 10), functools.partial(self.income, "p1", "subsidy", amount, purpose))
        self.later(self.ago(138, 9), functools.partial(self.move, "p1", P.UNDERWAY))
        # Expenses: (submitted, first approval, second, paid) in days ago.
        plan = (
            (136, 135, 135, 133),
            (134, 133, 132, 131),
            (95, 94, 94, 92),
            (106, 105, 104, 103),
            (72, 71, 71, 68),
        )
        for i, (text, (sub, a1, a2, paid)) in enumerate(zip(X.LIGHTING_EXPENSES, plan, strict=True)):
            first, second = (branch_user, committee_user) if i % 2 == 0 else (committee_user, branch_user)
            self.expense(
                "p1",
                text,
                community if i % 2 == 0 else grid,
                self.ago(sub, 10, 20),
                [(first, self.ago(a1, 20, 5)), (second, self.ago(a2, 21, 10))],
                self.ago(paid, 15, 30),
            )
        # Milestones: (index, percent, days ago, [(stage, photo taken days ago)]).
        reports = (
            (0, 0, 185, [("before", 189), ("after", 185)]),
            (1, 0, 128, [("before", 132)]),
            (1, 1, 115, [("after", 115)]),
            (2, 0, 108, [("before", 111)]),
            (2, 1, 96, [("after", 96)]),
            (3, 0, 80, [("before", 104), ("after", 80)]),
        )
        for index, step, days, shots in reports:
            percent, note = X.LIGHTING_PROGRESS[index][step]
            taken = [(stage, self.today() - dt.timedelta(days=d)) for stage, d in shots]
            actor = grid if index % 2 else community
            self.later(
                self.ago(days, 17, 30),
                functools.partial(self.progress, "p1", index, percent, note, actor, taken),
            )
        self.lighting_dispute()
        self.later(self.ago(64, 10), functools.partial(self.move, "p1", P.ACCEPTANCE))
        self.lighting_acceptance()
        self.later(self.ago(47, 16), functools.partial(self.move, "p1", P.CLOSED))

    def lighting_dispute(self) -> None:
        """The lamp post before 3幢101, mediated at home and, after the discussion hall,
        face to face."""
        yucai = self.compounds[YUCAI]
        hall = (
            Meeting.objects.filter(compound=yucai, kind=Meeting.Kind.HALL, title__contains="楼道堆物")
            .exclude(state=Meeting.State.DRAFT)
            .order_by("starts_at")
            .first()
        )
        if hall is not None and not (self.now - 120 * DAY < hall.starts_at < self.now - 60 * DAY):
            hall = None
        met = hall.starts_at if hall is not None else self.ago(95, 19)
        self.s["hall.corridor"] = hall
        names = {"secretary": self.person("branch").name, "grid": self.person("grid").name}
        title, parties, issue = X.LIGHTING_DISPUTE

        def open_(t: dt.datetime) -> None:
            self.s["p1.dispute"] = PA.open_dispute(
                self.users["grid"], self.s["p1"], title=title, parties=parties, issue=issue, now=t
            )
            self.add("disputes")

        def step(index: int, meeting: Meeting | None, t: dt.datetime) -> None:
            text, mediator = X.LIGHTING_STEPS[index]
            PA.add_mediation_step(
                self.users["branch"],
                self.s["p1.dispute"],
                text=text,
                mediator=mediator.format(**names),
                meeting=meeting,
                now=t,
            )
            self.add("mediation_steps")

        def close(t: dt.datetime) -> None:
            PA.close_dispute(
                self.users["community"], self.s["p1.dispute"], settled=True, outcome=X.LIGHTING_OUTCOME, now=t
            )

        self.later(met - 6 * DAY + 2 * HOUR, open_)
        self.later(met - 5 * DAY + 30 * MINUTE, functools.partial(step, 0, None))
        self.later(met + 2 * HOUR + 10 * MINUTE, functools.partial(step, 1, hall))
        self.later(met + 2 * DAY - 9 * HOUR, close)

    def lighting_acceptance(self) -> None:
        """Households rate at acceptance (the resident login himself, the others door to door
        with the grid worker or at the desk); one objection answered; the community rates."""
        yucai = self.compounds[YUCAI]
        users, rng = self.users, self.rng
        mine = set(Resident.objects.filter(user=users["resident"]).values_list("unit_id", flat=True))
        homes = list(
            Resident.objects.filter(unit__compound=yucai, is_household_head=True, moved_out__isnull=True)
            .exclude(unit_id__in=mine)
            .order_by("unit_id")
            .values_list("unit_id", flat=True)
            .distinct()
        )
        chosen = sorted(rng.sample(homes, min(len(homes), 27)))
        units = Unit.objects.in_bulk(chosen)

        def rate(actor: Any, unit: Unit | None, t: dt.datetime) -> None:
            project = self.s["p1"]
            base = rng.choices((5, 4, 3), weights=(62, 31, 7))[0]
            scores = {}
            for target, org in PA.resident_targets(project):
                key = f"unit:{org.pk}" if org is not None and target == "unit" else target
                scores[key] = max(1, min(5, base + rng.choice((0, 0, 0, -1, 1))))
            comment = rng.choice(X.RATING_COMMENTS) if rng.random() < 0.4 else ""
            PA.rate_as_household(actor, project, scores=scores, comment=comment, household=unit, now=t)
            self.add("resident_ratings")

        self.later(self.ago(63, 20, 15), functools.partial(rate, users["resident"], None))
        for unit_id in chosen:
            actor = users["grid"] if rng.random() < 0.75 else users["community"]
            when = self.ago(rng.randint(52, 63), rng.randint(9, 19), rng.randint(0, 59))
            self.later(when, functools.partial(rate, actor, units[unit_id]))
        household = (
            Unit.objects.filter(compound=yucai, building__number="5", kind=Unit.Kind.RESIDENTIAL)
            .order_by("id")
            .first()
        )

        def object_(t: dt.datetime) -> None:
            self.s["p1.objection"] = PA.raise_objection(
                users["grid"], self.s["p1"], text=X.LIGHTING_OBJECTION, household=household, now=t
            )
            self.add("objections")

        def answer(t: dt.datetime) -> None:
            PA.answer_objection(users["branch"], self.s["p1.objection"], answer=X.LIGHTING_ANSWER, now=t)

        self.later(self.ago(62, 11), object_)
        self.later(self.ago(59, 21), answer)

        def community_ratings(t: dt.datetime) -> None:
            project, power = self.s["p1"], self.units["国网岱山县供电公司"]
            score, comment = X.COMMUNITY_RATINGS["unit"]
            PA.rate_contribution(
                users["community"], project, score=score, comment=comment, organisation=power, now=t
            )
            secretary, member, liaison = self.s["lighting.people"]
            rated = [(secretary, "lead"), (member, "member"), (liaison, "member")]
            helpers = [
                p
                for p in self.s.get("shift.people", [])
                if p.is_party_member and p not in (secretary, member, liaison)
            ]
            rated += [(p, "volunteer") for p in helpers[:2]]
            for i, (person, kind) in enumerate(rated):
                score, comment = X.COMMUNITY_RATINGS[kind]
                PA.rate_contribution(
                    users["community"],
                    project,
                    score=score,
                    comment=comment,
                    person=person,
                    now=t + i * MINUTE,
                )
            self.add("community_ratings", 1 + len(rated))

        self.later(self.ago(50, 15), community_ratings)

    # ---- 南峰小区: garbage points, raising -------------------------------------------------------
    def garbage(self) -> None:
        """南峰小区's garbage points from its garbage requests: the levy set, some households
        paid in full or in part, the enforcement bureau's support in, one expense approved by
        the branch secretary and waiting for the committee member."""
        nanfeng = self.compounds[NANFENG]
        branch, committee = self.branches[nanfeng.pk][0], self.committees[nanfeng.pk]
        enforcement = self.units["县综合行政执法局"]
        start = self.ago(40, 10)
        needs = self.tickets(nanfeng, ("garbage",), start, 3) or self.tickets(
            nanfeng, ("environment",), start, 2
        )
        self.later(
            start,
            functools.partial(
                self.create,
                "p2",
                party_org=self.party_org,
                title=X.GARBAGE_TITLE,
                kind=Project.Kind.GARBAGE,
                summary=X.GARBAGE_SUMMARY,
                compounds=[nanfeng],
                branch=branch,
                committee=committee,
                member_units=[enforcement],
                service_types=list(
                    ServiceType.objects.filter(code__in=["opinions", "funds", "labour", "notice"])
                ),
                budget=X.GARBAGE_BUDGET,
                levies_owners=True,
                tickets=needs,
                leads=list(zip(self.nanfeng_approvers, X.GARBAGE_LEADS, strict=True)),
            ),
        )
        self.later(self.ago(39, 15), functools.partial(self.milestones, "p2", X.GARBAGE_MILESTONES))
        self.later(self.ago(36, 9), functools.partial(self.move, "p2", P.RAISING))
        self.later(
            self.ago(35, 10),
            functools.partial(
                self.levy,
                "p2",
                X.GARBAGE_LEVY,
                X.GARBAGE_LEVY_NOTE,
                days=(34, 2),
                full=0.38,
                partial=0.12,
                desk=self.users["community"],
            ),
        )
        amount, purpose = X.GARBAGE_UNIT_SUPPORT
        self.later(
            self.ago(21, 15),
            functools.partial(self.income, "p2", "member_unit", amount, purpose, organisation=enforcement),
        )
        first = self.nanfeng_approvers[0].user
        self.expense(
            "p2",
            X.GARBAGE_EXPENSE,
            self.users["community"],
            self.ago(6, 10),
            [(first, self.ago(5, 20, 30))],
            None,
        )

    # ---- 育才新村: parking, under way with an open dispute --------------------------------------------
    def parking(self) -> None:
        """育才新村's parking spaces north of building 2, from the hall's adopted resolution (and
        the parking requests), paid for by the town: the ground cleared, the surface half
        mended, ground-floor owners disputing the layout, a resident's objection unanswered."""
        yucai = self.compounds[YUCAI]
        branch, committee = self.branches[yucai.pk][0], self.committees[yucai.pk]
        users = self.users
        resolution = (
            Resolution.objects.filter(
                item__meeting__compound=yucai,
                item__meeting__kind=Meeting.Kind.HALL,
                item__title__contains="停车",
                adopted=True,
            )
            .select_related("item__meeting")
            .order_by("decided_at")
            .last()
        )
        held = (
            (self.today() - timezone.localdate(resolution.decided_at)).days if resolution is not None else 36
        )
        begin = max(30, min(90, held - 6))
        resolutions = [resolution] if resolution is not None and held > begin else []

        def on(k: int, hour: int, minute: int = 0) -> dt.datetime:
            return self.ago(begin - k, hour, minute)

        start = on(0, 10)
        needs = self.tickets(yucai, ("parking",), start, 2)
        secretary, vice = self.person("branch"), self.person("committee")
        member = [p for p in self.people_of(branch) if p.is_party_member and p.pk != secretary.pk][-1]
        self.later(
            start,
            functools.partial(
                self.create,
                "p3",
                party_org=self.party_org,
                title=X.PARKING_TITLE,
                kind=Project.Kind.PARKING,
                summary=X.PARKING_SUMMARY,
                compounds=[yucai],
                buildings=list(yucai.buildings.filter(number="2")),
                branch=branch,
                committee=committee,
                member_units=[self.units["高亭镇人民政府"], self.units["县公安局高亭派出所"]],
                service_types=list(
                    ServiceType.objects.filter(code__in=["opinions", "progress", "disputes", "safety"])
                ),
                budget=X.PARKING_BUDGET,
                tickets=needs,
                resolutions=resolutions,
                leads=list(zip((secretary, vice, member), X.PARKING_LEADS, strict=True)),
            ),
        )
        self.later(on(1, 15), functools.partial(self.milestones, "p3", X.PARKING_MILESTONES))
        self.later(on(2, 9), functools.partial(self.move, "p3", P.RAISING))
        amount, purpose = X.PARKING_UNIT_SUPPORT
        self.later(
            on(5, 15),
            functools.partial(
                self.income, "p3", "member_unit", amount, purpose, organisation=self.units["高亭镇人民政府"]
            ),
        )
        self.later(on(8, 9), functools.partial(self.move, "p3", P.UNDERWAY))
        self.expense(
            "p3",
            X.PARKING_EXPENSE,
            users["grid"],
            on(9, 10),
            [(users["branch"], on(9, 20)), (users["committee"], on(10, 8, 40))],
            on(13, 14),
        )
        day = self.today() - dt.timedelta(days=begin)
        percent, note = X.PARKING_PROGRESS[0]
        shots = [("before", day + dt.timedelta(days=8)), ("after", day + dt.timedelta(days=12))]
        self.later(on(12, 17), functools.partial(self.progress, "p3", 0, percent, note, users["grid"], shots))
        percent, note = X.PARKING_PROGRESS[1]
        shots = [("before", day + dt.timedelta(days=14))]
        self.later(
            on(19, 17), functools.partial(self.progress, "p3", 1, percent, note, users["community"], shots)
        )
        names = {"secretary": secretary.name, "vice_chair": vice.name, "grid": self.person("grid").name}
        meeting = resolution.item.meeting if resolutions and resolution is not None else None
        title, parties, issue = X.PARKING_DISPUTE

        def open_(t: dt.datetime) -> None:
            self.s["p3.dispute"] = PA.open_dispute(
                users["grid"], self.s["p3"], title=title, parties=parties, issue=issue, meeting=meeting, now=t
            )
            self.add("disputes")

        def step(index: int, actor: Any, t: dt.datetime) -> None:
            text, mediator = X.PARKING_STEPS[index]
            PA.add_mediation_step(
                actor, self.s["p3.dispute"], text=text, mediator=mediator.format(**names), now=t
            )
            self.add("mediation_steps")

        def object_(t: dt.datetime) -> None:
            PA.raise_objection(users["resident"], self.s["p3"], text=X.PARKING_OBJECTION, now=t)
            self.add("objections")

        self.later(on(15, 19), open_)
        self.later(on(17, 10), functools.partial(step, 0, users["grid"]))
        self.later(on(25, 20), functools.partial(step, 1, users["branch"]))
        self.later(on(28, 7, 40), object_)

    # ---- all of it -------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        if not self.load() or not self.load_more():
            return {}
        first = Notification.objects.aggregate(m=Max("id"))["m"] or 0
        self.ensure_people()
        self.lighting()
        self.garbage()
        self.parking()
        self.volunteers()
        self.play()
        # The messages belong to the past: delivered, and read unless recent.
        mine = Notification.objects.filter(pk__gt=first)
        mine.update(sent_at=F("send_after"), attempts=1)
        mine.filter(channel=Notification.Channel.INBOX, created_at__lt=self.ago(7, 0)).update(
            read_at=F("send_after")
        )
        self.add("project_notifications", mine.count())
        self.add("ledger_entries", sum(p.entries_count for p in Project.objects.all()))
        self.add("points_entries", PointsEntry.objects.count())
        self.add("open_posts", Post.objects.filter(state=Post.State.OPEN).count())
        return self.counts


def seed_projects(log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Seed the demo's community projects and volunteers; returns what was created."""
    counts = ProjectSeeder(log=log).run()
    if counts and log:
        get = counts.get
        log(
            f"  projects: {get('projects', 0)} projects, {get('ledger_entries', 0)} ledger entries; "
            f"volunteers: {get('volunteer_activities', 0)} activities, "
            f"{get('volunteer_hours', 0)} hours entries"
        )
    return counts
