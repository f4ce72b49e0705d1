"""Reads of consultations: the rates tables, the opinion counters, rounds, and which of a
consultation's compounds a user may work in. Everything a page shows starts here or at
``policy.scope``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from gongzhi.consultations.models import Consultation, Household, Opinion, Reply, ScopeItem, Willingness
from gongzhi.consultations.rates import Rates, Tally, Threshold
from gongzhi.housing.models import Building, Compound, Unit
from gongzhi.orgs import policy


def threshold_of(consultation: Consultation) -> Threshold:
    return Threshold(consultation.threshold_num, consultation.threshold_den)


@dataclass
class BuildingRow:
    building: Building
    rates: Rates


@dataclass
class CompoundRow:
    compound: Compound
    rates: Rates
    buildings: list[BuildingRow] = field(default_factory=list)

    @property
    def below(self) -> list[BuildingRow]:
        return [b for b in self.buildings if not b.rates.reached]


@dataclass
class RatesTable:
    overall: Rates
    compounds: list[CompoundRow]
    frozen: bool  # False for a draft: the counts are what the scope holds today

    @property
    def buildings_below(self) -> int:
        return sum(len(c.below) for c in self.compounds)

    @property
    def buildings_count(self) -> int:
        return sum(len(c.buildings) for c in self.compounds)


def _draft_counts(consultation: Consultation, compound_ids: list[int] | None) -> list[dict[str, Any]]:
    from gongzhi.consultations.actions import households_in_scope

    units = households_in_scope(consultation)
    if compound_ids is not None:
        units = units.filter(compound_id__in=compound_ids)
    return list(
        units.values("compound_id", "building_id")
        .annotate(households=Count("id"))
        .order_by("compound_id", "building_id")
    )


def rates_table(consultation: Consultation, compound_ids: list[int] | None = None) -> RatesTable:
    """Response and willingness per building, per compound and overall, in two queries.

    ``compound_ids`` limits the table to the compounds a user may see (None: all of them);
    the overall line then covers those compounds only.
    """
    threshold = threshold_of(consultation)
    frozen = consultation.state != Consultation.State.DRAFT
    if frozen:
        households = Household.objects.filter(consultation=consultation)
        if compound_ids is not None:
            households = households.filter(compound_id__in=compound_ids)
        rows = list(
            households.values("compound_id", "building_id")
            .annotate(
                households=Count("id"),
                willing=Count("id", filter=Q(willingness=Willingness.WILLING)),
                unwilling=Count("id", filter=Q(willingness=Willingness.UNWILLING)),
                undecided=Count("id", filter=Q(willingness=Willingness.UNDECIDED)),
            )
            .order_by("compound_id", "building_id")
        )
    else:
        rows = _draft_counts(consultation, compound_ids)
    buildings = Building.objects.in_bulk([r["building_id"] for r in rows])
    compounds = Compound.objects.in_bulk([r["compound_id"] for r in rows])
    by_compound: dict[int, CompoundRow] = {}
    total = Tally(0)
    for row in rows:
        tally = Tally(
            row["households"], row.get("willing", 0), row.get("unwilling", 0), row.get("undecided", 0)
        )
        total = total + tally
        entry = by_compound.get(row["compound_id"])
        if entry is None:
            entry = by_compound[row["compound_id"]] = CompoundRow(
                compounds[row["compound_id"]], Rates(Tally(0), threshold)
            )
        entry.rates = Rates(entry.rates.tally + tally, threshold)
        entry.buildings.append(BuildingRow(buildings[row["building_id"]], Rates(tally, threshold)))
    ordered = sorted(by_compound.values(), key=lambda c: (c.compound.area_path, c.compound.code))
    for entry in ordered:
        entry.buildings.sort(key=lambda b: (len(b.building.number), b.building.number))
    return RatesTable(Rates(total, threshold), ordered, frozen)


@dataclass
class OpinionCounts:
    total: int
    answered: int
    accepted: int
    explained: int
    rejected: int

    @property
    def pending(self) -> int:
        return self.total - self.answered


def opinion_counts(consultation: Consultation, opinions: QuerySet[Opinion] | None = None) -> OpinionCounts:
    qs = opinions if opinions is not None else Opinion.objects.filter(consultation=consultation)
    answered = Q(state=Opinion.State.ANSWERED)
    data = qs.aggregate(
        total=Count("id"),
        answered=Count("id", filter=answered),
        accepted=Count("id", filter=answered & Q(outcome="accepted")),
        explained=Count("id", filter=answered & Q(outcome="explained")),
        rejected=Count("id", filter=answered & Q(outcome="rejected")),
    )
    return OpinionCounts(**data)


def rounds_of(
    consultation: Consultation, visible: QuerySet[Consultation] | None = None
) -> list[Consultation]:
    """All rounds of the consultation's series, first to last."""
    root = consultation.series_id or consultation.pk
    qs = visible if visible is not None else Consultation.objects.all()
    return list(qs.filter(Q(pk=root) | Q(series_id=root)).order_by("round_number", "id"))


def scope_compounds(consultation: Consultation) -> list[Compound]:
    ids = ScopeItem.objects.filter(consultation=consultation).values("compound_id")
    return list(Compound.objects.filter(id__in=ids).order_by("area_path", "code"))


def compounds_within(user: Any, consultation: Consultation, action: str) -> list[Compound]:
    """The consultation's compounds in which ``user`` may do ``action`` (households, slips,
    non-responders, responses)."""
    return [c for c in scope_compounds(consultation) if policy.can_within(user, "consultation", action, c)]


def scope_label(consultation: Consultation) -> list[str]:
    """ "育才新村" for a whole compound, "东海新村 2幢、3幢" for some of its buildings."""
    parts: dict[int, tuple[str, list[str]]] = {}
    for item in consultation.scope_items.select_related("compound", "building").order_by(
        "compound__code", "id"
    ):
        name, numbers = parts.setdefault(item.compound_id, (item.compound.name, []))
        if item.building is not None:
            numbers.append(str(item.building.label))
    return [name if not numbers else f"{name} {'、'.join(numbers)}" for name, numbers in parts.values()]


def households(consultation: Consultation, compound_ids: list[int]) -> QuerySet[Household]:
    return (
        Household.objects.filter(consultation=consultation, compound_id__in=compound_ids)
        .select_related("unit__building", "unit__entrance", "compound")
        .order_by("compound__code", "building_id", "unit__entrance_id", "unit__floor", "unit__number", "id")
    )


_NUMBERS = re.compile(r"\d[\d\s-]{2,}\d|\d{3,}")


def public_text(reply: Reply) -> str:
    """The opinion as the public page shows it: the reply's summary, or the resident's words
    with every run of three or more digits (rooms, phone numbers) masked."""
    if reply.summary:
        return reply.summary
    return _NUMBERS.sub(lambda m: "*" * min(len(m.group(0)), 4), reply.opinion.text)


def published_replies(consultation: Consultation, limit: int = 300) -> list[Reply]:
    """The published replies of a consultation for its public page, newest first."""
    replies = list(
        Reply.objects.filter(opinion__consultation=consultation, state=Reply.State.PUBLISHED)
        .select_related("opinion__category", "opinion__compound", "opinion__building")
        .order_by("-published_at", "-id")[:limit]
    )
    for reply in replies:
        reply.public_text = public_text(reply)  # type: ignore[attr-defined]
    return replies


def unit_label(unit: Unit) -> str:
    return f"{unit.building.number}-{unit.entrance.number}-{unit.number}"
