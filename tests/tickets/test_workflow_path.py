"""The whole path of a request through the actions: intake to rating, and the reopen path."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from gongzhi.tickets import actions
from gongzhi.tickets.models import Notification, Task, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_intake_routes_by_place_and_category_and_explains_why(file, building1):
    ticket = file()
    assert ticket.state == Ticket.State.REPORTED
    assert ticket.grid == building1.grid
    assert ticket.area_path == building1.grid.path
    assert ticket.suggested_lead.code == "MU03"
    assert {u.code for u in ticket.suggested_co_units.all()} == {"MU13", "MU11"}
    assert "国网岱山县供电公司" in ticket.routing_note and "高亭镇" in ticket.routing_note
    assert ticket.events.get().action == "report"


def test_full_path_with_two_units_then_rating(file, users, units):
    ticket = file()
    actions.accept(users["grid"], ticket)
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"], co_units=[units["MU13"]])
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.DISPATCHED
    lead = ticket.tasks.get(role=Task.Role.LEAD)
    co = ticket.tasks.get(role=Task.Role.CO)
    assert Notification.objects.filter(recipient=users["liaison"], ticket=ticket).exists()

    with pytest.raises(PermissionDenied):
        actions.task_accept(users["liaison"], co)  # not this unit's task

    actions.task_accept(users["liaison"], lead)
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.UNIT_ACCEPTED
    actions.task_reply(users["liaison"], lead, result="已将电杆移至路口东侧并加固")
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.IN_PROGRESS  # the co-unit has not replied yet
    actions.task_accept(users["liaison2"], co)
    actions.task_reply(users["liaison2"], co, result="已协调路口施工占道")
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.REPLIED

    with pytest.raises(PermissionDenied):
        actions.verify(users["liaison"], ticket)
    actions.verify(users["branch"], ticket)
    actions.close(users["grid"], ticket)
    with pytest.raises(PermissionDenied):
        actions.rate(
            users["liaison"], ticket, resolution="resolved", satisfaction="satisfied", via="staff_call"
        )
    actions.rate(users["resident"], ticket, resolution="resolved", satisfaction="satisfied", via="phone_page")
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.FOLLOWED_UP
    assert ticket.reopen_count == 0
    assert [e.action for e in ticket.events.filter(task__isnull=True)] == [
        "report",
        "accept",
        "dispatch",
        "unit_accept",
        "start",
        "replied",
        "verify",
        "close",
        "rate",
    ]


def test_dissatisfied_reopens_to_the_same_lead_unit(file, users, units):
    ticket = file()
    actions.accept(users["grid"], ticket)
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"])
    lead = ticket.tasks.get()
    actions.task_accept(users["liaison"], lead)
    actions.task_reply(users["liaison"], lead, result="已处理")
    ticket.refresh_from_db()
    actions.verify(users["grid"], ticket)
    actions.close(users["grid"], ticket)
    actions.rate(
        users["grid"],
        ticket,
        resolution="not",
        satisfaction="dissatisfied",
        via="staff_call",
        note="电线还垂着",
    )
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.DISPATCHED
    assert ticket.reopen_count == 1
    again = ticket.tasks.get(round=2)
    assert again.unit.code == "MU03" and again.role == Task.Role.LEAD
    assert TicketEvent.objects.filter(ticket=ticket, action="reopen").count() == 1


def test_illegal_moves_are_refused_with_a_reason(file, users, units):
    ticket = file()
    with pytest.raises(actions.Refused) as refused:
        actions.close(users["grid"], ticket)
    assert "已上报" in str(refused.value.messages[0]) or "Reported" in str(refused.value.messages[0])
    with pytest.raises(actions.Refused):
        actions.reject(users["grid"], ticket, reason="  ")


def test_unreasonable_needs_a_second_person(file, users):
    ticket = file()
    approval = actions.request_approval(users["grid"], ticket, kind="unreasonable", reason="重复恶意投诉")
    with pytest.raises(actions.Refused):
        actions.decide_approval(users["grid"], approval, approve=True)
    actions.decide_approval(users["community"], approval, approve=True, note="核实无误")
    ticket.refresh_from_db()
    assert ticket.unreasonable


def test_stale_version_is_refused(file, users):
    ticket = file()
    actions.accept(users["grid"], ticket, version=ticket.version)
    with pytest.raises(actions.Refused):
        actions.reject(users["grid"], ticket, reason="x", version=1)


def test_same_idempotency_key_creates_one_ticket(file):
    first = file(idempotency_key="k-123")
    second = file(idempotency_key="k-123")
    assert first.pk == second.pk


def test_a_request_without_a_compound_reaches_the_county_desk(users, category):
    from gongzhi.orgs import policy

    ticket = actions.file_ticket(
        None,
        channel="phone_page",
        category=category("telecom"),
        description="长河路口的通信电缆垂下来了",
        address_text="长河路与东沙路口",
        reporter_phone="13900009999",
    )
    assert (
        ticket.area_path == "/330921/"
        and "county" in ticket.routing_note.lower()
        or "县" in ticket.routing_note
    )
    assert policy.scope(users["county"], "ticket").filter(pk=ticket.pk).exists()
    assert not policy.scope(users["grid"], "ticket").filter(pk=ticket.pk).exists()
