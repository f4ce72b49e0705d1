"""Possible duplicates: open requests about the same thing in the same place.

The resident's intake page shows them while the resident types, so the resident can say
"me too" instead of filing the same request again; the desk sees them on a ticket's page as
merge suggestions. What the resident sees is public: a short title with phone-like numbers
masked, the category, the state and the "me too" count, never who reported it.

The work is bounded whatever the size of the county: one indexed query for the building and
one for the rest of the compound (``Ticket`` is indexed on ``(compound, state)``), together
at most ``FETCH`` recent open requests, then scored in Python by character n-grams
(``gongzhi.tickets.similarity``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from gongzhi.core.masking import mask_phone
from gongzhi.housing.models import Building
from gongzhi.orgs import policy
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.similarity import similarity

WINDOW = dt.timedelta(days=90)  # older open requests are rarely the same event
FETCH = 200  # recent open requests scored per call, at most
THRESHOLD = 0.25  # below this the texts are about different things
SAME_CATEGORY_BONUS = 0.1  # the resident chose the same category: more likely the same thing
TEXT_LIMIT = 300  # characters compared; the start of a request says what it is about
TITLE_LENGTH = 30

_LONG_NUMBER = re.compile(r"\d{7,}")


@dataclass(frozen=True)
class Candidate:
    """An open request that may be the same as the one being filed; public data only."""

    id: int
    token: str
    title: str
    category: str
    state: str
    state_label: str
    supporters_count: int
    created_at: dt.datetime
    score: float
    same_building: bool


def public_title(description: str) -> str:
    """The first words of a request as the public may see them: phone-like numbers masked."""
    text = _LONG_NUMBER.sub(lambda m: mask_phone(m.group()), " ".join(description.split()))
    return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"


def _recent_open(base: QuerySet[Ticket], since: dt.datetime, exclude_id: int | None) -> QuerySet[Ticket]:
    qs = base.filter(
        state__in=W.OPEN_STATES, merged_into__isnull=True, unreasonable=False, created_at__gte=since
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.select_related("category").only(
        "id",
        "token",
        "description",
        "state",
        "supporters_count",
        "created_at",
        "building_id",
        "category_id",
        "category__name",
    )


def _find(
    base: QuerySet[Ticket],
    *,
    text: str,
    compound_id: int | None,
    building_id: int | None,
    category_id: int | None,
    limit: int,
    exclude_id: int | None = None,
) -> list[Candidate]:
    text = text[:TEXT_LIMIT]
    if not text.strip() or limit <= 0:
        return []
    if compound_id is None and building_id is not None:
        compound_id = Building.objects.filter(pk=building_id).values_list("compound_id", flat=True).first()
    if compound_id is None:
        return []  # a place outside any compound: nothing to compare with nearby
    since = timezone.now() - WINDOW
    recent = _recent_open(base.filter(compound_id=compound_id), since, exclude_id).order_by(
        "-created_at", "-id"
    )
    rows: list[Ticket] = []
    if building_id is not None:
        rows = list(recent.filter(building_id=building_id)[:FETCH])
        if len(rows) < FETCH:
            rows += list(recent.exclude(building_id=building_id)[: FETCH - len(rows)])
    else:
        rows = list(recent[:FETCH])

    found: list[Candidate] = []
    for ticket in rows:
        score = similarity(text, ticket.description[:TEXT_LIMIT])
        if category_id is not None and ticket.category_id == category_id:
            score = min(1.0, score + SAME_CATEGORY_BONUS)
        if score < THRESHOLD:
            continue
        found.append(
            Candidate(
                id=ticket.pk,
                token=ticket.token,
                title=public_title(ticket.description),
                category=ticket.category.name,
                state=ticket.state,
                state_label=str(W.State(ticket.state).label),
                supporters_count=ticket.supporters_count,
                created_at=ticket.created_at,
                score=round(score, 3),
                same_building=building_id is not None and ticket.building_id == building_id,
            )
        )
    found.sort(key=lambda c: (not c.same_building, -c.score, -c.created_at.timestamp(), -c.id))
    return found[: min(limit, FETCH)]


def candidates(
    *,
    text: str,
    compound_id: int | None,
    building_id: int | None,
    category_id: int | None = None,
    limit: int = 5,
) -> list[Candidate]:
    """Open requests of the last 90 days the resident's text may duplicate: those of the same
    building first, then the rest of the compound, each best match first.

    Anyone may call it (the public intake page does). Requests of categories closed to public
    intake and requests marked unreasonable are left out: they are not ones to join.
    """
    base = Ticket.objects.exclude(category__ticket_setting__public=False)
    return _find(
        base,
        text=text,
        compound_id=compound_id,
        building_id=building_id,
        category_id=category_id,
        limit=limit,
    )


def staff_candidates(ticket: Ticket, *, user: Any = None, limit: int = 5) -> list[Candidate]:
    """Open requests ``ticket`` may duplicate, for the desk's merge suggestions.

    With ``user``, only requests the user may change (so may merge into) are suggested.
    """
    base = policy.scope(user, "ticket", policy.CHANGE) if user is not None else Ticket.objects.all()
    return _find(
        base,
        text=ticket.description,
        compound_id=ticket.compound_id,
        building_id=ticket.building_id,
        category_id=ticket.category_id,
        limit=limit,
        exclude_id=ticket.pk,
    )
