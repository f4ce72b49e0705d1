"""Routing: from a request's place and category to its grid, branch, community and units.

Every decision is written out as a sentence for the ticket ("routed to 国网岱山县供电公司
because category 电力 in 高亭镇"), so staff can see why and fix the rule if it is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext as _

from gongzhi.housing.models import Building, Compound, Unit
from gongzhi.orgs.models import Area, Organisation, ServiceCategory
from gongzhi.tickets.models import RoutingRule


@dataclass
class Route:
    community: Area | None = None
    grid: Area | None = None
    county: Area | None = None
    joint_branch: Organisation | None = None
    lead_unit: Organisation | None = None
    co_units: list[Organisation] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def area_path(self) -> str:
        if self.grid is not None:
            return self.grid.path
        if self.community is not None:
            return self.community.path
        return self.county.path if self.county is not None else ""

    @property
    def note(self) -> str:
        return "\n".join(self.reasons)


def _place_areas(route: Route, compound: Compound | None, building: Building | None) -> None:
    if compound is None:
        return
    route.community = compound.community
    grid = building.grid if building is not None else None
    if grid is None:
        grids = list(compound.grids.all()[:2])
        grid = grids[0] if len(grids) == 1 else None
    route.grid = grid
    if grid is not None:
        where = f"{compound.name} {building.number}" if building is not None else compound.name
        route.reasons.append(
            _("Grid %(grid)s, because %(place)s lies in it.") % {"grid": grid.name, "place": where}
        )
    else:
        route.reasons.append(
            _("Community %(community)s, because %(compound)s belongs to it; no single grid.")
            % {"community": compound.community.name, "compound": compound.name}
        )
    branches = Organisation.objects.filter(kind=Organisation.Kind.JOINT_BRANCH, dissolved_on__isnull=True)
    # One query: a branch over this very building first, else one over the whole compound.
    covers = Q(covered_compounds=compound)
    first: Value | Case = Value(1)
    if building is not None:
        covers |= Q(covered_buildings=building)
        first = Case(When(covered_buildings=building, then=Value(0)), default=Value(1))
    branch = branches.filter(covers).annotate(first=first).order_by("first", "id").first()
    if branch is not None:
        route.joint_branch = branch
        route.reasons.append(_("Joint branch %(branch)s covers this place.") % {"branch": branch.name})


def _rule_for(category: ServiceCategory, path: str) -> RoutingRule | None:
    """The rule of the category (or its nearest parent) for the deepest area on ``path``."""
    codes = [c for c in path.strip("/").split("/") if c]
    node: ServiceCategory | None = category
    while node is not None:
        rules = {
            (r.area.code if r.area is not None else None): r
            for r in RoutingRule.objects.filter(category=node).select_related("area", "lead_unit", "category")
        }
        for code in reversed(codes):
            if code in rules:
                return rules[code]
        if None in rules:
            return rules[None]
        node = node.parent
    return None


def route(
    category: ServiceCategory,
    compound: Compound | None = None,
    building: Building | None = None,
    unit: Unit | None = None,
) -> Route:
    """Work out where a request goes. Pure reads; the caller stores the result."""
    if unit is not None:
        building = building or unit.building
        compound = compound or unit.compound
    if building is not None:
        compound = compound or building.compound
    result = Route()
    _place_areas(result, compound, building)
    if result.community is None:
        result.county = Area.objects.filter(parent__isnull=True).order_by("path").first()
        result.reasons.append(_("No compound given: the county desk places it."))
    rule = _rule_for(category, result.area_path)
    if rule is None:
        result.reasons.append(
            _("No routing rule for category %(category)s: the desk chooses the units.")
            % {"category": category.name}
        )
        return result
    result.lead_unit = rule.lead_unit
    result.co_units = [u for u in rule.co_units.all() if u.pk != rule.lead_unit_id]
    where = rule.area.name if rule.area is not None else _("the whole county")
    result.reasons.append(
        _("Routed to %(unit)s because category %(category)s in %(where)s.")
        % {"unit": rule.lead_unit.name, "category": rule.category.name, "where": where}
    )
    if result.co_units:
        result.reasons.append(
            _("Co-units: %(units)s, by the same rule.")
            % {"units": "、".join(u.name for u in result.co_units)}
        )
    return result
