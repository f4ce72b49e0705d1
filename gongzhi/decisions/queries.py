"""Read-side queries of a vote: live progress by building and the units not yet voted.

Progress reads the electorate and the derived current ballots with grouped queries; the
legal count never uses these (it recomputes from the entries, see ``counting``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from gongzhi.decisions.models import BallotEntry, CurrentBallot, Decision, Elector
from gongzhi.housing.models import Unit


@dataclass
class BuildingProgress:
    building_id: int
    number: str
    units: int
    voted_units: int
    area: Decimal
    voted_area: Decimal
    owners: int
    voted_owners: int

    @property
    def area_pct(self) -> Decimal:
        return _pct(self.voted_area, self.area)

    @property
    def owners_pct(self) -> Decimal:
        return _pct(Decimal(self.voted_owners), Decimal(self.owners))


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"))


def _counted(decision: Decision) -> Q:
    return Q() if decision.include_parking else ~Q(kind=Unit.Kind.PARKING)


@dataclass(frozen=True)
class _Electorate:
    """The frozen electorate of a decision, indexed for progress: it never changes once
    voting opens, so it is read once per process and kept."""

    buildings: list[tuple[int, str]]  # (building id, number), in order
    units: list[int]  # counted units per building
    areas: list[int]  # counted area per building, in hundredths of m²
    owners: list[int]  # distinct owners per building
    total_owners: int
    # elector id -> (building index, owner index, area in hundredths)
    index: dict[int, tuple[int, int, int]]


_FROZEN: dict[tuple[int, str, bool], _Electorate] = {}
_FROZEN_MAX = 16
# id of a cached electorate -> (chain length, progress computed at that length)
_PROGRESS: dict[int, tuple[int, tuple[list[BuildingProgress], BuildingProgress]]] = {}


def _electorate(decision: Decision) -> _Electorate:
    # The creation time tells a decision from an earlier one that had the same id (SQLite
    # reuses the ids of rolled-back rows).
    key = (decision.pk, decision.created_at.isoformat(), decision.include_parking)
    cached = _FROZEN.get(key)
    if cached is not None:
        return cached
    positions: dict[int, int] = {}
    buildings: list[tuple[int, str]] = []
    owner_no: dict[str, int] = {}
    building_owners: list[set[int]] = []
    units: list[int] = []
    areas: list[int] = []
    index: dict[int, tuple[int, int, int]] = {}
    rows = (
        Elector.objects.filter(decision=decision)
        .filter(_counted(decision))
        .order_by("building_id", "id")
        .values_list("id", "building_id", "building__number", "owner_key", "area_m2")
    )
    for elector_id, building_id, number, owner_key, area in rows.iterator(chunk_size=5000):
        b = positions.get(building_id)
        if b is None:
            b = positions[building_id] = len(buildings)
            buildings.append((building_id, number))
            building_owners.append(set())
            units.append(0)
            areas.append(0)
        o = owner_no.setdefault(owner_key, len(owner_no))
        hundredths = int(Decimal(area) * 100)
        units[b] += 1
        areas[b] += hundredths
        building_owners[b].add(o)
        index[elector_id] = (b, o, hundredths)
    frozen = _Electorate(
        buildings=buildings,
        units=units,
        areas=areas,
        owners=[len(s) for s in building_owners],
        total_owners=len(owner_no),
        index=index,
    )
    if decision.state != Decision.State.DRAFT and decision.state != Decision.State.NOTICE:
        if len(_FROZEN) >= _FROZEN_MAX:
            _PROGRESS.pop(id(_FROZEN.pop(next(iter(_FROZEN)))), None)
        _FROZEN[key] = frozen
    return frozen


def _hundredths(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def progress(decision: Decision) -> tuple[list[BuildingProgress], BuildingProgress]:
    """Participation by building (area and heads) and for the whole electorate.

    Heads in a building are the distinct owners holding units there; the total counts each
    owner once (an owner with flats in two buildings appears in both rows but once in the
    total), and all developer-held units are one owner. Only the ids of the units whose
    ballot counts now are read per call; the rest is the frozen electorate.
    """
    frozen = _electorate(decision)
    # Current ballots change only when an entry is appended, which lengthens the chain: the
    # same chain length means the same progress.
    length = Decision.objects.filter(pk=decision.pk).values_list("chain_length", flat=True).first() or 0
    seen = _PROGRESS.get(id(frozen))
    if seen is not None and seen[0] == length:
        return seen[1]
    n = len(frozen.buildings)
    voted_units, voted_areas = [0] * n, [0] * n
    voted_owners: list[set[int]] = [set() for _ in range(n)]
    everyone: set[int] = set()
    index = frozen.index
    voted = (
        CurrentBallot.objects.filter(decision=decision)
        .exclude(choice="")
        .values_list("elector_id", flat=True)
    )
    for elector_id in voted.iterator(chunk_size=10000):
        found = index.get(elector_id)
        if found is None:  # a parking space that does not vote
            continue
        b, o, hundredths = found
        voted_units[b] += 1
        voted_areas[b] += hundredths
        voted_owners[b].add(o)
        everyone.add(o)
    buildings = [
        BuildingProgress(
            building_id=building_id,
            number=number,
            units=frozen.units[b],
            voted_units=voted_units[b],
            area=_hundredths(frozen.areas[b]),
            voted_area=_hundredths(voted_areas[b]),
            owners=frozen.owners[b],
            voted_owners=len(voted_owners[b]),
        )
        for b, (building_id, number) in enumerate(frozen.buildings)
    ]
    overall = BuildingProgress(
        building_id=0,
        number="",
        units=sum(frozen.units),
        voted_units=sum(voted_units),
        area=_hundredths(sum(frozen.areas)),
        voted_area=_hundredths(sum(voted_areas)),
        owners=frozen.total_owners,
        voted_owners=len(everyone),
    )
    if decision.state != Decision.State.DRAFT and decision.state != Decision.State.NOTICE:
        _PROGRESS[id(frozen)] = (length, (buildings, overall))
    return buildings, overall


def not_voted(decision: Decision, building_id: int | None = None) -> Any:
    """Units with no ballot that counts yet, by building and unit, for door-knocking."""
    qs = (
        Elector.objects.filter(decision=decision)
        .filter(_counted(decision))
        .exclude(current__choice__gt="")
        .select_related("building")
        .order_by("building_id", "label")
    )
    if building_id:
        qs = qs.filter(building_id=building_id)
    return qs


def conflicts(decision: Decision) -> Any:
    """Units holding both an online and a paper-type ballot: staff see which one counts."""
    return CurrentBallot.objects.filter(decision=decision, conflict=True).select_related("elector", "entry")


def unit_history(elector: Elector) -> list[BallotEntry]:
    return list(BallotEntry.objects.filter(elector=elector).select_related("recorded_by").order_by("seq"))
