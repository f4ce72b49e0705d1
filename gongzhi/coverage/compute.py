"""Gathers the coverage facts from the database in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gongzhi.core.paths import under
from gongzhi.coverage.rules import BuildingFacts, Tally, pct, roll_up
from gongzhi.housing.models import Building, Compound, CompoundGrid, ServiceChannel
from gongzhi.orgs.models import Area, Organisation, Role, RoleGrant

LACK_LABELS = {
    "joint_branch": lambda: _("joint party branch"),
    "owners_committee": lambda: _("owners' committee"),
    "grid": lambda: _("grid"),
    "grid_worker": lambda: _("grid worker"),
    "channel": lambda: _("request channel"),
}


@dataclass
class Gap:
    compound_id: int
    compound_code: str
    compound_name: str
    building_id: int
    building_number: str
    community_path: str
    lacks: list[str]

    @property
    def lack_labels(self) -> list[str]:
        return [LACK_LABELS[item]() for item in self.lacks]


@dataclass
class CoverageReport:
    area: Area | None
    member_units: int
    owners_committees: int
    stand_in_committees: int
    joint_branches: int
    unmanaged_compounds: int
    tallies: dict[str, Tally]
    areas: dict[str, Area]
    gaps: list[Gap]
    total: Tally

    @property
    def rows(self) -> list[tuple[Area, Tally]]:
        return [(self.areas[p], t) for p, t in sorted(self.tallies.items()) if p in self.areas]

    def rows_below(self, levels: int = 2) -> list[tuple[Area, Tally, list[tuple[str, int]]]]:
        """Rows from the top area down ``levels`` levels, each with its labelled shortfalls."""
        rows = self.rows
        if not rows:
            return []
        top = self.area.depth if self.area is not None else min(a.depth for a, _t in rows)
        return [
            (a, t, [(LACK_LABELS[k](), n) for k, n in t.lacking.items() if n])
            for a, t in rows
            if a.depth <= top + levels
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "area": None
            if self.area is None
            else {"code": self.area.code, "name": self.area.name, "level": self.area.level},
            "member_units": self.member_units,
            "owners_committees": self.owners_committees,
            "stand_in_committees": self.stand_in_committees,
            "joint_branches": self.joint_branches,
            "unmanaged_compounds": self.unmanaged_compounds,
            "unmanaged_buildings": self.total.buildings,
            "covered_buildings": self.total.covered,
            "coverage_pct": self.total.pct,
            "lacking": self.total.lacking,
            "by_area": [
                {
                    "code": area.code,
                    "name": area.name,
                    "level": area.level,
                    "unmanaged_buildings": t.buildings,
                    "covered_buildings": t.covered,
                    "coverage_pct": t.pct,
                }
                for area, t in self.rows
            ],
            "gaps": [
                {
                    "compound_code": g.compound_code,
                    "compound": g.compound_name,
                    "building": g.building_number,
                    "lacks": g.lacks,
                }
                for g in self.gaps
            ],
        }


def _active_orgs(kind_filter: Q) -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind_filter, dissolved_on__isnull=True)


def compute_coverage(compounds: QuerySet[Compound], area: Area | None = None) -> CoverageReport:
    """Coverage of the unmanaged compounds in ``compounds`` (already scoped by the policy),
    optionally narrowed to one area's subtree."""
    if area is not None:
        if area.level == Area.Level.GRID:
            compounds = compounds.filter(id__in=CompoundGrid.objects.filter(grid=area).values("compound_id"))
        else:
            compounds = compounds.filter(under("area_path", area.path))
    unmanaged = compounds.filter(unmanaged=True)
    compound_rows = {
        cid: (code, name, path)
        for cid, code, name, path in unmanaged.values_list("id", "code", "name", "area_path")
    }
    compound_ids = unmanaged.values("id")
    buildings = list(
        Building.objects.filter(compound_id__in=compound_ids).values_list(
            "id", "compound_id", "number", "grid_id"
        )
    )
    if area is not None and area.level == Area.Level.GRID:
        buildings = [b for b in buildings if b[3] in (None, area.pk)]

    grids_of_compound: dict[int, list[int]] = {}
    for cid, gid in (
        CompoundGrid.objects.filter(compound_id__in=compound_ids)
        .order_by("id")
        .values_list("compound_id", "grid_id")
    ):
        grids_of_compound.setdefault(cid, []).append(gid)
    grid_ids = {gid for gids in grids_of_compound.values() for gid in gids} | {
        b[3] for b in buildings if b[3]
    }
    grid_paths = dict(Area.objects.filter(id__in=grid_ids).values_list("id", "path"))
    staffed_grids = set(
        RoleGrant.objects.filter(
            role=Role.GRID_WORKER, revoked_at__isnull=True, user__is_active=True, area_id__in=grid_ids
        ).values_list("area_id", flat=True)
    )

    branches = _active_orgs(Q(kind=Organisation.Kind.JOINT_BRANCH))
    branch_compounds = set(
        Organisation.covered_compounds.through.objects.filter(
            organisation__in=branches, compound_id__in=compound_ids
        ).values_list("compound_id", flat=True)
    ) | set(branches.filter(compound_id__in=compound_ids).values_list("compound_id", flat=True))
    branch_buildings = set(
        Organisation.covered_buildings.through.objects.filter(
            organisation__in=branches, building__compound_id__in=compound_ids
        ).values_list("building_id", flat=True)
    )
    committees = _active_orgs(Q(kind__in=Organisation.COMMITTEE_KINDS)).filter(compound_id__in=compound_ids)
    committee_compounds = set(committees.values_list("compound_id", flat=True))
    channels = ServiceChannel.objects.filter(compound_id__in=compound_ids, retired_at__isnull=True)
    compound_channels = set(channels.filter(building__isnull=True).values_list("compound_id", flat=True))
    building_channels = set(channels.filter(building__isnull=False).values_list("building_id", flat=True))

    facts: list[BuildingFacts] = []
    gaps: list[Gap] = []
    for bid, cid, number, own_grid in buildings:
        grid = own_grid or next(iter(grids_of_compound.get(cid, [])), None)
        code, name, community_path = compound_rows[cid]
        fact = BuildingFacts(
            building_id=bid,
            compound_id=cid,
            grid_path=grid_paths.get(grid) if grid else None,
            community_path=community_path,
            has_branch=cid in branch_compounds or bid in branch_buildings,
            has_committee=cid in committee_compounds,
            grid_has_worker=grid in staffed_grids,
            has_channel=cid in compound_channels or bid in building_channels,
        )
        facts.append(fact)
        missing = fact.lacks()
        if missing:
            gaps.append(Gap(cid, code, name, bid, number, community_path, missing))
    gaps.sort(key=lambda g: (g.community_path, g.compound_code, g.building_id))

    tallies = roll_up(facts)
    total = Tally()
    for fact in facts:
        total.buildings += 1
        total.covered += fact.covered
        for item in fact.lacks():
            total.lacking[item] += 1

    org_scope = Q(area__path__startswith=area.path) if area is not None else Q()
    scoped_committees = _active_orgs(Q(kind__in=Organisation.COMMITTEE_KINDS)).filter(compound__in=compounds)
    areas = {a.path: a for a in Area.objects.filter(path__in=list(tallies))}
    return CoverageReport(
        area=area,
        member_units=_active_orgs(Q(kind=Organisation.Kind.MEMBER_UNIT)).count(),
        owners_committees=scoped_committees.filter(kind=Organisation.Kind.OWNERS_COMMITTEE).count(),
        stand_in_committees=scoped_committees.exclude(kind=Organisation.Kind.OWNERS_COMMITTEE).count(),
        joint_branches=branches.filter(org_scope)
        .filter(
            Q(compound__in=compounds)
            | Q(covered_compounds__in=compounds)
            | Q(covered_buildings__compound__in=compounds)
        )
        .distinct()
        .count(),
        unmanaged_compounds=len(compound_rows),
        tallies=tallies,
        areas=areas,
        gaps=gaps,
        total=total,
    )


__all__ = ["CoverageReport", "Gap", "compute_coverage", "pct"]
