"""REST routes for resident requests, mounted on ``gongzhi.api.api`` at ``/api/v1/``.

Thin on purpose: lists come from ``queries`` (so from ``policy.scope``), single objects from
``policy.get_or_404``, and every change is one call into ``actions``, which checks the move,
who may make it and the version. What a viewer is shown of a request depends on how they
stand to it (``_viewer``); ``schemas`` builds what each of them sees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status

from gongzhi.api import PARTNER_OR_SESSION, SESSION, TooManyRequests, api, body_docs, errors, read_body
from gongzhi.core import ratelimit
from gongzhi.core.audit import client_ip
from gongzhi.core.pagination import keyset_page
from gongzhi.housing.models import Building, Compound, Unit
from gongzhi.orgs import policy
from gongzhi.orgs.models import Organisation, Role, ServiceCategory
from gongzhi.tickets import actions, duplicates, queries
from gongzhi.tickets import schemas as out
from gongzhi.tickets.models import (
    ApiKey,
    Approval,
    CategoryQuestion,
    CategorySetting,
    Task,
    Ticket,
    TicketEvent,
    TimeLimit,
)
from gongzhi.tickets.schemas import (
    DESK,
    REPORTER,
    UNIT,
    WATCHER,
    ApprovalOut,
    CategoryOut,
    DecisionIn,
    DispatchIn,
    DuplicateOut,
    EventPage,
    ExtensionIn,
    MergeIn,
    NoteIn,
    PageQuery,
    PublicStatus,
    RateIn,
    ReasonIn,
    ReplyIn,
    SendBackIn,
    SuperviseIn,
    TaskOut,
    TaskPage,
    TaskQuery,
    TicketCreated,
    TicketDetail,
    TicketIn,
    TicketPage,
    TicketQuery,
    Versioned,
    WithdrawIn,
)

router = Router(tags=["requests"])

# Error statuses, by kind of route.
READ = errors(400, 401, 403, 404)
MOVE = errors(400, 401, 403, 404, 409)


# --------------------------------------------------------------------------- who is asking


def _user(request: HttpRequest) -> Any:
    """The signed-in user of a session route (None for a partner key)."""
    caller = getattr(request, "auth", None)
    return None if isinstance(caller, ApiKey) else caller


def _liaison_units(user: Any) -> set[int]:
    return {
        g.organisation_id
        for g in policy.active_grants(user)
        if g.role == Role.UNIT_LIAISON and g.organisation_id is not None
    }


def _viewer(user: Any, ticket: Ticket) -> str:
    if policy.can(user, policy.CHANGE, ticket):
        return DESK
    if ticket.reporter_user_id == user.pk or ticket.supporters.filter(user=user).exists():
        return REPORTER
    if ticket.tasks.filter(unit_id__in=_liaison_units(user)).exists():
        return UNIT
    return WATCHER


def _events_for(ticket: Ticket, viewer: str, user: Any) -> QuerySet[TicketEvent]:
    """The events ``viewer`` may see: all for the desk; for a unit the public ones, its own
    tasks' and the supervision; for everyone else the public ones."""
    events = TicketEvent.objects.filter(ticket=ticket)
    if viewer == UNIT:
        own = _liaison_units(user)
        return events.filter(Q(public=True) | Q(task__unit_id__in=own) | Q(action="supervise"))
    if viewer != DESK:
        return events.filter(public=True)
    return events


def _with_photo_counts(qs: QuerySet[TicketEvent]) -> QuerySet[TicketEvent]:
    return qs.annotate(photo_count=Count("attachments"))


def _ticket(request: HttpRequest, ticket_id: int, action: str = policy.VIEW) -> Ticket:
    """The request through the policy: 404 when there is none, 403 when out of scope."""
    found = policy.get_or_404(_user(request), "ticket", action, pk=ticket_id)
    return Ticket.objects.select_related(
        "category", "compound", "building", "lead_unit", "grid", "community", "suggested_lead"
    ).get(pk=found.pk)


def _shown(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    """The request as the caller may see it, read afresh (after a move)."""
    user = _user(request)
    ticket = _ticket(request, ticket_id)
    viewer = _viewer(user, ticket)
    return out.ticket_detail(
        ticket,
        viewer,
        tasks=[] if viewer == REPORTER else ticket.tasks.select_related("unit"),
        approvals=ticket.approvals.all() if viewer == DESK else [],
        events=_with_photo_counts(_events_for(ticket, viewer, user)).order_by("id"),
    )


def _task_for(request: HttpRequest, task_id: int) -> Task:
    """The task through the policy; a liaison reaches only their own unit's tasks."""
    found = policy.get_or_404(_user(request), "task", policy.VIEW, pk=task_id)
    return Task.objects.select_related("ticket__category", "ticket__compound", "unit").get(pk=found.pk)


def _task_shown(task_id: int) -> dict[str, Any]:
    return out.task_out(
        Task.objects.select_related("ticket__category", "ticket__compound", "unit").get(pk=task_id)
    )


def _at_version(ticket: Ticket, version: int) -> None:
    """Lock the request for the rest of the transaction and refuse a stale version, for the
    actions that take no ``version`` of their own."""
    current = Ticket.objects.select_for_update().values_list("version", flat=True).get(pk=ticket.pk)
    if current != version:
        raise actions.Refused(
            _("Someone else changed this request a moment ago. Reload the page and try again.")
        )


# --------------------------------------------------------------------------- categories


@router.get("/categories", auth=None, response=list[CategoryOut], summary="Categories of requests")
def categories(request: HttpRequest) -> list[dict[str, Any]]:
    """The categories open for public intake, as a tree, each with its time limit, whether a
    photo is required and the extra questions asked when filing. No sign-in needed."""
    return out.category_tree(
        ServiceCategory.objects.order_by("code"),
        CategorySetting.objects.select_related("time_limit"),
        CategoryQuestion.objects.order_by("category", "order", "id"),
        TimeLimit.objects.filter(code=actions.DEFAULT_LIMIT).first(),
    )


# --------------------------------------------------------------------------- intake


def _limit(scope: str, ident: str, limit: int, window: int) -> None:
    if not ratelimit.hit(scope, ident, limit, window):
        raise TooManyRequests(window)


def _idempotency_key(caller: Any, raw: str) -> str:
    """The stored key: hashed within the caller's own namespace, so an equal key sent by
    another caller can never return their request."""
    owner = f"key:{caller.pk}" if isinstance(caller, ApiKey) else f"user:{caller.pk}"
    return hashlib.sha256(f"{owner}\n{raw}".encode()).hexdigest()


def _lookup(model: Any, pk: int | None, field: str, message: str) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: message})
    return found


def _intake_category(code: str, staff: bool) -> ServiceCategory:
    category = ServiceCategory.objects.filter(code=code).first()
    if category is None:
        raise ValidationError({"category": _("Unknown category.")})
    if not staff:
        own = CategorySetting.objects.filter(category=category).first()
        if own is None and category.parent_id is not None:
            own = CategorySetting.objects.filter(category_id=category.parent_id).first()
        if own is not None and not own.public:
            raise ValidationError({"category": _("This category does not take requests from the public.")})
    return category


def _coordinate(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.000001"))


@router.post(
    "/tickets",
    auth=PARTNER_OR_SESSION,
    response={200: TicketCreated, 201: TicketCreated, **errors(400, 401, 403, 429)},
    summary="File a request",
    openapi_extra=body_docs(TicketIn, photos=True),
)
def file_ticket(
    request: HttpRequest,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=200,
        description="Send the same value again to get the first request back instead of a second one.",
    ),
) -> Status[dict[str, Any]]:
    """File a request as JSON, or as a multipart form with photos. Answers 201 with the new
    request, or 200 with the earlier one when this caller used the Idempotency-Key before.
    Partner keys and residents are rate-limited per address and per reporter phone; staff
    entering calls, visits and paper forms are not."""
    caller = getattr(request, "auth", None)
    user = _user(request)
    key = _idempotency_key(caller, idempotency_key) if idempotency_key else None
    if key is not None:
        earlier = Ticket.objects.filter(idempotency_key=key).first()
        if earlier is not None:
            return Status(200, out.created_out(earlier))
    staff = user is not None and policy.has_any(user, "ticket", policy.CHANGE)
    per_ip, per_phone, window = settings.GONGZHI_INTAKE_RATE
    if not staff:
        _limit("intake-ip", client_ip(request) or "-", per_ip, window)
    payload, photos = read_body(request, TicketIn)
    phone_digits = "".join(ch for ch in payload.reporter_phone if ch.isdigit())
    if not staff and phone_digits:
        _limit("intake-phone", phone_digits, per_phone, window)
    if payload.channel != Ticket.Channel.API and not staff:
        raise ValidationError({"channel": _("Only staff enter calls, visits and paper forms.")})
    ticket = actions.file_ticket(
        user,
        channel=payload.channel,
        category=_intake_category(payload.category, staff),
        description=payload.description,
        compound=_lookup(Compound, payload.compound, "compound", _("Unknown compound.")),
        building=_lookup(Building, payload.building, "building", _("Unknown building.")),
        unit=_lookup(Unit, payload.unit, "unit", _("Unknown unit.")),
        address_text=payload.address_text,
        lat=_coordinate(payload.lat),
        long=_coordinate(payload.long),
        urgency=payload.urgency,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        anonymous=payload.anonymous,
        consent_note=payload.consent_note,
        attributes=payload.attributes,
        photos=photos,
        idempotency_key=key,
    )
    return Status(201, out.created_out(ticket))


@router.get(
    "/status/{token}",
    auth=PARTNER_OR_SESSION,
    response={200: PublicStatus, **errors(401, 404)},
    summary="Public status of a request",
)
def public_status(request: HttpRequest, token: str) -> dict[str, Any]:
    """What the reporter's tracking code shows: the state and the public timeline, with no
    names or contacts. For partner systems and the reporter."""
    ticket = Ticket.objects.select_related("category").filter(token=token).first()
    if ticket is None:
        raise Http404
    return out.public_status_out(ticket, _with_photo_counts(ticket.events.filter(public=True)).order_by("id"))


# --------------------------------------------------------------------------- reading


@router.get("/tickets", auth=SESSION, response={200: TicketPage, **errors(400, 401)}, summary="List requests")
def list_tickets(request: HttpRequest, params: Query[TicketQuery]) -> dict[str, Any]:
    """The requests the caller may see, newest first: a grid worker their grid's, a unit
    liaison those dispatched to their unit, a resident their own."""
    filters = queries.TicketFilters(
        group=params.group or "",
        category=params.category,
        compound=params.compound,
        overdue=params.overdue,
        referred=params.referred,
    )
    page = queries.ticket_page(_user(request), filters, after=params.after, size=params.size)
    return {"items": [out.ticket_row(t) for t in page.rows], "next_after": page.next_after}


@router.get("/tickets/{ticket_id}", auth=SESSION, response={200: TicketDetail, **READ}, summary="One request")
def get_ticket(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    """The request with its units' tasks and its timeline. Phones are masked; a member unit
    sees neither the reporter's name nor who rated it; residents see the public timeline."""
    return _shown(request, ticket_id)


@router.get(
    "/tickets/{ticket_id}/events", auth=SESSION, response={200: EventPage, **READ}, summary="Timeline"
)
def ticket_events(request: HttpRequest, ticket_id: int, params: Query[PageQuery]) -> dict[str, Any]:
    """The request's events, oldest first, as far as the caller may see them."""
    user = _user(request)
    ticket = _ticket(request, ticket_id)
    viewer = _viewer(user, ticket)
    page = keyset_page(_events_for(ticket, viewer, user), params.after, params.size, load=_with_photo_counts)
    return {"items": [out.event_out(e, viewer) for e in page.rows], "next_after": page.next_after}


@router.get(
    "/tickets/{ticket_id}/duplicates",
    auth=SESSION,
    response={200: list[DuplicateOut], **READ},
    summary="Possible duplicates",
)
def ticket_duplicates(request: HttpRequest, ticket_id: int) -> list[dict[str, Any]]:
    """Open requests nearby about the same thing, for the desk to merge. Desk only."""
    ticket = _ticket(request, ticket_id, policy.CHANGE)
    return [
        {
            "id": c.id,
            "title": c.title,
            "category": c.category,
            "state": c.state,
            "state_label": c.state_label,
            "supporters_count": c.supporters_count,
            "created_at": c.created_at,
            "score": c.score,
            "same_building": c.same_building,
        }
        for c in duplicates.staff_candidates(ticket, user=_user(request))
    ]


# --------------------------------------------------------------------------- desk moves


def _move(path: str, summary: str, **extra: Any) -> Callable[[Callable[..., Any]], Any]:
    return router.post(
        f"/tickets/{{ticket_id}}/{path}",
        auth=SESSION,
        response={200: TicketDetail, **MOVE},
        summary=summary,
        **extra,
    )


def _units(ids: Iterable[int], field: str) -> list[Organisation]:
    wanted = list(dict.fromkeys(ids))
    found = {o.pk: o for o in Organisation.objects.filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise ValidationError({field: _("Unknown unit.")})
    return [found[i] for i in wanted]


@_move("accept", "Accept")
def accept(request: HttpRequest, ticket_id: int, payload: NoteIn) -> dict[str, Any]:
    """受理: the desk takes the request on."""
    actions.accept(_user(request), _ticket(request, ticket_id), note=payload.note, version=payload.version)
    return _shown(request, ticket_id)


@_move("reject", "Reject")
def reject(request: HttpRequest, ticket_id: int, payload: ReasonIn) -> dict[str, Any]:
    """The desk does not take the request on, and says why."""
    ticket = _ticket(request, ticket_id)
    actions.reject(_user(request), ticket, reason=payload.reason, version=payload.version)
    return _shown(request, ticket_id)


@_move("dispatch", "Dispatch to units")
def dispatch(request: HttpRequest, ticket_id: int, payload: DispatchIn) -> dict[str, Any]:
    """派单: send the accepted request to a lead unit and co-units, each with its own clock."""
    ticket = _ticket(request, ticket_id)
    actions.dispatch(
        _user(request),
        ticket,
        lead_unit=_units([payload.lead_unit], "lead_unit")[0],
        co_units=_units(payload.co_units, "co_units"),
        instructions=payload.instructions,
        version=payload.version,
    )
    return _shown(request, ticket_id)


@_move("verify", "Verify on site", openapi_extra=body_docs(NoteIn, photos=True))
def verify(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    """核查: the grid or the branch checked the units' work on site (photos optional)."""
    ticket = _ticket(request, ticket_id)
    payload, photos = read_body(request, NoteIn)
    actions.verify(_user(request), ticket, note=payload.note, photos=photos, version=payload.version)
    return _shown(request, ticket_id)


@_move("send-back", "Send back to the units")
def send_back(request: HttpRequest, ticket_id: int, payload: SendBackIn) -> dict[str, Any]:
    """Verification failed: the lead unit's reply (or the named units') goes back to work."""
    ticket = _ticket(request, ticket_id)
    units = _units(payload.units, "units")
    actions.send_back(_user(request), ticket, reason=payload.reason, units=units, version=payload.version)
    return _shown(request, ticket_id)


@_move("close", "Close")
def close(request: HttpRequest, ticket_id: int, payload: NoteIn) -> dict[str, Any]:
    """办结: the verified request is done."""
    actions.close(_user(request), _ticket(request, ticket_id), note=payload.note, version=payload.version)
    return _shown(request, ticket_id)


@_move("rate", "Rate (follow-up)")
def rate(request: HttpRequest, ticket_id: int, payload: RateIn) -> dict[str, Any]:
    """回访: the reporter's rating, or the desk's record of the follow-up call. Not resolved or
    dissatisfied reopens the request to the same lead unit."""
    actions.rate(
        _user(request),
        _ticket(request, ticket_id),
        resolution=payload.resolution,
        satisfaction=payload.satisfaction,
        via=payload.via,
        note=payload.note,
        version=payload.version,
    )
    return _shown(request, ticket_id)


@_move("refer", "Refer to the joint meeting")
def refer(request: HttpRequest, ticket_id: int, payload: ReasonIn) -> dict[str, Any]:
    """Flag the request for the joint meeting of member units, with the reason."""
    ticket = _ticket(request, ticket_id)
    with transaction.atomic():
        _at_version(ticket, payload.version)
        actions.refer(_user(request), ticket, reason=payload.reason)
    return _shown(request, ticket_id)


@_move("supervise", "Supervise")
def supervise(request: HttpRequest, ticket_id: int, payload: SuperviseIn) -> dict[str, Any]:
    """督办: raise the supervision level by one (or to ``level``), at most 3."""
    ticket = _ticket(request, ticket_id)
    with transaction.atomic():
        _at_version(ticket, payload.version)
        actions.supervise(_user(request), ticket, note=payload.note, level=payload.level)
    return _shown(request, ticket_id)


@_move("withdraw", "Withdraw")
def withdraw(request: HttpRequest, ticket_id: int, payload: WithdrawIn) -> dict[str, Any]:
    """The reporter (or the desk for them) withdraws a request that is not closed yet."""
    ticket = _ticket(request, ticket_id)
    actions.withdraw(_user(request), ticket, reason=payload.reason, version=payload.version)
    return _shown(request, ticket_id)


@_move("merge", "Merge into another request")
def merge(request: HttpRequest, ticket_id: int, payload: MergeIn) -> dict[str, Any]:
    """Close this request as a duplicate of ``parent``; its reporter joins the parent's."""
    child = _ticket(request, ticket_id)
    parent = _ticket(request, payload.parent)
    with transaction.atomic():
        _at_version(child, payload.version)
        actions.merge(_user(request), child, parent, note=payload.note)
    return _shown(request, ticket_id)


# --------------------------------------------------------------------------- unit tasks


@router.get("/tasks", auth=SESSION, response={200: TaskPage, **errors(400, 401)}, summary="Unit tasks")
def list_tasks(request: HttpRequest, params: Query[TaskQuery]) -> dict[str, Any]:
    """The tasks the caller may see, newest first: for a unit liaison, their unit's."""
    page = queries.task_page(
        _user(request), unit_id=params.unit, active_only=params.active, after=params.after, size=params.size
    )
    return {"items": [out.task_out(t) for t in page.rows], "next_after": page.next_after}


def _task_move(path: str, summary: str, **extra: Any) -> Callable[[Callable[..., Any]], Any]:
    return router.post(
        f"/tasks/{{task_id}}/{path}", auth=SESSION, response={200: TaskOut, **MOVE}, summary=summary, **extra
    )


@_task_move("accept", "Sign for a task")
def task_accept(request: HttpRequest, task_id: int, payload: Versioned) -> dict[str, Any]:
    """签收: the unit signs for its task. ``version`` is the request's version."""
    actions.task_accept(_user(request), _task_for(request, task_id), version=payload.version)
    return _task_shown(task_id)


@_task_move("start", "Start work on a task")
def task_start(request: HttpRequest, task_id: int, payload: NoteIn) -> dict[str, Any]:
    """The unit starts work (replying without starting starts it too)."""
    task = _task_for(request, task_id)
    actions.task_start(_user(request), task, note=payload.note, version=payload.version)
    return _task_shown(task_id)


@_task_move("reply", "Reply with the result", openapi_extra=body_docs(ReplyIn, photos=True))
def task_reply(request: HttpRequest, task_id: int) -> dict[str, Any]:
    """The unit's result, with photos in a multipart body; the request is replied once every
    unit on it has replied."""
    task = _task_for(request, task_id)
    payload, photos = read_body(request, ReplyIn)
    actions.task_reply(_user(request), task, result=payload.result, photos=photos, version=payload.version)
    return _task_shown(task_id)


def _ask(request: HttpRequest, task_id: int, version: int, **kwargs: Any) -> Status[dict[str, Any]]:
    task = _task_for(request, task_id)
    with transaction.atomic():
        _at_version(task.ticket, version)
        approval = actions.request_approval(_user(request), task.ticket, task=task, **kwargs)
    return Status(201, out.approval_out(approval))


def _ask_route(path: str, summary: str) -> Callable[[Callable[..., Any]], Any]:
    return router.post(
        f"/tasks/{{task_id}}/{path}", auth=SESSION, response={201: ApprovalOut, **MOVE}, summary=summary
    )


@_ask_route("request-extension", "Ask for more time")
def task_request_extension(
    request: HttpRequest, task_id: int, payload: ExtensionIn
) -> Status[dict[str, Any]]:
    """The unit asks for ``hours`` more; someone at the desk approves or refuses."""
    kind, reason = Approval.Kind.EXTENSION, payload.reason
    return _ask(request, task_id, payload.version, kind=kind, reason=reason, extra_hours=payload.hours)


@_ask_route("request-return", "Ask to hand the task back")
def task_request_return(request: HttpRequest, task_id: int, payload: ReasonIn) -> Status[dict[str, Any]]:
    """The unit says the request is not theirs to handle; the desk approves or refuses."""
    return _ask(request, task_id, payload.version, kind=Approval.Kind.RETURN, reason=payload.reason)


@router.post(
    "/approvals/{approval_id}/decide",
    auth=SESSION,
    response={200: ApprovalOut, **MOVE},
    summary="Decide an approval",
)
def decide(request: HttpRequest, approval_id: int, payload: DecisionIn) -> dict[str, Any]:
    """Approve or refuse an extension, a return or marking a request unreasonable. Someone
    other than the person who asked must decide."""
    approval = Approval.objects.filter(pk=approval_id).first()
    if approval is None:
        raise Http404
    _ticket(request, approval.ticket_id)
    decided = actions.decide_approval(_user(request), approval, approve=payload.approve, note=payload.note)
    return out.approval_out(decided)


api.add_router("", router)
