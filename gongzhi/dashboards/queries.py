"""What the KPI page reads: whose KPIs a user may see, and the KPI tables from the rollups.

Every read is a handful of indexed rows of ``KpiRollup`` (one area, one dimension, the months
of the period), whatever the number of tickets behind them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from gongzhi.core.paths import under
from gongzhi.dashboards.kpi import COUNTERS, Kpis, Tally, kpis, ranking
from gongzhi.dashboards.models import KpiRollup
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Organisation, Role, ServiceCategory

UNIT, CATEGORY, GRID, COMMUNITY = "unit", "category", "grid", "community"
DIMENSIONS = (UNIT, CATEGORY, GRID, COMMUNITY)
# How far below their own area the filter offers areas (a county: its towns and communities).
CHOICE_DEPTH = 2


@dataclass
class KpiScope:
    """Whose KPIs a user reads. ``roots``: the highest areas they may choose. ``unit``: set for
    a unit liaison without an area grant, who sees their unit's row and the league only."""

    user: Any
    roots: list[Area]
    unit: Organisation | None = None

    @property
    def liaison_only(self) -> bool:
        return self.unit is not None

    def areas(self) -> QuerySet[Area]:
        """Every area the user may pick, through the policy's area scope."""
        allowed = policy.scoped_areas(self.user)
        if self.liaison_only:
            return allowed.filter(level__in=[Area.Level.COUNTY, Area.Level.TOWN])
        return allowed

    def choices(self) -> list[Area]:
        """Areas offered in the filter: each root and up to two levels below it."""
        if self.liaison_only:
            return list(self.areas().order_by("path"))
        picked: dict[int, Area] = {}
        for root in self.roots:
            below = self.areas().filter(under("path", root.path), depth__lte=root.depth + CHOICE_DEPTH)
            picked.update({a.pk: a for a in below})
        return sorted(picked.values(), key=lambda a: a.path)

    def area(self, code: str | None) -> Area | None:
        """The area with ``code`` if the user may read it; the first root when no code is given."""
        if not code:
            return self.roots[0] if self.roots else None
        area = self.areas().filter(code=code).first()
        if area is None or not any(area.path.startswith(r.path) for r in self.roots):
            return None
        return area


def kpi_scope(user: Any) -> KpiScope | None:
    """Who may read KPIs, and of which areas. Area staff (county, town, community, grid
    worker) read their area and everything below it; a member unit's liaison reads the
    county-wide league of units and their own unit's row. Compound-level roles (branch,
    committee, volunteers) and residents have no KPI page: area figures reach beyond them.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return KpiScope(user, list(Area.objects.filter(parent__isnull=True).order_by("path")))
    roots: list[Area] = []
    unit: Organisation | None = None
    for grant in policy.active_grants(user):
        if grant.area is not None and grant.role in policy.ROLE_LEVEL:
            if policy.allows(grant.role, "ticket", policy.VIEW):
                roots.append(grant.area)
        elif grant.organisation is not None and grant.role == Role.UNIT_LIAISON:
            unit = grant.organisation
    if roots:
        roots.sort(key=lambda a: a.path)
        kept: list[Area] = []
        for area in roots:
            if not any(area.path.startswith(k.path) for k in kept):
                kept.append(area)
        return KpiScope(user, kept)
    if unit is not None:
        counties = policy.scoped_areas(user).filter(level=Area.Level.COUNTY).order_by("path")
        return KpiScope(user, list(counties), unit=unit)
    return None


def may_view_kpis(user: Any) -> bool:
    """Whether ``user`` has a KPI page at all (for the menu): the same test as ``kpi_scope``
    without reading any area."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(
        (
            grant.area_id is not None
            and grant.role in policy.ROLE_LEVEL
            and policy.allows(grant.role, "ticket", policy.VIEW)
        )
        or (grant.organisation_id is not None and grant.role == Role.UNIT_LIAISON)
        for grant in policy.active_grants(user)
    )


# ------------------------------------------------------------------------------ periods


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_month(value: str | None) -> dt.date | None:
    """``"2026-03"`` → 2026-03-01; anything else → None."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return None


@dataclass(frozen=True)
class Period:
    """Whole months, ``start`` to ``end`` inclusive (both the first of their month)."""

    start: dt.date
    end: dt.date

    @classmethod
    def from_query(cls, params: Mapping[str, Any], today: dt.date) -> Period:
        """``from`` and ``to`` as YYYY-MM; by default the twelve months up to this one."""
        end = parse_month(params.get("to")) or month_start(today)
        start = parse_month(params.get("from")) or add_months(end, -11)
        if start > end:
            start, end = end, start
        return cls(start, end)

    @property
    def after_end(self) -> dt.date:
        return add_months(self.end, 1)


# ------------------------------------------------------------------------------ KPI tables


@dataclass
class KpiRow:
    key: int
    label: str
    tally: Tally
    kpis: Kpis
    rank: int | None = None


def weights() -> tuple[int, ...]:
    return tuple(settings.GONGZHI_KPI_WEIGHTS)


def min_count() -> int:
    return int(settings.GONGZHI_KPI_MIN_COUNT)


def _row(key: int, label: str, tally: Tally) -> KpiRow:
    return KpiRow(key, label, tally, kpis(tally, weights(), min_count()))


def read_tallies(
    area_ids: Iterable[int], dimension: str, period: Period, keys: Iterable[int] | None = None
) -> dict[tuple[int, int], Tally]:
    """Summed tallies by (area, key) over the months of ``period``."""
    rows = KpiRollup.objects.filter(
        area_id__in=list(area_ids), dimension=dimension, month__gte=period.start, month__lte=period.end
    )
    if keys is not None:
        rows = rows.filter(key__in=list(keys))
    out: dict[tuple[int, int], Tally] = defaultdict(Tally)
    for values in rows.values("area_id", "key", *COUNTERS, "sign_hist", "close_hist"):
        tally = out[(values["area_id"], values["key"])]
        counts = tally.counts
        for name in COUNTERS:
            counts[name] += values[name]
        for target, stored in (
            (tally.sign_hist, values["sign_hist"]),
            (tally.close_hist, values["close_hist"]),
        ):
            for bucket, n in (stored or {}).items():
                index = int(bucket)
                target[index] = target.get(index, 0) + n
    return out


def total_row(area: Area, period: Period) -> KpiRow:
    tally = read_tallies([area.pk], KpiRollup.Dimension.ALL, period).get((area.pk, 0), Tally())
    return _row(area.pk, area.name, tally)


def unit_rows(area: Area, period: Period, only: int | None = None) -> list[KpiRow]:
    """One row per member unit with work in the area and period, by name."""
    tallies = read_tallies([area.pk], KpiRollup.Dimension.UNIT, period, keys=None if only is None else [only])
    names = dict(Organisation.objects.filter(id__in=[k for _a, k in tallies]).values_list("id", "name"))
    rows = [_row(key, names.get(key, str(key)), tally) for (_a, key), tally in tallies.items()]
    return sorted(rows, key=lambda r: r.label)


def category_rows(area: Area, period: Period) -> list[KpiRow]:
    tallies = read_tallies([area.pk], KpiRollup.Dimension.CATEGORY, period)
    names = dict(ServiceCategory.objects.filter(id__in=[k for _a, k in tallies]).values_list("id", "name"))
    rows = [_row(key, names.get(key, str(key)), tally) for (_a, key), tally in tallies.items()]
    return sorted(rows, key=lambda r: r.label)


def area_rows(area: Area, level: str, period: Period) -> list[KpiRow]:
    """One row per grid (or community) at or below ``area``, in tree order."""
    below = list(Area.objects.filter(under("path", area.path), level=level).order_by("path"))
    tallies = read_tallies([a.pk for a in below], KpiRollup.Dimension.ALL, period)
    return [_row(a.pk, a.name, tallies[(a.pk, 0)]) for a in below if (a.pk, 0) in tallies]


def kpi_table(area: Area, dimension: str, period: Period) -> list[KpiRow]:
    if dimension == UNIT:
        return unit_rows(area, period)
    if dimension == CATEGORY:
        return category_rows(area, period)
    if dimension == GRID:
        return area_rows(area, Area.Level.GRID, period)
    if dimension == COMMUNITY:
        return area_rows(area, Area.Level.COMMUNITY, period)
    raise ValueError(f"unknown dimension {dimension!r}")


def league(rows: list[KpiRow]) -> list[KpiRow]:
    """Member units ranked by weighted score, best first; unscored units last."""
    by_key = {r.key: r for r in rows}
    ordered = []
    for rank, key in ranking({r.key: r.kpis.score for r in rows}):
        by_key[key].rank = rank
        ordered.append(by_key[key])
    return ordered
