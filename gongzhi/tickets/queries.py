"""Scoped ticket and task lists: what pages, the API, exports and benchmarks read.

Every list starts from ``policy.scope`` and pages by keyset, newest first, so a grid
worker's, a unit's and the county's lists cost the same at a million tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from gongzhi.core.pagination import KeysetPage, keyset_page
from gongzhi.orgs import policy
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Ticket

# Named filters offered on the list pages.
STATE_GROUPS: dict[str, frozenset[str]] = {
    "open": W.OPEN_STATES,
    "new": frozenset({W.State.REPORTED}),
    "with_units": W.WITH_UNITS,
    "to_verify": frozenset({W.State.REPLIED}),
    "to_follow_up": frozenset({W.State.CLOSED}),
    "done": frozenset({W.State.FOLLOWED_UP, W.State.ARCHIVED}),
    "ended": frozenset({W.State.REJECTED, W.State.WITHDRAWN, W.State.MERGED}),
}


@dataclass
class TicketFilters:
    group: str = ""
    category: int | None = None
    compound: int | None = None
    overdue: bool = False
    referred: bool = False

    @classmethod
    def from_query(cls, params: Any) -> TicketFilters:
        def number(name: str) -> int | None:
            try:
                return int(params.get(name) or "")
            except ValueError:
                return None

        group = params.get("group") or ""
        return cls(
            group=group if group in STATE_GROUPS else "",
            category=number("category"),
            compound=number("compound"),
            overdue=params.get("overdue") == "1",
            referred=params.get("referred") == "1",
        )

    def apply(self, qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.group:
            qs = qs.filter(state__in=STATE_GROUPS[self.group])
        if self.category:
            qs = qs.filter(Q(category_id=self.category) | Q(category__parent_id=self.category))
        if self.compound:
            qs = qs.filter(compound_id=self.compound)
        if self.overdue:
            qs = qs.filter(overdue=True)
        if self.referred:
            qs = qs.filter(referred=True)
        return qs


def _load_tickets(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.select_related("category", "compound", "building", "lead_unit", "grid")


def ticket_page(
    user: Any, filters: TicketFilters | None = None, after: Any = None, size: Any = None
) -> KeysetPage:
    """One page of the tickets ``user`` may see, newest first."""
    qs = policy.scope(user, "ticket", policy.VIEW)
    if filters is not None:
        qs = filters.apply(qs)
    return keyset_page(qs, after, size, load=_load_tickets, descending=True)


def task_page(
    user: Any, unit_id: int | None = None, active_only: bool = False, after: Any = None, size: Any = None
) -> KeysetPage:
    """One page of the unit tasks ``user`` may see (a liaison: their unit's), newest first."""
    qs = policy.scope(user, "task", policy.VIEW)
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    if active_only:
        qs = qs.filter(state__in=W.ACTIVE_TASK_STATES)
    return keyset_page(
        qs,
        after,
        size,
        load=lambda q: q.select_related("ticket", "ticket__category", "ticket__compound", "unit"),
        descending=True,
    )
