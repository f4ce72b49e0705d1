"""Default handling of requests: time limits, category settings, routing rules, questions.

Used by the demo seed and by ``gongzhi seed-demo``; a deployment edits all of these in the
admin (county staff) afterwards.
"""

from __future__ import annotations

from gongzhi.demo import county as C
from gongzhi.orgs.models import Area, Organisation, ServiceCategory
from gongzhi.tickets.models import CategoryQuestion, CategorySetting, RoutingRule, TimeLimit


def seed_ticket_settings() -> dict[str, int]:
    """Create the time limits, category settings, routing rules and questions (idempotent)."""
    limits = {}
    for code, name, accept_hours, resolve_hours in C.TIME_LIMITS:
        limits[code], _ = TimeLimit.objects.get_or_create(
            code=code, defaults={"name": name, "accept_hours": accept_hours, "resolve_hours": resolve_hours}
        )
    cats = {c.code: c for c in ServiceCategory.objects.all()}
    units = {u.code: u for u in Organisation.objects.filter(kind=Organisation.Kind.MEMBER_UNIT)}
    rules = 0
    for code, (limit, photo, lead, co) in C.TICKET_ROUTING.items():
        if code not in cats or lead not in units:
            continue
        CategorySetting.objects.get_or_create(
            category=cats[code], defaults={"time_limit": limits[limit], "photo_required": photo}
        )
        rule, created = RoutingRule.objects.get_or_create(
            category=cats[code], area=None, defaults={"lead_unit": units[lead]}
        )
        if created:
            rule.co_units.set([units[c] for c in co if c in units])
            rules += 1
    for town_code, code, lead, co in C.TOWN_ROUTING:
        town = Area.objects.filter(code=town_code).first()
        if town is None or code not in cats:
            continue
        rule, created = RoutingRule.objects.get_or_create(
            category=cats[code], area=town, defaults={"lead_unit": units[lead]}
        )
        if created:
            rule.co_units.set([units[c] for c in co])
            rules += 1
    questions = 0
    for code, items in C.CATEGORY_QUESTIONS.items():
        for order, (qcode, label, datatype, required, choices) in enumerate(items):
            _, created = CategoryQuestion.objects.get_or_create(
                category=cats[code],
                code=qcode,
                defaults={
                    "label": label,
                    "datatype": datatype,
                    "required": required,
                    "choices": [{"key": k, "name": n} for k, n in choices],
                    "order": order,
                },
            )
            questions += created
    return {"time_limits": len(limits), "routing_rules": rules, "category_questions": questions}
