"""What Open311 shows, and how: the public services, tickets, updates and photos.

Everything here is public by construction. A ticket row carries the request's text, place,
category, state and the names of public bodies; never the reporter's name, phone, e-mail,
account or flat. Notes, dates and photos come only from events marked public (the ones
shown on the reporter's timeline). Categories closed to public intake are left out whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.orgs.models import ServiceCategory
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Attachment, CategoryQuestion, Ticket, TicketEvent, TimeLimit
from gongzhi.tickets.open311.render import Many

OPEN, CLOSED = "open", "closed"
CLOSED_STATES = frozenset(W.State.values) - W.OPEN_STATES
# Events that are not updates of a request: its own filing, and what partners posted (a
# partner reading the feed would otherwise import its own updates back).
NOT_UPDATES = ("report", "partner_update")

Absolute = Callable[[str], str]


def status_of(state: str) -> str:
    """GeoReport's two statuses: open while the request is being handled, closed after."""
    return OPEN if state in W.OPEN_STATES else CLOSED


def states_for(statuses: Iterable[str]) -> set[str]:
    states: set[str] = set()
    for status in statuses:
        states |= W.OPEN_STATES if status == OPEN else CLOSED_STATES
    return states


def w3(value: dt.datetime | None) -> str | None:
    """W3C date-time with the server's offset, e.g. ``2024-05-01T09:30:00+08:00``."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --------------------------------------------------------------------------- services


def public_categories() -> QuerySet[ServiceCategory]:
    return ServiceCategory.objects.exclude(ticket_setting__public=False)


def service_rows() -> list[dict[str, Any]]:
    categories = public_categories().select_related("parent", "ticket_setting").order_by("code")
    with_questions = set(CategoryQuestion.objects.values_list("category_id", flat=True).distinct())
    rows = []
    for category in categories:
        setting = getattr(category, "ticket_setting", None)
        rows.append(
            {
                "service_code": category.code,
                "service_name": category.name,
                "description": (setting.description if setting is not None else "") or None,
                "metadata": category.pk in with_questions,
                "type": "realtime",
                "keywords": category.parent.name if category.parent else None,
                "group": category.parent.name if category.parent else category.name,
            }
        )
    return rows


def definition(category: ServiceCategory) -> dict[str, Any]:
    """The service definition: the category's extra questions as Open311 attributes."""
    attributes = []
    for position, question in enumerate(category.questions.order_by("order", "id"), start=1):
        choices = question.choices if isinstance(question.choices, list) else []
        attributes.append(
            {
                "variable": True,
                "code": question.code,
                "datatype": question.datatype,
                "required": question.required,
                "datatype_description": question.description or None,
                "order": position,
                "description": question.label,
                "values": Many(
                    "value",
                    [
                        {"key": str(choice.get("key", "")), "name": str(choice.get("name", ""))}
                        for choice in choices
                    ],
                ),
            }
        )
    return {"service_code": category.code, "attributes": Many("attribute", attributes)}


# --------------------------------------------------------------------------- requests


def public_tickets() -> QuerySet[Ticket]:
    return Ticket.objects.exclude(category__ticket_setting__public=False)


def with_public_facts(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Tickets with the latest public event's time and note and the first public photo."""
    public_events = TicketEvent.objects.filter(ticket=OuterRef("pk"), public=True).order_by("-id")
    first_photo = Attachment.objects.filter(ticket=OuterRef("pk"), event__public=True).order_by("id")
    return tickets.select_related("category", "lead_unit", "compound", "building", "time_limit").annotate(
        public_updated_at=Subquery(public_events.values("at")[:1]),
        public_note=Subquery(public_events.exclude(note="").values("note")[:1]),
        public_photo_id=Subquery(first_photo.values("id")[:1]),
    )


def photo_url(photo: Attachment, absolute: Absolute) -> str:
    path = reverse(
        "open311-media", kwargs={"photo": photo.pk, "digest": photo.sha256[:16], "ext": photo.extension[1:]}
    )
    return absolute(path)


def public_photo(photo_id: int, digest: str, ext: str) -> Attachment | None:
    """A photo on a public event of a public ticket, if the id, checksum and type agree."""
    photo = (
        Attachment.objects.filter(pk=photo_id, event__public=True)
        .exclude(ticket__category__ticket_setting__public=False)
        .first()
    )
    if photo is None or not photo.sha256.startswith(digest) or photo.extension != "." + ext:
        return None
    return photo


def service_notice(limit: TimeLimit | None) -> str | None:
    if limit is None:
        return None
    if limit.working_days:
        text = _("Time limit “%(name)s”: resolved within %(hours)d working hours after dispatch.")
    else:
        text = _("Time limit “%(name)s”: resolved within %(hours)d hours after dispatch.")
    return text % {"name": limit.name, "hours": limit.resolve_hours}


def address(ticket: Ticket) -> str:
    """Compound, building and the reporter's own words for the place; never the flat."""
    if ticket.compound is not None and ticket.compound.name in ticket.address_text:
        return ticket.address_text  # the words already name the place
    parts = []
    if ticket.compound is not None:
        parts.append(ticket.compound.name)
    if ticket.building is not None:
        parts.append(ticket.building.label)
    if ticket.address_text:
        parts.append(ticket.address_text)
    return " ".join(parts)


def ticket_rows(tickets: Iterable[Ticket], absolute: Absolute) -> list[dict[str, Any]]:
    """GeoReport request rows for tickets loaded through ``with_public_facts``, plus the
    detailed workflow state as the ``detailed_status`` extension."""
    tickets = list(tickets)
    photos = Attachment.objects.in_bulk([t.public_photo_id for t in tickets if t.public_photo_id])  # type: ignore[attr-defined]
    rows = []
    for ticket in tickets:
        photo = photos.get(ticket.public_photo_id)  # type: ignore[attr-defined]
        updated = max(ticket.public_updated_at or ticket.created_at, ticket.created_at)  # type: ignore[attr-defined]
        rows.append(
            {
                "service_request_id": str(ticket.pk),
                "status": status_of(ticket.state),
                "status_notes": ticket.public_note or None,  # type: ignore[attr-defined]
                "service_name": ticket.category.name,
                "service_code": ticket.category.code,
                "description": ticket.description,
                "agency_responsible": ticket.lead_unit.name if ticket.lead_unit else None,
                "service_notice": service_notice(ticket.time_limit),
                "requested_datetime": w3(ticket.created_at),
                "updated_datetime": w3(updated),
                "expected_datetime": w3(ticket.due_at),
                "address": address(ticket) or None,
                "address_id": None,
                "zipcode": None,
                "lat": ticket.lat,
                "long": ticket.long,
                "media_url": photo_url(photo, absolute) if photo is not None else None,
                "detailed_status": ticket.state,
            }
        )
    return rows


# --------------------------------------------------------------------------- updates


def update_events(start: dt.datetime, end: dt.datetime) -> QuerySet[TicketEvent]:
    """Public events that tell something: a change of the request's state, a note or photos.

    Each carries the request's state just after it (``state_after``): a unit's own move is
    recorded with the unit's task state, so the ticket's comes from its latest ticket event.
    """
    ticket_state = (
        TicketEvent.objects.filter(ticket=OuterRef("ticket"), task__isnull=True, id__lte=OuterRef("id"))
        .exclude(to_state="")
        .order_by("-id")
        .values("to_state")[:1]
    )
    has_photo = Exists(Attachment.objects.filter(event=OuterRef("pk")))
    state_change = Q(task__isnull=True) & ~Q(from_state=F("to_state")) & ~Q(to_state="")
    return (
        TicketEvent.objects.filter(public=True, at__gte=start, at__lte=end)
        .exclude(action__in=NOT_UPDATES)
        .exclude(ticket__category__ticket_setting__public=False)
        .annotate(has_photo=has_photo, state_after=Subquery(ticket_state))
        .filter(state_change | ~Q(note="") | Q(has_photo=True))
        .order_by("id")
    )


def update_rows(events: Iterable[TicketEvent], absolute: Absolute) -> list[dict[str, Any]]:
    events = list(events)
    photos: dict[int, Attachment] = {}
    for found in Attachment.objects.filter(event_id__in=[e.pk for e in events]).order_by("-id"):
        assert found.event_id is not None
        photos[found.event_id] = found  # the first photo of each event wins
    rows = []
    for event in events:
        state = event.state_after or W.State.REPORTED  # type: ignore[attr-defined]
        photo = photos.get(event.pk)
        rows.append(
            {
                "update_id": str(event.pk),
                "service_request_id": str(event.ticket_id),
                "status": status_of(state),
                "updated_datetime": w3(event.at),
                "description": event.note or str(W.State(state).label),
                "media_url": photo_url(photo, absolute) if photo is not None else "",
                "external_status_code": state,
            }
        )
    return rows
