"""Registry lists page by id: every row once, in order, whatever the page size."""

from __future__ import annotations

import pytest
from django.db.models import Count

from gongzhi.core.pagination import keyset_page
from gongzhi.housing.models import Compound, Unit

pytestmark = pytest.mark.django_db


def test_walking_every_page_visits_every_row_once_in_order(demo_county):
    qs = Unit.objects.filter(compound__name="育才新村")
    seen: list[int] = []
    after = None
    while True:
        page = keyset_page(qs, after, 7, load=lambda rows: rows.select_related("building"))
        seen += [u.pk for u in page.rows]
        if not page.has_next:
            break
        after = page.next_after
    assert seen == list(qs.order_by("pk").values_list("pk", flat=True))


def test_the_loader_decorates_only_the_page_rows(demo_county):
    page = keyset_page(
        Compound.objects.filter(unmanaged=True),
        None,
        5,
        load=lambda rows: rows.annotate(n=Count("buildings")),
    )
    assert len(page.rows) == 5
    assert all(c.n == c.buildings.count() for c in page.rows)


@pytest.mark.parametrize(("size", "expected"), [("0", 1), ("-3", 1), ("abc", 50), ("100000", 200)])
def test_page_size_is_clamped(demo_county, size, expected):
    assert keyset_page(Unit.objects.all(), None, size).size == expected


def test_a_garbage_cursor_starts_at_the_beginning(demo_county):
    first = keyset_page(Unit.objects.all(), None, 3).rows
    assert keyset_page(Unit.objects.all(), "not-a-number", 3).rows == first
