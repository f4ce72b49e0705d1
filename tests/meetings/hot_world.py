"""A small county for the hot-issue warning tests, built without the demo seed.

The tree::

    岱山县 ── 高亭镇 ─┬─ 育才社区 ── 育才新村 (buildings 1 and 2)
                     └─ 大峧社区 ── 大峧小区 (building 1)

Named actors: 林 (``lin``), community staff of 育才社区, who convenes its meetings and
watches its warnings; 周 (``zhou``), community staff of 大峧社区; 王 (``wang``), a resident of
育才新村. The thresholds are the defaults (30 days, 5 of one kind per compound, …) in a
settings row of the world's own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from gongzhi.consultations.models import Consultation, Opinion, OpinionCategory
from gongzhi.housing.models import Building, Compound
from gongzhi.meetings.models import HotIssueSettings, Meeting
from gongzhi.orgs.models import Area, Organisation, Role, RoleGrant, ServiceCategory
from gongzhi.tickets.models import Ticket


@dataclass
class HotWorld:
    community: Area
    yucai: Compound
    dajiao: Compound
    buildings: dict[str, Building]
    party_org: Organisation
    consultation: Consultation
    users: dict[str, Any] = field(default_factory=dict)
    made: int = 0

    def request(
        self,
        *,
        days_ago: float = 1,
        building: str | None = "1",
        category: str = "lighting",
        compound: Compound | None = None,
        **extra: Any,
    ) -> Ticket:
        """A request reported ``days_ago`` days ago, in 育才新村 unless told otherwise."""
        compound = compound or self.yucai
        self.made += 1
        return Ticket.objects.create(
            category=ServiceCategory.objects.get(code=category),
            description=f"小区路灯不亮（第{self.made}次反映）",
            channel=Ticket.Channel.STAFF_CALL,
            reporter_phone="13800000000",
            compound=compound,
            building=self.buildings.get(building or "") if compound == self.yucai else None,
            community=compound.community,
            area_path=compound.area_path,
            created_at=timezone.now() - dt.timedelta(days=days_ago),
            state=extra.pop("state", Ticket.State.ACCEPTED),
            **extra,
        )

    def opinion(self, *, days_ago: float = 1, building: str | None = "1", outcome: str = "") -> Opinion:
        """An opinion about lighting from 育才新村, raised ``days_ago`` days ago."""
        return Opinion.objects.create(
            consultation=self.consultation,
            compound=self.yucai,
            building=self.buildings.get(building or ""),
            category=OpinionCategory.objects.get(code="lighting"),
            text="楼道灯坏了很久",
            source=Opinion.Source.PAPER,
            outcome=outcome,
            state=Opinion.State.ANSWERED if outcome else Opinion.State.NEW,
            area_path=self.yucai.area_path,
            created_at=timezone.now() - dt.timedelta(days=days_ago),
        )

    def meeting(
        self, *, compound: Compound | None = None, area: Area | None = None, days_ahead: int = 7, **extra: Any
    ) -> Meeting:
        """A joint meeting of 育才社区 (or of ``area``; a discussion hall when ``compound`` is
        given), being prepared."""
        area = area or self.community
        return Meeting.objects.create(
            kind=Meeting.Kind.HALL if compound else Meeting.Kind.JOINT,
            title=extra.pop("title", "育才社区联席会议"),
            area=area,
            area_path=area.path,
            compound=compound,
            convener=self.party_org,
            starts_at=timezone.now() + dt.timedelta(days=days_ahead),
            place="育才社区党群服务中心",
            created_at=timezone.now(),
            **extra,
        )


def build_hot_world() -> HotWorld:
    """Create the world in the current test's transaction."""

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

    county = area("HIC", "岱山县", Area.Level.COUNTY, None)
    town = area("HIT", "高亭镇", Area.Level.TOWN, county)
    yucai_community = area("HIYC", "育才社区", Area.Level.COMMUNITY, town)
    dajiao_community = area("HIDJ", "大峧社区", Area.Level.COMMUNITY, town)
    yucai = Compound.objects.create(code="HI-YC", name="育才新村", community=yucai_community)
    dajiao = Compound.objects.create(code="HI-DJ", name="大峧小区", community=dajiao_community)
    buildings = {n: Building.objects.create(compound=yucai, number=n, floors=6) for n in ("1", "2")}
    Building.objects.create(compound=dajiao, number="1", floors=6)
    for code, name in (("lighting", "路灯照明"), ("disputes", "邻里纠纷"), ("parking", "停车管理")):
        ServiceCategory.objects.get_or_create(code=code, defaults={"name": name})
    OpinionCategory.objects.get_or_create(code="lighting", defaults={"name": "照明"})
    HotIssueSettings.objects.all().delete()
    HotIssueSettings.objects.create()
    party_org = Organisation.objects.create(
        kind=Organisation.Kind.PARTY_ORG, name="育才社区党委", code="HI-PO", area=yucai_community
    )
    consultation = Consultation.objects.create(
        title="育才新村路灯改造意见征询",
        state=Consultation.State.OPEN,
        area_path=yucai_community.path,
        created_at=timezone.now() - dt.timedelta(days=20),
    )
    world = HotWorld(yucai_community, yucai, dajiao, buildings, party_org, consultation)
    User = get_user_model()
    for name, role, on in (
        ("lin", Role.COMMUNITY_STAFF, {"area": yucai_community}),
        ("zhou", Role.COMMUNITY_STAFF, {"area": dajiao_community}),
        ("wang", Role.RESIDENT, {"compound": yucai}),
    ):
        user = User.objects.create_user(username=f"hi_{name}", password="x")
        RoleGrant.objects.create(user=user, role=role, **on)
        world.users[name] = user
    return world
