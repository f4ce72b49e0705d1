"""The row-level pieces of the demo history's bulk writer: what one move of a request
writes — its event, audit event and notifications — kept in memory and inserted in bulk.

Each piece mirrors the private helper of ``gongzhi.tickets.actions`` with the same name
(``_move``, ``_task_move``, ``_follow_tasks``, ``notify_unit``…); ``ticket_writer`` builds
the actions from them. The lookups the actions repeat with a query each time (routing,
liaisons, the desk of a grid) are made once here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import _actor_fields, _object_fields
from gongzhi.core.models import AuditEvent
from gongzhi.orgs.models import Organisation, Role, RoleGrant, ServiceCategory
from gongzhi.tickets import actions, routing, sla, sweep
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import (
    Approval,
    Attachment,
    Notification,
    RoutingRule,
    Supporter,
    Task,
    Ticket,
    TicketEvent,
    attachment_path,
)
from gongzhi.tickets.photos import CleanPhoto

INBOX = Notification.Channel.INBOX
# Ticket fields a request's life changes after it is filed.
LIFE_FIELDS = [
    "state",
    "version",
    "lead_unit",
    "accept_due_at",
    "due_at",
    "warned_pct",
    "overdue",
    "supervision_level",
    "referred",
    "referred_reason",
    "merged_into",
    "supporters_count",
    "reopen_count",
    "unreasonable",
    "unreachable",
    "resolution",
    "satisfaction",
    "rated_via",
    "accepted_at",
    "dispatched_at",
    "unit_accepted_at",
    "replied_at",
    "verified_at",
    "closed_at",
    "rated_at",
    "archived_at",
    "updated_at",
]


@dataclass
class Live:
    """A request being written: the ticket row and its tasks, supporters and approvals."""

    ticket: Ticket
    tasks: list[Task] = field(default_factory=list)
    supporters: list[Supporter] = field(default_factory=list)
    reminded: list[Task] = field(default_factory=list)
    pending: dict[str, Approval] = field(default_factory=dict)


class Rows:
    """What the writer has written so far, and the pieces its actions are made of."""

    def __init__(self, calendar: dict[dt.date, bool]) -> None:
        self.calendar = calendar
        self.lives: list[Live] = []
        self.tasks: list[Task] = []
        self.seq: dict[int, int] = {}
        self.events: list[dict[str, Any]] = []
        self.photos: list[tuple[Ticket, CleanPhoto, Any, dt.datetime]] = []
        self.audits: list[tuple[dict[str, Any], Task | None]] = []
        self.notes: list[dict[str, Any]] = []
        self.supporters: list[Supporter] = []
        self.approvals: list[Approval] = []
        self.co_units: list[Any] = []
        self._places: dict[int, routing.Route] = {}
        self._rules: dict[tuple[int, tuple[str, ...]], tuple[Any, list[Organisation]]] = {}
        self._rule_areas: set[str] | None = None
        self._answers: dict[tuple[int, tuple], dict] = {}
        self._liaisons: dict[int, list[Any]] = {}
        self._desks: dict[tuple[str, int], list[Any]] = {}
        self._supervisors: dict[str, list[Any]] = {}
        self._staff: list[RoleGrant] | None = None
        self._files: dict[str, str] = {}

    # ---- lookups the actions make with queries, made once ------------------------------
    def route(self, category: ServiceCategory, building: Any) -> routing.Route:
        """``routing.route(category, building=building)``, from the place worked out once per
        building and the rule once per category and area."""
        if building.pk not in self._places:
            place = routing.Route()
            routing._place_areas(place, building.compound, building)
            self._places[building.pk] = place
        place = self._places[building.pk]
        if self._rule_areas is None:
            self._rule_areas = set(
                RoutingRule.objects.filter(area__isnull=False).values_list("area__code", flat=True)
            )
        # Only the areas on the path that have rules of their own can change the answer.
        key = (category.pk, tuple(c for c in place.area_path.split("/") if c in self._rule_areas))
        if key not in self._rules:
            rule = routing._rule_for(category, place.area_path)
            co = [u for u in rule.co_units.all() if u.pk != rule.lead_unit_id] if rule is not None else []
            self._rules[key] = (rule, co)
        rule, co = self._rules[key]
        result = routing.Route(
            community=place.community,
            grid=place.grid,
            joint_branch=place.joint_branch,
            reasons=list(place.reasons),
        )
        if rule is None:
            result.reasons.append(
                _("No routing rule for category %(category)s: the desk chooses the units.")
                % {"category": category.name}
            )
            return result
        result.lead_unit, result.co_units = rule.lead_unit, co
        where = rule.area.name if rule.area is not None else _("the whole county")
        result.reasons.append(
            _("Routed to %(unit)s because category %(category)s in %(where)s.")
            % {"unit": rule.lead_unit.name, "category": rule.category.name, "where": where}
        )
        if co:
            result.reasons.append(
                _("Co-units: %(units)s, by the same rule.") % {"units": "、".join(u.name for u in co)}
            )
        return result

    def attributes(self, category: ServiceCategory, answers: dict) -> dict:
        key = (category.pk, tuple(sorted(answers.items())))
        if key not in self._answers:
            self._answers[key] = actions._clean_attributes(category, answers)
        return dict(self._answers[key])

    def liaisons(self, unit: Organisation) -> list[Any]:
        if unit.pk not in self._liaisons:
            self._liaisons[unit.pk] = actions.unit_liaisons(unit)
        return self._liaisons[unit.pk]

    def desk_of(self, ticket: Ticket) -> tuple[Any, list[Any]]:
        """Who hears of a new request: the grid's workers; without a grid, the community's
        staff; without a community, the county's."""
        if ticket.grid_id is not None:
            where, key = ticket.grid, ("grid", ticket.grid_id)
            grants = RoleGrant.objects.filter(area_id=ticket.grid_id, role=Role.GRID_WORKER)
        elif ticket.community_id is not None:
            where, key = ticket.community, ("community", ticket.community_id)
            grants = RoleGrant.objects.filter(area_id=ticket.community_id, role=Role.COMMUNITY_STAFF)
        else:
            where, key = None, ("county", 0)
            grants = RoleGrant.objects.filter(role=Role.COUNTY_ADMIN, area__parent__isnull=True)
        if key not in self._desks:
            ids = grants.filter(revoked_at__isnull=True).values_list("user_id", flat=True).distinct()
            users = get_user_model().objects.in_bulk(list(ids))
            self._desks[key] = [users[pk] for pk in sorted(users)]
        return where, self._desks[key]

    def supervisors(self, ticket: Ticket) -> list[Any]:
        if ticket.area_path not in self._supervisors:
            self._supervisors[ticket.area_path] = sweep.supervisors(ticket)
        return self._supervisors[ticket.area_path]

    def staff(self) -> list[RoleGrant]:
        if self._staff is None:
            self._staff = list(
                RoleGrant.objects.filter(
                    role__in=[Role.COUNTY_ADMIN, Role.TOWN_STAFF], revoked_at__isnull=True
                )
                .select_related("area", "user")
                .order_by("id")
            )
        return self._staff

    # ---- the pieces every action is made of ---------------------------------------------
    def enqueue(
        self,
        *,
        channel: str,
        subject: str,
        body: str,
        recipient: Any = None,
        address: str = "",
        ticket: Ticket | None = None,
        url: str = "",
        now: dt.datetime | None = None,
    ) -> None:
        if channel == INBOX and recipient is None:
            return
        if channel != INBOX and not address:
            return
        now = now or timezone.now()
        self.notes.append(
            {
                "recipient_id": recipient.pk if recipient is not None else None,
                "channel": channel,
                "address": address,
                "subject": subject[:200],
                "body": body,
                "url": url[:200],
                "ticket_id": ticket.pk if ticket is not None else None,
                "created_at": now,
                "send_after": now,
            }
        )

    def audit(
        self,
        actor: Any,
        action: str,
        obj: Ticket | Task,
        *,
        before: Any = None,
        after: Any = None,
        reason: str = "",
    ) -> None:
        who = _actor_fields(actor)
        row = {
            "kind": AuditEvent.Kind.CHANGE,
            "action": action,
            "before": before,
            "after": after,
            "reason": reason,
            "ip": None,
            "actor_id": who["actor"].pk if who["actor"] is not None else None,
            "actor_label": who["actor_label"],
            **_object_fields(obj),
        }
        self.audits.append((row, obj if isinstance(obj, Task) else None))

    def event(
        self,
        live: Live,
        action: str,
        *,
        actor: Any,
        label: str,
        now: dt.datetime,
        from_state: str = "",
        to_state: str = "",
        task: Task | None = None,
        note: str = "",
        public: bool = True,
        data: dict | None = None,
        photos: Sequence[CleanPhoto] = (),
    ) -> dict[str, Any]:
        event = {
            "ticket_id": live.ticket.pk,
            "task": task,  # its id once the tasks are inserted
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "actor_id": actor.pk if getattr(actor, "is_authenticated", False) else None,
            "actor_label": label[:120],
            "at": now,
            "note": note,
            "public": public,
            "data": data or {},
        }
        self.events.append(event)
        for photo in photos:
            self.photos.append((live.ticket, photo, actor, now))
        return event

    def move(
        self,
        live: Live,
        action: str,
        *,
        actor: Any,
        classes: set[str],
        now: dt.datetime,
        note: str = "",
        task: Task | None = None,
        data: dict | None = None,
    ) -> dict[str, Any]:
        ticket = live.ticket
        step = W.check(W.TICKET_MOVES, action, ticket.state, classes, note)
        before = ticket.state
        if step.target is not None:
            ticket.state = step.target
        ticket.version += 1
        event = self.event(
            live,
            action,
            actor=actor,
            label=actions._label(actor, classes, task),
            from_state=before,
            to_state=ticket.state,
            task=task,
            note=note,
            public=step.public,
            data=data,
            now=now,
        )
        self.audit(
            actor,
            f"tickets.ticket.{action}",
            ticket,
            before={"state": before},
            after={"state": ticket.state, **(data or {})},
            reason=note[:500],
        )
        if step.public and step.target is not None:
            self.notify_reporters(live, event)
        return event

    def task_move(
        self,
        live: Live,
        task: Task,
        action: str,
        *,
        actor: Any,
        classes: set[str],
        now: dt.datetime,
        note: str = "",
        data: dict | None = None,
    ) -> None:
        step = W.check(W.TASK_MOVES, action, task.state, classes, note)
        before = task.state
        if step.target is not None:
            task.state = step.target
        self.event(
            live,
            "task_" + action,
            actor=actor,
            label=actions._label(actor, classes, task),
            from_state=before,
            to_state=task.state,
            task=task,
            note=note,
            public=step.public,
            data={"unit": task.unit_id, "role": task.role, "round": task.round, **(data or {})},
            now=now,
        )
        self.audit(
            actor,
            f"tickets.task.{action}",
            task,
            before={"state": before},
            after={"state": task.state, "unit": task.unit_id, **(data or {})},
            reason=note[:500],
        )

    def active(self, live: Live) -> list[Task]:
        """Active tasks in the database's order (round, role, id)."""
        return sorted(
            (t for t in live.tasks if t.state in W.ACTIVE_TASK_STATES),
            key=lambda t: (t.round, t.role, self.seq[id(t)]),
        )

    def follow_tasks(self, live: Live, now: dt.datetime) -> None:
        tasks = sorted(self.active(live), key=lambda t: (-t.round, t.role, self.seq[id(t)]))
        lead = next((t for t in tasks if t.role == Task.Role.LEAD), None)
        ticket = live.ticket
        action = W.derived_ticket_action(ticket.state, lead.state if lead else None, [t.state for t in tasks])
        if action is None:
            return
        if action == "unit_accept":
            ticket.unit_accepted_at = ticket.unit_accepted_at or now
        if action == "replied":
            ticket.replied_at = now
        self.move(live, action, actor=None, classes={W.SYSTEM}, now=now)
        if action == "start":
            self.follow_tasks(live, now)

    def notify_reporters(self, live: Live, event: dict[str, Any]) -> None:
        ticket = live.ticket
        state = W.State(ticket.state).label
        subject = _("Your request #%(id)s: %(state)s") % {"id": ticket.pk, "state": state}
        body = _("Request #%(id)s (%(title)s) is now “%(state)s”.") % {
            "id": ticket.pk,
            "title": ticket.title,
            "state": state,
        }
        if event["note"] and event["action"] in ("reject", "close", "replied", "merge", "withdraw"):
            body += " " + event["note"][:200]
        url = actions.ticket_url(ticket)
        seen: set[str] = set()
        for user, phone, email in self.reporter_addresses(live):
            if user is not None and f"u{user.pk}" not in seen:
                seen.add(f"u{user.pk}")
                self.enqueue(
                    channel="inbox", recipient=user, subject=subject, body=body, ticket=ticket, url=url
                )
            if phone and f"p{phone}" not in seen:
                seen.add(f"p{phone}")
                self.enqueue(channel="sms", address=phone, subject=subject, body=body, ticket=ticket, url=url)
            if email and f"e{email}" not in seen:
                seen.add(f"e{email}")
                self.enqueue(
                    channel="email", address=email, subject=subject, body=body, ticket=ticket, url=url
                )

    def reporter_addresses(self, live: Live) -> list[tuple[Any, str, str]]:
        t = live.ticket
        return [(t.reporter_user, t.reporter_phone, t.reporter_email)] + [
            (s.user, s.phone, s.email) for s in live.supporters
        ]

    def notify_unit(self, unit: Organisation, live: Live, subject: str, body: str) -> None:
        ticket = live.ticket
        for user in self.liaisons(unit):
            self.enqueue(
                channel="inbox",
                recipient=user,
                subject=subject,
                body=body,
                ticket=ticket,
                url=f"/tickets/{ticket.pk}/",
            )
        if unit.phone:
            self.enqueue(channel="sms", address=unit.phone, subject=subject, body=body, ticket=ticket)

    def new_task(
        self,
        live: Live,
        unit: Organisation,
        role: str,
        *,
        round: int,
        now: dt.datetime,
        instructions: str = "",
    ) -> Task:
        limit = live.ticket.time_limit
        assert limit is not None
        cal = self.calendar if limit.working_days else {}
        tz = timezone.get_current_timezone()
        accept_due = sla.add_hours(
            now, limit.accept_hours, working_days=limit.working_days, calendar=cal, tz=tz
        )
        due = sla.add_hours(now, limit.resolve_hours, working_days=limit.working_days, calendar=cal, tz=tz)
        # As the next action reads them back from the database: in UTC.
        task = Task(
            ticket=live.ticket,
            unit=unit,
            role=role,
            round=round,
            dispatched_at=now.astimezone(dt.UTC),
            accept_due_at=accept_due.astimezone(dt.UTC),
            due_at=due.astimezone(dt.UTC),
            instructions=instructions,
            area_path=live.ticket.area_path,
        )
        self.seq[id(task)] = len(self.tasks)  # the order of their ids once inserted
        live.tasks.append(task)
        self.tasks.append(task)
        return task

    def next_round(self, live: Live) -> int:
        return max((t.round for t in live.tasks), default=0) + 1

    def stored(self, photo: CleanPhoto, now: dt.datetime) -> str:
        """The file of a photo: names are made from the content (``attachment_path``), so a
        picture already stored under its name — by an earlier seed too — is used again
        instead of being written once more for every request that shows it."""
        name = attachment_path(
            Attachment(created_at=now, sha256=photo.sha256, extension=photo.extension),
            photo.content.name or "",
        )
        if name not in self._files:
            storage = Attachment._meta.get_field("file").storage
            self._files[name] = name if storage.exists(name) else storage.save(name, photo.content)
        return self._files[name]

    # ---- into the database ------------------------------------------------------------------
    def flush(self) -> None:
        """Insert everything written, in bulk, in the order it happened."""
        Task.objects.bulk_create(self.tasks, batch_size=1000)
        for event in self.events:
            task = event.pop("task")
            event["task_id"] = task.pk if task is not None else None
        insert_rows(TicketEvent, self.events)
        reports = dict(
            TicketEvent.objects.filter(
                action="report", ticket__in=[t for t, *_rest in self.photos]
            ).values_list("ticket_id", "id")
        )
        insert_rows(
            Attachment,
            [
                {
                    "ticket_id": ticket.pk,
                    "event_id": reports[ticket.pk],
                    "file": self.stored(photo, now),
                    "content_type": photo.content_type,
                    "extension": photo.extension,
                    "size": photo.size,
                    "width": photo.width,
                    "height": photo.height,
                    "sha256": photo.sha256,
                    "uploaded_by_id": uploader.pk if getattr(uploader, "is_authenticated", False) else None,
                    "created_at": now,
                }
                for ticket, photo, uploader, now in self.photos
            ],
        )
        moment = timezone.now()
        for audit, task in self.audits:
            audit["at"] = moment
            if task is not None:
                audit["object_id"] = str(task.pk)
        insert_rows(AuditEvent, [a for a, _t in self.audits])
        insert_rows(Notification, self.notes)
        Supporter.objects.bulk_create(self.supporters, batch_size=1000)
        Approval.objects.bulk_create(self.approvals, batch_size=1000)
        Ticket.suggested_co_units.through.objects.bulk_create(self.co_units, batch_size=1000)
        for live in self.lives:
            live.ticket.updated_at = moment
        update_rows(Ticket, [live.ticket for live in self.lives], LIFE_FIELDS)


def _to_db(field: Any) -> Any:
    """How a value of ``field`` goes to the database: dates and JSON through the backend's
    adapters, everything else (text, numbers, flags, ids) as it is."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "JSONField":
        return lambda value: connection.ops.adapt_json_value(value, field.encoder)
    return None


def insert_rows(model: Any, rows: list[dict[str, Any]], batch: int = 2000) -> None:
    """Insert rows given as ``{attname: value}`` (missing columns take the field's default)
    with one prepared statement per batch; ``bulk_create`` builds and resolves a model
    instance and an expression for every value, which dominates for tens of thousands of
    rows. No ids come back."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    converters = [_to_db(f) for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Only column names from the model go into the text; every value is a parameter.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    names = [f.attname for f in fields]
    values = []
    for row in rows:
        full = {**defaults, **row}
        values.append(
            [
                full[n] if convert is None else convert(full[n])
                for n, convert in zip(names, converters, strict=True)
            ]
        )
    with connection.cursor() as cursor:
        for start in range(0, len(values), batch):
            cursor.executemany(sql, values[start : start + batch])


def update_rows(model: Any, objects: list[Any], names: list[str]) -> None:
    """``bulk_update`` as one prepared UPDATE run for every row: Django's own builds a CASE
    per field and row, which is slow for many fields."""
    fields = [model._meta.get_field(name) for name in names]
    table, pk = model._meta.db_table, model._meta.pk
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    # Only column names from the model go into the text; every value is a parameter.
    sql = f"UPDATE {quote(table)} SET {sets} WHERE {quote(pk.column)} = %s"  # noqa: S608
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
