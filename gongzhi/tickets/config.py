"""County staff's settings for requests: routing rules and per-category handling.

Each change is one transaction with its audit event, like every other action.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Organisation, ServiceCategory
from gongzhi.tickets.models import CategorySetting, RoutingRule, TimeLimit


def may_configure(user: Any) -> bool:
    """Routing rules and time limits are the county's: county admins manage them."""
    return policy.has_any(user, "ticket", policy.MANAGE)


@transaction.atomic
def save_rule(
    actor: Any,
    *,
    category: ServiceCategory,
    area: Area | None,
    lead_unit: Organisation,
    co_units: Sequence[Organisation] = (),
) -> RoutingRule:
    """Create or replace the rule for a category (in an area, or county-wide)."""
    if not may_configure(actor):
        raise PermissionDenied
    if area is not None and area.level not in (Area.Level.TOWN, Area.Level.COMMUNITY, Area.Level.GRID):
        raise ValidationError(
            {"area": _("Choose a town, community or grid, or leave it empty for the county.")}
        )
    units = [lead_unit, *co_units]
    for unit in units:
        if unit.kind != Organisation.Kind.MEMBER_UNIT or not unit.is_active:
            raise ValidationError(
                {"lead_unit": _("%(unit)s is not an active member unit.") % {"unit": unit.name}}
            )
    rule = RoutingRule.objects.select_for_update().filter(category=category, area=area).first()
    before = None
    if rule is None:
        rule = RoutingRule.objects.create(category=category, area=area, lead_unit=lead_unit)
    else:
        before = {"lead": rule.lead_unit_id, "co": sorted(rule.co_units.values_list("pk", flat=True))}
        rule.lead_unit = lead_unit
        rule.save()
    rule.co_units.set([u for u in co_units if u.pk != lead_unit.pk])
    record_change(
        actor,
        "tickets.routing_rule.save",
        rule,
        before=before,
        after={
            "category": category.code,
            "area": area.code if area else None,
            "lead": lead_unit.pk,
            "co": sorted(u.pk for u in co_units if u.pk != lead_unit.pk),
        },
        area_path=area.path if area else "",
    )
    return rule


@transaction.atomic
def delete_rule(actor: Any, rule: RoutingRule) -> None:
    if not may_configure(actor):
        raise PermissionDenied
    if rule.area_id is None:
        raise ValidationError({"area": _("The county-wide rule can be changed but not removed.")})
    record_change(
        actor,
        "tickets.routing_rule.delete",
        rule,
        before={"lead": rule.lead_unit_id},
        area_path=rule.area.path if rule.area else "",
    )
    rule.delete()


@transaction.atomic
def save_category_setting(
    actor: Any, *, category: ServiceCategory, time_limit: TimeLimit, photo_required: bool
) -> CategorySetting:
    if not may_configure(actor):
        raise PermissionDenied
    setting, created = CategorySetting.objects.select_for_update().get_or_create(
        category=category, defaults={"time_limit": time_limit, "photo_required": photo_required}
    )
    before = (
        None if created else {"time_limit": setting.time_limit.code, "photo_required": setting.photo_required}
    )
    setting.time_limit, setting.photo_required = time_limit, photo_required
    setting.save()
    record_change(
        actor,
        "tickets.category_setting.save",
        setting,
        before=before,
        after={"time_limit": time_limit.code, "photo_required": photo_required},
        object_type="tickets.categorysetting",
    )
    return setting
