"""What the REST API takes and gives for resident requests, and how a request is shown to
each kind of viewer.

Input schemas forbid unknown fields, so a misspelt field name is an error rather than
silently ignored. Output carries no personal data beyond what the viewer may see: phone
numbers only masked (also inside free text, for anyone but the desk and the reporter), the
reporter's name never to a member unit, who reported or rated a request never to the unit
being rated. ``gongzhi.tickets.api`` works out who the viewer is; the functions at the end
of this module build what they are shown.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from gongzhi.core.masking import mask_phone
from gongzhi.orgs.models import Organisation, ServiceCategory
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import (
    Approval,
    CategoryQuestion,
    CategorySetting,
    Task,
    Ticket,
    TicketEvent,
    TimeLimit,
)

Urgency = Literal["normal", "emergency"]
IntakeChannel = Literal["api", "staff_call", "door_to_door", "paper"]
Resolution = Literal["resolved", "partly", "not"]
Satisfaction = Literal["satisfied", "basic", "dissatisfied"]
FollowUpVia = Literal["phone_page", "staff_call", "door_to_door", "paper"]
StateGroup = Literal["open", "new", "with_units", "to_verify", "to_follow_up", "done", "ended"]

TEXT = 2000  # longest free text the actions accept


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- categories


class ChoiceOut(Schema):
    key: str
    name: str


class QuestionOut(Schema):
    code: str
    label: str
    description: str
    datatype: str
    required: bool
    choices: list[ChoiceOut]


class TimeLimitOut(Schema):
    code: str
    name: str
    accept_hours: int
    resolve_hours: int
    working_days: bool


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    time_limit: TimeLimitOut | None
    photo_required: bool
    questions: list[QuestionOut]
    children: list[CategoryOut]


CategoryOut.model_rebuild()


# --------------------------------------------------------------------------- intake


class TicketIn(Input):
    """A new request. Say where with a compound, building or unit id, a description of the
    place, or coordinates. Photos go with a multipart body (``photos``, repeated)."""

    category: str = Field(max_length=40, description="Code of the category, from GET /categories.")
    description: str = Field(max_length=TEXT)
    compound: int | None = None
    building: int | None = None
    unit: int | None = None
    address_text: str = Field("", max_length=200)
    lat: Decimal | None = Field(None, ge=-90, le=90)
    long: Decimal | None = Field(None, ge=-180, le=180)
    urgency: Urgency = "normal"
    reporter_name: str = Field("", max_length=60)
    reporter_phone: str = Field("", max_length=20, pattern=r"^[0-9+\- ]*$")
    anonymous: bool = False
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="Answers to the category's questions, by question code."
    )
    channel: IntakeChannel = Field(
        "api",
        description="How the request reached us. Staff entering a call, visit or paper form use that "
        "channel and record the resident's consent; partner systems always use “api”.",
    )
    consent_note: str = Field("", max_length=200)


class TicketCreated(Schema):
    id: int
    token: str = Field(description="Tracking code for GET /status/{token}.")
    state: str
    state_label: str
    routing_note: str
    created_at: dt.datetime


# --------------------------------------------------------------------------- reading


# Ids are 64-bit: a larger number names nothing and is refused as a bad parameter.
MAX_ID = 2**63 - 1


class TicketQuery(Schema):
    group: StateGroup | None = None
    category: int | None = Field(
        None, ge=1, le=MAX_ID, description="A category id; its sub-categories are included."
    )
    compound: int | None = Field(None, ge=1, le=MAX_ID)
    overdue: bool = False
    referred: bool = False
    after: int | None = Field(None, ge=0, le=MAX_ID, description="The ``next_after`` of the previous page.")
    size: int = Field(50, ge=1, le=200)


class TaskQuery(Schema):
    unit: int | None = Field(None, ge=1, le=MAX_ID, description="Only this unit's tasks.")
    active: bool = Field(False, description="Only tasks still being worked on.")
    after: int | None = Field(None, ge=0, le=MAX_ID)
    size: int = Field(50, ge=1, le=200)


class PageQuery(Schema):
    after: int | None = Field(None, ge=0, le=MAX_ID)
    size: int = Field(50, ge=1, le=200)


class CategoryRef(Schema):
    code: str
    name: str


class UnitRef(Schema):
    id: int
    name: str


class TicketRow(Schema):
    id: int
    title: str
    category: CategoryRef
    state: str
    state_label: str
    urgency: str
    channel: str
    place: str
    compound: int | None
    lead_unit: UnitRef | None
    created_at: dt.datetime
    due_at: dt.datetime | None
    overdue: bool
    supervision_level: int
    referred: bool
    reopen_count: int
    supporters_count: int
    version: int


class TicketPage(Schema):
    items: list[TicketRow]
    next_after: int | None = Field(description="Pass as ``after`` for the next page; null on the last.")


class ReporterOut(Schema):
    name: str | None = Field(description="Hidden from member units.")
    phone: str = Field(description="Always masked.")
    anonymous: bool


class TicketRef(Schema):
    id: int
    title: str
    state: str
    version: int
    category: CategoryRef
    compound: str


class TaskOut(Schema):
    id: int
    ticket: TicketRef
    unit: UnitRef
    role: str
    round: int
    state: str
    state_label: str
    dispatched_at: dt.datetime
    accept_due_at: dt.datetime
    due_at: dt.datetime
    accepted_at: dt.datetime | None
    replied_at: dt.datetime | None
    reply: str
    instructions: str


class TaskPage(Schema):
    items: list[TaskOut]
    next_after: int | None


class ApprovalOut(Schema):
    id: int
    ticket: int
    task: int | None
    kind: str
    state: str
    reason: str
    extra_hours: int | None
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str


class EventOut(Schema):
    id: int
    action: str
    from_state: str
    to_state: str
    at: dt.datetime
    actor: str | None = Field(description="The body that acted (a grid, a unit); null when withheld.")
    note: str
    public: bool
    task: int | None
    photos: int
    data: dict[str, Any] | None = Field(description="Details of the move, for the desk only.")


class EventPage(Schema):
    items: list[EventOut]
    next_after: int | None


class TicketDetail(TicketRow):
    token: str | None = Field(description="Tracking code; for the desk and the reporter only.")
    description: str
    attributes: dict[str, Any]
    address_text: str
    building: int | None
    unit: int | None
    lat: float | None
    long: float | None
    reporter: ReporterOut
    routing_note: str
    grid: str | None
    community: str | None
    suggested_lead: UnitRef | None
    accepted_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    replied_at: dt.datetime | None
    verified_at: dt.datetime | None
    closed_at: dt.datetime | None
    rated_at: dt.datetime | None
    resolution: str
    satisfaction: str
    merged_into: int | None
    unreasonable: bool
    tasks: list[TaskOut]
    approvals: list[ApprovalOut]
    events: list[EventOut]


class PublicStatus(Schema):
    """What the reporter's tracking code shows: no names, no contacts."""

    id: int
    token: str
    title: str
    category: CategoryRef
    state: str
    state_label: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    events: list[EventOut]


class DuplicateOut(Schema):
    id: int
    title: str
    category: str
    state: str
    state_label: str
    supporters_count: int
    created_at: dt.datetime
    score: float
    same_building: bool


# --------------------------------------------------------------------------- moves


class Versioned(Input):
    version: int = Field(ge=1, description="The request's version as last read; a stale one is refused.")


class NoteIn(Versioned):
    note: str = Field("", max_length=TEXT)


class ReasonIn(Versioned):
    reason: str = Field(min_length=1, max_length=TEXT)


class DispatchIn(Versioned):
    lead_unit: int
    co_units: list[int] = Field(default_factory=list)
    instructions: str = Field("", max_length=TEXT)


class SendBackIn(ReasonIn):
    units: list[int] = Field(
        default_factory=list, description="Units whose replies go back; the lead unit's when empty."
    )


class RateIn(Versioned):
    resolution: Resolution
    satisfaction: Satisfaction
    via: FollowUpVia
    note: str = Field("", max_length=TEXT)


class SuperviseIn(Versioned):
    note: str = Field(min_length=1, max_length=TEXT)
    level: int | None = Field(None, ge=1, le=3, description="The next level when left out.")


class WithdrawIn(Versioned):
    reason: str = Field("", max_length=TEXT)


class MergeIn(Versioned):
    parent: int = Field(description="The request this one duplicates.")
    note: str = Field("", max_length=TEXT)


class ReplyIn(Versioned):
    result: str = Field(min_length=1, max_length=TEXT)


class ExtensionIn(ReasonIn):
    hours: int = Field(ge=1, le=24 * 60)


class DecisionIn(Input):
    approve: bool
    note: str = Field("", max_length=TEXT)


# --------------------------------------------------------------------------- what each viewer sees

# How a viewer stands to a request: the desk coordinates it, the reporter filed or joined it,
# a unit has a task on it, a watcher (an owners' committee member) may only look.
DESK, REPORTER, UNIT, WATCHER = "desk", "reporter", "unit", "watcher"
# Those who may read the request as it was written, and its tracking code.
FULL_TEXT = frozenset({DESK, REPORTER})

# Events whose actor would tell a unit who reported or rated it.
WHO_HIDDEN_FROM_UNITS = frozenset({"report", "rate", "me_too"})

_LONG_NUMBER = re.compile(r"\d{7,}")


def mask_numbers(text: str) -> str:
    """Phone-like numbers a resident typed into free text, masked."""
    return _LONG_NUMBER.sub(lambda m: mask_phone(m.group()), text)


def label_of(choices: Any, value: str) -> str:
    return str(dict(choices).get(value, value))


def _unit_ref(org: Organisation | None) -> dict[str, Any] | None:
    return None if org is None else {"id": org.pk, "name": org.name}


def _category_ref(category: ServiceCategory) -> dict[str, str]:
    return {"code": category.code, "name": category.name}


def _place(ticket: Ticket) -> str:
    parts = [
        ticket.compound.name if ticket.compound else "",
        ticket.building.label if ticket.building else "",
        ticket.address_text,
    ]
    return " ".join(p for p in parts if p)


def title_of(ticket: Ticket) -> str:
    return mask_numbers(ticket.title)


def category_tree(
    categories: Iterable[ServiceCategory],
    settings: Iterable[CategorySetting],
    questions: Iterable[CategoryQuestion],
    fallback: TimeLimit | None,
) -> list[dict[str, Any]]:
    """``CategoryOut`` roots: the categories open to the public, a sub-category taking its
    parent's setting when it has none of its own."""
    cats = list(categories)
    settings_of = {s.category_id: s for s in settings}
    asked: dict[int, list[dict[str, Any]]] = {}
    for q in questions:
        asked.setdefault(q.category_id, []).append(
            {
                "code": q.code,
                "label": q.label,
                "description": q.description,
                "datatype": q.datatype,
                "required": q.required,
                "choices": [{"key": str(c.get("key")), "name": str(c.get("name"))} for c in q.choices],
            }
        )
    nodes: dict[int, dict[str, Any]] = {}
    for cat in cats:
        setting = settings_of.get(cat.pk)
        if setting is None and cat.parent_id is not None:
            setting = settings_of.get(cat.parent_id)
        if setting is not None and not setting.public:
            continue
        limit = setting.time_limit if setting is not None else fallback
        nodes[cat.pk] = {
            "id": cat.pk,
            "code": cat.code,
            "name": cat.name,
            "time_limit": None
            if limit is None
            else {
                "code": limit.code,
                "name": limit.name,
                "accept_hours": limit.accept_hours,
                "resolve_hours": limit.resolve_hours,
                "working_days": limit.working_days,
            },
            "photo_required": bool(setting and setting.photo_required),
            "questions": asked.get(cat.pk, []),
            "children": [],
        }
    roots = []
    for cat in cats:
        node = nodes.get(cat.pk)
        if node is None:
            continue
        if cat.parent_id is None:
            roots.append(node)
        elif cat.parent_id in nodes:
            nodes[cat.parent_id]["children"].append(node)
    return roots


def created_out(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "token": ticket.token,
        "state": ticket.state,
        "state_label": label_of(W.State.choices, ticket.state),
        "routing_note": ticket.routing_note,
        "created_at": ticket.created_at,
    }


def ticket_row(ticket: Ticket) -> dict[str, Any]:
    """``TicketRow``; reads only the relations ``queries`` selects with the ticket."""
    return {
        "id": ticket.pk,
        "title": title_of(ticket),
        "category": _category_ref(ticket.category),
        "state": ticket.state,
        "state_label": label_of(W.State.choices, ticket.state),
        "urgency": ticket.urgency,
        "channel": ticket.channel,
        "place": _place(ticket),
        "compound": ticket.compound_id,
        "lead_unit": _unit_ref(ticket.lead_unit),
        "created_at": ticket.created_at,
        "due_at": ticket.due_at,
        "overdue": ticket.overdue,
        "supervision_level": ticket.supervision_level,
        "referred": ticket.referred,
        "reopen_count": ticket.reopen_count,
        "supporters_count": ticket.supporters_count,
        "version": ticket.version,
    }


def task_out(task: Task, ticket: Ticket | None = None) -> dict[str, Any]:
    ticket = ticket or task.ticket
    return {
        "id": task.pk,
        "ticket": {
            "id": ticket.pk,
            "title": title_of(ticket),
            "state": ticket.state,
            "version": ticket.version,
            "category": _category_ref(ticket.category),
            "compound": ticket.compound.name if ticket.compound else "",
        },
        "unit": _unit_ref(task.unit),
        "role": task.role,
        "round": task.round,
        "state": task.state,
        "state_label": label_of(W.TaskState.choices, task.state),
        "dispatched_at": task.dispatched_at,
        "accept_due_at": task.accept_due_at,
        "due_at": task.due_at,
        "accepted_at": task.accepted_at,
        "replied_at": task.replied_at,
        "reply": task.reply,
        "instructions": task.instructions,
    }


def approval_out(approval: Approval) -> dict[str, Any]:
    return {
        "id": approval.pk,
        "ticket": approval.ticket_id,
        "task": approval.task_id,
        "kind": approval.kind,
        "state": approval.state,
        "reason": approval.reason,
        "extra_hours": approval.extra_hours,
        "requested_at": approval.requested_at,
        "decided_at": approval.decided_at,
        "decision_note": approval.decision_note,
    }


def event_out(event: TicketEvent, viewer: str) -> dict[str, Any]:
    """``EventOut``; ``photo_count`` is annotated on the event by the caller."""
    hide_who = viewer == UNIT and event.action in WHO_HIDDEN_FROM_UNITS
    return {
        "id": event.pk,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "at": event.at,
        "actor": None if hide_who else event.actor_label,
        "note": event.note if viewer in FULL_TEXT else mask_numbers(event.note),
        "public": event.public,
        "task": event.task_id,
        "photos": getattr(event, "photo_count", 0),
        "data": event.data if viewer == DESK else None,
    }


def _reporter_name(ticket: Ticket, viewer: str) -> str | None:
    # The desk always sees who reported; a unit never; a watcher unless the reporter hid it.
    if viewer in FULL_TEXT or (viewer == WATCHER and not ticket.anonymous):
        return ticket.reporter_name
    return None


def ticket_detail(
    ticket: Ticket,
    viewer: str,
    *,
    tasks: Iterable[Task],
    approvals: Iterable[Approval],
    events: Iterable[TicketEvent],
) -> dict[str, Any]:
    """``TicketDetail`` of ``ticket`` as ``viewer`` may see it."""
    full = viewer in FULL_TEXT
    return {
        **ticket_row(ticket),
        "token": ticket.token if full else None,
        "description": ticket.description if full else mask_numbers(ticket.description),
        "attributes": ticket.attributes,
        "address_text": ticket.address_text,
        "building": ticket.building_id,
        "unit": ticket.unit_id,
        "lat": float(ticket.lat) if ticket.lat is not None else None,
        "long": float(ticket.long) if ticket.long is not None else None,
        "reporter": {
            "name": _reporter_name(ticket, viewer),
            "phone": ticket.masked_reporter_phone,
            "anonymous": ticket.anonymous,
        },
        "routing_note": ticket.routing_note,
        "grid": ticket.grid.name if ticket.grid else None,
        "community": ticket.community.name if ticket.community else None,
        "suggested_lead": _unit_ref(ticket.suggested_lead),
        "accepted_at": ticket.accepted_at,
        "dispatched_at": ticket.dispatched_at,
        "replied_at": ticket.replied_at,
        "verified_at": ticket.verified_at,
        "closed_at": ticket.closed_at,
        "rated_at": ticket.rated_at,
        "resolution": ticket.resolution,
        "satisfaction": ticket.satisfaction,
        "merged_into": ticket.merged_into_id,
        "unreasonable": ticket.unreasonable,
        "tasks": [task_out(t, ticket) for t in tasks],
        "approvals": [approval_out(a) for a in approvals],
        "events": [event_out(e, viewer) for e in events],
    }


def public_status_out(ticket: Ticket, events: Iterable[TicketEvent]) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "token": ticket.token,
        "title": title_of(ticket),
        "category": _category_ref(ticket.category),
        "state": ticket.state,
        "state_label": label_of(W.State.choices, ticket.state),
        "created_at": ticket.created_at,
        "closed_at": ticket.closed_at,
        "events": [event_out(e, WATCHER) for e in events],
    }
