"""Resolutions and the action items they spawn.

A resolution ends an agenda item: by show of hands where the meeting has a deciding body
with a quorum, by agreement otherwise. An adopted resolution gives work to a body or a
person with a deadline; the work's progress and completion are recorded as events, and a
request the item is about moves with it (its timeline, a re-dispatch to the agreed units).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.meetings import quorum
from gongzhi.meetings.actions import (
    OPEN_RECORD,
    _bump,
    _in_state,
    _item_data,
    _lock,
    _meeting_data,
    _not_signed,
    _require,
    _tell,
    _text,
    _users_of,
    convener_label,
    presence,
    tell_tickets,
)
from gongzhi.meetings.models import ActionEvidence, ActionItem, ActionItemEvent, AgendaItem, Resolution
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Person
from gongzhi.tickets import actions as ticket_actions
from gongzhi.tickets import workflow as W
from gongzhi.tickets.photos import CleanPhoto

# Requests a meeting may send to other units: those with the units or waiting for them.
REDISPATCHABLE = W.TICKET_MOVES["redispatch"].sources


def _hands_message(refused: quorum.HandsRefused) -> str:
    if refused.code == "no_quorum":
        return (
            _(
                "Only %(present)s of the %(total)s members are present; more than half (%(needed)s) "
                "must be present before the body can decide."
            )
            % refused.params
        )
    if refused.code == "too_many":
        return _("%(hands)s hands were counted but only %(present)s members are present.") % refused.params
    return _("Counts of hands cannot be negative.")


@transaction.atomic
def resolve(
    actor: Any,
    item: AgendaItem,
    *,
    text: str,
    votes_for: int | None = None,
    votes_against: int | None = None,
    votes_abstain: int | None = None,
    now: dt.datetime | None = None,
) -> Resolution:
    """End an agenda item with a resolution. A body with a quorum (an owners' committee)
    decides by show of hands of its members present — refused without a quorum — and a
    motion is adopted with the votes of at least half of all members; other meetings
    resolve by agreement. A linked request's timeline shows the resolution, which answers
    a referral to the joint meeting."""
    meeting = _lock(item.meeting)
    _require(actor, policy.CHANGE, meeting)
    _not_signed(meeting)
    _in_state(
        meeting, OPEN_RECORD, _("A resolution is recorded once the meeting is open; it is “%(state)s”.")
    )
    now = now or timezone.now()
    if Resolution.objects.filter(item=item).exists():
        raise ValidationError(_("This agenda item already has its resolution; correct it with an addendum."))
    text = _text(text, "text")
    fields: dict[str, Any] = {
        "method": Resolution.Method.CONSENSUS,
        "decided_by": meeting.convener,
        "adopted": True,
    }
    counted = presence(meeting)
    if counted is not None:
        if votes_for is None:
            raise ValidationError(
                {"votes_for": _("Count the hands in favour: this body decides by show of hands.")}
            )
        hands = quorum.Hands(votes_for, votes_against or 0, votes_abstain or 0)
        try:
            adopted = quorum.count_hands(counted, hands)
        except quorum.HandsRefused as refused:
            raise ValidationError({"votes_for": _hands_message(refused)}) from None
        fields = {
            "method": Resolution.Method.HANDS,
            "decided_by": meeting.body,
            "adopted": adopted,
            "votes_for": hands.votes_for,
            "votes_against": hands.votes_against,
            "votes_abstain": hands.votes_abstain,
            "members_total": counted.members_total,
            "members_present": counted.members_present,
        }
    elif votes_for is not None:
        raise ValidationError(
            {"votes_for": _("This meeting has no deciding body: it resolves by agreement.")}
        )
    resolution = Resolution.objects.create(item=item, text=text, decided_at=now, recorded_by=actor, **fields)
    for concerned in item.related_tickets.order_by("pk"):
        ticket_actions.record_meeting_event(
            concerned,
            "meeting_resolution",
            label=convener_label(meeting),
            note=text,
            data={**_meeting_data(meeting), "adopted": resolution.adopted},
            now=now,
        )
    _bump(meeting)
    record_change(
        actor, "meetings.resolution.create", meeting, after={"item": item.pk, "adopted": resolution.adopted}
    )
    return resolution


@transaction.atomic
def add_action_item(
    actor: Any,
    resolution: Resolution,
    *,
    title: str,
    deadline: dt.date | None,
    assignee_org: Organisation | None = None,
    assignee_person: Person | None = None,
    ticket: Any = None,
    now: dt.datetime | None = None,
) -> ActionItem:
    """Give the work of an adopted resolution to a body or a person, with a deadline that
    is not in the past. The request of the agenda item (or the one named) shows it; the
    responsible body's liaisons are told."""
    meeting = _lock(resolution.item.meeting)
    _require(actor, policy.CHANGE, meeting)
    _not_signed(meeting)
    now = now or timezone.now()
    if not resolution.adopted:
        raise ValidationError(_("The motion was not adopted, so it gives nobody work."))
    title = _text(title, "title", limit=200)
    if assignee_org is None and assignee_person is None:
        raise ValidationError({"assignee_org": _("Name the body or the person responsible.")})
    if assignee_org is not None and not assignee_org.is_active:
        raise ValidationError({"assignee_org": _("%(org)s has been dissolved.") % {"org": assignee_org.name}})
    if deadline is None:
        raise ValidationError({"deadline": _("Give a deadline.")})
    today = timezone.localdate(now)
    if deadline < today:
        raise ValidationError(
            {"deadline": _("The deadline %(date)s is in the past.") % {"date": deadline.isoformat()}}
        )
    if ticket is not None and not policy.can(actor, policy.VIEW, ticket):
        raise ValidationError({"ticket": _("You cannot see this request, so work cannot be linked to it.")})
    ticket = ticket or resolution.item.ticket
    item = ActionItem.objects.create(
        resolution=resolution,
        meeting=meeting,
        title=title,
        assignee_org=assignee_org,
        assignee_person=assignee_person,
        deadline=deadline,
        ticket=ticket,
        area_path=meeting.area_path,
        compound=meeting.compound,
        created_at=now,
    )
    ActionItemEvent.objects.create(
        item=item,
        action="create",
        actor=actor,
        actor_label=convener_label(meeting),
        at=now,
        data=_item_data(item),
    )
    tell_tickets(item, "action_item", label=convener_label(meeting), data=_item_data(item), now=now)
    subject = _("Action item from %(meeting)s") % {"meeting": meeting.title}
    body = _("“%(title)s”, due %(deadline)s.") % {"title": title, "deadline": deadline.isoformat()}
    url = f"/meetings/actions/{item.pk}/"
    if assignee_org is not None:
        _tell(_users_of(assignee_org), [assignee_org.phone] if assignee_org.phone else [], subject, body, url)
    if assignee_person is not None and assignee_person.user is not None:
        _tell([assignee_person.user], [], subject, body, url)
    _bump(meeting)
    record_change(actor, "meetings.action.create", item, after=_item_data(item))
    return item


@transaction.atomic
def redispatch_ticket(actor: Any, resolution: Resolution, *, now: dt.datetime | None = None) -> list[Any]:
    """Send the requests of the agenda item to the member units the resolution gave work
    to — the first leads — as the meeting agreed. Requests that are not with the units or
    waiting for them (replied, closed…) are left as they are. Returns those sent."""
    meeting = _lock(resolution.item.meeting)
    _require(actor, policy.CHANGE, meeting)
    tickets = [t for t in resolution.item.related_tickets.order_by("pk") if t.state in REDISPATCHABLE]
    if not resolution.item.related_tickets.exists():
        raise ValidationError(_("This agenda item is not about a resident request."))
    if not tickets:
        raise ValidationError(
            _("None of the requests of this item can be sent again: they are replied or closed.")
        )
    units = [
        a.assignee_org
        for a in resolution.action_items.select_related("assignee_org").order_by("id")
        if a.assignee_org is not None and a.assignee_org.kind == Organisation.Kind.MEMBER_UNIT
    ]
    if not units:
        raise ValidationError(_("Give the work to at least one member unit first."))
    units = list({u.pk: u for u in units}.values())
    for ticket in tickets:
        ticket_actions.redispatch(
            ticket,
            units=units,
            label=convener_label(meeting),
            instructions=resolution.text[:2000],
            actor=actor,
            now=now,
        )
    record_change(
        actor,
        "meetings.resolution.redispatch",
        meeting,
        after={"tickets": [t.pk for t in tickets], "units": [u.pk for u in units]},
    )
    return tickets


def _lock_item(item: ActionItem, version: int | None) -> ActionItem:
    locked = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("meeting", "assignee_org", "assignee_person", "ticket")
        .get(pk=item.pk)
    )
    if version is not None and locked.version != version:
        raise ValidationError(
            _("Someone else changed this action item a moment ago. Reload the page and try again.")
        )
    return locked


def _item_event(
    item: ActionItem,
    action: str,
    *,
    actor: Any,
    note: str = "",
    now: dt.datetime,
    photos: Sequence[CleanPhoto] = (),
) -> ActionItemEvent:
    label = item.owner_label if actor is not None else _("System")
    event = ActionItemEvent.objects.create(
        item=item, action=action, note=note, actor=actor, actor_label=label, at=now, data=_item_data(item)
    )
    for photo in photos:
        ActionEvidence.objects.create(
            event=event,
            file=photo.content,
            content_type=photo.content_type,
            extension=photo.extension,
            size=photo.size,
            sha256=photo.sha256,
            created_at=now,
        )
    return event


def _open_item(actor: Any, item: ActionItem, version: int | None) -> ActionItem:
    """The item locked for a report by someone responsible for it, refused once done."""
    item = _lock_item(item, version)
    if not policy.can(actor, policy.CHANGE, item):
        raise PermissionDenied
    if item.is_done:
        raise ValidationError(_("This action item is done already."))
    return item


@transaction.atomic
def report_progress(
    actor: Any,
    item: ActionItem,
    *,
    note: str,
    photos: Sequence[CleanPhoto] = (),
    version: int | None = None,
    now: dt.datetime | None = None,
) -> ActionItem:
    """The responsible body reports progress; an open item moves to "in progress"."""
    item = _open_item(actor, item, version)
    now = now or timezone.now()
    note = _text(note, "note", limit=2000)
    item.state = ActionItem.State.IN_PROGRESS
    item.version += 1
    item.save(update_fields=["state", "version"])
    _item_event(item, "progress", actor=actor, note=note, now=now, photos=photos)
    record_change(actor, "meetings.action.progress", item, after={"state": item.state})
    return item


@transaction.atomic
def complete(
    actor: Any,
    item: ActionItem,
    *,
    evidence: str,
    photos: Sequence[CleanPhoto] = (),
    version: int | None = None,
    now: dt.datetime | None = None,
) -> ActionItem:
    """Mark the action item done, saying what was done (and photos); the request's
    timeline and its reporters hear of it."""
    item = _open_item(actor, item, version)
    now = now or timezone.now()
    item.evidence = _text(evidence, "evidence", limit=4000)
    item.state, item.done_at = ActionItem.State.DONE, now
    item.version += 1
    item.save(update_fields=["state", "done_at", "evidence", "version"])
    _item_event(item, "done", actor=actor, note=item.evidence, now=now, photos=photos)
    tell_tickets(
        item, "action_done", label=item.owner_label, note=item.evidence, data=_item_data(item), now=now
    )
    record_change(actor, "meetings.action.done", item, after={"state": item.state, "overdue": item.overdue})
    return item
