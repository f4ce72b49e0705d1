"""State changes of areas, organisations and role grants. Each runs in one transaction
and leaves an audit event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change, snapshot
from gongzhi.orgs.models import LEVEL_ORDER, Area, Organisation, Role, RoleGrant
from gongzhi.orgs.policy import AREA_ROLES, COMPOUND_ROLES, ROLE_LEVEL, UNIT_ROLES


def area_path(parent: Area | None, code: str) -> str:
    return (parent.path if parent else "/") + code + "/"


@transaction.atomic
def create_area(actor: Any, *, code: str, name: str, level: str, parent: Area | None) -> Area:
    """Add a node to the area tree. A county has no parent; every other level sits directly
    under the level above it. Callers: county administrators (and the demo seeder)."""
    expected_parent = (
        LEVEL_ORDER[LEVEL_ORDER.index(Area.Level(level)) - 1] if level != Area.Level.COUNTY else None
    )
    if expected_parent is None and parent is not None:
        raise ValidationError({"parent": _("A county has no parent area.")})
    if expected_parent is not None and (parent is None or parent.level != expected_parent):
        raise ValidationError(
            {
                "parent": _("A %(level)s must sit under a %(parent)s.")
                % {"level": Area.Level(level).label, "parent": Area.Level(expected_parent).label}
            }
        )
    if not code.isalnum():
        raise ValidationError({"code": _("An area code may contain only letters and digits.")})
    area = Area.objects.create(
        code=code,
        name=name,
        level=level,
        parent=parent,
        path=area_path(parent, code),
        depth=0 if parent is None else parent.depth + 1,
    )
    record_change(actor, "orgs.area.create", area, after=snapshot(area, ["code", "name", "level", "path"]))
    return area


def check_grant_node(
    role: str, *, area: Area | None, compound: Any, organisation: Organisation | None
) -> None:
    """Refuse a grant whose node does not fit the role (a grid worker on a town, …)."""
    if sum(x is not None for x in (area, compound, organisation)) != 1:
        raise ValidationError(_("A role is granted on exactly one area, compound or member unit."))
    if area is not None:
        if role not in AREA_ROLES:
            raise ValidationError({"role": _("This role cannot be granted on an area.")})
        level = ROLE_LEVEL.get(Role(role))
        if level is not None and area.level != level:
            raise ValidationError(
                {
                    "area": _("%(role)s is granted on a %(level)s.")
                    % {"role": Role(role).label, "level": Area.Level(level).label}
                }
            )
    if compound is not None and role not in COMPOUND_ROLES:
        raise ValidationError({"role": _("This role cannot be granted on a compound.")})
    if organisation is not None:
        if role not in UNIT_ROLES:
            raise ValidationError({"role": _("This role cannot be granted on a member unit.")})
        if organisation.kind != Organisation.Kind.MEMBER_UNIT:
            raise ValidationError({"organisation": _("Liaison roles are granted on a member unit.")})


@transaction.atomic
def grant_role(
    actor: Any,
    user: Any,
    role: str,
    *,
    area: Area | None = None,
    compound: Any = None,
    organisation: Organisation | None = None,
    reason: str = "",
) -> RoleGrant:
    """Grant ``role`` to ``user`` on one node. Callers: county admins and community staff
    (the view checks ``manage`` on the node through the policy)."""
    check_grant_node(role, area=area, compound=compound, organisation=organisation)
    grant = RoleGrant.objects.create(
        user=user,
        role=role,
        area=area,
        compound=compound,
        organisation=organisation,
        granted_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_change(
        actor,
        "orgs.role.grant",
        grant,
        after={"user": user.get_username(), "role": role, "node": str(grant.node)},
        reason=reason,
    )
    return grant


@transaction.atomic
def revoke_role(actor: Any, grant: RoleGrant, *, reason: str = "") -> RoleGrant:
    """End a grant; the row stays as the record of who held the role and when."""
    grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        record_change(actor, "orgs.role.revoke", grant, before={"revoked_at": None}, reason=reason)
    return grant
