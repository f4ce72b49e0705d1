"""Writes finished demo requests in bulk, row for row as ``gongzhi.tickets.actions`` would.

Playing every step of some 1,200 requests through the actions takes over a minute — each
step is a locked read, an update, an event, an audit event and notifications — and the demo
seed runs at the start of every test session. So the requests that are over by the demo
date are kept in memory here and inserted in bulk at the end, while everything still open
on the demo date, and the rarer paths, go through the actions themselves.

Every method mirrors the action of the same name: the same workflow checks (the moves are
looked up in ``gongzhi.tickets.workflow``), the same fields, events, audit events and
notifications, in the same order. ``tests/tickets/test_demo_history.py`` plays the same
plans both ways and requires identical rows, so when an action changes that test says what
to change here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.demo.ticket_rows import Live, Rows
from gongzhi.orgs.models import Organisation, ServiceCategory
from gongzhi.tickets import actions, sla, sweep
from gongzhi.tickets import workflow as W
from gongzhi.tickets.models import Approval, Supporter, Task, Ticket, TimeLimit
from gongzhi.tickets.photos import CleanPhoto


class Writer(Rows):
    """The actions, for requests written in bulk: each method does what the action of the
    same name does, on the writer's rows instead of the database."""

    def file(
        self,
        actor: Any,
        *,
        channel: str,
        category: ServiceCategory,
        description: str,
        building: Any,
        limit: TimeLimit,
        urgency: str,
        reporter: Any,
        anonymous: bool,
        consent_note: str,
        attributes: dict,
        photos: list[CleanPhoto],
        now: dt.datetime,
    ) -> Live:
        staff = channel in Ticket.STAFF_CHANNELS
        decision = self.route(category, building)
        ticket = Ticket(
            category=category,
            urgency=urgency,
            description=actions._clean_text(description, "description"),
            attributes=self.attributes(category, attributes),
            channel=channel,
            reporter_user=None,
            reporter_resident=reporter,
            reporter_name=actions._clean_text(
                reporter.name if reporter else "", "reporter_name", required=False, limit=60
            ),
            reporter_phone=actions._clean_text(
                reporter.phone if reporter else "", "reporter_phone", required=False, limit=20
            ),
            reporter_email="",
            anonymous=anonymous,
            entered_by=actor if staff and getattr(actor, "is_authenticated", False) else None,
            consent_note=consent_note.strip()[:200],
            compound=building.compound,
            building=building,
            unit=None,
            address_text="",
            community=decision.community,
            grid=decision.grid,
            joint_branch=decision.joint_branch,
            area_path=decision.area_path,
            routing_note=decision.note,
            suggested_lead=decision.lead_unit,
            time_limit=limit,
            idempotency_key=None,
            created_at=now,
        )
        ticket.save()  # now: requests are numbered in the order they came in
        live = Live(ticket)
        self.lives.append(live)
        through = Ticket.suggested_co_units.through
        self.co_units += [through(ticket_id=ticket.pk, organisation_id=u.pk) for u in decision.co_units]
        classes = {W.DESK} if staff else ({W.REPORTER} if actor is not None else {W.SYSTEM})
        self.event(
            live,
            "report",
            actor=actor,
            label=actions._desk_label(actor) if staff else _("Resident"),
            to_state=ticket.state,
            data={"channel": channel},
            photos=photos,
            now=now,
        )
        self.audit(
            actor, "tickets.ticket.report", ticket, after={"channel": channel, "classes": sorted(classes)}
        )
        where, desk = self.desk_of(ticket)
        subject = _("New request #%(id)s in %(grid)s") % {
            "id": ticket.pk,
            "grid": where.name if where else "—",
        }
        for user in desk:
            self.enqueue(
                channel="inbox",
                recipient=user,
                subject=subject,
                body=ticket.title,
                ticket=ticket,
                url=f"/tickets/{ticket.pk}/",
            )
        return live

    def accept(self, actor: Any, live: Live, *, note: str = "", now: dt.datetime) -> None:
        live.ticket.accepted_at = now
        self.move(live, "accept", actor=actor, classes={W.DESK}, note=note, now=now)

    def reject(self, actor: Any, live: Live, *, reason: str, now: dt.datetime) -> None:
        self.move(live, "reject", actor=actor, classes={W.DESK}, note=reason.strip(), now=now)

    def withdraw(self, actor: Any, live: Live, *, reason: str, now: dt.datetime) -> None:
        self.move(live, "withdraw", actor=actor, classes={W.DESK}, note=reason.strip(), now=now)
        for task in self.active(live):
            self.task_move(live, task, "cancel", actor=None, classes={W.SYSTEM}, now=now)

    def dispatch(
        self,
        actor: Any,
        live: Live,
        *,
        lead_unit: Organisation,
        co_units: Sequence[Organisation],
        instructions: str = "",
        now: dt.datetime,
    ) -> None:
        ticket = live.ticket
        units = [lead_unit, *[u for u in co_units if u.pk != lead_unit.pk]]
        instructions = actions._clean_text(instructions, "instructions", required=False)
        round_no = self.next_round(live)
        tasks = [
            self.new_task(
                live,
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
        self.move(
            live,
            "dispatch",
            actor=actor,
            classes={W.DESK},
            note=instructions,
            data={"lead": lead_unit.pk, "co": [u.pk for u in units[1:]], "round": round_no},
            now=now,
        )
        names = "、".join(u.name for u in units)
        for task in tasks:
            self.notify_unit(
                task.unit,
                live,
                _("Request #%(id)s dispatched to you") % {"id": ticket.pk},
                _("%(title)s — units: %(units)s; sign for it by %(due)s.")
                % {
                    "title": ticket.title,
                    "units": names,
                    "due": timezone.localtime(task.accept_due_at).strftime("%m-%d %H:%M"),
                },
            )

    def task_accept(self, actor: Any, live: Live, task: Task, *, now: dt.datetime) -> None:
        task.accepted_at = now
        self.task_move(
            live,
            task,
            "accept",
            actor=actor,
            classes={W.UNIT},
            data={"in_time": now <= task.accept_due_at},
            now=now,
        )
        self.follow_tasks(live, now)

    def task_start(self, actor: Any, live: Live, task: Task, *, note: str, now: dt.datetime) -> None:
        self.task_move(live, task, "start", actor=actor, classes={W.UNIT}, note=note, now=now)
        self.follow_tasks(live, now)

    def task_reply(self, actor: Any, live: Live, task: Task, *, result: str, now: dt.datetime) -> None:
        result = actions._clean_text(result, "result")
        if task.state == Task.State.ACCEPTED:
            self.task_move(live, task, "start", actor=actor, classes={W.UNIT}, now=now)
        task.reply, task.replied_at = result, now
        self.task_move(
            live,
            task,
            "reply",
            actor=actor,
            classes={W.UNIT},
            note=result,
            data={"on_time": now <= task.due_at},
            now=now,
        )
        self.follow_tasks(live, now)

    def verify(self, actor: Any, live: Live, *, note: str, now: dt.datetime) -> None:
        live.ticket.verified_at = now
        self.move(live, "verify", actor=actor, classes={W.DESK}, note=note, now=now)

    def send_back(self, actor: Any, live: Live, *, reason: str, now: dt.datetime) -> None:
        tasks = [t for t in self.active(live) if t.state == Task.State.REPLIED and t.role == Task.Role.LEAD]
        self.move(live, "send_back", actor=actor, classes={W.DESK}, note=reason.strip(), now=now)
        for task in tasks:
            self.task_move(
                live, task, "send_back", actor=actor, classes={W.DESK}, note=reason.strip(), now=now
            )
            self.notify_unit(
                task.unit, live, _("Request #%(id)s sent back") % {"id": live.ticket.pk}, reason.strip()
            )

    def close(self, actor: Any, live: Live, *, note: str, now: dt.datetime) -> None:
        live.ticket.closed_at = now
        self.move(live, "close", actor=actor, classes={W.DESK}, note=note, now=now)

    def rate(
        self,
        actor: Any,
        live: Live,
        *,
        resolution: str,
        satisfaction: str,
        via: str,
        note: str,
        now: dt.datetime,
    ) -> None:
        ticket = live.ticket
        classes = {W.DESK}
        ticket.resolution, ticket.satisfaction, ticket.rated_via, ticket.rated_at = (
            resolution,
            satisfaction,
            via,
            now,
        )
        note = actions._clean_text(note, "note", required=False)
        data = {
            "resolution": resolution,
            "satisfaction": satisfaction,
            "via": via,
            "lead": ticket.lead_unit_id,
        }
        self.move(live, "rate", actor=actor, classes=classes, note=note, data=data, now=now)
        if resolution == Ticket.Resolution.NOT or satisfaction == Ticket.Satisfaction.DISSATISFIED:
            self.reopen(live, actor=actor, classes=classes | {W.SYSTEM}, reason=note, now=now)

    def reopen(self, live: Live, *, actor: Any, classes: set[str], reason: str, now: dt.datetime) -> None:
        ticket = live.ticket
        lead = ticket.lead_unit
        assert lead is not None
        ticket.reopen_count += 1
        ticket.warned_pct, ticket.overdue = 0, False
        ticket.closed_at = ticket.verified_at = ticket.replied_at = None
        round_no = self.next_round(live)
        task = self.new_task(
            live,
            lead,
            Task.Role.LEAD,
            round=round_no,
            now=now,
            instructions=_("Reopened after the follow-up: %(reason)s") % {"reason": reason or "—"},
        )
        ticket.accept_due_at, ticket.due_at = task.accept_due_at, task.due_at
        ticket.unit_accepted_at = None
        self.move(
            live,
            "reopen",
            actor=actor,
            classes=classes,
            note=reason,
            data={"lead": lead.pk, "round": round_no, "reopen_count": ticket.reopen_count},
            now=now,
        )
        self.notify_unit(
            lead,
            live,
            _("Request #%(id)s reopened") % {"id": ticket.pk},
            _("The resident was not satisfied; it comes back to you (reopen %(n)s).")
            % {"n": ticket.reopen_count},
        )

    def mark_unreachable(self, actor: Any, live: Live, *, note: str, now: dt.datetime) -> None:
        live.ticket.unreachable = True
        self.move(live, "unreachable", actor=actor, classes={W.DESK}, note=note.strip(), now=now)

    def archive(self, actor: Any, live: Live, *, now: dt.datetime) -> None:
        live.ticket.archived_at = now
        self.move(live, "archive", actor=actor, classes={W.SYSTEM} if actor is None else {W.DESK}, now=now)

    def note(self, actor: Any, live: Live, *, note: str, now: dt.datetime) -> None:
        self.move(
            live, "note", actor=actor, classes={W.DESK}, note=actions._clean_text(note, "note"), now=now
        )

    def merge(self, actor: Any, child: Live, parent: Live, *, now: dt.datetime) -> None:
        note = _("Merged into request #%(id)s.") % {"id": parent.ticket.pk}
        child.ticket.merged_into = parent.ticket
        self.move(
            child,
            "merge",
            actor=actor,
            classes={W.DESK},
            note=note,
            data={"parent": parent.ticket.pk},
            now=now,
        )
        for task in self.active(child):
            self.task_move(child, task, "cancel", actor=None, classes={W.SYSTEM}, now=now)
        joined = 0
        p = parent.ticket
        for user, phone, email in self.reporter_addresses(child):
            if user is None and not phone and not email:
                continue
            if user is not None and (
                user.pk == p.reporter_user_id or any(s.user_id == user.pk for s in parent.supporters)
            ):
                continue
            if phone and (phone == p.reporter_phone or any(s.phone == phone for s in parent.supporters)):
                continue
            self.add_supporter(
                parent,
                Supporter(
                    ticket=p, user=user, phone=phone, email=email, from_ticket=child.ticket, created_at=now
                ),
            )
            joined += 1
        p.supporters_count = len(parent.supporters)
        self.event(
            parent,
            "merged_in",
            actor=actor,
            label=actions._desk_label(actor),
            note=_("Request #%(id)s merged into this one.") % {"id": child.ticket.pk},
            data={"child": child.ticket.pk, "joined": joined},
            now=now,
        )

    def add_supporter(self, live: Live, supporter: Supporter) -> None:
        live.supporters.append(supporter)
        self.supporters.append(supporter)

    def me_too(self, live: Live, *, phone: str, now: dt.datetime) -> bool:
        """False where the action refuses: the reporter's own phone, a second "me too", a
        request no longer open."""
        ticket = live.ticket
        if phone == ticket.reporter_phone or any(s.phone == phone for s in live.supporters):
            return False
        if ticket.state not in W.TICKET_MOVES["me_too"].sources:
            return False
        self.add_supporter(live, Supporter(ticket=ticket, user=None, phone=phone, email="", created_at=now))
        ticket.supporters_count = len(live.supporters)
        self.event(
            live, "me_too", actor=None, label=_("Resident"), data={"count": ticket.supporters_count}, now=now
        )
        return True

    def refer(self, actor: Any, live: Live, *, reason: str, now: dt.datetime) -> None:
        ticket = live.ticket
        assert not ticket.referred, "a request is referred once"
        ticket.referred, ticket.referred_reason = True, reason.strip()
        self.move(live, "refer", actor=actor, classes={W.DESK}, note=reason.strip(), now=now)

    def supervise(
        self, actor: Any, live: Live, *, note: str, level: int | None = None, now: dt.datetime
    ) -> None:
        ticket = live.ticket
        classes = {W.SYSTEM} if actor is None else {W.DESK}
        new_level = level if level is not None else ticket.supervision_level + 1
        assert 1 <= new_level <= 3 and new_level > ticket.supervision_level
        ticket.supervision_level = new_level
        self.move(
            live,
            "supervise",
            actor=actor,
            classes=classes,
            note=note.strip(),
            data={"level": new_level},
            now=now,
        )
        subject = _("Supervision level %(level)s: request #%(id)s") % {"level": new_level, "id": ticket.pk}
        for task in self.active(live):
            self.notify_unit(task.unit, live, subject, note.strip())
            if new_level >= 2 and task.unit.parent is not None:
                self.notify_unit(task.unit.parent, live, subject, note.strip())
        if new_level >= 2:
            for grant in self.staff():
                if grant.area is not None and ticket.area_path.startswith(grant.area.path):
                    self.enqueue(
                        channel="inbox",
                        recipient=grant.user,
                        subject=subject,
                        body=note.strip() or ticket.title,
                        ticket=ticket,
                        url=f"/tickets/{ticket.pk}/",
                    )

    def request_extension(
        self, actor: Any, live: Live, task: Task, *, hours: int, reason: str, now: dt.datetime
    ) -> None:
        reason = actions._clean_text(reason, "reason")
        assert 1 <= hours <= 24 * 60 and "extension" not in live.pending
        self.task_move(
            live,
            task,
            "request_extension",
            actor=actor,
            classes={W.UNIT},
            note=reason,
            data={"hours": hours},
            now=now,
        )
        approval = Approval(
            ticket=live.ticket,
            task=task,
            kind=Approval.Kind.EXTENSION,
            reason=reason,
            extra_hours=hours,
            requested_by=actor,
            requested_at=now,
        )
        live.pending["extension"] = approval
        self.approvals.append(approval)

    def decide_extension(self, actor: Any, live: Live, *, approve: bool, note: str, now: dt.datetime) -> None:
        approval = live.pending.pop("extension")
        assert approval.requested_by != actor
        ticket = live.ticket
        approval.state = Approval.State.APPROVED if approve else Approval.State.REFUSED
        approval.decided_by, approval.decided_at, approval.decision_note = actor, now, note.strip()
        task = approval.task
        assert task is not None
        due = task.due_at
        if approve:
            limit = ticket.time_limit
            assert limit is not None
            due = sla.add_hours(
                task.due_at,
                approval.extra_hours or 0,
                working_days=limit.working_days,
                calendar=self.calendar if limit.working_days else {},
                tz=timezone.get_current_timezone(),
            )
            task.due_at = due.astimezone(dt.UTC)  # as read back from the database
            if task.role == Task.Role.LEAD:
                ticket.due_at, ticket.overdue, ticket.warned_pct = task.due_at, False, 0
        self.task_move(
            live,
            task,
            "extend" if approve else "refuse_extension",
            actor=actor,
            classes={W.DESK},
            note=note,
            data={"hours": approval.extra_hours, "due": due.isoformat()},
            now=now,
        )
        self.notify_unit(
            task.unit,
            live,
            _("Extension for request #%(id)s: %(d)s")
            % {"id": ticket.pk, "d": _("approved") if approve else _("refused")},
            note,
        )

    def sweep(self, live: Live, *, now: dt.datetime) -> None:
        """What ``gongzhi.tickets.sweep`` does to this request at ``now``."""
        ticket = live.ticket
        if (
            ticket.state == Ticket.State.FOLLOWED_UP
            and ticket.rated_at
            and ticket.rated_at <= now - sweep.ARCHIVE_AFTER
        ):
            self.archive(None, live, now=now)
            return
        if ticket.state not in W.WITH_UNITS or ticket.due_at is None:
            return
        tasks = sorted(self.active(live), key=lambda t: (-t.round, self.seq[id(t)]))
        for mark in sweep.marks_due(ticket, tasks, live.reminded, now, self.calendar):
            if mark.action == "supervise":
                self.supervise(None, live, note=mark.body, level=mark.level, now=now)
                continue
            for name, value in mark.fields.items():
                setattr(ticket, name, value)
            self.move(
                live, mark.action, actor=None, classes={W.SYSTEM}, task=mark.task, data=mark.data, now=now
            )
            if mark.task is not None:
                live.reminded.append(mark.task)
            for unit in mark.units:
                self.notify_unit(unit, live, mark.subject, mark.body)
            if mark.supervisors:
                for user in self.supervisors(ticket):
                    self.enqueue(
                        channel="inbox",
                        recipient=user,
                        subject=mark.subject,
                        body=mark.body,
                        ticket=ticket,
                        url=f"/tickets/{ticket.pk}/",
                        now=now,
                    )
