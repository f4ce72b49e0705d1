"""A partner system's update on a request (mySociety's POST Service Request Update).

A partner such as a FixMyStreet site forwards what its users add to a request it filed: a
comment, a photo, the status it believes the request has. The update becomes a public
event on the request's timeline, signed with the partner's name. It never moves the
request through the workflow: only the desk and the units do that, by the actions in
``gongzhi.tickets.actions``; the status the partner sent is kept in the event's data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.orgs.models import Role, RoleGrant
from gongzhi.tickets import workflow as W
from gongzhi.tickets.actions import MAX_TEXT, Refused, notify_unit
from gongzhi.tickets.models import ApiKey, Attachment, Ticket, TicketEvent
from gongzhi.tickets.notify import enqueue
from gongzhi.tickets.photos import clean_photos

ACTION = "partner_update"
# Like a staff note: while the request is handled, and after it is closed until it is archived.
UPDATABLE_STATES = W.TICKET_MOVES["partner_update"].sources
# The statuses mySociety's extension lets a partner send (upper case on the wire).
PARTNER_STATUSES = frozenset(
    {
        "OPEN",
        "CLOSED",
        "FIXED",
        "IN_PROGRESS",
        "PLANNED",
        "ACTION_SCHEDULED",
        "INVESTIGATING",
        "DUPLICATE",
        "NOT_COUNCILS_RESPONSIBILITY",
        "NO_FURTHER_ACTION",
        "INTERNAL_REFERRAL",
        "CANCELLED",
        "REOPEN",
        "FOR_TRIAGE",
    }
)


def _notify_desk_and_lead(ticket: Ticket, partner: str, note: str) -> None:
    subject = _("Update from %(partner)s on request #%(id)s") % {"partner": partner, "id": ticket.pk}
    body = note[:200] or _("Photos were added.")
    if ticket.grid_id is not None:
        grants = RoleGrant.objects.filter(
            area_id=ticket.grid_id, role=Role.GRID_WORKER, revoked_at__isnull=True
        ).select_related("user")
        for grant in grants:
            enqueue(
                channel="inbox",
                recipient=grant.user,
                subject=subject,
                body=body,
                ticket=ticket,
                url=f"/tickets/{ticket.pk}/",
            )
    if ticket.lead_unit is not None and ticket.state in W.OPEN_STATES:
        notify_unit(ticket.lead_unit, ticket, subject, body)


def post_update(
    key: ApiKey,
    ticket: Ticket,
    *,
    update_id: str,
    description: str,
    status: str = "",
    updated_at: dt.datetime | None = None,
    photos: Iterable[UploadedFile] = (),
    now: dt.datetime | None = None,
) -> TicketEvent:
    """Add the partner's update to the request as a public event, with its photos.

    Called by the Open311 endpoint for the holder of ``key``. The partner's ``update_id``
    makes the call idempotent: the same key and id on the same request return the event
    made the first time. Refused on requests that are archived or ended (not accepted,
    withdrawn, merged). The desk of the request's grid and its lead unit are told.
    """
    note = (description or "").strip()
    if len(note) > MAX_TEXT:
        raise ValidationError(
            {"description": _("At most %(n)s characters (this has %(m)s).") % {"n": MAX_TEXT, "m": len(note)}}
        )
    if status and status not in PARTNER_STATUSES:
        raise ValidationError({"status": _("Unknown status.")})
    # Decoding and re-encoding photos takes a while: do it before the row is locked.
    cleaned = clean_photos(list(photos), field="media")
    if not note and not cleaned:
        raise ValidationError({"description": _("An update needs a description or a photo.")})
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        earlier = TicketEvent.objects.filter(
            ticket=ticket, action=ACTION, data__api_key=key.pk, data__update_id=update_id
        ).first()
        if earlier is not None:
            return earlier
        if ticket.state not in UPDATABLE_STATES:
            raise Refused(
                _("Request #%(id)s is “%(state)s” and takes no more updates.")
                % {"id": ticket.pk, "state": W.State(ticket.state).label}
            )
        now = now or timezone.now()
        state = ticket.state
        ticket.version = F("version") + 1
        ticket.save(update_fields=["version", "updated_at"])
        ticket.refresh_from_db(fields=["version"])
        data: dict[str, Any] = {"api_key": key.pk, "update_id": update_id, "status": status}
        if updated_at is not None:
            data["updated_at"] = updated_at.isoformat()
        event = TicketEvent.objects.create(
            ticket=ticket,
            action=ACTION,
            from_state=state,
            to_state=state,
            actor=None,
            actor_label=key.name[:120],
            at=now,
            note=note,
            public=True,
            data=data,
        )
        for photo in cleaned:
            Attachment.objects.create(
                ticket=ticket,
                event=event,
                file=photo.content,
                content_type=photo.content_type,
                extension=photo.extension,
                size=photo.size,
                width=photo.width,
                height=photo.height,
                sha256=photo.sha256,
                created_at=now,
            )
        record_change(
            None,
            f"tickets.ticket.{ACTION}",
            ticket,
            before={"state": state},
            after={"state": state, "partner": key.name, **data, "photos": len(cleaned)},
            reason=note[:500],
        )
        _notify_desk_and_lead(ticket, key.name, note)
    return event
