"""Everything that changes a meeting, its agenda, its resolutions and their action items.

Each function is one transaction that checks the permission policy, refuses bad input with
a translated message naming the field, writes an audit event and tells the people
concerned. Once the minutes are signed off the record of the meeting does not change;
``add_addendum`` is the way to correct it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.core.text import clean_text
from gongzhi.housing.models import Compound
from gongzhi.meetings import quorum
from gongzhi.meetings.models import (
    ActionItem,
    ActionItemEvent,
    Addendum,
    AgendaItem,
    Attendance,
    Invitee,
    Meeting,
    MinutesAttachment,
)
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Membership, Organisation, Person, Role, RoleGrant
from gongzhi.tickets import actions as ticket_actions
from gongzhi.tickets.notify import enqueue

K, S = Meeting.Kind, Meeting.State
# Days a notice must be published ahead: 7 for an owners' committee meeting and 15 for an
# owners' assembly (DOMAIN §2, law); the joint meeting and the discussion hall by practice.
NOTICE_DAYS = {K.COMMITTEE: 7, K.ASSEMBLY: 15, K.JOINT: 3, K.HALL: 1}
# An owners' committee publishes its decisions within 3 days (DOMAIN §2).
PUBLISH_DAYS = 3
OPEN_RECORD = (S.IN_SESSION, S.ENDED)
# At most this many requests are linked to one agenda item (a hot issue's evidence).
MAX_RELATED = 100


def publication_due(meeting: Meeting) -> dt.datetime | None:
    """When an owners' committee must have published the decisions of a meeting it has
    held (3 days after it opened); None for other kinds, meetings not held, and signed-off
    minutes, which are the publication."""
    if meeting.kind != K.COMMITTEE or meeting.is_signed or meeting.state not in (S.IN_SESSION, S.ENDED):
        return None
    return (meeting.opened_at or meeting.starts_at) + dt.timedelta(days=PUBLISH_DAYS)


def notice_days(kind: str) -> int:
    overrides = getattr(settings, "GONGZHI_MEETING_NOTICE_DAYS", {}) or {}
    return int(overrides.get(kind, NOTICE_DAYS[K(kind)]))


def _text(value: Any, field: str, *, required: bool = True, limit: int = 4000) -> str:
    return clean_text(value, field, required=required, limit=limit)


def _lock(meeting: Meeting, version: int | None = None) -> Meeting:
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if version is not None and locked.version != version:
        raise ValidationError(
            _("Someone else changed this meeting a moment ago. Reload the page and try again.")
        )
    return locked


def _bump(meeting: Meeting, *fields: str) -> None:
    meeting.version += 1
    meeting.save(update_fields=["version", *fields])


def _require(actor: Any, action: str, meeting: Meeting) -> None:
    if not policy.can(actor, action, meeting):
        raise PermissionDenied


def _not_signed(meeting: Meeting) -> None:
    if meeting.is_signed:
        raise ValidationError(
            _("The minutes are signed off and can no longer be changed; write an addendum.")
        )


def _in_state(meeting: Meeting, states: Iterable[str], message: str) -> None:
    if meeting.state not in states:
        raise ValidationError(message % {"state": Meeting.State(meeting.state).label})


def may_convene(actor: Any, area: Area, compound: Compound | None) -> bool:
    """Whether ``actor`` may convene a meeting for ``area`` (and ``compound``): area staff
    above it, or the joint branch and owners' committee of that compound."""
    if getattr(actor, "is_superuser", False):
        return True
    for grant in policy.active_grants(actor):
        if not policy.allows(grant.role, "meeting", policy.MANAGE):
            continue
        if (
            grant.area is not None
            and grant.area.level != Area.Level.GRID
            and area.path.startswith(grant.area.path)
        ):
            return True
        if compound is not None and grant.compound_id == compound.pk:
            return True
    return False


def convener_label(meeting: Meeting) -> str:
    return meeting.convener.name


def _meeting_data(meeting: Meeting) -> dict[str, str]:
    return {
        "meeting": meeting.title,
        "date": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d"),
    }


def _item_data(item: ActionItem) -> dict[str, Any]:
    return {
        "meeting": item.meeting.title,
        "owner": item.owner_label,
        "title": item.title,
        "deadline": item.deadline.isoformat(),
        "action_item": item.pk,
    }


def _users_of(org: Organisation) -> list[Any]:
    """Accounts that act for a body: its liaisons and members with a login."""
    users: set[Any] = {
        g.user
        for g in RoleGrant.objects.filter(organisation=org, revoked_at__isnull=True).select_related("user")
    }
    users |= {
        m.person.user
        for m in org.memberships.filter(left_on__isnull=True, person__user__isnull=False).select_related(
            "person__user"
        )
    }
    return sorted(users, key=lambda u: u.pk)


def _tell(
    users: Iterable[Any],
    phones: Iterable[str],
    subject: str,
    body: str,
    url: str,
    now: dt.datetime | None = None,
) -> int:
    """Queue an inbox message for each account and an SMS for each phone; the count queued."""
    sent = 0
    for user in users:
        sent += (
            enqueue(channel="inbox", recipient=user, subject=subject, body=body, url=url, now=now) is not None
        )
    for phone in phones:
        sent += (
            enqueue(channel="sms", address=phone, subject=subject, body=body, url=url, now=now) is not None
        )
    return sent


def meeting_url(meeting: Meeting) -> str:
    return f"/meetings/{meeting.pk}/"


def _body_members(body: Organisation, on: dt.date) -> QuerySet[Membership]:
    """The members of the deciding body on the day of the meeting."""
    return (
        body.memberships.filter(left_on__isnull=True)
        .exclude(started_on__gt=on)
        .exclude(ends_on__lt=on)
        .select_related("person")
    )


@transaction.atomic
def create_meeting(
    actor: Any,
    *,
    kind: str,
    title: str,
    convener: Organisation,
    starts_at: dt.datetime,
    place: str,
    area: Area | None = None,
    compound: Compound | None = None,
    body: Organisation | None = None,
    decision: Any = None,
    residents_invited: bool = False,
    organisations: Sequence[Organisation] = (),
    people: Sequence[Person] = (),
    now: dt.datetime | None = None,
) -> Meeting:
    """Convene a meeting (draft). An owners' committee meeting is decided by the committee
    and invites its members; an assembly belongs to an owners' decision; a discussion hall
    to a compound. Action items not done from earlier meetings of the same convener and
    kind come onto the agenda at once. Area staff, the joint branch and the committee."""
    now = now or timezone.now()
    if kind not in K.values:
        raise ValidationError({"kind": _("Choose the kind of meeting.")})
    title = _text(title, "title", limit=120)
    place = _text(place, "place", limit=120)
    if starts_at <= now:
        raise ValidationError({"starts_at": _("A meeting cannot be scheduled in the past.")})
    if kind == K.COMMITTEE:
        if body is None or body.kind not in Organisation.COMMITTEE_KINDS or body.compound_id is None:
            raise ValidationError(
                {"body": _("An owners' committee meeting needs the committee that decides.")}
            )
        compound = body.compound
    elif kind == K.ASSEMBLY:
        if decision is None:
            raise ValidationError({"decision": _("An owners' assembly belongs to an owners' decision.")})
        compound = decision.compound
    elif kind == K.HALL and compound is None:
        raise ValidationError({"compound": _("A discussion hall is held for one compound.")})
    if body is not None and kind != K.COMMITTEE:
        raise ValidationError({"body": _("Only an owners' committee meeting has a deciding body.")})
    if compound is not None:
        area = compound.community
    if area is None:
        raise ValidationError({"area": _("Choose the area the meeting is for.")})
    if not convener.is_active:
        raise ValidationError({"convener": _("%(org)s has been dissolved.") % {"org": convener.name}})
    if not may_convene(actor, area, compound):
        raise PermissionDenied
    meeting = Meeting.objects.create(
        kind=kind,
        title=title,
        area=area,
        area_path=compound.area_path if compound is not None else area.path,
        compound=compound,
        convener=convener,
        body=body,
        decision=decision,
        starts_at=starts_at,
        place=place,
        residents_invited=residents_invited or kind in (K.HALL, K.ASSEMBLY),
        created_by=actor,
        created_at=now,
    )
    orgs = list(organisations)
    if body is not None:
        orgs.append(body)
    _add_invitees(meeting, orgs, people)
    if body is not None:
        _add_invitees(meeting, [], [m.person for m in _body_members(body, starts_at.date())])
    record_change(actor, "meetings.meeting.create", meeting, after={"kind": kind, "title": title})
    carry_open_items(meeting, now=now)
    return meeting


def _add_invitees(meeting: Meeting, orgs: Iterable[Organisation], people: Iterable[Person]) -> None:
    have_orgs = set(meeting.invitees.filter(person__isnull=True).values_list("organisation_id", flat=True))
    have_people = set(meeting.invitees.filter(person__isnull=False).values_list("person_id", flat=True))
    for org in orgs:
        if org.pk not in have_orgs:
            Invitee.objects.create(meeting=meeting, organisation=org)
            have_orgs.add(org.pk)
    for person in people:
        if person.pk not in have_people:
            Invitee.objects.create(meeting=meeting, person=person)
            have_people.add(person.pk)


@transaction.atomic
def invite(
    actor: Any, meeting: Meeting, *, organisations: Sequence[Organisation] = (), people: Sequence[Person] = ()
) -> Meeting:
    """Add bodies or people to the invitation list (before the meeting ends). Invitations
    added after the notice was published are sent at once."""
    meeting = _lock(meeting)
    _require(actor, policy.MANAGE, meeting)
    _in_state(
        meeting,
        (S.DRAFT, S.ANNOUNCED, S.IN_SESSION),
        _("Nobody can be invited while the meeting is “%(state)s”."),
    )
    _add_invitees(meeting, organisations, people)
    if meeting.state != S.DRAFT:
        _send_invitations(meeting)
    record_change(
        actor,
        "meetings.meeting.invite",
        meeting,
        after={"organisations": [o.pk for o in organisations], "people": [p.pk for p in people]},
    )
    return meeting


def _send_invitations(meeting: Meeting, now: dt.datetime | None = None) -> int:
    """Notify every invitee not yet notified, through the notification adapters."""
    now = now or timezone.now()
    when = timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M")
    subject = _("Invitation: %(title)s") % {"title": meeting.title}
    body = _("%(convener)s invites you to %(title)s on %(when)s at %(place)s.") % {
        "convener": meeting.convener.name,
        "title": meeting.title,
        "when": when,
        "place": meeting.place,
    }
    sent = 0
    for invitee in meeting.invitees.filter(notified_at__isnull=True).select_related(
        "organisation", "person__user"
    ):
        if invitee.person is not None:
            person = invitee.person
            users = [person.user] if person.user is not None else []
            sent += _tell(
                users,
                [] if users else [person.phone] if person.phone else [],
                subject,
                body,
                meeting_url(meeting),
            )
        else:
            org = invitee.organisation
            assert org is not None
            sent += _tell(
                _users_of(org), [org.phone] if org.phone else [], subject, body, meeting_url(meeting)
            )
        invitee.notified_at = now
        invitee.save(update_fields=["notified_at"])
    if meeting.residents_invited and meeting.compound is not None:
        residents = RoleGrant.objects.filter(
            role=Role.RESIDENT, compound=meeting.compound, revoked_at__isnull=True
        ).select_related("user")
        sent += _tell({g.user for g in residents}, [], subject, body, f"/c/{meeting.compound.code}/")
    return sent


@transaction.atomic
def announce(
    actor: Any, meeting: Meeting, *, version: int | None = None, now: dt.datetime | None = None
) -> Meeting:
    """Publish the notice and send the invitations. The notice must go out the required
    days ahead (7 for an owners' committee meeting, 15 for an assembly) and list at least
    one agenda item."""
    meeting = _lock(meeting, version)
    _require(actor, policy.MANAGE, meeting)
    now = now or timezone.now()
    _in_state(meeting, (S.DRAFT,), _("The notice cannot be published while the meeting is “%(state)s”."))
    if not meeting.agenda_items.exists():
        raise ValidationError(_("Put at least one item on the agenda before publishing the notice."))
    days = notice_days(meeting.kind)
    if meeting.starts_at - now < dt.timedelta(days=days):
        left = (meeting.starts_at - now).days
        raise ValidationError(
            {
                "starts_at": _(
                    "%(kind)s: the notice must be published at least %(days)s days ahead, and "
                    "this meeting starts in %(left)s days. Move the meeting later."
                )
                % {"kind": K(meeting.kind).label, "days": days, "left": left}
            }
        )
    meeting.state, meeting.announced_at = S.ANNOUNCED, now
    _bump(meeting, "state", "announced_at")
    _send_invitations(meeting, now)
    record_change(actor, "meetings.meeting.announce", meeting, after={"state": meeting.state})
    return meeting


@transaction.atomic
def cancel(actor: Any, meeting: Meeting, *, reason: str, now: dt.datetime | None = None) -> Meeting:
    """Call the meeting off (before it opens), telling those invited."""
    meeting = _lock(meeting)
    _require(actor, policy.MANAGE, meeting)
    reason = _text(reason, "reason", limit=500)
    _in_state(meeting, (S.DRAFT, S.ANNOUNCED), _("A meeting that is “%(state)s” cannot be called off."))
    was_announced = meeting.state == S.ANNOUNCED
    meeting.state = S.CANCELLED
    _bump(meeting, "state")
    if was_announced:
        subject = _("Called off: %(title)s") % {"title": meeting.title}
        for invitee in meeting.invitees.select_related("organisation", "person__user"):
            if invitee.person is not None and invitee.person.user is not None:
                _tell([invitee.person.user], [], subject, reason, meeting_url(meeting))
            elif invitee.organisation is not None:
                _tell(_users_of(invitee.organisation), [], subject, reason, meeting_url(meeting))
    record_change(actor, "meetings.meeting.cancel", meeting, after={"state": meeting.state}, reason=reason)
    return meeting


def _next_position(meeting: Meeting) -> int:
    last = meeting.agenda_items.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


@transaction.atomic
def add_agenda_item(
    actor: Any,
    meeting: Meeting,
    *,
    title: str,
    description: str = "",
    source: str = AgendaItem.Source.FREE,
    ticket: Any = None,
    consultation: Any = None,
    opinion: Any = None,
    presenter: Person | None = None,
    presenter_org: Organisation | None = None,
    suggestion_key: str = "",
    evidence: dict | None = None,
    now: dt.datetime | None = None,
) -> AgendaItem:
    """Put an item on the agenda: a free topic, a resident request, a consultation, an
    opinion or a hot-issue warning (with its evidence). A request put on the agenda says so
    on its timeline. Until the minutes are signed off."""
    meeting = _lock(meeting)
    _require(actor, policy.MANAGE, meeting)
    _not_signed(meeting)
    _in_state(
        meeting,
        (S.DRAFT, S.ANNOUNCED, S.IN_SESSION),
        _("Nothing can be added to the agenda while the meeting is “%(state)s”."),
    )
    now = now or timezone.now()
    if source not in AgendaItem.Source.values or source == AgendaItem.Source.CARRIED:
        raise ValidationError({"source": _("Choose where the item comes from.")})
    links = {"ticket": ticket, "consultation": consultation, "opinion": opinion}
    for field, obj in links.items():
        if obj is not None and not policy.can(actor, policy.VIEW, obj):
            raise ValidationError({field: _("You cannot see this record, so it cannot go on the agenda.")})
    if source in links and links[source] is None:
        raise ValidationError({source: _("Choose the record this item is about.")})
    if source == AgendaItem.Source.HOT_ISSUE and not suggestion_key:
        raise ValidationError({"suggestion_key": _("A hot-issue item names its warning.")})
    related = _visible_tickets(actor, ticket, (evidence or {}).get("tickets") or [])
    item = AgendaItem.objects.create(
        meeting=meeting,
        position=_next_position(meeting),
        title=_text(title, "title", limit=160),
        description=_text(description, "description", required=False),
        source=source,
        ticket=ticket,
        consultation=consultation,
        opinion=opinion,
        presenter=presenter,
        presenter_org=presenter_org,
        suggestion_key=suggestion_key[:120],
        evidence=evidence or {},
        created_at=now,
    )
    item.related_tickets.set(related)
    for concerned in related:
        ticket_actions.record_meeting_event(
            concerned, "agenda", label=convener_label(meeting), data=_meeting_data(meeting), now=now
        )
    _bump(meeting)
    record_change(
        actor, "meetings.agenda.add", meeting, after={"item": item.pk, "title": item.title, "source": source}
    )
    return item


def _visible_tickets(actor: Any, ticket: Any, ids: Iterable[Any]) -> list[Any]:
    """The request named, then those of a warning's evidence the actor may see, in id
    order, at most ``MAX_RELATED``."""
    wanted = [i for i in ids if isinstance(i, int)][:MAX_RELATED]
    found = list(policy.scope(actor, "ticket").filter(pk__in=wanted).order_by("pk")) if wanted else []
    if ticket is not None:
        found = [ticket, *[t for t in found if t.pk != ticket.pk]]
    return found[:MAX_RELATED]


def tickets_of(action_item: ActionItem) -> list[Any]:
    """The requests an action item concerns: its own and those of its agenda item."""
    tickets = {t.pk: t for t in action_item.resolution.item.related_tickets.order_by("pk")}
    if action_item.ticket is not None:
        tickets.setdefault(action_item.ticket_id, action_item.ticket)  # type: ignore[arg-type]
    return [tickets[pk] for pk in sorted(tickets)]


def tell_tickets(
    action_item: ActionItem, action: str, *, label: str, data: dict, note: str = "", now: dt.datetime
) -> None:
    """Write an action item's event on the timeline of every request it concerns."""
    for ticket in tickets_of(action_item):
        ticket_actions.record_meeting_event(ticket, action, label=label, note=note, data=data, now=now)


def series(meeting: Meeting) -> QuerySet[Meeting]:
    """The meetings of the same series: same convener, kind and compound."""
    return Meeting.objects.filter(
        convener_id=meeting.convener_id, kind=meeting.kind, compound=meeting.compound
    )


def carry_open_items(meeting: Meeting, *, now: dt.datetime) -> list[AgendaItem]:
    """Put every action item of the series' earlier meetings that is not done onto this
    meeting's agenda ("督事—评事"), once. Called when a meeting is convened, announced and
    opened, and by the sweep when an item becomes overdue."""
    if meeting.is_signed or meeting.state in (S.ENDED, S.CANCELLED):
        return []
    earlier = series(meeting).filter(starts_at__lt=meeting.starts_at).exclude(pk=meeting.pk)
    open_items = (
        ActionItem.objects.filter(meeting__in=earlier)
        .exclude(state=ActionItem.State.DONE)
        .exclude(follow_ups__meeting=meeting)
        .select_related("meeting", "assignee_org", "assignee_person", "ticket")
        .order_by("deadline", "id")
    )
    added = []
    for item in open_items:
        added.append(
            AgendaItem.objects.create(
                meeting=meeting,
                position=_next_position(meeting),
                title=(_("Follow-up: %(title)s") % {"title": item.title})[:160],
                description=_("Given to %(owner)s by %(meeting)s, due %(deadline)s.")
                % {
                    "owner": item.owner_label,
                    "meeting": item.meeting.title,
                    "deadline": item.deadline.isoformat(),
                },
                source=AgendaItem.Source.CARRIED,
                carried_item=item,
                ticket=item.ticket,
                presenter_org=item.assignee_org,
                created_at=now,
            )
        )
        added[-1].related_tickets.set(tickets_of(item))
        data = {**_item_data(item), "meeting": meeting.title, "to_meeting": meeting.pk}
        ActionItemEvent.objects.create(
            item=item, action="carried", actor_label=convener_label(meeting), at=now, data=data
        )
        tell_tickets(item, "action_carried", label=convener_label(meeting), data=data, now=now)
    return added


@transaction.atomic
def open_session(actor: Any, meeting: Meeting, *, now: dt.datetime | None = None) -> Meeting:
    """Open the meeting: sign-in, minutes and resolutions may be recorded from now on."""
    meeting = _lock(meeting)
    _require(actor, policy.CHANGE, meeting)
    now = now or timezone.now()
    _in_state(
        meeting,
        (S.ANNOUNCED,),
        _("Only a meeting whose notice is published can be opened; it is “%(state)s”."),
    )
    carry_open_items(meeting, now=now)
    meeting.state, meeting.opened_at = S.IN_SESSION, now
    _bump(meeting, "state", "opened_at")
    record_change(actor, "meetings.meeting.open", meeting, after={"state": meeting.state})
    return meeting


def capacity_of(meeting: Meeting, person: Person | None) -> tuple[str, Organisation | None]:
    """How a person attends: a member of the deciding body counts toward its quorum; an
    invited person, or a member of an invited body, attends for that body; anyone else is
    an observer, recorded and never counted."""
    C = Attendance.Capacity
    if person is None:
        return (C.INVITEE, None) if meeting.residents_invited else (C.OBSERVER, None)
    on = timezone.localtime(meeting.starts_at).date()
    if meeting.body is not None and _body_members(meeting.body, on).filter(person=person).exists():
        return C.MEMBER, meeting.body
    if meeting.invitees.filter(person=person).exists():
        org_ids = meeting.invitees.filter(person__isnull=True).values("organisation_id")
        membership = person.memberships.filter(organisation_id__in=org_ids, left_on__isnull=True).first()
        return C.INVITEE, membership.organisation if membership else None
    invited_orgs = meeting.invitees.filter(person__isnull=True).values("organisation_id")
    membership = person.memberships.filter(organisation_id__in=invited_orgs, left_on__isnull=True).first()
    if membership is not None:
        return C.INVITEE, membership.organisation
    if person.user_id is not None:
        grant = (
            RoleGrant.objects.filter(
                user_id=person.user_id, organisation_id__in=invited_orgs, revoked_at__isnull=True
            )
            .select_related("organisation")
            .first()
        )
        if grant is not None:
            return C.INVITEE, grant.organisation
    resident = RoleGrant.objects.filter(
        user=person.user, role=Role.RESIDENT, compound=meeting.compound, revoked_at__isnull=True
    )
    if meeting.residents_invited and person.user is not None and resident.exists():
        return C.INVITEE, None
    return C.OBSERVER, None


@transaction.atomic
def sign_in(
    actor: Any,
    meeting: Meeting,
    *,
    person: Person | None = None,
    name: str = "",
    represents_label: str = "",
    method: str = Attendance.Method.STAFF,
    now: dt.datetime | None = None,
) -> Attendance:
    """Record that someone is present. By QR the actor signs in themselves (any signed-in
    account with a person record); by staff a person or a name is recorded. Someone not
    invited is recorded as an observer and does not count."""
    meeting = _lock(meeting)
    now = now or timezone.now()
    if method == Attendance.Method.QR:
        person = (
            Person.objects.filter(user=actor).first() if getattr(actor, "is_authenticated", False) else None
        )
        if person is None:
            raise ValidationError(_("Your account has no person record; please sign in at the desk."))
    else:
        _require(actor, policy.CHANGE, meeting)
    _in_state(meeting, (S.ANNOUNCED, S.IN_SESSION), _("Sign-in is closed: the meeting is “%(state)s”."))
    if person is None:
        name = _text(name, "name", limit=60)
    elif meeting.attendances.filter(person=person).exists():
        raise ValidationError({"person": _("%(name)s has already signed in.") % {"name": person.name}})
    capacity, org = capacity_of(meeting, person)
    attendance = Attendance.objects.create(
        meeting=meeting,
        person=person,
        name=person.name if person is not None else name,
        represents=org,
        represents_label=_text(represents_label, "represents_label", required=False, limit=120),
        capacity=capacity,
        method=method,
        signed_in_at=now,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _bump(meeting)
    record_change(
        actor,
        "meetings.attendance.sign_in",
        meeting,
        after={"attendance": attendance.pk, "capacity": capacity},
    )
    return attendance


def presence(meeting: Meeting) -> quorum.Presence | None:
    """Members of the deciding body and how many of them signed in (None: no such body)."""
    if meeting.body is None:
        return None
    on = timezone.localtime(meeting.starts_at).date()
    member_ids = set(_body_members(meeting.body, on).values_list("person_id", flat=True))
    present = meeting.attendances.filter(
        person_id__in=member_ids, capacity=Attendance.Capacity.MEMBER
    ).count()
    return quorum.Presence(members_total=len(member_ids), members_present=present)


@transaction.atomic
def write_minutes(
    actor: Any,
    item: AgendaItem,
    *,
    minutes: str,
    attachments: Sequence[tuple[str, Any]] = (),
    now: dt.datetime | None = None,
) -> AgendaItem:
    """Write the minutes of one agenda item, with documents or photos; until sign-off.
    ``attachments`` are (file name, cleaned document) pairs."""
    meeting = _lock(item.meeting)
    _require(actor, policy.CHANGE, meeting)
    _not_signed(meeting)
    _in_state(meeting, OPEN_RECORD, _("Minutes are written once the meeting is open; it is “%(state)s”."))
    now = now or timezone.now()
    item = AgendaItem.objects.get(pk=item.pk)
    before = item.minutes
    item.minutes = _text(minutes, "minutes", required=False, limit=20000)
    item.save(update_fields=["minutes"])
    for name, doc in attachments:
        MinutesAttachment.objects.create(
            item=item,
            file=doc.content,
            name=name[:120],
            content_type=doc.content_type,
            extension=doc.extension,
            size=doc.size,
            sha256=doc.sha256,
            uploaded_by=actor,
            created_at=now,
        )
    _bump(meeting)
    record_change(
        actor,
        "meetings.agenda.minutes",
        meeting,
        before={"item": item.pk, "length": len(before)},
        after={"item": item.pk, "length": len(item.minutes), "attachments": len(attachments)},
    )
    return item


@transaction.atomic
def end_session(actor: Any, meeting: Meeting, *, now: dt.datetime | None = None) -> Meeting:
    """Close the meeting; the minutes can still be completed until they are signed off."""
    meeting = _lock(meeting)
    _require(actor, policy.CHANGE, meeting)
    _in_state(meeting, (S.IN_SESSION,), _("Only a meeting in session can be closed; it is “%(state)s”."))
    meeting.state, meeting.ended_at = S.ENDED, now or timezone.now()
    _bump(meeting, "state", "ended_at")
    record_change(actor, "meetings.meeting.end", meeting, after={"state": meeting.state})
    return meeting


@transaction.atomic
def sign_off(actor: Any, meeting: Meeting, *, now: dt.datetime | None = None) -> Meeting:
    """Sign off the minutes: every agenda item has its resolution; from now on the record is
    immutable and its public version is published."""
    meeting = _lock(meeting)
    _require(actor, policy.MANAGE, meeting)
    _not_signed(meeting)
    _in_state(
        meeting, (S.ENDED,), _("The minutes are signed off after the meeting has ended; it is “%(state)s”.")
    )
    missing = meeting.agenda_items.filter(resolution__isnull=True).order_by("position").first()
    if missing is not None:
        raise ValidationError(
            _("Agenda item %(n)s “%(title)s” has no resolution yet.")
            % {"n": missing.position, "title": missing.title}
        )
    meeting.state, meeting.signed_at, meeting.signed_by = S.SIGNED, now or timezone.now(), actor
    _bump(meeting, "state", "signed_at", "signed_by")
    record_change(actor, "meetings.meeting.sign_off", meeting, after={"state": meeting.state})
    return meeting


@transaction.atomic
def add_addendum(actor: Any, meeting: Meeting, *, text: str, now: dt.datetime | None = None) -> Addendum:
    """Correct signed-off minutes: the addendum is printed after them; nothing is rewritten."""
    meeting = _lock(meeting)
    _require(actor, policy.MANAGE, meeting)
    if not meeting.is_signed:
        raise ValidationError(_("The minutes are not signed off yet: correct them directly."))
    addendum = Addendum.objects.create(
        meeting=meeting, text=_text(text, "text"), created_by=actor, created_at=now or timezone.now()
    )
    record_change(actor, "meetings.meeting.addendum", meeting, after={"addendum": addendum.pk})
    return addendum
