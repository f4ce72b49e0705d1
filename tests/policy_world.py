"""A small explicit county for the permission-policy tests, built without the demo seed.

The tree::

    county
    ├── town A
    │   ├── community A1 ── grid g1 ── compound X
    │   │                └─ grid g2 ── compound Y
    │   └── community A2 ── grid gZ ── compound Z
    └── town B
        └── community B1 ── grid gW ── compound W

Each compound has a building, an entrance, two units (u1, u2), one owner per unit, a
household of two in u1 and of one in u2, a hotline channel, a joint branch and an owners'
committee with one member each. Two member units, "power" and "water", sit on the county
with one liaison each. One user per role, plus a superuser, a user with no grants and an
inactive county administrator.

Resident requests (tickets), each labelled by its place, with the units' tasks labelled
``<ticket>.<unit>``:

==========  ===========================  ======================  =========================
ticket      where                        reported by             tasks
==========  ===========================  ======================  =========================
X.t1        compound X, grid g1          the resident user       power (lead), water (co)
X.t2        compound X, grid g1          a caller; the resident  —
                                         user said "me too"
Y.t1        compound Y, grid g2          a caller                water
Z.t1        compound Z, community A2     a caller                —
W.t1        compound W, town B           a caller                power
A1.street   a street of community A1,    a caller                —
            no compound and no grid
==========  ===========================  ======================  =========================

Notifications (``n.<recipient>``) go to the resident, the grid worker and the county
administrator, one each.

Community projects, volunteer activities and service posts (``build_projects``): one of
each per compound (``X.project``, ``X.activity``, ``X.post``), the power company taking part
in the projects of X and W; plus an activity organised by the power company and a post for
the whole of community A1 (``A1.activity``, ``A1.post``).

Every object carries a readable label (``X.u1.r1``, ``power.m``, ``townA``) so that a
failing policy test names the rows it got wrong instead of printing primary keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model
from django.utils import timezone

from gongzhi.core.models import AuditEvent
from gongzhi.housing.identity import owner_identity_key
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
from gongzhi.orgs.models import Area, Membership, Organisation, Person, Role, RoleGrant, ServiceCategory
from gongzhi.tickets.models import Notification, Supporter, Task, Ticket

COMPOUNDS = ("X", "Y", "Z", "W")

# Users named after what they are; the role users hold exactly one grant each.
ROLE_USERS = (
    "county_admin",
    "town_staff",
    "community_staff",
    "grid_worker",
    "branch_secretary",
    "committee_member",
    "unit_liaison",
    "volunteer",
    "resident",
)
OTHER_USERS = ("superuser", "no_grant", "inactive_admin")


@dataclass(repr=False)
class World:
    # kind (policy name) -> label -> object
    objects: dict[str, dict[str, Model]] = field(default_factory=dict)
    # kind -> label -> the compound ("X", …) the object belongs to, None for none
    compound_of: dict[str, dict[str, str | None]] = field(default_factory=dict)
    # area-like labels -> materialized path (areas, audit events, area role grants)
    path_of: dict[str, dict[str, str]] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)

    def add(self, kind: str, label: str, obj: Model, *, compound: str | None = None, path: str = "") -> Model:
        assert label not in self.objects.setdefault(kind, {}), f"duplicate label {kind}:{label}"
        self.objects[kind][label] = obj
        self.compound_of.setdefault(kind, {})[label] = compound
        self.path_of.setdefault(kind, {})[label] = path
        return obj

    def get(self, kind: str, label: str) -> Any:
        return self.objects[kind][label]

    def labels(self, kind: str) -> set[str]:
        return set(self.objects.get(kind, {}))

    def pks(self, kind: str) -> list[Any]:
        return [obj.pk for obj in self.objects.get(kind, {}).values()]

    def label_of(self, kind: str, pk: Any) -> str:
        for label, obj in self.objects[kind].items():
            if obj.pk == pk:
                return label
        raise KeyError(pk)

    def in_compounds(self, kind: str, compounds: set[str] | frozenset[str]) -> set[str]:
        """Labels of ``kind`` that belong to one of ``compounds``."""
        return {label for label, c in self.compound_of.get(kind, {}).items() if c in compounds}

    def under(self, kind: str, path: str) -> set[str]:
        """Labels of ``kind`` whose path lies at or below ``path`` (empty paths never do)."""
        return {label for label, p in self.path_of.get(kind, {}).items() if p and p.startswith(path)}

    def area(self, label: str) -> Area:
        return self.objects["area"][label]  # type: ignore[return-value]


def build_world() -> World:
    """Create the world in the current database transaction and return its index."""
    w = World()
    User = get_user_model()

    def area(label: str, code: str, level: str, parent: Area | None) -> Area:
        path = (parent.path if parent else "/") + code + "/"
        obj = Area.objects.create(
            code=code,
            name=label,
            level=level,
            parent=parent,
            path=path,
            depth=0 if parent is None else parent.depth + 1,
        )
        w.add("area", label, obj, path=path)
        return obj

    county = area("county", "PWCTY", Area.Level.COUNTY, None)
    town_a = area("townA", "PWTA", Area.Level.TOWN, county)
    town_b = area("townB", "PWTB", Area.Level.TOWN, county)
    a1 = area("A1", "PWA1", Area.Level.COMMUNITY, town_a)
    a2 = area("A2", "PWA2", Area.Level.COMMUNITY, town_a)
    b1 = area("B1", "PWB1", Area.Level.COMMUNITY, town_b)
    grids = {
        "X": area("g1", "PWG1", Area.Level.GRID, a1),
        "Y": area("g2", "PWG2", Area.Level.GRID, a1),
        "Z": area("gZ", "PWGZ", Area.Level.GRID, a2),
        "W": area("gW", "PWGW", Area.Level.GRID, b1),
    }
    communities = {"X": a1, "Y": a1, "Z": a2, "W": b1}

    def audit(label: str, path: str, kind: str = AuditEvent.Kind.CHANGE) -> None:
        event = AuditEvent.objects.create(
            actor_label="system", kind=kind, action=f"test.{label}", object_repr=label, area_path=path
        )
        w.add("audit", label, event, path=path)

    audit("county.audit", county.path)
    audit("townA.audit", town_a.path)
    audit("townB.audit", town_b.path)
    audit("g1.audit", grids["X"].path)
    # Sign-ins and some exports concern no object and carry no area path.
    audit("signin.audit", "", AuditEvent.Kind.LOGIN)

    phone = iter(range(13900000001, 13900009999))

    def person(label: str, home: Area | None, compound: str | None) -> Person:
        obj = Person.objects.create(name=label, phone=str(next(phone)), home_area=home)
        w.add("person", label, obj, compound=compound)
        return obj

    def member(org_label: str, org: Organisation, who: Person, role: str, compound: str | None) -> None:
        m = Membership.objects.create(organisation=org, person=who, role=role)
        w.add("membership", f"{org_label}.m", m, compound=compound)

    for c in COMPOUNDS:
        community, grid = communities[c], grids[c]
        compound = Compound.objects.create(code=f"PW{c}", name=f"compound {c}", community=community)
        CompoundGrid.objects.create(compound=compound, grid=grid)
        w.add("compound", c, compound, compound=c)
        building = Building.objects.create(compound=compound, number="1", floors=6, grid=grid)
        w.add("building", f"{c}.b1", building, compound=c)
        entrance = Entrance.objects.create(building=building, number="1")
        w.add("entrance", f"{c}.e1", entrance, compound=c)
        household_sizes = {"u1": 2, "u2": 1}
        for u, size in household_sizes.items():
            unit = Unit.objects.create(
                compound=compound,
                building=building,
                entrance=entrance,
                number=f"10{u[-1]}",
                floor=1,
                area_m2=Decimal("88.50"),
                area_source=Unit.AreaSource.REGISTER,
            )
            w.add("unit", f"{c}.{u}", unit, compound=c)
            owner_phone = str(next(phone))
            owner = Owner.objects.create(
                name=f"owner {c}.{u}",
                phone=owner_phone,
                identity_key=owner_identity_key(Owner.Kind.NATURAL, f"owner {c}.{u}", owner_phone),
            )
            w.add("owner", f"{c}.{u}.owner", owner, compound=c)
            w.add("ownership", f"{c}.{u}.own", Ownership.objects.create(unit=unit, owner=owner), compound=c)
            for r in range(1, size + 1):
                resident = Resident.objects.create(
                    unit=unit,
                    name=f"resident {c}.{u}.r{r}",
                    phone=str(next(phone)),
                    tenure=Resident.Tenure.OWNER if r == 1 else Resident.Tenure.FAMILY,
                    is_household_head=r == 1,
                )
                w.add("resident", f"{c}.{u}.r{r}", resident, compound=c)
        channel = ServiceChannel.objects.create(
            compound=compound, kind=ServiceChannel.Kind.HOTLINE, detail="12345"
        )
        w.add("channel", f"{c}.hotline", channel, compound=c)

        branch = Organisation.objects.create(
            kind=Organisation.Kind.JOINT_BRANCH,
            name=f"joint branch {c}",
            code=f"PWJB{c}",
            area=community,
            compound=compound,
        )
        branch.covered_compounds.add(compound)
        w.add("organisation", f"{c}.branch", branch, compound=c)
        member(f"{c}.branch", branch, person(f"{c}.branch.p", community, c), Membership.Role.SECRETARY, c)
        committee = Organisation.objects.create(
            kind=Organisation.Kind.OWNERS_COMMITTEE,
            name=f"owners' committee {c}",
            code=f"PWOC{c}",
            area=community,
            compound=compound,
        )
        w.add("organisation", f"{c}.committee", committee, compound=c)
        member(
            f"{c}.committee", committee, person(f"{c}.committee.p", community, c), Membership.Role.CHAIR, c
        )
        audit(f"{c}.audit", compound.area_path)

    for name in ("power", "water"):
        unit_org = Organisation.objects.create(
            kind=Organisation.Kind.MEMBER_UNIT, name=f"{name} company", code=f"PWMU{name}", area=county
        )
        w.add("organisation", name, unit_org)
        member(name, unit_org, person(f"{name}.p", None, None), Membership.Role.LIAISON, None)

    def user(username: str, **extra: Any) -> Any:
        u = User.objects.create_user(username=f"pw_{username}", password="x", **extra)  # noqa: S106
        w.users[username] = u
        return u

    def grant(label: str, who: Any, role: str, *, on: Model) -> None:
        node = {Area: "area", Compound: "compound", Organisation: "organisation"}[type(on)]
        g = RoleGrant.objects.create(user=who, role=role, **{node: on})
        compound = next((c for c, obj in w.objects["compound"].items() if obj is on), None)
        path = on.path if isinstance(on, Area) else on.area_path if isinstance(on, Compound) else ""
        w.add("rolegrant", label, g, compound=compound, path=path)

    x = w.get("compound", "X")
    nodes: dict[str, Model] = {
        "county_admin": county,
        "town_staff": town_a,
        "community_staff": a1,
        "grid_worker": grids["X"],
        "branch_secretary": x,
        "committee_member": x,
        "unit_liaison": w.get("organisation", "power"),
        "volunteer": x,
        "resident": x,
    }
    for role in ROLE_USERS:
        grant(f"{role}@grant", user(role), Role(role), on=nodes[role])
    user("superuser", is_superuser=True, is_staff=True)
    user("no_grant")
    grant("inactive_admin@grant", user("inactive_admin", is_active=False), Role.COUNTY_ADMIN, on=county)

    # The resident user is one member of household X.u1, and of nothing else.
    home = w.get("resident", "X.u1.r1")
    home.user = w.users["resident"]
    home.save(update_fields=["user"])

    build_requests(w, grids, communities)
    build_decisions(w)
    build_meetings(w)
    build_projects(w)
    return w


def seat_approvers(w: World) -> list[Any]:
    """Accounts for four members of compound X's joint branch and owners' committee, who
    approve the expenses of X's projects: the ``branch_secretary`` and ``committee_member``
    users become the bodies' first members, and ``treasurer`` (committee) and ``deputy``
    (branch) join them. Not part of ``build_world``: the matrix needs no approvers."""
    x = w.get("compound", "X")
    seats = []
    for label, username in (("X.branch.p", "branch_secretary"), ("X.committee.p", "committee_member")):
        person = w.get("person", label)
        person.user = w.users[username]
        person.save(update_fields=["user"])
        seats.append(w.users[username])
    for name, body, role in (
        ("treasurer", "X.committee", Role.COMMITTEE_MEMBER),
        ("deputy", "X.branch", Role.BRANCH_SECRETARY),
    ):
        user = get_user_model().objects.create_user(username=f"pw_{name}", password="x")  # noqa: S106
        RoleGrant.objects.create(user=user, role=role, compound=x)
        person = Person.objects.create(name=name, user=user, home_area=x.community)
        Membership.objects.create(organisation=w.get("organisation", body), person=person)
        w.users[name] = user
        seats.append(user)
    return seats


def build_projects(w: World) -> None:
    """A community project per compound (``<compound>.project``, raising funds, run by the
    compound's joint branch and owners' committee; the power company takes part in those of
    X and W), a volunteer activity and a service post per compound organised by its joint
    branch (``<compound>.activity``, ``<compound>.post``), and an activity and a post for
    the whole of community A1 (``A1.activity``, organised by the power company, and
    ``A1.post``). Each community has a party organisation that starts its projects; those
    are not indexed, so the organisation rows of the matrix stay as they are."""
    from gongzhi.projects.models import Project
    from gongzhi.volunteers.models import Activity, Post

    now = timezone.now()
    power = w.get("organisation", "power")
    party_orgs: dict[int, Organisation] = {}

    def activity(label: str, community: Area, compound: Compound | None, organiser: Organisation) -> None:
        obj = Activity.objects.create(
            title=label,
            kind=Activity.Kind.CLEANUP,
            community=community,
            compound=compound,
            organiser=organiser,
            place="gate",
            starts_at=now,
            ends_at=now + dt.timedelta(hours=2),
            checkin_code=f"pw-{label}",
            area_path=community.path,
            created_at=now,
        )
        w.add("activity", label, obj, compound=compound_label(label, compound), path=community.path)

    def post(label: str, community: Area, compound: Compound | None, branch: Organisation | None) -> None:
        obj = Post.objects.create(
            community=community,
            compound=compound,
            branch=branch,
            title=label,
            area_path=community.path,
            created_at=now,
        )
        w.add("post", label, obj, compound=compound_label(label, compound), path=community.path)

    for c in COMPOUNDS:
        compound = w.get("compound", c)
        community = compound.community
        if community.pk not in party_orgs:
            party_orgs[community.pk] = Organisation.objects.create(
                kind=Organisation.Kind.PARTY_ORG,
                name=f"party organisation {community.name}",
                code=f"PWPO{community.code}",
                area=community,
            )
        branch = w.get("organisation", f"{c}.branch")
        project = Project.objects.create(
            code=f"PWXM{c}",
            title=f"project {c}",
            kind=Project.Kind.OTHER,
            summary="repair",
            party_org=party_orgs[community.pk],
            community=community,
            area_path=community.path,
            branch=branch,
            committee=w.get("organisation", f"{c}.committee"),
            state=Project.State.RAISING,
            created_at=now,
            state_changed_at=now,
        )
        project.compounds.add(compound)
        if c in ("X", "W"):
            project.member_units.add(power)
        w.add("project", f"{c}.project", project, compound=c, path=community.path)
        activity(f"{c}.activity", community, compound, branch)
        post(f"{c}.post", community, compound, branch)
    a1 = w.area("A1")
    activity("A1.activity", a1, None, power)
    post("A1.post", a1, None, None)


def compound_label(label: str, compound: Compound | None) -> str | None:
    """``X`` for ``X.hall`` when the object lies in a compound, None when it does not."""
    return label.split(".")[0] if compound is not None else None


def build_meetings(w: World) -> None:
    """A discussion hall per compound (``<compound>.hall``) whose resolution gives its
    owners' committee an action item (``<compound>.hall.ai``), and a joint meeting of town A
    (``townA.joint``, no compound) that invites the power company and gives it an action
    item (``townA.joint.ai``)."""
    from gongzhi.meetings.models import ActionItem, AgendaItem, Invitee, Meeting, Resolution

    now = timezone.now()

    def meeting(label: str, *, area: Area, compound: Compound | None, convener: Organisation) -> Meeting:
        m = Meeting.objects.create(
            kind=Meeting.Kind.HALL if compound is not None else Meeting.Kind.JOINT,
            title=label,
            area=area,
            area_path=compound.area_path if compound is not None else area.path,
            compound=compound,
            convener=convener,
            starts_at=now,
            place="hall",
            created_at=now,
        )
        w.add("meeting", label, m, compound=compound_label(label, compound), path=m.area_path)
        return m

    def action_item(label: str, m: Meeting, owner: Organisation) -> None:
        item = AgendaItem.objects.create(meeting=m, position=1, title="topic", created_at=now)
        resolution = Resolution.objects.create(
            item=item, text="agreed", method=Resolution.Method.CONSENSUS, adopted=True, decided_at=now
        )
        ai = ActionItem.objects.create(
            resolution=resolution,
            meeting=m,
            title="work",
            assignee_org=owner,
            deadline=now.date(),
            area_path=m.area_path,
            compound=m.compound,
            created_at=now,
        )
        w.add("actionitem", label, ai, compound=compound_label(label, m.compound), path=m.area_path)

    for c in COMPOUNDS:
        compound = w.get("compound", c)
        committee = Organisation.objects.get(compound=compound, kind=Organisation.Kind.OWNERS_COMMITTEE)
        hall = meeting(f"{c}.hall", area=compound.community, compound=compound, convener=committee)
        action_item(f"{c}.hall.ai", hall, committee)
    power = w.get("organisation", "power")
    joint = meeting("townA.joint", area=w.area("townA"), compound=None, convener=power)
    Invitee.objects.create(meeting=joint, organisation=power)
    action_item("townA.joint.ai", joint, power)


def build_decisions(w: World) -> None:
    """One owners' decision per compound, labelled ``<compound>.vote``."""
    from gongzhi.decisions.models import Decision

    for c in COMPOUNDS:
        compound = w.get("compound", c)
        decision = Decision.objects.create(
            compound=compound, matter=5, title=f"vote {c}", text="roof", area_path=compound.area_path
        )
        w.add("decision", f"{c}.vote", decision, compound=c, path=compound.area_path)


def build_requests(w: World, grids: dict[str, Area], communities: dict[str, Area]) -> None:
    """The tickets, tasks and notifications of the table in the module docstring."""
    now = timezone.now()
    category = ServiceCategory.objects.create(code="PWCAT", name="power lines")

    def ticket(label: str, compound: str | None, *, reporter: Any = None, path: str = "") -> Ticket:
        place: dict[str, Any] = {}
        if compound is not None:
            place = {
                "compound": w.get("compound", compound),
                "building": w.get("building", f"{compound}.b1"),
                "grid": grids[compound],
                "community": communities[compound],
            }
            path = grids[compound].path
        obj = Ticket.objects.create(
            category=category,
            description=f"request {label}",
            channel=Ticket.Channel.PHONE_PAGE if reporter is not None else Ticket.Channel.STAFF_CALL,
            reporter_user=reporter,
            reporter_phone="" if reporter is not None else "13800000000",
            consent_note="" if reporter is not None else "by phone",
            address_text="" if compound is not None else "the street behind the market",
            area_path=path,
            created_at=now,
            state=Ticket.State.DISPATCHED,
            **place,
        )
        w.add("ticket", label, obj, compound=compound, path=path)
        return obj

    def task(of: str, unit: str, role: str) -> None:
        obj = Task.objects.create(
            ticket=w.get("ticket", of),
            unit=w.get("organisation", unit),
            role=role,
            dispatched_at=now,
            accept_due_at=now,
            due_at=now,
            area_path=w.path_of["ticket"][of],
        )
        w.add("task", f"{of}.{unit}", obj, compound=w.compound_of["ticket"][of], path=w.path_of["ticket"][of])

    resident = w.users["resident"]
    ticket("X.t1", "X", reporter=resident)
    joined = ticket("X.t2", "X")
    Supporter.objects.create(ticket=joined, user=resident, created_at=now)
    ticket("Y.t1", "Y")
    ticket("Z.t1", "Z")
    ticket("W.t1", "W")
    ticket("A1.street", None, path=w.area("A1").path)
    task("X.t1", "power", Task.Role.LEAD)
    task("X.t1", "water", Task.Role.CO)
    task("Y.t1", "water", Task.Role.LEAD)
    task("W.t1", "power", Task.Role.LEAD)

    for who, about in (("resident", "X.t1"), ("grid_worker", "X.t1"), ("county_admin", "W.t1")):
        note = Notification.objects.create(
            recipient=w.users[who],
            channel=Notification.Channel.INBOX,
            subject=f"news for {who}",
            body="",
            ticket=w.get("ticket", about),
            created_at=now,
            send_after=now,
        )
        w.add("notification", f"n.{who}", note)
