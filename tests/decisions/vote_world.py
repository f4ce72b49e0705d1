"""A compound with a known electorate, for the owners' vote tests.

Compound "海景小区" in community C1, two buildings:

========  ======  =========  =====================================================
building  unit    area (m²)  owner
========  ======  =========  =====================================================
1         1-1-101  60.00     Alice
1         1-1-102  70.00     Bob (also holds 2-1-101: one owner, both areas)
1         1-1-201  80.00     Carol and Dan (co-owned: one owner)
1         1-1-202  90.00     the developer (unsold)
2         2-1-101  50.00     Bob
2         2-1-102  40.00     the developer (unsold; with 1-1-202 one owner)
2         2-1-P01  12.00     Erin (parking space, kind parking)
========  ======  =========  =====================================================

Excluding parking: 390.00 m² and 4 owners (Alice, Bob, Carol+Dan, developer).
Users: ``committee`` (owners' committee member of the compound), ``grid`` (grid worker of
its grid), ``outsider`` (community staff of another community), ``resident`` (Alice).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from gongzhi.decisions import actions
from gongzhi.decisions.models import Decision, DecisionStep, Elector
from gongzhi.housing.identity import owner_identity_key
from gongzhi.housing.models import Building, Compound, CompoundGrid, Entrance, Owner, Ownership, Unit
from gongzhi.orgs.models import Area, Role, RoleGrant

UNITS = [
    ("1", "101", "60.00", ["Alice"], "residential"),
    ("1", "102", "70.00", ["Bob"], "residential"),
    ("1", "201", "80.00", ["Carol", "Dan"], "residential"),
    ("1", "202", "90.00", ["developer"], "residential"),
    ("2", "101", "50.00", ["Bob"], "residential"),
    ("2", "102", "40.00", ["developer"], "residential"),
    ("2", "P01", "12.00", ["Erin"], "parking"),
]


@dataclass
class VoteWorld:
    compound: Compound
    units: dict[str, Unit] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)

    def elector(self, decision: Decision, label: str) -> Elector:
        return Elector.objects.get(decision=decision, unit=self.units[label])


def build_vote_world() -> VoteWorld:
    User = get_user_model()

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

    county = area("VWC", "县", Area.Level.COUNTY, None)
    town = area("VWT", "镇", Area.Level.TOWN, county)
    c1 = area("VWC1", "社区一", Area.Level.COMMUNITY, town)
    c2 = area("VWC2", "社区二", Area.Level.COMMUNITY, town)
    grid = area("VWG1", "第1网格", Area.Level.GRID, c1)
    compound = Compound.objects.create(code="VW1", name="海景小区", community=c1, area_path=c1.path)
    CompoundGrid.objects.create(compound=compound, grid=grid)
    world = VoteWorld(compound=compound)
    owners: dict[str, Owner] = {}
    for name in ("Alice", "Bob", "Carol", "Dan", "developer", "Erin"):
        owners[name] = Owner.objects.create(
            name=name,
            phone="",
            is_developer=name == "developer",
            identity_key=owner_identity_key(Owner.Kind.NATURAL, name, "", "VW1"),
        )
    buildings: dict[str, tuple[Building, Entrance]] = {}
    for b, number, area_m2, holders, kind in UNITS:
        if b not in buildings:
            building = Building.objects.create(compound=compound, number=b, floors=6, grid=grid)
            buildings[b] = (building, Entrance.objects.create(building=building, number="1"))
        building, entrance = buildings[b]
        unit = Unit.objects.create(
            compound=compound,
            building=building,
            entrance=entrance,
            number=number,
            area_m2=Decimal(area_m2),
            area_source=Unit.AreaSource.REGISTER,
            kind=kind,
        )
        world.units[f"{b}-1-{number}"] = unit
        for holder in holders:
            Ownership.objects.create(unit=unit, owner=owners[holder])

    def user(name: str, role: str, **on: Any) -> None:
        u = User.objects.create_user(username=f"vw_{name}", password="x")  # noqa: S106
        RoleGrant.objects.create(user=u, role=role, **on)
        world.users[name] = u

    user("committee", Role.COMMITTEE_MEMBER, compound=compound)
    user("grid", Role.GRID_WORKER, area=grid)
    user("outsider", Role.COMMUNITY_STAFF, area=c2)
    user("resident", Role.RESIDENT, compound=compound)
    return world


def voting_decision(world: VoteWorld, *, matter: int = 5, **extra: Any) -> Decision:
    """A decision taken through its steps to an open window (notice dated 20 days ago)."""
    committee = world.users["committee"]
    decision = actions.create_decision(
        committee, world.compound, matter=matter, title="屋面维修", text="动用维修资金修屋面", **extra
    )
    actions.record_step(committee, decision, DecisionStep.Kind.BRANCH_PREDISCUSSION, "支部会前讨论")
    actions.record_step(committee, decision, DecisionStep.Kind.COMMITTEE_INFORMED, "已告知居委会")
    posted = timezone.now() - dt.timedelta(days=20)
    actions.post_notice(
        committee, decision, posted + dt.timedelta(days=16), timezone.now() + dt.timedelta(days=5), now=posted
    )
    return actions.open_voting(committee, decision)
