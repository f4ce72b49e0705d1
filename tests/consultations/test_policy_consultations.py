"""Role × {consultation, opinion} × action over the small county of ``tests/policy_world``.

Written from the intended policy, not from ``RULES``: area staff organise consultations
that lie wholly in their area and reach the others through their own compounds; grid
workers and the joint branch work in their compounds; the owners' committee sees its
compound's opinions and answers those assigned to it; a member unit reaches only the
opinions assigned to it; residents and volunteers take part through the public pages.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from gongzhi.consultations.models import Consultation, Opinion, OpinionCategory, ScopeItem
from gongzhi.orgs.policy import can, get_or_404, scope
from tests.policy_world import World, build_world

ACTIONS = ("view", "change", "export", "reveal", "import", "manage")
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
ALL_C = {"cX", "cXZ", "cW"}
ALL_O = {"oX.power", "oX.committee", "oZ", "oW.water", "oTown"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        w = build_world()
        now = timezone.now()
        category, _ = OpinionCategory.objects.get_or_create(code="other", defaults={"name": "其他"})

        def consultation(label: str, compounds: list[str], path: str) -> Consultation:
            c = Consultation.objects.create(title=label, area_path=path, created_at=now, state="open")
            for name in compounds:
                ScopeItem.objects.create(consultation=c, compound=w.get("compound", name))
            w.add("consultation", label, c)
            return c

        cx = consultation("cX", ["X"], w.area("A1").path)
        cxz = consultation("cXZ", ["X", "Z"], w.area("townA").path)
        cw = consultation("cW", ["W"], w.area("B1").path)

        def opinion(label: str, of: Consultation, compound: str | None, assignee: str | None) -> None:
            c = w.get("compound", compound) if compound else None
            o = Opinion.objects.create(
                consultation=of,
                compound=c,
                category=category,
                text=label,
                source="meeting",
                assignee=w.get("organisation", assignee) if assignee else None,
                area_path=c.area_path if c else of.area_path,
                created_at=now,
            )
            w.add("opinion", label, o)

        opinion("oX.power", cx, "X", "power")
        opinion("oX.committee", cxz, "X", "X.committee")
        opinion("oZ", cxz, "Z", None)
        opinion("oW.water", cw, "W", "water")
        opinion("oTown", cxz, None, None)
    try:
        yield w
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def expected(role: str, kind: str, action: str) -> set[str]:
    everything = ALL_C if kind == "consultation" else ALL_O
    if role in ("superuser", "county_admin"):
        return everything
    if action in ("reveal", "import"):
        return set()
    staff = {
        # role: (consultations reached, consultations organised, opinions reached)
        "town_staff": ({"cX", "cXZ"}, {"cX", "cXZ"}, {"oX.power", "oX.committee", "oZ", "oTown"}),
        "community_staff": ({"cX", "cXZ"}, {"cX"}, {"oX.power", "oX.committee"}),
    }
    if role in staff:
        reached, organised, opinions = staff[role]
        if kind == "consultation":
            return organised if action == "manage" else reached
        return opinions
    field = {"grid_worker", "branch_secretary"}
    if role in field:
        if action == "manage":
            return set()
        if kind == "consultation":
            return {"cX", "cXZ"}
        return {"oX.power", "oX.committee"} if action in ("view", "change") else set()
    if role == "committee_member":
        if kind == "consultation":
            return {"cX", "cXZ"} if action == "view" else set()
        return {"view": {"oX.power", "oX.committee"}, "change": {"oX.committee"}}.get(action, set())
    if role == "unit_liaison":
        if kind == "consultation":
            return {"cX"} if action == "view" else set()
        return {"oX.power"} if action in ("view", "change") else set()
    return set()  # volunteers, residents, no grant, inactive, anonymous


def user_for(world: World, role: str):  # type: ignore[no-untyped-def]
    return AnonymousUser() if role == "anonymous" else world.users[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["consultation", "opinion"])
@pytest.mark.parametrize("action", ACTIONS)
def test_scope_holds_exactly_what_the_role_may_act_on(world, role, kind, action):
    user = user_for(world, role)
    want = expected(role, kind, action)
    pks = scope(user, kind, action).filter(pk__in=world.pks(kind)).values_list("pk", flat=True)
    got = {world.label_of(kind, pk) for pk in pks}
    assert got == want, f"should not reach {sorted(got - want)}; should reach {sorted(want - got)}"
    for label in sorted(want)[:1]:
        assert can(user, action, world.get(kind, label))
    for label in sorted(world.labels(kind) - want)[:1]:
        obj = world.get(kind, label)
        assert not can(user, action, obj)
        with pytest.raises(PermissionDenied):
            get_or_404(user, kind, action, pk=obj.pk)
