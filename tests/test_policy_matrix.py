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
)
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


def expected(w: World, role: str, kind: str, action: str) -> set[str]:
    """The labels of ``kind`` that ``role`` may ``action``, per the intended policy."""
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
