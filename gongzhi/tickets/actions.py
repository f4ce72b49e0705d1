"""Every change to a resident request. Each action runs in one transaction: it locks the
ticket row, checks the move against ``workflow``, writes the ticket event and an audit
event, and queues the notifications. Views, the API, Open311 and the CLI all call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.core.text import clean_text
from gongzhi.housing.models import Building, Compound, Resident, Unit
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Role, ServiceCategory
from gongzhi.tickets import sla
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import (
    Approval,
    Attachment,
    CategorySetting,
    Holiday,
    Notification,
    Supporter,
    Task,
    Ticket,
    TicketEvent,
    TimeLimit,
)
from gongzhi.tickets.notify import enqueue
from gongzhi.tickets.photos import CleanPhoto, clean_photos
from gongzhi.tickets.routing import route

MAX_TEXT = 2000
EMERGENCY = "emergency"
DEFAULT_LIMIT = "general"


class Refused(ValidationError):
    """A move refused by the workflow or by a concurrent change; carries a translated reason."""


# --------------------------------------------------------------------------- who is acting


def actor_classes(
    user: Any, ticket: Ticket, task: Task | None = None, *, as_reporter: bool = False
) -> set[str]:
    """The workflow roles ``user`` holds on this ticket (and task)."""
    if user is None:
        # Holding the tracking link is how an anonymous reporter proves it is theirs.
        return {W.REPORTER} if as_reporter else {W.SYSTEM}
    classes: set[str] = set()
    if as_reporter or (
        getattr(user, "is_authenticated", False)
        and ticket.reporter_user_id
        and user.pk == ticket.reporter_user_id
    ):
        classes.add(W.REPORTER)
    if getattr(user, "is_authenticated", False):
        if policy.can(user, policy.CHANGE, ticket):
            classes.add(W.DESK)
        if task is not None and policy.can(user, policy.CHANGE, task):
            classes.add(W.UNIT)
    return classes


def _desk_label(user: Any) -> str:
    """The body a desk user acts for, as the timeline shows it (not their private name)."""
    for grant in policy.active_grants(user):
        node = grant.area or grant.compound or grant.organisation
        if node is not None and grant.role != Role.RESIDENT:
            return str(node)
    return _("Service desk")


def _label(user: Any, classes: set[str], task: Task | None) -> str:
    if W.REPORTER in classes and W.DESK not in classes:
        return _("Resident")
    if user is None or classes == {W.SYSTEM}:
        return _("System")
    if W.UNIT in classes and task is not None:
        return task.unit.name
    if W.DESK in classes:
        return _desk_label(user)
    return _("Resident")


# --------------------------------------------------------------------------- helpers


def _calendar() -> dict[dt.date, bool]:
    return dict(Holiday.objects.values_list("date", "is_workday"))


def time_limit_for(
    category: ServiceCategory, urgency: str, setting: CategorySetting | None = None
) -> TimeLimit:
    if urgency == Ticket.Urgency.EMERGENCY:
        found = TimeLimit.objects.filter(code=EMERGENCY).first()
        if found is not None:
            return found
    if setting is None:
        setting = CategorySetting.objects.filter(category=category).select_related("time_limit").first()
    if setting is None and category.parent_id:
        setting = (
            CategorySetting.objects.filter(category_id=category.parent_id)
            .select_related("time_limit")
            .first()
        )
    if setting is not None:
        return setting.time_limit
    found = TimeLimit.objects.filter(code=DEFAULT_LIMIT).first()
    if found is None:
        found = TimeLimit.objects.create(
            code=DEFAULT_LIMIT, name=_("General"), accept_hours=24, resolve_hours=168
        )
    return found


def _clean_text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    return clean_text(value, field, required=required, limit=limit)


def _lock(ticket: Ticket, expected_version: int | None) -> Ticket:
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Refused(_("Someone else changed this request a moment ago. Reload the page and try again."))
    return locked


def _event(
    ticket: Ticket,
    action: str,
    *,
    actor: Any,
    label: str,
    from_state: str = "",
    to_state: str = "",
    task: Task | None = None,
    note: str = "",
    public: bool = True,
    data: dict | None = None,
    photos: Sequence[CleanPhoto] = (),
    now: dt.datetime,
) -> TicketEvent:
    event = TicketEvent.objects.create(
        ticket=ticket,
        task=task,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=label[:120],
        at=now,
        note=note,
        public=public,
        data=data or {},
    )
    for photo in photos:
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
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=now,
        )
    return event


def _checked(table: dict[str, W.Move], action: str, state: str, classes: set[str], note: str = "") -> W.Move:
    """The workflow's move, or ``Refused`` with its reason in the user's language."""
    try:
        return W.check(table, action, state, classes, note)
    except W.MoveRefused as refused:
        raise Refused(refused.reason) from None


def _move(
    ticket: Ticket,
    action: str,
    *,
    actor: Any,
    classes: set[str],
    note: str = "",
    task: Task | None = None,
    data: dict | None = None,
    photos: Sequence[CleanPhoto] = (),
    now: dt.datetime,
    label: str = "",
) -> TicketEvent:
    """Check and apply one ticket move on a locked ticket; write its event and audit.
    ``label`` names the acting body where it is not the actor's own (a meeting)."""
    move = _checked(W.TICKET_MOVES, action, ticket.state, classes, note)
    before = ticket.state
    if move.target is not None:
        ticket.state = move.target
    ticket.version += 1  # the row is locked by the caller: nobody else can have moved it
    ticket.save()
    event = _event(
        ticket,
        action,
        actor=actor,
        label=label or _label(actor, classes, task),
        from_state=before,
        to_state=ticket.state,
        task=task,
        note=note,
        public=move.public,
        data=data,
        photos=photos,
        now=now,
    )
    record_change(
        actor,
        f"tickets.ticket.{action}",
        ticket,
        before={"state": before},
        after={"state": ticket.state, **(data or {})},
        reason=note[:500],
    )
    if move.public and move.target is not None:
        _notify_reporters(ticket, event)
    return event


def _task_move(
    task: Task,
    action: str,
    *,
    actor: Any,
    classes: set[str],
    note: str = "",
    data: dict | None = None,
    photos: Sequence[CleanPhoto] = (),
    now: dt.datetime,
) -> TicketEvent:
    move = _checked(W.TASK_MOVES, action, task.state, classes, note)
    before = task.state
    if move.target is not None:
        task.state = move.target
    # Saved also when the state stays: an approved extension has moved ``due_at``.
    task.save(update_fields=["state", "accepted_at", "replied_at", "reply", "due_at", "accept_due_at"])
    event = _event(
        task.ticket,
        "task_" + action,
        actor=actor,
        label=_label(actor, classes, task),
        from_state=before,
        to_state=task.state,
        task=task,
        note=note,
        public=move.public,
        data={"unit": task.unit_id, "role": task.role, "round": task.round, **(data or {})},
        photos=photos,
        now=now,
    )
    record_change(
        actor,
        f"tickets.task.{action}",
        task,
        before={"state": before},
        after={"state": task.state, "unit": task.unit_id, **(data or {})},
        reason=note[:500],
    )
    return event


def _follow_tasks(ticket: Ticket, *, now: dt.datetime) -> None:
    """Move the ticket as its tasks imply (lead signed for it, started, all replied)."""
    # Latest round first: after a reopen the earlier rounds' replied tasks are still active,
    # and the lead that counts is the one the request came back to.
    tasks = list(ticket.tasks.filter(state__in=W.ACTIVE_TASK_STATES).order_by("-round", "role", "id"))
    lead = next((t for t in tasks if t.role == Task.Role.LEAD), None)
    action = W.derived_ticket_action(ticket.state, lead.state if lead else None, [t.state for t in tasks])
    if action is None:
        return
    if action == "unit_accept":
        ticket.unit_accepted_at = ticket.unit_accepted_at or now
    if action == "replied":
        ticket.replied_at = now
    _move(ticket, action, actor=None, classes={W.SYSTEM}, now=now)
    if action == "start":
        _follow_tasks(ticket, now=now)


def _reporter_addresses(ticket: Ticket) -> list[tuple[Any, str, str]]:
    """(user, phone, email) of the reporter and of everyone who said "me too"."""
    people: list[tuple[Any, str, str]] = [
        (ticket.reporter_user, ticket.reporter_phone, ticket.reporter_email)
    ]
    if not ticket.supporters_count:
        return people
    for sup in ticket.supporters.select_related("user"):
        people.append((sup.user, sup.phone, sup.email))
    return people


def ticket_url(ticket: Ticket) -> str:
    return f"/t/{ticket.token}/"


def _notify_reporters(ticket: Ticket, event: TicketEvent) -> None:
    state = W.State(ticket.state).label
    subject = _("Your request #%(id)s: %(state)s") % {"id": ticket.pk, "state": state}
    body = _("Request #%(id)s (%(title)s) is now “%(state)s”.") % {
        "id": ticket.pk,
        "title": ticket.title,
        "state": state,
    }
    if event.note and event.action in ("reject", "close", "replied", "merge", "withdraw"):
        body += " " + event.note[:200]
    seen: set[str] = set()
    for user, phone, email in _reporter_addresses(ticket):
        if user is not None and f"u{user.pk}" not in seen:
            seen.add(f"u{user.pk}")
            enqueue(
                channel="inbox",
                recipient=user,
                subject=subject,
                body=body,
                ticket=ticket,
                url=ticket_url(ticket),
            )
        if phone and f"p{phone}" not in seen:
            seen.add(f"p{phone}")
            enqueue(
                channel="sms",
                address=phone,
                subject=subject,
                body=body,
                ticket=ticket,
                url=ticket_url(ticket),
            )
        if email and f"e{email}" not in seen:
            seen.add(f"e{email}")
            enqueue(
                channel="email",
                address=email,
                subject=subject,
                body=body,
                ticket=ticket,
                url=ticket_url(ticket),
            )


def unit_liaisons(unit: Organisation) -> list[Any]:
    from gongzhi.orgs.models import RoleGrant

    return [
        g.user
        for g in RoleGrant.objects.filter(
            organisation=unit, role=Role.UNIT_LIAISON, revoked_at__isnull=True
        ).select_related("user")
    ]


def notify_unit(unit: Organisation, ticket: Ticket, subject: str, body: str) -> None:
    for user in unit_liaisons(unit):
        enqueue(
            channel="inbox",
            recipient=user,
            subject=subject,
            body=body,
            ticket=ticket,
            url=f"/tickets/{ticket.pk}/",
        )
    if unit.phone:
        enqueue(channel="sms", address=unit.phone, subject=subject, body=body, ticket=ticket)


# --------------------------------------------------------------------------- intake


def find_place(
    *, compound: Compound | None = None, building: Building | None = None, unit: Unit | None = None
) -> tuple[Compound | None, Building | None, Unit | None]:
    if unit is not None:
        if building is not None and unit.building_id != building.pk:
            raise ValidationError({"unit": _("The unit is not in this building.")})
        building = building or unit.building
    if building is not None:
        if compound is not None and building.compound_id != compound.pk:
            raise ValidationError({"building": _("The building is not in this compound.")})
        compound = compound or building.compound
    return compound, building, unit


def file_ticket(
    actor: Any,
    *,
    channel: str,
    category: ServiceCategory,
    description: str,
    compound: Compound | None = None,
    building: Building | None = None,
    unit: Unit | None = None,
    address_text: str = "",
    plan_x: int | None = None,
    plan_y: int | None = None,
    lat: Any = None,
    long: Any = None,
    urgency: str = Ticket.Urgency.NORMAL,
    reporter_name: str = "",
    reporter_phone: str = "",
    reporter_email: str = "",
    reporter_resident: Resident | None = None,
    anonymous: bool = False,
    consent_note: str = "",
    attributes: dict | None = None,
    photos: Iterable[UploadedFile] = (),
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """File a request from any channel. Staff entries on behalf of a resident must record
    the resident's consent. The same idempotency key returns the first ticket, not a second."""
    if idempotency_key:
        existing = Ticket.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if channel not in Ticket.Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    description = _clean_text(description, "description")
    address_text = _clean_text(address_text, "address_text", required=False, limit=200)
    if urgency not in Ticket.Urgency.values:
        raise ValidationError({"urgency": _("Unknown urgency.")})
    compound, building, unit = find_place(compound=compound, building=building, unit=unit)
    if compound is None and not address_text and lat is None:
        raise ValidationError({"address_text": _("Say where: choose your building or describe the place.")})
    for value, name in ((plan_x, "plan_x"), (plan_y, "plan_y")):
        if value is not None and not (str(value).isdigit() and 0 <= int(value) <= 1000):
            raise ValidationError({name: _("The point must lie on the plan.")})
    lat, long = _coordinate(lat, "lat", 90), _coordinate(long, "long", 180)
    if reporter_email:
        try:
            validate_email(reporter_email)
        except ValidationError:
            raise ValidationError({"reporter_email": _("Enter a valid e-mail address.")}) from None
    staff_entry = channel in Ticket.STAFF_CHANNELS
    if staff_entry and not consent_note.strip():
        raise ValidationError(
            {"consent_note": _("Record how the resident agreed to this being filed for them.")}
        )
    cleaned = clean_photos(list(photos))
    setting = CategorySetting.objects.filter(category=category).select_related("time_limit").first()
    if setting is not None and setting.photo_required and not cleaned:
        raise ValidationError({"photos": _("This category needs a photo.")})
    attributes = _clean_attributes(category, attributes or {})
    decision = route(category, compound, building, unit)
    now = now or timezone.now()
    reporter_user = actor if (getattr(actor, "is_authenticated", False) and not staff_entry) else None
    if reporter_user is not None and policy.has_any(reporter_user, "ticket", policy.CHANGE):
        # Staff filing on their own screen for someone else is a staff entry, not their own.
        reporter_user = None if (reporter_name or reporter_phone) else reporter_user
    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                category=category,
                urgency=urgency,
                description=description,
                attributes=attributes,
                channel=channel,
                reporter_user=reporter_user,
                reporter_resident=reporter_resident,
                reporter_name=_clean_text(reporter_name, "reporter_name", required=False, limit=60),
                reporter_phone=_clean_text(reporter_phone, "reporter_phone", required=False, limit=20),
                reporter_email=reporter_email,
                anonymous=anonymous,
                entered_by=actor if staff_entry and getattr(actor, "is_authenticated", False) else None,
                consent_note=consent_note.strip()[:200],
                compound=compound,
                building=building,
                unit=unit,
                plan_x=plan_x,
                plan_y=plan_y,
                address_text=address_text,
                lat=lat,
                long=long,
                community=decision.community,
                grid=decision.grid,
                joint_branch=decision.joint_branch,
                area_path=decision.area_path,
                routing_note=decision.note,
                suggested_lead=decision.lead_unit,
                time_limit=time_limit_for(category, urgency, setting),
                idempotency_key=idempotency_key or None,
                created_at=now,
            )
            if decision.co_units:
                ticket.suggested_co_units.set(decision.co_units)
            classes = {W.DESK} if staff_entry else ({W.REPORTER} if actor is not None else {W.SYSTEM})
            _event(
                ticket,
                "report",
                actor=actor,
                label=_desk_label(actor) if staff_entry else _("Resident"),
                to_state=ticket.state,
                note="",
                data={"channel": channel},
                photos=cleaned,
                now=now,
            )
            record_change(
                actor, "tickets.ticket.report", ticket, after={"channel": channel, "classes": sorted(classes)}
            )
            _notify_desk(ticket)
    except IntegrityError:
        if idempotency_key:
            existing = Ticket.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    return ticket


def _coordinate(value: Any, field: str, limit: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not number.is_finite() or not -limit <= number <= limit:
        raise ValidationError({field: _("Out of range (±%(limit)s).") % {"limit": limit}})
    return number


def _clean_attributes(category: ServiceCategory, answers: dict) -> dict:
    out: dict[str, Any] = {}
    for question in category.questions.all():
        value = answers.get(question.code)
        if value in (None, "", []):
            if question.required:
                raise ValidationError(
                    {f"attribute[{question.code}]": _("“%(q)s” needs an answer.") % {"q": question.label}}
                )
            continue
        keys = {str(c.get("key")) for c in question.choices}
        if question.datatype == question.Datatype.SINGLE and str(value) not in keys:
            raise ValidationError({f"attribute[{question.code}]": _("Not one of the offered answers.")})
        if question.datatype == question.Datatype.MULTI:
            values = value if isinstance(value, list) else [value]
            if not all(str(v) in keys for v in values):
                raise ValidationError({f"attribute[{question.code}]": _("Not one of the offered answers.")})
            value = [str(v) for v in values]
        if question.datatype == question.Datatype.NUMBER:
            try:
                float(str(value))
            except (TypeError, ValueError):
                raise ValidationError({f"attribute[{question.code}]": _("Enter a number.")}) from None
        out[question.code] = value if isinstance(value, list) else str(value)[:500]
    return out


def _notify_desk(ticket: Ticket) -> None:
    """Tell the desk of the place that a request came in: the grid's workers; without a
    grid, the community's staff; without a community, the county's."""
    from gongzhi.orgs.models import RoleGrant

    if ticket.grid_id is not None:
        where, grants = ticket.grid, RoleGrant.objects.filter(area_id=ticket.grid_id, role=Role.GRID_WORKER)
    elif ticket.community_id is not None:
        where = ticket.community
        grants = RoleGrant.objects.filter(area_id=ticket.community_id, role=Role.COMMUNITY_STAFF)
    else:
        where, grants = None, RoleGrant.objects.filter(role=Role.COUNTY_ADMIN, area__parent__isnull=True)
    subject = _("New request #%(id)s in %(grid)s") % {"id": ticket.pk, "grid": where.name if where else "—"}
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            recipient_id=user_id,
            channel=Notification.Channel.INBOX,
            subject=subject[:200],
            body=ticket.title,
            url=f"/tickets/{ticket.pk}/",
            ticket=ticket,
            created_at=now,
            send_after=now,
        )
        for user_id in grants.filter(revoked_at__isnull=True).values_list("user_id", flat=True).distinct()
    )


# --------------------------------------------------------------------------- desk moves


def _desk(user: Any, ticket: Ticket) -> set[str]:
    classes = actor_classes(user, ticket)
    if W.DESK not in classes:
        raise PermissionDenied
    return classes


@transaction.atomic
def accept(
    actor: Any, ticket: Ticket, *, note: str = "", version: int | None = None, now: dt.datetime | None = None
) -> Ticket:
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    ticket.accepted_at = now
    _move(ticket, "accept", actor=actor, classes=_desk(actor, ticket), note=note, now=now)
    return ticket


@transaction.atomic
def reject(
    actor: Any, ticket: Ticket, *, reason: str, version: int | None = None, now: dt.datetime | None = None
) -> Ticket:
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    _move(ticket, "reject", actor=actor, classes=_desk(actor, ticket), note=reason.strip(), now=now)
    return ticket


def _new_task(
    ticket: Ticket, unit: Organisation, role: str, *, round: int, now: dt.datetime, instructions: str = ""
) -> Task:
    limit = ticket.time_limit or time_limit_for(ticket.category, ticket.urgency)
    cal = _calendar() if limit.working_days else {}
    tz = timezone.get_current_timezone()
    return Task.objects.create(
        ticket=ticket,
        unit=unit,
        role=role,
        round=round,
        dispatched_at=now,
        accept_due_at=sla.add_hours(
            now, limit.accept_hours, working_days=limit.working_days, calendar=cal, tz=tz
        ),
        due_at=sla.add_hours(now, limit.resolve_hours, working_days=limit.working_days, calendar=cal, tz=tz),
        instructions=instructions,
        area_path=ticket.area_path,
    )


@transaction.atomic
def dispatch(
    actor: Any,
    ticket: Ticket,
    *,
    lead_unit: Organisation,
    co_units: Sequence[Organisation] = (),
    instructions: str = "",
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Send the request to a lead unit and co-units; each gets its own task and clock."""
    ticket = _lock(ticket, version)
    classes = _desk(actor, ticket)
    now = now or timezone.now()
    units = [lead_unit, *[u for u in co_units if u.pk != lead_unit.pk]]
    _check_units(units)
    instructions = _clean_text(instructions, "instructions", required=False)
    _send_to_units(
        ticket, "dispatch", units, actor=actor, classes=classes, instructions=instructions, now=now
    )
    return ticket


def _check_units(units: Sequence[Organisation]) -> None:
    for unit in units:
        if unit.kind != Organisation.Kind.MEMBER_UNIT or not unit.is_active:
            raise ValidationError(
                {"lead_unit": _("%(unit)s is not an active member unit.") % {"unit": unit.name}}
            )
    if len({u.pk for u in units}) != len(units):
        raise ValidationError({"co_units": _("A unit is listed twice.")})


def _send_to_units(
    ticket: Ticket,
    action: str,
    units: Sequence[Organisation],
    *,
    actor: Any,
    classes: set[str],
    instructions: str,
    now: dt.datetime,
    label: str = "",
) -> None:
    """Start a new round of tasks — the first unit leads — and tell the units."""
    lead_unit = units[0]
    round_no = (ticket.tasks.order_by("-round").values_list("round", flat=True).first() or 0) + 1
    tasks = [
        _new_task(
            ticket,
            u,
            Task.Role.LEAD if i == 0 else Task.Role.CO,
            round=round_no,
            now=now,
            instructions=instructions,
        )
        for i, u in enumerate(units)
    ]
    ticket.lead_unit = lead_unit
    ticket.dispatched_at = ticket.dispatched_at or now
    ticket.accept_due_at = tasks[0].accept_due_at
    ticket.due_at = tasks[0].due_at
    ticket.warned_pct = 0
    ticket.overdue = False
    _move(
        ticket,
        action,
        actor=actor,
        classes=classes,
        note=instructions,
        data={"lead": lead_unit.pk, "co": [u.pk for u in units[1:]], "round": round_no},
        now=now,
        label=label,
    )
    names = "、".join(u.name for u in units)
    for task in tasks:
        notify_unit(
            task.unit,
            ticket,
            _("Request #%(id)s dispatched to you") % {"id": ticket.pk},
            _("%(title)s — units: %(units)s; sign for it by %(due)s.")
            % {
                "title": ticket.title,
                "units": names,
                "due": timezone.localtime(task.accept_due_at).strftime("%m-%d %H:%M"),
            },
        )


@transaction.atomic
def verify(
    actor: Any,
    ticket: Ticket,
    *,
    note: str = "",
    photos: Iterable[UploadedFile] = (),
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Checked on site by the grid or the branch: the work is done."""
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    ticket.verified_at = now
    _move(
        ticket,
        "verify",
        actor=actor,
        classes=_desk(actor, ticket),
        note=note,
        photos=clean_photos(list(photos)),
        now=now,
    )
    return ticket


@transaction.atomic
def send_back(
    actor: Any,
    ticket: Ticket,
    *,
    reason: str,
    units: Sequence[Organisation] = (),
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Verification failed: the lead unit's task (or the named units') goes back to work."""
    ticket = _lock(ticket, version)
    classes = _desk(actor, ticket)
    now = now or timezone.now()
    tasks = ticket.tasks.select_for_update().filter(state=Task.State.REPLIED)
    tasks = tasks.filter(unit__in=units) if units else tasks.filter(role=Task.Role.LEAD)
    event = _move(ticket, "send_back", actor=actor, classes=classes, note=reason.strip(), now=now)
    for task in tasks.select_related("unit"):
        _task_move(task, "send_back", actor=actor, classes=classes, note=reason.strip(), now=now)
        notify_unit(task.unit, ticket, _("Request #%(id)s sent back") % {"id": ticket.pk}, reason.strip())
    return ticket if event else ticket


@transaction.atomic
def close(
    actor: Any, ticket: Ticket, *, note: str = "", version: int | None = None, now: dt.datetime | None = None
) -> Ticket:
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    ticket.closed_at = now
    _move(ticket, "close", actor=actor, classes=_desk(actor, ticket), note=note, now=now)
    return ticket


@transaction.atomic
def rate(
    actor: Any,
    ticket: Ticket,
    *,
    resolution: str,
    satisfaction: str,
    via: str,
    note: str = "",
    as_reporter: bool = False,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """The follow-up: the resident's rating, by their phone page or a staff call (never by the
    unit being rated). "Not resolved" or "dissatisfied" reopens to the same lead unit."""
    ticket = _lock(ticket, version)
    classes = actor_classes(actor, ticket, as_reporter=as_reporter)
    if not classes & {W.DESK, W.REPORTER}:
        raise PermissionDenied
    if resolution not in Ticket.Resolution.values:
        raise ValidationError({"resolution": _("Choose whether it was resolved.")})
    if satisfaction not in Ticket.Satisfaction.values:
        raise ValidationError({"satisfaction": _("Choose how satisfied you are.")})
    if via not in ("phone_page", "staff_call", "door_to_door", "paper"):
        raise ValidationError({"via": _("Unknown follow-up channel.")})
    if W.REPORTER not in classes and via == "phone_page":
        raise ValidationError(
            {"via": _("Staff record a follow-up call or visit, not the resident's own page.")}
        )
    now = now or timezone.now()
    ticket.resolution, ticket.satisfaction, ticket.rated_via, ticket.rated_at = (
        resolution,
        satisfaction,
        via,
        now,
    )
    note = _clean_text(note, "note", required=False)
    _move(
        ticket,
        "rate",
        actor=actor,
        classes=classes,
        note=note,
        data={
            "resolution": resolution,
            "satisfaction": satisfaction,
            "via": via,
            "lead": ticket.lead_unit_id,
        },
        now=now,
    )
    if resolution == Ticket.Resolution.NOT or satisfaction == Ticket.Satisfaction.DISSATISFIED:
        _reopen(ticket, actor=actor, classes=classes | {W.SYSTEM}, reason=note, now=now)
    return ticket


def _reopen(ticket: Ticket, *, actor: Any, classes: set[str], reason: str, now: dt.datetime) -> None:
    lead = ticket.lead_unit
    if lead is None:
        raise Refused(_("This request was never dispatched; it cannot be reopened."))
    ticket.reopen_count += 1
    ticket.warned_pct, ticket.overdue = 0, False
    ticket.closed_at = ticket.verified_at = ticket.replied_at = None
    round_no = (ticket.tasks.order_by("-round").values_list("round", flat=True).first() or 0) + 1
    task = _new_task(
        ticket,
        lead,
        Task.Role.LEAD,
        round=round_no,
        now=now,
        instructions=_("Reopened after the follow-up: %(reason)s") % {"reason": reason or "—"},
    )
    ticket.accept_due_at, ticket.due_at = task.accept_due_at, task.due_at
    ticket.unit_accepted_at = None
    _move(
        ticket,
        "reopen",
        actor=actor,
        classes=classes,
        note=reason,
        data={"lead": lead.pk, "round": round_no, "reopen_count": ticket.reopen_count},
        now=now,
    )
    notify_unit(
        lead,
        ticket,
        _("Request #%(id)s reopened") % {"id": ticket.pk},
        _("The resident was not satisfied; it comes back to you (reopen %(n)s).")
        % {"n": ticket.reopen_count},
    )


@transaction.atomic
def mark_unreachable(
    actor: Any, ticket: Ticket, *, note: str, version: int | None = None, now: dt.datetime | None = None
) -> Ticket:
    """The follow-up could not reach the reporter (how it was tried goes in ``note``): the
    request is left out of the KPIs from then on. Desk staff only, on a closed request."""
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    if ticket.unreachable:
        raise Refused(_("The reporter is already marked unreachable."))
    classes = _desk(actor, ticket)
    ticket.unreachable = True
    _move(ticket, "unreachable", actor=actor, classes=classes, note=note.strip(), now=now)
    return ticket


@transaction.atomic
def archive(
    actor: Any, ticket: Ticket, *, version: int | None = None, now: dt.datetime | None = None
) -> Ticket:
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    classes = {W.SYSTEM} if actor is None else _desk(actor, ticket)
    ticket.archived_at = now
    _move(ticket, "archive", actor=actor, classes=classes, now=now)
    return ticket


@transaction.atomic
def withdraw(
    actor: Any,
    ticket: Ticket,
    *,
    reason: str = "",
    as_reporter: bool = False,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    classes = actor_classes(actor, ticket, as_reporter=as_reporter)
    _move(ticket, "withdraw", actor=actor, classes=classes, note=reason.strip(), now=now)
    for task in ticket.tasks.select_for_update().filter(state__in=W.ACTIVE_TASK_STATES):
        _task_move(task, "cancel", actor=None, classes={W.SYSTEM}, now=now)
    return ticket


@transaction.atomic
def merge(
    actor: Any,
    child: Ticket,
    parent: Ticket,
    *,
    note: str = "",
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Merge a duplicate into its parent: the child's reporter joins the parent's "me too"
    list and hears of its outcome; the child closes as merged."""
    if child.pk == parent.pk:
        raise ValidationError({"parent": _("A request cannot be merged into itself.")})
    first, second = sorted([child.pk, parent.pk])
    locked = {
        t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")
    }
    child, parent = locked[child.pk], locked[parent.pk]
    if version is not None and child.version != version:
        raise Refused(_("Someone else changed this request a moment ago. Reload the page and try again."))
    if parent.state not in W.OPEN_STATES:
        raise Refused(_("Merge into an open request."))
    if parent.merged_into_id:
        raise Refused(_("That request was itself merged; merge into the one it was merged into."))
    now = now or timezone.now()
    classes = _desk(actor, child)
    if W.DESK not in actor_classes(actor, parent):
        raise PermissionDenied
    child.merged_into = parent
    _move(
        child,
        "merge",
        actor=actor,
        classes=classes,
        note=note or _("Merged into request #%(id)s.") % {"id": parent.pk},
        data={"parent": parent.pk},
        now=now,
    )
    for task in child.tasks.select_for_update().filter(state__in=W.ACTIVE_TASK_STATES):
        _task_move(task, "cancel", actor=None, classes={W.SYSTEM}, now=now)
    joined = 0
    for user, phone, email in _reporter_addresses(child):
        if user is None and not phone and not email:
            continue
        if user is not None and (
            user.pk == parent.reporter_user_id or parent.supporters.filter(user=user).exists()
        ):
            continue
        if phone and (phone == parent.reporter_phone or parent.supporters.filter(phone=phone).exists()):
            continue
        Supporter.objects.create(
            ticket=parent, user=user, phone=phone, email=email, from_ticket=child, created_at=now
        )
        joined += 1
    parent.supporters_count = parent.supporters.count()
    parent.save(update_fields=["supporters_count", "updated_at"])
    _event(
        parent,
        "merged_in",
        actor=actor,
        label=_desk_label(actor),
        note=_("Request #%(id)s merged into this one.") % {"id": child.pk},
        data={"child": child.pk, "joined": joined},
        now=now,
    )
    return child


@transaction.atomic
def me_too(
    actor: Any, ticket: Ticket, *, phone: str = "", email: str = "", now: dt.datetime | None = None
) -> Ticket:
    """A resident joins an open request instead of filing a duplicate."""
    ticket = _lock(ticket, None)
    now = now or timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    if user is None and not phone:
        raise ValidationError({"phone": _("Leave a phone number so we can tell you the outcome.")})
    if (user is not None and user.pk == ticket.reporter_user_id) or (
        phone and phone == ticket.reporter_phone
    ):
        raise Refused(_("You reported this request yourself."))
    if (
        ticket.supporters.filter(user=user).exists()
        if user
        else ticket.supporters.filter(phone=phone).exists()
    ):
        raise Refused(_("You have already joined this request."))
    _checked(W.TICKET_MOVES, "me_too", ticket.state, {W.REPORTER})
    Supporter.objects.create(ticket=ticket, user=user, phone=phone, email=email, created_at=now)
    ticket.supporters_count = ticket.supporters.count()
    ticket.save(update_fields=["supporters_count", "updated_at"])
    _event(
        ticket, "me_too", actor=user, label=_("Resident"), data={"count": ticket.supporters_count}, now=now
    )
    return ticket


@transaction.atomic
def refer(
    actor: Any, ticket: Ticket, *, reason: str, version: int | None = None, now: dt.datetime | None = None
) -> Ticket:
    """Flag the request for the joint meeting of member units, with the reason."""
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    if ticket.referred:
        raise Refused(_("This request is already referred to the joint meeting."))
    ticket.referred, ticket.referred_reason = True, reason.strip()
    _move(ticket, "refer", actor=actor, classes=_desk(actor, ticket), note=reason.strip(), now=now)
    return ticket


@transaction.atomic
def record_meeting_event(
    ticket: Ticket, action: str, *, label: str, note: str = "", data: dict | None = None, now: dt.datetime
) -> TicketEvent:
    """Write on the request's timeline what a meeting did about it (``W.MEETING_ACTIONS``):
    put it on an agenda, resolved it, gave work to units, saw the work done or overdue.
    Called by ``gongzhi.meetings.actions`` only, inside its transaction; ``label`` is the
    meeting's convening body. A resolution answers a referral to the joint meeting; the
    reporters hear of resolutions and of work done."""
    if action not in W.MEETING_ACTIONS:
        raise ValueError(f"not a meeting event: {action}")
    ticket = _lock(ticket, None)
    data = dict(data or {})
    if action == "meeting_resolution" and ticket.referred:
        data["referral_answered"] = True
    event = _move(ticket, action, actor=None, classes={W.SYSTEM}, note=note, data=data, now=now, label=label)
    if action in ("meeting_resolution", "action_done"):
        _notify_reporters(ticket, event)
    return event


@transaction.atomic
def redispatch(
    ticket: Ticket,
    *,
    units: Sequence[Organisation],
    label: str,
    instructions: str,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Send the request to the units a meeting agreed on: the first leads. The tasks still
    open are cancelled and a new round starts with fresh time limits. Called by
    ``gongzhi.meetings.actions`` for a resolution; ``label`` is the meeting's convener."""
    ticket = _lock(ticket, None)
    now = now or timezone.now()
    units = list(units)
    if not units:
        raise ValidationError({"units": _("Name at least one member unit.")})
    _check_units(units)
    instructions = _clean_text(instructions, "instructions", required=False)
    _checked(W.TICKET_MOVES, "redispatch", ticket.state, {W.SYSTEM})  # refuse before cancelling
    for task in ticket.tasks.filter(state__in=W.ACTIVE_TASK_STATES).select_related("unit"):
        _task_move(task, "cancel", actor=None, classes={W.SYSTEM}, note=instructions, now=now)
    _send_to_units(
        ticket,
        "redispatch",
        units,
        actor=actor,
        classes={W.SYSTEM},
        instructions=instructions,
        now=now,
        label=label,
    )
    return ticket


@transaction.atomic
def supervise(
    actor: Any,
    ticket: Ticket,
    *,
    note: str,
    level: int | None = None,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """督办: raise the supervision level; level 2 and up goes to the lead unit's superior."""
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    classes = {W.SYSTEM} if actor is None else _desk(actor, ticket)
    new_level = level if level is not None else ticket.supervision_level + 1
    if not 1 <= new_level <= 3 or new_level <= ticket.supervision_level:
        raise ValidationError({"level": _("Supervision goes up one level at a time, to at most 3.")})
    ticket.supervision_level = new_level
    _move(
        ticket,
        "supervise",
        actor=actor,
        classes=classes,
        note=note.strip(),
        data={"level": new_level},
        now=now,
    )
    _notify_supervision(ticket, new_level, note.strip())
    return ticket


@transaction.atomic
def mark_deadline(
    ticket: Ticket, action: str, *, data: dict, task: Task | None = None, now: dt.datetime
) -> TicketEvent:
    """A mark of the deadline sweep on a ticket the caller has locked: "warn" (a clock at
    50 or 80 %, or a task's sign-for time passed) or "overdue". System only, not shown to
    the reporter; the caller sets ``warned_pct``/``overdue`` first and tells the units."""
    if action not in ("warn", "overdue"):
        raise ValueError(f"not a deadline mark: {action}")
    return _move(ticket, action, actor=None, classes={W.SYSTEM}, task=task, data=data, now=now)


def _notify_supervision(ticket: Ticket, level: int, note: str) -> None:
    subject = _("Supervision level %(level)s: request #%(id)s") % {"level": level, "id": ticket.pk}
    active = ticket.tasks.filter(state__in=W.ACTIVE_TASK_STATES).select_related("unit", "unit__parent")
    for task in active:
        notify_unit(task.unit, ticket, subject, note)
        if level >= 2 and task.unit.parent is not None:
            notify_unit(task.unit.parent, ticket, subject, note)
    if level >= 2:
        from gongzhi.orgs.models import RoleGrant

        staff = RoleGrant.objects.filter(
            role__in=[Role.COUNTY_ADMIN, Role.TOWN_STAFF], revoked_at__isnull=True
        ).select_related("area")
        for grant in staff:
            if grant.area is not None and ticket.area_path.startswith(grant.area.path):
                enqueue(
                    channel="inbox",
                    recipient=grant.user,
                    subject=subject,
                    body=note or ticket.title,
                    ticket=ticket,
                    url=f"/tickets/{ticket.pk}/",
                )


@transaction.atomic
def add_note(
    actor: Any, ticket: Ticket, *, note: str, task: Task | None = None, now: dt.datetime | None = None
) -> TicketEvent:
    ticket = _lock(ticket, None)
    classes = actor_classes(actor, ticket, task)
    return _move(
        ticket,
        "note",
        actor=actor,
        classes=classes,
        note=_clean_text(note, "note"),
        task=task,
        now=now or timezone.now(),
    )


# --------------------------------------------------------------------------- unit moves


def _unit_task(actor: Any, task: Task, version: int | None) -> tuple[Ticket, Task, set[str]]:
    ticket = _lock(task.ticket, version)
    task = Task.objects.select_for_update().select_related("unit").get(pk=task.pk)
    task.ticket = ticket
    classes = actor_classes(actor, ticket, task)
    if W.UNIT not in classes:
        raise PermissionDenied
    return ticket, task, classes


@transaction.atomic
def task_accept(
    actor: Any, task: Task, *, version: int | None = None, now: dt.datetime | None = None
) -> Task:
    """签收: the unit signs for its task (the response clock stops)."""
    ticket, task, classes = _unit_task(actor, task, version)
    now = now or timezone.now()
    task.accepted_at = now
    _task_move(
        task, "accept", actor=actor, classes=classes, data={"in_time": now <= task.accept_due_at}, now=now
    )
    _follow_tasks(ticket, now=now)
    return task


@transaction.atomic
def task_start(
    actor: Any, task: Task, *, note: str = "", version: int | None = None, now: dt.datetime | None = None
) -> Task:
    ticket, task, classes = _unit_task(actor, task, version)
    now = now or timezone.now()
    _task_move(task, "start", actor=actor, classes=classes, note=note, now=now)
    _follow_tasks(ticket, now=now)
    return task


@transaction.atomic
def task_reply(
    actor: Any,
    task: Task,
    *,
    result: str,
    photos: Iterable[UploadedFile] = (),
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """The unit's answer with the result and photos; the ticket is replied once all units are."""
    ticket, task, classes = _unit_task(actor, task, version)
    now = now or timezone.now()
    result = _clean_text(result, "result")
    cleaned = clean_photos(list(photos))
    if task.state == Task.State.ACCEPTED:
        _task_move(task, "start", actor=actor, classes=classes, now=now)
    task.reply, task.replied_at = result, now
    _task_move(
        task,
        "reply",
        actor=actor,
        classes=classes,
        note=result,
        photos=cleaned,
        data={"on_time": now <= task.due_at},
        now=now,
    )
    _follow_tasks(ticket, now=now)
    return task


@transaction.atomic
def request_approval(
    actor: Any,
    ticket: Ticket,
    *,
    kind: str,
    reason: str,
    task: Task | None = None,
    extra_hours: int | None = None,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Approval:
    """Ask for an extension or a return (by the unit), or to mark the request unreasonable
    (by the desk; a second person must approve)."""
    ticket = _lock(ticket, version)
    now = now or timezone.now()
    reason = _clean_text(reason, "reason")
    if kind in (Approval.Kind.EXTENSION, Approval.Kind.RETURN):
        if task is None:
            raise ValidationError({"task": _("Which unit's task?")})
        task = Task.objects.select_for_update().select_related("unit").get(pk=task.pk, ticket=ticket)
        classes = actor_classes(actor, ticket, task)
        if W.UNIT not in classes:
            raise PermissionDenied
        if kind == Approval.Kind.EXTENSION and not (extra_hours and 1 <= extra_hours <= 24 * 60):
            raise ValidationError({"extra_hours": _("Ask for between 1 hour and 60 days.")})
        action = "request_extension" if kind == Approval.Kind.EXTENSION else "request_return"
        _task_move(
            task, action, actor=actor, classes=classes, note=reason, data={"hours": extra_hours}, now=now
        )
    elif kind == Approval.Kind.UNREASONABLE:
        if ticket.unreasonable:
            raise Refused(_("This request is already marked unreasonable."))
        _move(ticket, "request_unreasonable", actor=actor, classes=_desk(actor, ticket), note=reason, now=now)
    else:
        raise ValidationError({"kind": _("Unknown kind of approval.")})
    if ticket.approvals.filter(kind=kind, state=Approval.State.PENDING).exists():
        raise Refused(_("A request of this kind is already waiting for a decision."))
    return Approval.objects.create(
        ticket=ticket,
        task=task,
        kind=kind,
        reason=reason,
        extra_hours=extra_hours,
        requested_by=actor,
        requested_at=now,
    )


@transaction.atomic
def decide_approval(
    actor: Any, approval: Approval, *, approve: bool, note: str = "", now: dt.datetime | None = None
) -> Approval:
    """Approve or refuse. The person who asked can never decide their own request."""
    ticket = _lock(approval.ticket, None)
    approval = Approval.objects.select_for_update().get(pk=approval.pk)
    if approval.state != Approval.State.PENDING:
        raise Refused(_("This was already decided."))
    classes = _desk(actor, ticket)
    if approval.requested_by_id == actor.pk:
        raise Refused(_("Someone other than the person who asked must decide."))
    now = now or timezone.now()
    approval.state = Approval.State.APPROVED if approve else Approval.State.REFUSED
    approval.decided_by, approval.decided_at, approval.decision_note = actor, now, note.strip()
    approval.save()
    task = (
        Task.objects.select_for_update().select_related("unit").get(pk=approval.task_id)
        if approval.task_id
        else None
    )
    if approval.kind == Approval.Kind.UNREASONABLE:
        if approve:
            ticket.unreasonable = True
        _move(
            ticket,
            "unreasonable" if approve else "refuse_unreasonable",
            actor=actor,
            classes=classes,
            note=note or approval.reason,
            data={"approval": approval.pk, "requested_by": approval.requested_by_id},
            now=now,
        )
    elif approval.kind == Approval.Kind.EXTENSION and task is not None:
        if approve:
            limit = ticket.time_limit or time_limit_for(ticket.category, ticket.urgency)
            task.due_at = sla.add_hours(
                task.due_at,
                approval.extra_hours or 0,
                working_days=limit.working_days,
                calendar=_calendar() if limit.working_days else {},
                tz=timezone.get_current_timezone(),
            )
            if task.role == Task.Role.LEAD:
                ticket.due_at, ticket.overdue, ticket.warned_pct = task.due_at, False, 0
                ticket.save(update_fields=["due_at", "overdue", "warned_pct", "updated_at"])
        _task_move(
            task,
            "extend" if approve else "refuse_extension",
            actor=actor,
            classes=classes,
            note=note,
            data={"hours": approval.extra_hours, "due": task.due_at.isoformat()},
            now=now,
        )
        notify_unit(
            task.unit,
            ticket,
            _("Extension for request #%(id)s: %(d)s")
            % {"id": ticket.pk, "d": _("approved") if approve else _("refused")},
            note,
        )
    elif approval.kind == Approval.Kind.RETURN and task is not None:
        if approve:
            _task_move(task, "return", actor=actor, classes=classes, note=note or approval.reason, now=now)
            if task.role == Task.Role.LEAD:
                for other in ticket.tasks.select_for_update().filter(state__in=W.ACTIVE_TASK_STATES):
                    _task_move(other, "cancel", actor=actor, classes=classes, now=now)
                _move(ticket, "returned", actor=None, classes={W.SYSTEM}, note=approval.reason, now=now)
            else:
                _follow_tasks(ticket, now=now)
        else:
            _task_move(task, "refuse_return", actor=actor, classes=classes, note=note, now=now)
    return approval


def pending_inbox(user: Any) -> Any:
    return Notification.objects.filter(recipient=user, channel=Notification.Channel.INBOX)
