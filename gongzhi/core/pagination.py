"""Keyset pagination: pages by "rows after this id", so page 5,000 costs what page 1 costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass
class KeysetPage:
    rows: list[Any]
    next_after: int | None
    after: int | None
    size: int

    @property
    def has_next(self) -> bool:
        return self.next_after is not None


def parse_int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def keyset_page(queryset: QuerySet, after: Any = None, size: Any = None) -> KeysetPage:
    """One page of ``queryset`` ordered by primary key, starting after the id ``after``."""
    page_size = min(max(parse_int(size, DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
    start = parse_int(after)
    qs = queryset.order_by("pk")
    if start is not None:
        qs = qs.filter(pk__gt=start)
    rows = list(qs[: page_size + 1])
    next_after = rows[page_size - 1].pk if len(rows) > page_size else None
    return KeysetPage(rows=rows[:page_size], next_after=next_after, after=start, size=page_size)
