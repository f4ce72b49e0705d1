"""Role × object kind × action: what each role may do, swept over a small explicit county.

The expectations below are written from the intended policy (the brief of the permission
work, restated in ``expected``), not from the ``RULES`` table in ``gongzhi.orgs.policy``,
so a wrong entry in that table makes a case here fail. The world is described in
``tests/policy_world.py``; objects are named by labels such as ``X.u1.r1`` (resident 1 of
unit 1 in compound X) so a failure names the rows it got wrong.

Case ids read as sentences: ``grid_worker-resident-reveal`` is "what a grid worker may
reveal among residents".
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from gongzhi.orgs.policy import can, get_or_404, scope
from gongzhi.tickets import workflow as W
from gongzhi.tickets.actions import actor_classes
from tests.policy_world import World, build_world

ACTIONS = ("view", "change", "export", "reveal", "import", "manage")
KINDS = (
    "area",
    "compound",
    "building",
    "entrance",
    "unit",
    "ownership",
    "owner",
    "resident",
    "organisation",
    "membership",
    "person",
    "channel",
    "audit",
    "rolegrant",
    "ticket",
    "task",
    "notification",
    "decision",
    "meeting",
    "actionitem",
    "project",
    "activity",
    "post",
)
REQUEST_KINDS = ("ticket", "task", "notification")
ROLES = (
    "superuser",
    "county_admin",
    "town_staff",
    "community_staff",
    "grid_worker",
    "branch_secretary",
    "committee_member",
    "unit_liaison",
    "volunteer",
    "resident",
    "no_grant",
    "inactive_admin",
    "anonymous",
)

REGISTRY = ("compound", "building", "entrance", "unit", "ownership", "channel")
HOUSING = (*REGISTRY, "owner", "resident")
MEMBER_UNITS = {"power", "water"}
MEMBER_UNIT_ROWS = {
    "organisation": MEMBER_UNITS,
    "membership": {"power.m", "water.m"},
    "person": {"power.p", "water.p"},
}

# Where each area-bound staff user stands: the root of their subtree and its compounds.
STAFF = {
    "town_staff": ("townA", frozenset({"X", "Y", "Z"})),
    "community_staff": ("A1", frozenset({"X", "Y"})),
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """The world, built once for the module inside a transaction rolled back at the end.

    Each test then runs in its own savepoint inside that transaction (pytest-django's
    ``django_db``), so nothing of the world outlives this module.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        built = build_world()
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def user_for(world: World, role: str):  # type: ignore[no-untyped-def]
    return AnonymousUser() if role == "anonymous" else world.users[role]


def ticket_of(task_label: str) -> str:
    """``X.t1.power`` → ``X.t1``: a task is labelled by its ticket and its unit."""
    return task_label.rsplit(".", 1)[0]


def expected_requests(w: World, role: str, kind: str, action: str) -> set[str]:
    """Tickets, tasks and notifications ``role`` may ``action``, per the intended policy.

    The desk (county, town, community and grid staff, and the joint branch) coordinates the
    requests of its subtree or compound; the owners' committee watches its compound's; a
    member unit sees only the requests dispatched to it and acts only on its own tasks; a
    resident sees what they reported or joined; a volunteer has no part in requests. Nobody
    reads another person's notifications.
    """
    if role == "superuser":
        return w.labels(kind)
    if role in ("no_grant", "inactive_admin", "anonymous"):
        return set()

    if kind == "notification":
        # Every role has an inbox: they read it and mark it read. The county administrator's
        # "everything" is everything of their own.
        allowed = set(ACTIONS) if role == "county_admin" else {"view", "change"}
        return {f"n.{role}"} & w.labels(kind) if action in allowed else set()

    desk = {
        "county_admin": ("county", set(ACTIONS), set(ACTIONS)),
        "town_staff": ("townA", {"view", "change", "export", "reveal"}, {"view", "export"}),
        "community_staff": ("A1", {"view", "change", "export", "reveal"}, {"view", "export"}),
        "grid_worker": ("g1", {"view", "change", "export", "reveal"}, {"view", "export"}),
    }
    if role in desk:
        root, on_tickets, on_tasks = desk[role]
        allowed = on_tickets if kind == "ticket" else on_tasks
        return w.under(kind, w.area(root).path) if action in allowed else set()

    compound_roles = {
        # The joint branch verifies on site and follows up, but does not reveal the caller.
        "branch_secretary": ({"view", "change", "export"}, {"view", "export"}),
        "committee_member": ({"view"}, {"view"}),
    }
    if role in compound_roles:
        on_tickets, on_tasks = compound_roles[role]
        allowed = on_tickets if kind == "ticket" else on_tasks
        return w.in_compounds(kind, {"X"}) if action in allowed else set()

    if role == "unit_liaison":
        own_tasks = {label for label in w.labels("task") if label.endswith(".power")}
        if kind == "task":
            return own_tasks if action in ("view", "change", "export") else set()
        # The caller's contact stays masked for a unit: no reveal.
        return {ticket_of(t) for t in own_tasks} if action in ("view", "export") else set()

    if role == "resident":
        reported_or_joined = {"X.t1", "X.t2"}
        return reported_or_joined if kind == "ticket" and action == "view" else set()

    if role == "volunteer":
        return set()

    raise AssertionError(f"role {role} not covered for {kind}")


def expected_votes(w: World, role: str, action: str) -> set[str]:
    """Owners' decisions: area staff, the owners' committee and the joint branch run the
    votes of their compounds (grid workers collect ballots but do not export them); a
    volunteer and a resident see their compound's; member units have no part in them."""
    if role == "superuser" or role == "county_admin":
        return w.labels("decision")
    runs = {
        "town_staff": ({"X", "Y", "Z"}, {"view", "change", "export"}),
        "community_staff": ({"X", "Y"}, {"view", "change", "export"}),
        "grid_worker": ({"X"}, {"view", "change"}),
        "branch_secretary": ({"X"}, {"view", "change"}),
        "committee_member": ({"X"}, {"view", "change", "export"}),
        "volunteer": ({"X"}, {"view"}),
        "resident": ({"X"}, {"view"}),
    }
    if role not in runs:
        return set()
    compounds, allowed = runs[role]
    return w.in_compounds("decision", compounds) if action in allowed else set()


def expected_meetings(w: World, role: str, kind: str, action: str) -> set[str]:
    """Meetings and their action items: area staff convene and run the meetings of their
    subtree, the joint branch and the owners' committee those of their compound; a grid
    worker helps run (sign-in) the meetings of its grid's compounds; a member unit sees the
    meetings it is invited to and reports on the action items given to it; volunteers and
    residents see their compound's."""
    if role in ("superuser", "county_admin"):
        return w.labels(kind)
    on_meetings = {"view", "change", "export", "manage"}
    on_items = {"view", "change", "export"}
    runs: dict[str, tuple[set[str], set[str], set[str]]] = {
        # role: (labels of meetings, actions on meetings, actions on action items)
        "town_staff": ({"X.hall", "Y.hall", "Z.hall", "townA.joint"}, on_meetings, on_items),
        "community_staff": ({"X.hall", "Y.hall"}, on_meetings, on_items),
        "branch_secretary": ({"X.hall"}, on_meetings, on_items),
        "committee_member": ({"X.hall"}, on_meetings, on_items),
        "grid_worker": ({"X.hall"}, {"view", "change"}, {"view"}),
        "volunteer": ({"X.hall"}, {"view"}, {"view"}),
        "resident": ({"X.hall"}, {"view"}, {"view"}),
        "unit_liaison": ({"townA.joint"}, {"view"}, {"view", "change"}),
    }
    if role not in runs:
        return set()
    meetings, allowed_meetings, allowed_items = runs[role]
    if kind == "meeting":
        return meetings if action in allowed_meetings else set()
    return {f"{m}.ai" for m in meetings} if action in allowed_items else set()


def expected_volunteering(w: World, role: str, kind: str, action: str) -> set[str]:
    """Community projects, volunteer activities and service posts.

    Area staff start and steer the projects of their subtree (manage) and organise its
    activities and posts; the joint branch and the owners' committee run their compound's
    project (record money, milestones, disputes) but do not steer it; the branch organises
    activities and posts, the committee only sees them. A grid worker helps run the projects
    of its grid's compounds and keeps attendance at their activities and posts. A member unit
    sees the projects it takes part in (wherever they are) and the activities it organises,
    and no post. Volunteers and residents see their compound's projects, and the activities
    and posts of their compound or of their whole community. Nobody reveals or imports here.
    """
    if role in ("superuser", "county_admin"):
        return w.labels(kind)
    steer, run, help_, see = (
        {"view", "change", "export", "manage"},
        {"view", "change", "export"},
        {"view", "change"},
        {"view"},
    )
    projects: dict[str, tuple[set[str], set[str]]] = {
        "town_staff": ({"X", "Y", "Z"}, steer),
        "community_staff": ({"X", "Y"}, steer),
        "grid_worker": ({"X"}, help_),
        "branch_secretary": ({"X"}, run),
        "committee_member": ({"X"}, run),
        "unit_liaison": ({"X", "W"}, see),
        "volunteer": ({"X"}, see),
        "resident": ({"X"}, see),
    }
    # kind -> role -> (labels, actions); A1 is the whole-community activity or post.
    organised: dict[str, tuple[set[str], set[str]]] = {
        "town_staff": ({"X", "Y", "Z", "A1"}, steer),
        "community_staff": ({"X", "Y", "A1"}, steer),
        "grid_worker": ({"X"}, help_),
        "branch_secretary": ({"X", "A1"}, steer),
        "committee_member": ({"X", "A1"}, see),
        "volunteer": ({"X", "A1"}, see),
        "resident": ({"X", "A1"}, see),
    }
    if kind == "project":
        table = projects
    elif kind == "activity":
        table = organised | {"unit_liaison": ({"A1"}, see)}
    else:
        table = organised
    if role not in table:
        return set()
    places, allowed = table[role]
    return {f"{place}.{kind}" for place in places} if action in allowed else set()


def expected(w: World, role: str, kind: str, action: str) -> set[str]:
    """The labels of ``kind`` that ``role`` may ``action``, per the intended policy."""
    if kind in ("project", "activity", "post"):
        return expected_volunteering(w, role, kind, action)
    if kind in ("meeting", "actionitem"):
        return expected_meetings(w, role, kind, action)
    if kind == "decision":
        return expected_votes(w, role, action)
    if kind in REQUEST_KINDS:
        return expected_requests(w, role, kind, action)
    if role in ("superuser", "county_admin"):
        return w.labels(kind)
    if role in ("no_grant", "inactive_admin", "anonymous"):
        return set()

    if role in STAFF:
        root_label, compounds = STAFF[role]
        root = w.area(root_label).path
        if action == "manage":
            return set()
        if kind in HOUSING:
            allowed = {"view", "change", "export", "import"}
            if kind in ("owner", "resident"):
                allowed.add("reveal")
            return w.in_compounds(kind, compounds) if action in allowed else set()
        if kind in ("organisation", "membership", "person"):
            allowed = {"view", "change", "export"} | ({"reveal"} if kind == "person" else set())
            if action not in allowed:
                return set()
            inside = w.in_compounds(kind, compounds)
            # Member units are the county's public bodies: every staff role sees them and
            # their liaisons, but acts only on the bodies of its own subtree.
            if action == "view":
                inside |= MEMBER_UNIT_ROWS[kind]
            return inside
        if kind in ("area", "audit"):
            return w.under(kind, root) if action in ("view", "export") else set()
        if kind == "rolegrant":
            allowed = {"view"} | ({"change"} if role == "community_staff" else set())
            return w.under("rolegrant", root) if action in allowed else set()
        raise AssertionError(f"kind {kind} not covered for {role}")

    if role == "grid_worker":
        x = {"X"}  # the compounds linked to grid g1; Y shares the community, not the grid
        if kind in REGISTRY:
            allowed = {"view", "export"} | ({"change"} if kind == "channel" else set())
            return w.in_compounds(kind, x) if action in allowed else set()
        if kind in ("owner", "resident"):
            return w.in_compounds(kind, x) if action in ("view", "change", "reveal", "export") else set()
        if kind in ("organisation", "membership", "person"):
            if action != "view":
                return set()
            return w.in_compounds(kind, x) | MEMBER_UNIT_ROWS[kind]
        if kind == "area":
            return {"g1"} if action == "view" else set()
        return set()

    # Compound roles see their compound's community and grid (for addresses and breadcrumbs),
    # a liaison sees the county and its towns; nobody here acts on the area tree.
    if kind == "area":
        if action != "view":
            return set()
        return {"county", "townA", "townB"} if role == "unit_liaison" else {"A1", "g1"}

    x_orgs = w.in_compounds("organisation", {"X"}) | MEMBER_UNITS
    view_only = {
        "branch_secretary": (*REGISTRY, "owner", "resident"),  # masked: no reveal
        "committee_member": (*REGISTRY, "owner"),  # not the households
        "volunteer": ("compound", "building", "channel"),  # nothing personal
    }
    if role in view_only:
        if action != "view":
            return set()
        if kind == "organisation":
            return x_orgs
        if kind in ("membership", "person") and role != "volunteer":
            return w.in_compounds(kind, {"X"})  # who serves on the compound's bodies
        return w.in_compounds(kind, {"X"}) if kind in view_only[role] else set()

    if role == "resident":
        own_household = {
            "unit": {"X.u1"},
            "entrance": {"X.e1"},
            "resident": {"X.u1.r1", "X.u1.r2"},
            "ownership": {"X.u1.own"},
            "owner": {"X.u1.owner"},
        }
        if action == "change":
            return own_household["resident"] if kind == "resident" else set()
        if action != "view":
            return set()
        if kind in ("compound", "building", "channel"):
            return w.in_compounds(kind, {"X"})
        if kind == "organisation":
            return x_orgs
        return own_household.get(kind, set())

    if role == "unit_liaison":
        if kind == "organisation":
            return {"view": MEMBER_UNITS, "change": {"power"}}.get(action, set())
        if kind == "membership":
            return {"power.m"} if action in ("view", "change") else set()
        return set()

    raise AssertionError(f"role {role} not covered")


def scoped_labels(w: World, user, kind: str, action: str) -> set[str]:  # type: ignore[no-untyped-def]
    # Only this world's rows count: other test modules may have seeded the demo county.
    pks = scope(user, kind, action).filter(pk__in=w.pks(kind)).values_list("pk", flat=True)
    return {w.label_of(kind, pk) for pk in pks}


MATRIX = [
    pytest.param(role, kind, action, id=f"{role}-{kind}-{action}")
    for role in ROLES
    for kind in KINDS
    for action in ACTIONS
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "kind", "action"), MATRIX)
def test_scope_holds_exactly_what_the_role_may_act_on(world: World, role: str, kind: str, action: str):
    user = user_for(world, role)
    want = expected(world, role, kind, action)

    got = scoped_labels(world, user, kind, action)
    assert got == want, f"should not reach {sorted(got - want)}; should reach {sorted(want - got)}"

    # One object inside and one outside the scope, through can() and get_or_404().
    inside = sorted(want)[:1]
    outside = sorted(world.labels(kind) - want)[:1]
    for label in inside:
        obj = world.get(kind, label)
        assert can(user, action, obj), f"{role} cannot {action} {kind} {label}"
        assert get_or_404(user, kind, action, pk=obj.pk) == obj
    for label in outside:
        obj = world.get(kind, label)
        assert not can(user, action, obj), f"{role} can {action} {kind} {label}"
        with pytest.raises(PermissionDenied):
            get_or_404(user, kind, action, pk=obj.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ["superuser", "county_admin", "grid_worker", "no_grant", "anonymous"])
def test_a_missing_id_is_not_found_whoever_asks(world: World, role: str, kind: str):
    missing = max(world.pks(kind)) + 10_000
    with pytest.raises(Http404):
        get_or_404(user_for(world, role), kind, "view", pk=missing)


# ---- the scenarios the matrix exists for ------------------------------------------------


@pytest.mark.django_db
def test_a_grid_worker_cannot_open_another_grids_compound(world: World):
    grid_worker = world.users["grid_worker"]
    x, y = world.get("compound", "X"), world.get("compound", "Y")
    assert get_or_404(grid_worker, "compound", pk=x.pk) == x
    # Y lies in the same community as X, but in grid g2.
    with pytest.raises(PermissionDenied):
        get_or_404(grid_worker, "compound", pk=y.pk)
    assert not can(grid_worker, "export", y)


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["view", "change", "reveal", "export"])
def test_a_grid_worker_cannot_reach_another_grids_resident(world: World, action: str):
    grid_worker = world.users["grid_worker"]
    own, other = world.get("resident", "X.u1.r1"), world.get("resident", "Y.u1.r1")
    assert can(grid_worker, action, own)
    assert not can(grid_worker, action, other)
    with pytest.raises(PermissionDenied):
        get_or_404(grid_worker, "resident", action, pk=other.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [*HOUSING])
def test_a_member_unit_liaison_cannot_open_a_compounds_registry(world: World, kind: str):
    liaison = world.users["unit_liaison"]
    target = world.get(kind, sorted(world.in_compounds(kind, {"X"}))[0])
    assert not scope(liaison, kind, "view").filter(pk__in=world.pks(kind)).exists()
    with pytest.raises(PermissionDenied):
        get_or_404(liaison, kind, pk=target.pk)


@pytest.mark.django_db
def test_a_member_unit_liaison_sees_the_other_unit_but_acts_only_on_its_own(world: World):
    liaison = world.users["unit_liaison"]
    power, water = world.get("organisation", "power"), world.get("organisation", "water")
    assert get_or_404(liaison, "organisation", "change", pk=power.pk) == power
    assert get_or_404(liaison, "organisation", pk=water.pk) == water
    with pytest.raises(PermissionDenied):
        get_or_404(liaison, "organisation", "change", pk=water.pk)
    with pytest.raises(PermissionDenied):
        get_or_404(liaison, "membership", pk=world.get("membership", "water.m").pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "own", "other"),
    [
        ("unit", "X.u1", "X.u2"),
        ("resident", "X.u1.r2", "X.u2.r1"),
        ("ownership", "X.u1.own", "X.u2.own"),
        ("owner", "X.u1.owner", "X.u2.owner"),
    ],
)
def test_a_resident_cannot_open_another_household(world: World, kind: str, own: str, other: str):
    resident = world.users["resident"]
    mine, theirs = world.get(kind, own), world.get(kind, other)
    assert get_or_404(resident, kind, pk=mine.pk) == mine
    with pytest.raises(PermissionDenied):
        get_or_404(resident, kind, pk=theirs.pk)


@pytest.mark.django_db
def test_a_resident_may_correct_their_own_household_only(world: World):
    resident = world.users["resident"]
    assert can(resident, "change", world.get("resident", "X.u1.r2"))
    assert not can(resident, "change", world.get("resident", "X.u2.r1"))
    assert not can(resident, "reveal", world.get("resident", "X.u1.r2"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "seen", "unseen"),
    [("town_staff", {"X", "Y", "Z"}, {"W"}), ("community_staff", {"X", "Y"}, {"Z", "W"})],
)
def test_staff_see_their_subtree_and_nothing_beside_it(world: World, role: str, seen: set, unseen: set):
    user = world.users[role]
    assert scoped_labels(world, user, "compound", "view") == seen
    for label in unseen:
        with pytest.raises(PermissionDenied):
            get_or_404(user, "compound", pk=world.get("compound", label).pk)


@pytest.mark.django_db
def test_an_inactive_county_admin_sees_nothing(world: World):
    inactive = world.users["inactive_admin"]
    for kind in KINDS:
        assert not scope(inactive, kind, "view").filter(pk__in=world.pks(kind)).exists(), kind


# ---- resident requests --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_unit_sees_requests_only_through_its_own_tasks(world: World):
    liaison = world.users["unit_liaison"]
    # W.t1 lies in town B, far from anything else of this liaison's: the task is what counts.
    for label in ("X.t1", "W.t1"):
        ticket = world.get("ticket", label)
        assert get_or_404(liaison, "ticket", pk=ticket.pk) == ticket
    for label in ("Y.t1", "X.t2"):  # water's request, and one not dispatched at all
        with pytest.raises(PermissionDenied):
            get_or_404(liaison, "ticket", pk=world.get("ticket", label).pk)
    assert not can(liaison, "change", world.get("ticket", "X.t1"))
    assert not can(liaison, "reveal", world.get("ticket", "X.t1"))


@pytest.mark.django_db
def test_a_member_unit_acts_on_its_own_task_and_not_on_the_co_units(world: World):
    liaison = world.users["unit_liaison"]
    ticket = world.get("ticket", "X.t1")
    own, co_unit = world.get("task", "X.t1.power"), world.get("task", "X.t1.water")
    assert actor_classes(liaison, ticket, own) == {W.UNIT}
    assert actor_classes(liaison, ticket, co_unit) == set()
    with pytest.raises(PermissionDenied):
        get_or_404(liaison, "task", "change", pk=co_unit.pk)


@pytest.mark.django_db
def test_the_desk_is_the_grid_or_the_area_above_it(world: World):
    ticket = world.get("ticket", "X.t1")
    for role in ("grid_worker", "community_staff", "town_staff", "county_admin", "branch_secretary"):
        assert W.DESK in actor_classes(world.users[role], ticket), role
    for role in ("committee_member", "volunteer", "unit_liaison"):
        assert W.DESK not in actor_classes(world.users[role], ticket), role


@pytest.mark.django_db
def test_a_grid_worker_cannot_open_another_grids_request_nor_a_street_of_the_community(world: World):
    grid_worker, community_staff = world.users["grid_worker"], world.users["community_staff"]
    for label in ("Y.t1", "A1.street"):
        ticket = world.get("ticket", label)
        with pytest.raises(PermissionDenied):
            get_or_404(grid_worker, "ticket", pk=ticket.pk)
        assert get_or_404(community_staff, "ticket", "change", pk=ticket.pk) == ticket


@pytest.mark.django_db
def test_a_resident_sees_what_they_reported_or_joined_and_changes_nothing(world: World):
    resident = world.users["resident"]
    reported, joined = world.get("ticket", "X.t1"), world.get("ticket", "X.t2")
    assert get_or_404(resident, "ticket", pk=joined.pk) == joined
    assert actor_classes(resident, reported) == {W.REPORTER}
    assert actor_classes(resident, joined) == set()  # joining is not reporting
    with pytest.raises(PermissionDenied):
        get_or_404(resident, "ticket", "change", pk=reported.pk)
    with pytest.raises(PermissionDenied):
        get_or_404(resident, "ticket", pk=world.get("ticket", "Y.t1").pk)
    assert not scope(resident, "task", "view").filter(pk__in=world.pks("task")).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["county_admin", "grid_worker", "community_staff", "volunteer"])
def test_nobody_reads_another_persons_notifications(world: World, role: str):
    other = world.get("notification", "n.resident")
    with pytest.raises(PermissionDenied):
        get_or_404(world.users[role], "notification", pk=other.pk)
    assert not can(world.users[role], "change", other)
