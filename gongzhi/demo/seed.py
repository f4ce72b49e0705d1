"""Builds the demo county, deterministically, at any scale.

``seed(scale=1)`` gives the county of the article; ``scale=N`` adds N-1 copies of every
community with its compounds (for benchmarks: scale 300 passes a million units). Data is
written with bulk inserts, one community at a time, so memory stays flat as scale grows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from gongzhi.core.audit import record_change
from gongzhi.demo import county as C
from gongzhi.demo.tickets import seed_ticket_history
from gongzhi.housing.identity import owner_identity_key as identity_key
from gongzhi.housing.models import (
    Building,
    Compound,
    CompoundGrid,
    Entrance,
    Owner,
    Ownership,
    Resident,
    ServiceChannel,
    Unit,
)
from gongzhi.orgs.actions import area_path
from gongzhi.orgs.models import Area, Membership, Organisation, Person, Role, RoleGrant, ServiceCategory
from gongzhi.tickets.defaults import seed_ticket_settings

DEMO_PASSWORD = "gongzhi-demo-2026"  # noqa: S105 - printed on purpose: it is the demo's password
SEED = 20250206
TODAY = dt.date(2026, 11, 1)

# username, role, description of the node (filled in by seed), person name
DEMO_LOGINS = [
    ("admin", "superuser", "岱山县"),
    ("county", Role.COUNTY_ADMIN, "岱山县"),
    ("town", Role.TOWN_STAFF, "高亭镇"),
    ("community", Role.COMMUNITY_STAFF, "高亭镇 南峰社区"),
    ("grid", Role.GRID_WORKER, "南峰社区 第1网格"),
    ("branch", Role.BRANCH_SECRETARY, "育才新村"),
    ("committee", Role.COMMITTEE_MEMBER, "育才新村"),
    ("liaison", Role.UNIT_LIAISON, "国网岱山县供电公司"),
    ("liaison2", Role.UNIT_LIAISON, "高亭镇人民政府"),
    ("volunteer", Role.VOLUNTEER, "育才新村"),
    ("resident", Role.RESIDENT, "育才新村 1幢"),
]


@dataclass
class Counter:
    values: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.values[name] = self.values.get(name, 0) + n


class Seeder:
    def __init__(self, scale: int = 1, log: Callable[[str], None] | None = None) -> None:
        self.scale = scale
        self.rng = random.Random(SEED)
        self.log = log or (lambda _msg: None)
        self.counts = Counter()
        self.phone_seq = 0
        self.User = get_user_model()

    # ---- small generators -------------------------------------------------------------
    def name(self) -> str:
        given = self.rng.choice(C.GIVEN) + (self.rng.choice(C.GIVEN) if self.rng.random() < 0.7 else "")
        return self.rng.choice(C.SURNAMES) + given

    def phone(self) -> str:
        self.phone_seq += 1
        prefix = self.rng.choice(["135", "136", "137", "138", "139", "150", "151", "158", "187", "188"])
        return f"{prefix}{(self.phone_seq * 7919 + 12345) % 100000000:08d}"

    def area(self) -> Decimal:
        return Decimal(self.rng.randint(4000, 9000)) / 100

    # ---- the seed -----------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        with transaction.atomic():
            self.categories = self.seed_categories()
            self.county = self._area(C.COUNTY[0], C.COUNTY[1], Area.Level.COUNTY, None)
            self.member_units = self.seed_member_units()
            self.seed_social_orgs()
            for copy in range(self.scale):
                self.seed_copy(copy)
                if copy and copy % 10 == 0:
                    self.log(f"  copy {copy}/{self.scale}: {self.counts.values.get('units', 0)} units")
            self.seed_logins()
            for name, n in seed_ticket_settings().items():
                self.counts.add(name, n)
            for name, n in seed_ticket_history(log=self.log).items():
                self.counts.add(name, n)
            from gongzhi.demo.consultations import seed_consultations  # the 高亭镇 renovation

            for name, n in seed_consultations(log=self.log).items():
                self.counts.add(name, n)
            from gongzhi.demo.votes import seed_votes  # 育才新村's owners' votes

            for name, n in seed_votes(log=self.log).items():
                self.counts.add(name, n)
            from gongzhi.demo.meetings import seed_meetings  # joint meetings and discussion halls

            for name, n in seed_meetings(log=self.log).items():
                self.counts.add(name, n)
            from gongzhi.demo.projects import seed_projects  # community projects and volunteers

            for name, n in seed_projects(log=self.log).items():
                self.counts.add(name, n)
            record_change(None, "demo.seed", None, after={"scale": self.scale, **self.counts.values})
        return self.counts.values

    def _area(self, code: str, name: str, level: str, parent: Area | None) -> Area:
        area = Area.objects.create(
            code=code,
            name=name,
            level=level,
            parent=parent,
            path=area_path(parent, code),
            depth=0 if parent is None else parent.depth + 1,
        )
        self.counts.add(f"areas_{level}")
        return area

    def seed_categories(self) -> dict[str, ServiceCategory]:
        cats: dict[str, ServiceCategory] = {}
        for code, name, parent in C.CATEGORIES:
            cats[code] = ServiceCategory.objects.create(code=code, name=name, parent=cats.get(parent or ""))
        return cats

    def seed_member_units(self) -> dict[str, Organisation]:
        units = {}
        for code, name, phone, cats in C.MEMBER_UNITS:
            unit = Organisation.objects.create(
                kind=Organisation.Kind.MEMBER_UNIT,
                name=name,
                code=code,
                area=self.county,
                phone=phone,
                founded_on=dt.date(2023, 3, 1),
            )
            unit.service_categories.set([self.categories[c] for c in cats])
            for i in range(2):
                person = Person.objects.create(name=self.name(), phone=self.phone(), is_party_member=i == 0)
                Membership.objects.create(
                    organisation=unit,
                    person=person,
                    role=Membership.Role.LIAISON,
                    started_on=dt.date(2023, 3, 1),
                )
            units[name] = unit
            self.counts.add("member_units")
        return units

    def seed_social_orgs(self) -> None:
        for code, name in [("SO01", "岱山县海岛志愿服务协会"), ("SO02", "高亭镇老年协会")]:
            Organisation.objects.create(
                kind=Organisation.Kind.SOCIAL_ORG,
                name=name,
                code=code,
                area=self.county,
                founded_on=dt.date(2019, 5, 4),
            )

    def seed_copy(self, copy: int) -> None:
        suffix = "" if copy == 0 else f"（扩{copy}）"
        for town_code, town_name, communities in C.TOWNS:
            town = Area.objects.filter(code=town_code).first() or self._area(
                town_code, town_name, Area.Level.TOWN, self.county
            )
            if copy == 0:
                Organisation.objects.create(
                    kind=Organisation.Kind.VOLUNTEER_TEAM,
                    name=f"{town_name}红色物业志愿服务队",
                    code=f"VT{town_code}",
                    area=town,
                    founded_on=dt.date(2023, 6, 1),
                )
            for index, (community_name, compounds) in enumerate(communities, start=1):
                code = f"{town_code}{index:03d}" if copy == 0 else f"{town_code}X{copy:03d}{index:02d}"
                community = self._area(code, community_name + suffix, Area.Level.COMMUNITY, town)
                managed = [(n, b, y) for c, n, b, y in C.MANAGED if c == community_name]
                self.seed_community(community, community_name, compounds, managed, suffix)

    def seed_community(
        self,
        community: Area,
        base_name: str,
        compounds: list[tuple[str, int, int]],
        managed: list[tuple[str, int, int]],
        suffix: str,
    ) -> None:
        grid_count = 3 if community.code.startswith("330921100") else 2
        grids = [
            self._area(f"{community.code}{g:02d}", f"{community.name}第{g}网格", Area.Level.GRID, community)
            for g in range(1, grid_count + 1)
        ]
        party_org = Organisation.objects.create(
            kind=Organisation.Kind.PARTY_ORG,
            name=f"{community.name}党委",
            code=f"PO{community.code}",
            area=community,
            founded_on=dt.date(2012, 7, 1),
        )
        groups = [
            Organisation.objects.create(
                kind=Organisation.Kind.GRID_GROUP,
                name=f"{g.name}党小组",
                code=f"GG{g.code}",
                area=g,
                parent=party_org,
                founded_on=dt.date(2021, 7, 1),
            )
            for g in grids
        ]
        for number, grid in enumerate(grids, start=1):
            if (base_name, number) == C.UNSTAFFED_GRID:
                continue
            self.grid_worker(grid)
        for j, (name, n_buildings, year) in enumerate(compounds, start=1):
            grid_index = (j - 1) % grid_count
            self.seed_compound(community, grids, groups, grid_index, j, name, suffix, n_buildings, year, True)
        for j, (name, n_buildings, year) in enumerate(managed, start=len(compounds) + 1):
            self.seed_compound(community, grids, groups, 0, j, name, suffix, n_buildings, year, False)

    def grid_worker(self, grid: Area) -> None:
        user = self.User(username=f"gw{grid.code}", is_active=True)
        user.set_unusable_password()
        user.save()
        Person.objects.create(name=self.name(), phone=self.phone(), user=user, home_area=grid)
        RoleGrant.objects.create(user=user, role=Role.GRID_WORKER, area=grid)

    def seed_compound(
        self,
        community: Area,
        grids: list[Area],
        groups: list[Organisation],
        grid_index: int,
        j: int,
        base_name: str,
        suffix: str,
        n_buildings: int,
        year: int,
        unmanaged: bool,
    ) -> None:
        rng = self.rng
        grid = grids[grid_index]
        compound = Compound.objects.create(
            code=f"C{community.code}{j:02d}",
            name=base_name + suffix,
            address=f"{community.parent.name if community.parent else ''}{base_name}",
            year_built=year,
            unmanaged=unmanaged,
            open=unmanaged,
            community=community,
            area_path=community.path,
        )
        if base_name not in C.NO_GRID:
            CompoundGrid.objects.create(compound=compound, grid=grid)
        self.counts.add("compounds")

        buildings = Building.objects.bulk_create(
            [
                Building(
                    compound=compound,
                    number=str(b),
                    floors=rng.choice([4, 5, 6, 6]),
                    grid=None if base_name in C.NO_GRID else grid,
                )
                for b in range(1, n_buildings + 1)
            ]
        )
        self.counts.add("buildings", len(buildings))
        if unmanaged:
            self.counts.add("unmanaged_buildings", len(buildings))
        entrances = Entrance.objects.bulk_create(
            [
                Entrance(building=b, number=str(e))
                for b in buildings
                for e in range(1, rng.choice([2, 2, 3]) + 1)
            ]
        )
        by_building: dict[int, list[Entrance]] = {}
        for e in entrances:
            by_building.setdefault(e.building_id, []).append(e)

        units: list[Unit] = []
        for b in buildings:
            for e in by_building[b.pk]:
                for floor in range(1, (b.floors or 5) + 1):
                    for flat in (1, 2):
                        kind = (
                            Unit.Kind.COMMERCIAL
                            if floor == 1 and b.number == "1" and flat == 1 and rng.random() < 0.5
                            else Unit.Kind.RESIDENTIAL
                        )
                        units.append(
                            Unit(
                                compound=compound,
                                building=b,
                                entrance=e,
                                number=f"{floor}0{flat}",
                                floor=floor,
                                area_m2=self.area(),
                                kind=kind,
                                area_source=rng.choices(list(Unit.AreaSource), weights=[80, 12, 8])[0],
                            )
                        )
        Unit.objects.bulk_create(units, batch_size=2000)
        self.counts.add("units", len(units))
        compound.households_count = sum(1 for u in units if u.kind == Unit.Kind.RESIDENTIAL)
        compound.save(update_fields=["households_count"])

        residents = self.seed_owners_and_residents(compound, units, base_name)
        if unmanaged:
            self.seed_compound_orgs(compound, community, buildings, groups[grid_index], base_name, residents)
            self.seed_channels(compound, buildings, base_name)

    def seed_owners_and_residents(
        self, compound: Compound, units: list[Unit], base_name: str
    ) -> list[Resident]:
        rng = self.rng
        owners: list[Owner] = []
        links: list[tuple[int, int]] = []  # (unit index, owner index)
        developer_idx = None
        developer: Owner | None = None
        if base_name == C.DEVELOPER_COMPOUND:
            # One developer holds unsold flats in every copy of this compound: one owner row.
            developer, _created = Owner.objects.get_or_create(
                identity_key=identity_key("legal", C.DEVELOPER_NAME, "0580-4470000"),
                defaults={
                    "kind": Owner.Kind.LEGAL,
                    "name": C.DEVELOPER_NAME,
                    "phone": "0580-4470000",
                    "is_developer": True,
                },
            )
            owners.append(developer)
            developer_idx = 0
        for i in range(len(units)):
            if developer_idx is not None and i % 9 == 4:
                links.append((i, developer_idx))
                continue
            if owners and i > 0 and rng.random() < 0.03 and links and links[-1][1] != developer_idx:
                links.append((i, links[-1][1]))  # the neighbour's owner holds this unit too
                continue
            name, phone = self.name(), self.phone()
            owners.append(Owner(name=name, phone=phone, identity_key=identity_key("natural", name, phone)))
            links.append((i, len(owners) - 1))
            if rng.random() < 0.04:  # co-owned by a couple
                name2, phone2 = self.name(), self.phone()
                owners.append(
                    Owner(name=name2, phone=phone2, identity_key=identity_key("natural", name2, phone2))
                )
                links.append((i, len(owners) - 1))
        Owner.objects.bulk_create([o for o in owners if o.pk is None], batch_size=2000)
        Ownership.objects.bulk_create(
            [Ownership(unit=units[u], owner=owners[o]) for u, o in links], batch_size=2000
        )
        self.counts.add("owners", len(owners))

        first_owner: dict[int, Owner] = {}
        for u, o in links:
            first_owner.setdefault(u, owners[o])
        residents: list[Resident] = []
        for i, unit in enumerate(units):
            owner = first_owner.get(i)
            roll = rng.random()
            if unit.kind != Unit.Kind.RESIDENTIAL or owner is None or owner.is_developer or roll < 0.13:
                continue  # shops, unsold flats, and owners away at sea or working elsewhere
            if roll < 0.28:
                for k in range(rng.choice([1, 2])):
                    residents.append(
                        Resident(
                            unit=unit,
                            name=self.name(),
                            phone=self.phone(),
                            tenure=Resident.Tenure.TENANT,
                            is_household_head=k == 0,
                            birth_year=rng.randint(1965, 2000),
                            moved_in=dt.date(2024, 3, 1),
                        )
                    )
                continue
            residents.append(
                Resident(
                    unit=unit,
                    name=owner.name,
                    phone=owner.phone,
                    tenure=Resident.Tenure.OWNER,
                    is_household_head=True,
                    birth_year=rng.randint(1938, 1985),
                )
            )
            for _k in range(rng.choice([0, 1, 1, 2])):
                residents.append(
                    Resident(
                        unit=unit,
                        name=self.name(),
                        phone=self.phone() if rng.random() < 0.6 else "",
                        tenure=Resident.Tenure.FAMILY,
                        birth_year=rng.randint(1940, 2015),
                    )
                )
        Resident.objects.bulk_create(residents, batch_size=2000)
        self.counts.add("residents", len(residents))
        return residents

    def _people(self, residents: list[Resident], community: Area, count: int, party: bool) -> list[Person]:
        adults = [r for r in residents if r.tenure != Resident.Tenure.FAMILY or (r.birth_year or 2000) < 1990]
        chosen = self.rng.sample(adults, min(count, len(adults)))
        people = Person.objects.bulk_create(
            [
                Person(
                    name=r.name,
                    phone=r.phone,
                    is_party_member=party,
                    party_registered_community=community if party else None,
                    party_registered_on=dt.date(2023, 4, 1) if party else None,
                    home_area=community,
                )
                for r in chosen
            ]
        )
        for r, p in zip(chosen, people, strict=True):
            r.person = p
        Resident.objects.bulk_update(chosen, ["person"])
        return people

    def seed_compound_orgs(
        self,
        compound: Compound,
        community: Area,
        buildings: list[Building],
        group: Organisation,
        base_name: str,
        residents: list[Resident],
    ) -> None:
        name = compound.name
        branch_members: list[Person] = []
        if base_name not in C.NO_BRANCH:
            halves = (
                [buildings]
                if base_name not in C.TWO_BRANCHES
                else [buildings[: len(buildings) // 2], buildings[len(buildings) // 2 :]]
            )
            for k, part in enumerate(halves, start=1):
                label = f"{name}兼合式党支部" if len(halves) == 1 else f"{name}第{'一二'[k - 1]}兼合式党支部"
                branch = Organisation.objects.create(
                    kind=Organisation.Kind.JOINT_BRANCH,
                    name=label,
                    code=f"JB{compound.code}{k}",
                    area=community,
                    parent=group,
                    compound=compound,
                    founded_on=dt.date(2023, 7, 1),
                )
                if len(halves) == 1:
                    branch.covered_compounds.add(compound)
                else:
                    branch.covered_buildings.add(*part)
                members = self._people(residents, community, self.rng.randint(3, 7), party=True)
                branch_members += members
                Membership.objects.bulk_create(
                    [
                        Membership(
                            organisation=branch,
                            person=p,
                            started_on=dt.date(2023, 7, 1),
                            role=Membership.Role.SECRETARY if i == 0 else Membership.Role.MEMBER,
                        )
                        for i, p in enumerate(members)
                    ]
                )
                self.counts.add("joint_branches")
        if base_name in C.NO_COMMITTEE:
            return
        kind = C.STAND_IN.get(base_name, Organisation.Kind.OWNERS_COMMITTEE)
        label = {
            "owners_committee": f"{name}业主委员会",
            "residents_committee": f"{community.name}居民委员会（代行）",
            "management_committee": f"{name}物业管理委员会",
        }[kind]
        committee = Organisation.objects.create(
            kind=kind,
            name=label,
            code=f"OC{compound.code}",
            area=community,
            compound=compound,
            founded_on=dt.date(2023, 9, 1),
        )
        self.counts.add("owners_committees" if kind == Organisation.Kind.OWNERS_COMMITTEE else "stand_ins")
        size = self.rng.choice([5, 5, 7])
        overlap = branch_members[: self.rng.randint(1, 2)] if branch_members else []
        members = overlap + self._people(residents, community, size - len(overlap), party=False)
        term = dt.date(2023, 9, 1)
        Membership.objects.bulk_create(
            [
                Membership(
                    organisation=committee,
                    person=p,
                    started_on=term,
                    ends_on=term.replace(year=term.year + 5),
                    role=Membership.Role.CHAIR
                    if i == 0
                    else Membership.Role.VICE_CHAIR
                    if i == 1
                    else Membership.Role.MEMBER,
                )
                for i, p in enumerate(members)
            ]
        )

    def seed_channels(self, compound: Compound, buildings: list[Building], base_name: str) -> None:
        missing = C.PARTIAL_POSTERS.get(base_name, 0)
        with_poster = buildings[: len(buildings) - missing]
        ServiceChannel.objects.bulk_create(
            [
                ServiceChannel(
                    compound=compound,
                    building=b,
                    kind=ServiceChannel.Kind.QR_POSTER,
                    token=hashlib.sha256(f"{SEED}:{compound.code}:{b.number}".encode()).hexdigest()[:12],
                )
                for b in with_poster
            ]
        )
        ServiceChannel.objects.create(
            compound=compound,
            kind=ServiceChannel.Kind.HOTLINE,
            detail="12345",
            token=hashlib.sha256(f"{SEED}:{compound.code}:hotline".encode()).hexdigest()[:12],
        )

    # ---- demo logins --------------------------------------------------------------------
    def seed_logins(self) -> None:
        community = Area.objects.get(name="南峰社区", level=Area.Level.COMMUNITY)
        town = community.parent
        grid = Area.objects.get(code=f"{community.code}01")
        yucai = Compound.objects.get(name="育才新村")
        power = self.member_units["国网岱山县供电公司"]
        nodes: dict[str, dict[str, Any]] = {
            Role.COUNTY_ADMIN: {"area": self.county},
            Role.TOWN_STAFF: {"area": town},
            Role.COMMUNITY_STAFF: {"area": community},
            Role.GRID_WORKER: {"area": grid},
            Role.BRANCH_SECRETARY: {"compound": yucai},
            Role.COMMITTEE_MEMBER: {"compound": yucai},
            Role.UNIT_LIAISON: {"organisation": power},
            Role.VOLUNTEER: {"compound": yucai},
            Role.RESIDENT: {"compound": yucai},
        }
        for username, role, _where in DEMO_LOGINS:
            user = self.User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                is_superuser=role == "superuser",
                is_staff=role == "superuser",
            )
            if role == "superuser":
                RoleGrant.objects.create(user=user, role=Role.COUNTY_ADMIN, area=self.county)
                continue
            node = nodes[Role(role)]
            if username == "liaison2":
                node = {"organisation": self.member_units["高亭镇人民政府"]}
            RoleGrant.objects.create(user=user, role=role, **node)
            if role == Role.GRID_WORKER:
                # The demo grid worker serves grid 1 alongside the generated one.
                Person.objects.create(name="林海燕", phone="13905801234", user=user, home_area=grid)
        resident_user = self.User.objects.get(username="resident")
        home = Unit.objects.filter(compound=yucai, building__number="1").order_by("id")[2]
        Resident.objects.create(
            unit=home,
            name="张志毅",
            phone="13857001986",
            tenure=Resident.Tenure.OWNER,
            is_household_head=False,
            birth_year=1956,
            user=resident_user,
        )
        owner = home.ownerships.select_related("owner").first()
        if owner is not None:
            owner.owner.user = resident_user
            owner.owner.save(update_fields=["user"])


def seed(scale: int = 1, log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Build the demo county into an empty database and return what was created."""
    if Area.objects.exists():
        raise RuntimeError("the database already holds areas: seed the demo into an empty database")
    return Seeder(scale=scale, log=log).run()
