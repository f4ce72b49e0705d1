"""The REST API for resident requests, as its callers use it: a resident and a partner system
file requests, the grid worker, the units and the branch take one through its whole path,
and each of them sees only the requests and the personal data their role allows."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from gongzhi.housing.models import Building
from gongzhi.tickets import actions, apikeys
from gongzhi.tickets.models import Approval, Task, Ticket

pytestmark = pytest.mark.django_db

API = "/api/v1"
RESIDENT_PHONE = "13857001986"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def as_user(users):  # type: ignore[no-untyped-def]
    """A client signed in as one of the demo users, by username."""

    def _client(username: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(users[username])
        return client

    return _client


@pytest.fixture
def partner(db) -> Client:  # type: ignore[no-untyped-def]
    _key, raw = apikeys.create("12345 hotline bridge")
    return Client(HTTP_X_API_KEY=raw, HTTP_ACCEPT_LANGUAGE="en")


def png(name: str = "pole.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 20)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def post_json(client: Client, path: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(API + path, data=json.dumps(body), content_type="application/json", **headers)


def ticket_version(ticket_id: int) -> int:
    return Ticket.objects.values_list("version", flat=True).get(pk=ticket_id)


# --------------------------------------------------------------------------- categories


def test_categories_are_a_public_tree_with_limits_photos_and_questions(demo_county):
    response = Client().get(API + "/categories")
    assert response.status_code == 200
    roots = {node["code"]: node for node in response.json()}
    assert "power" not in roots  # a child, under utilities
    power = next(c for c in roots["utilities"]["children"] if c["code"] == "power")
    assert power["time_limit"]["code"] == "utilities"
    assert power["time_limit"]["resolve_hours"] == 24
    assert power["photo_required"] is False
    [hazard] = power["questions"]
    assert hazard["code"] == "hazard" and hazard["required"] is True
    assert {c["key"] for c in hazard["choices"]} == {"yes", "no"}
    assert roots["lighting"]["photo_required"] is True


# --------------------------------------------------------------------------- intake


def test_a_signed_in_resident_files_a_request_as_json(as_user, users, building1):
    response = post_json(
        as_user("resident"),
        "/tickets",
        {
            "category": "power",
            "description": "1幢门口电线杆倾斜，电线垂到路边",
            "building": building1.pk,
            "reporter_phone": RESIDENT_PHONE,
            "attributes": {"hazard": "yes"},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "reported" and body["token"]
    assert "国网岱山县供电公司" in body["routing_note"]
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.channel == Ticket.Channel.API
    assert ticket.reporter_user == users["resident"]
    assert ticket.attributes == {"hazard": "yes"}
    assert ticket.grid == building1.grid


def test_a_partner_key_files_a_request_with_a_photo_as_a_multipart_form(partner, building1):
    response = partner.post(
        API + "/tickets",
        {
            "category": "lighting",
            "description": "3幢楼道灯不亮",
            "building": building1.pk,
            "attributes": json.dumps({"fixture": "stair"}),
            "reporter_name": "王阿姨",
            "reporter_phone": "13900001111",
            "photos": [png()],
        },
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.channel == Ticket.Channel.API
    assert ticket.reporter_user is None and ticket.entered_by is None
    assert ticket.reporter_name == "王阿姨"
    photo = ticket.attachments.get()
    assert photo.content_type == "image/png" and photo.width == 40


def test_a_partner_reads_the_public_status_but_no_list_and_no_detail(partner, file):
    ticket = file()
    status = partner.get(f"{API}/status/{ticket.token}")
    assert status.status_code == 200
    body = status.json()
    assert body["state"] == "reported" and body["category"]["code"] == "power"
    assert "reporter" not in body and RESIDENT_PHONE not in status.content.decode()
    assert partner.get(API + "/tickets").status_code == 401
    assert partner.get(f"{API}/tickets/{ticket.pk}").status_code == 401
    assert partner.get(f"{API}/status/not-a-token").status_code == 404


# --------------------------------------------------------------------------- scoping


@pytest.fixture
def elsewhere(building1) -> Building:
    """A building in another grid than the demo grid worker's."""
    return Building.objects.exclude(grid=building1.grid).exclude(grid=None).order_by("id").first()


def listed(client: Client, **params: Any) -> set[int]:
    response = client.get(API + "/tickets", params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["items"]}


def test_a_grid_worker_lists_only_the_requests_of_their_grid(as_user, file, elsewhere):
    here = file()
    there = file("water", "自来水管爆裂", building=elsewhere, attributes={})
    seen = listed(as_user("grid"))
    assert here.pk in seen
    assert there.pk not in seen
    assert there.pk in listed(as_user("county"))


def test_a_unit_liaison_lists_only_requests_dispatched_to_their_unit(as_user, users, units, file):
    ours, theirs = file(), file("water", "1幢水压太低", attributes={})
    assert ours.pk not in listed(as_user("liaison"))  # not dispatched yet
    for ticket, unit in ((ours, units["MU03"]), (theirs, units["MU04"])):
        actions.accept(users["grid"], ticket)
        actions.dispatch(users["grid"], ticket, lead_unit=unit)
    seen = listed(as_user("liaison"))
    assert ours.pk in seen and theirs.pk not in seen


def test_a_resident_lists_only_their_own_requests(as_user, file, category, building1):
    own = file()
    other = actions.file_ticket(
        None, channel="api", category=category("water"), description="1幢水管漏水", building=building1
    )
    seen = listed(as_user("resident"))
    assert own.pk in seen and other.pk not in seen
    assert as_user("resident").get(f"{API}/tickets/{other.pk}").status_code == 403


def test_the_list_pages_by_keyset_newest_first(as_user, file):
    made = [file(text=f"路灯第{i}次不亮").pk for i in range(3)]
    client = as_user("grid")
    first = client.get(API + "/tickets", {"size": 2}).json()
    assert [r["id"] for r in first["items"]] == [made[2], made[1]]
    assert first["next_after"] == made[1]
    second = client.get(API + "/tickets", {"size": 2, "after": first["next_after"]}).json()
    assert second["items"][0]["id"] == made[0]
    assert all(r["id"] < made[0] for r in second["items"][1:])


def test_a_page_of_the_list_costs_the_same_queries_however_many_rows(as_user, file):
    for i in range(4):
        file(text=f"路灯第{i}处不亮")
    client = as_user("grid")
    client.get(API + "/tickets", {"size": 1})  # warm the session and the grants
    counts = []
    for size in (1, 4):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(API + "/tickets", {"size": size}).json()["items"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_list_filters_by_state_group(as_user, users, file):
    new, accepted = file(), file(text="路灯不亮")
    actions.accept(users["grid"], accepted)
    seen = listed(as_user("grid"), group="new")
    assert new.pk in seen and accepted.pk not in seen


# --------------------------------------------------------------------------- personal data


def test_a_unit_sees_neither_the_reporters_name_nor_full_phone_nor_who_rated(as_user, users, units, file):
    ticket = file(reporter_name="张志毅", text="电线垂落，联系我13857001986")
    actions.accept(users["grid"], ticket)
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"])
    task = ticket.tasks.get()
    actions.task_accept(users["liaison"], task)
    actions.task_reply(users["liaison"], task, result="已加固")
    actions.verify(users["grid"], ticket)
    actions.close(users["grid"], ticket)
    actions.rate(users["resident"], ticket, resolution="resolved", satisfaction="satisfied", via="phone_page")

    unit_view = as_user("liaison").get(f"{API}/tickets/{ticket.pk}")
    assert unit_view.status_code == 200
    body = unit_view.json()
    assert body["reporter"] == {"name": None, "phone": "138****1986", "anonymous": False}
    assert body["token"] is None
    assert RESIDENT_PHONE not in unit_view.content.decode()
    rating = next(e for e in body["events"] if e["action"] == "rate")
    assert rating["actor"] is None and rating["data"] is None

    desk = as_user("grid").get(f"{API}/tickets/{ticket.pk}").json()
    assert desk["reporter"]["name"] == "张志毅" and desk["reporter"]["phone"] == "138****1986"
    assert next(e for e in desk["events"] if e["action"] == "rate")["actor"]


def test_the_resident_sees_the_public_timeline_only(as_user, users, file):
    ticket = file()
    actions.supervise(users["grid"], ticket, note="请尽快处理")
    body = as_user("resident").get(f"{API}/tickets/{ticket.pk}").json()
    assert [e["action"] for e in body["events"]] == ["report"]
    assert body["token"] == ticket.token and body["tasks"] == [] and body["approvals"] == []


# --------------------------------------------------------------------------- whole paths


def test_a_request_goes_its_whole_path_through_the_api(as_user, users, units, building1):
    resident, grid, liaison, liaison2 = (as_user(n) for n in ("resident", "grid", "liaison", "liaison2"))
    filed = post_json(
        resident,
        "/tickets",
        {
            "category": "power",
            "description": "1幢门口电线杆倾斜",
            "building": building1.pk,
            "attributes": {"hazard": "yes"},
        },
    )
    assert filed.status_code == 201
    tid = filed.json()["id"]

    accepted = post_json(grid, f"/tickets/{tid}/accept", {"version": 1, "note": "已受理"})
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    dispatched = post_json(
        grid,
        f"/tickets/{tid}/dispatch",
        {
            "version": accepted.json()["version"],
            "lead_unit": units["MU03"].pk,
            "co_units": [units["MU13"].pk],
            "instructions": "请两日内处理",
        },
    )
    assert dispatched.status_code == 200, dispatched.content
    assert dispatched.json()["state"] == "dispatched"

    tasks = liaison.get(API + "/tasks", {"active": True}).json()["items"]
    [lead] = [t for t in tasks if t["ticket"]["id"] == tid]
    assert lead["unit"]["id"] == units["MU03"].pk and lead["role"] == "lead"
    co = Task.objects.get(ticket_id=tid, role=Task.Role.CO)

    signed = post_json(liaison, f"/tasks/{lead['id']}/accept", {"version": ticket_version(tid)})
    assert signed.status_code == 200 and signed.json()["state"] == "accepted"
    started = post_json(liaison, f"/tasks/{lead['id']}/start", {"version": ticket_version(tid)})
    assert started.status_code == 200 and started.json()["state"] == "in_progress"
    replied = liaison.post(
        f"{API}/tasks/{lead['id']}/reply",
        {"version": ticket_version(tid), "result": "电杆已扶正加固", "photos": [png("done.png")]},
    )
    assert replied.status_code == 200, replied.content
    assert replied.json()["state"] == "replied"
    post_json(liaison2, f"/tasks/{co.pk}/accept", {"version": ticket_version(tid)})
    co_reply = post_json(
        liaison2, f"/tasks/{co.pk}/reply", {"version": ticket_version(tid), "result": "已协调"}
    )
    assert co_reply.status_code == 200
    assert co_reply.json()["ticket"]["state"] == "replied"

    verified = post_json(as_user("branch"), f"/tickets/{tid}/verify", {"version": ticket_version(tid)})
    assert verified.status_code == 200 and verified.json()["state"] == "verified"
    closed = post_json(grid, f"/tickets/{tid}/close", {"version": ticket_version(tid), "note": "办结"})
    assert closed.json()["state"] == "closed"
    rated = post_json(
        resident,
        f"/tickets/{tid}/rate",
        {
            "version": ticket_version(tid),
            "resolution": "resolved",
            "satisfaction": "satisfied",
            "via": "phone_page",
        },
    )
    assert rated.status_code == 200, rated.content
    assert rated.json()["state"] == "followed_up" and rated.json()["satisfaction"] == "satisfied"

    # The timeline, three events a page, oldest first, until there is no next page.
    seen: list[str] = []
    after = None
    while True:
        page = grid.get(f"{API}/tickets/{tid}/events", {"size": 3, **({"after": after} if after else {})})
        assert page.status_code == 200
        seen += [e["action"] for e in page.json()["items"]]
        after = page.json()["next_after"]
        if after is None:
            break
    assert seen[:3] == ["report", "accept", "dispatch"] and seen[-1] == "rate"
    assert seen.count("task_reply") == 2
    detail = grid.get(f"{API}/tickets/{tid}").json()
    assert [e["action"] for e in detail["events"]] == seen
    assert next(e for e in detail["events"] if e["action"] == "task_reply" and e["photos"] == 1)


def test_the_other_moves_extension_return_send_back_refer_supervise_withdraw(as_user, users, units, file):
    grid, liaison, community, resident = (as_user(n) for n in ("grid", "liaison", "community", "resident"))
    ticket = file()
    actions.accept(users["grid"], ticket)
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"])
    task = ticket.tasks.get()
    post_json(liaison, f"/tasks/{task.pk}/accept", {"version": ticket_version(ticket.pk)})

    asked = post_json(
        liaison,
        f"/tasks/{task.pk}/request-extension",
        {"version": ticket_version(ticket.pk), "reason": "需停电作业，要供电局排期", "hours": 48},
    )
    assert asked.status_code == 201, asked.content
    assert asked.json()["kind"] == "extension" and asked.json()["state"] == "pending"
    due_before = Ticket.objects.get(pk=ticket.pk).due_at
    pending = grid.get(f"{API}/tickets/{ticket.pk}").json()["approvals"]
    assert [a["id"] for a in pending] == [asked.json()["id"]]
    decided = post_json(grid, f"/approvals/{asked.json()['id']}/decide", {"approve": True, "note": "同意"})
    assert decided.status_code == 200 and decided.json()["state"] == "approved"
    assert (Ticket.objects.get(pk=ticket.pk).due_at - due_before).total_seconds() == 48 * 3600

    back = post_json(
        liaison,
        f"/tasks/{task.pk}/request-return",
        {"version": ticket_version(ticket.pk), "reason": "不归我单位"},
    )
    assert back.status_code == 201
    refused = post_json(community, f"/approvals/{back.json()['id']}/decide", {"approve": False})
    assert refused.json()["state"] == "refused"
    assert Approval.objects.get(pk=back.json()["id"]).decided_by == users["community"]

    post_json(liaison, f"/tasks/{task.pk}/reply", {"version": ticket_version(ticket.pk), "result": "已处理"})
    sent_back = post_json(
        grid,
        f"/tickets/{ticket.pk}/send-back",
        {"version": ticket_version(ticket.pk), "reason": "电线仍垂落"},
    )
    assert sent_back.status_code == 200 and sent_back.json()["state"] == "in_progress"
    assert Task.objects.get(pk=task.pk).state == Task.State.IN_PROGRESS

    referred = post_json(
        grid, f"/tickets/{ticket.pk}/refer", {"version": ticket_version(ticket.pk), "reason": "涉及多部门"}
    )
    assert referred.status_code == 200 and referred.json()["referred"] is True
    supervised = post_json(
        grid, f"/tickets/{ticket.pk}/supervise", {"version": ticket_version(ticket.pk), "note": "逾期督办"}
    )
    assert supervised.status_code == 200 and supervised.json()["supervision_level"] == 1

    withdrawn = post_json(
        resident,
        f"/tickets/{ticket.pk}/withdraw",
        {"version": ticket_version(ticket.pk), "reason": "已自行解决"},
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert Task.objects.get(pk=task.pk).state == Task.State.CANCELLED


def test_reject_and_merge(as_user, file):
    grid = as_user("grid")
    spam = file(text="测试测试")
    rejected = post_json(
        grid, f"/tickets/{spam.pk}/reject", {"version": spam.version, "reason": "不属于受理范围"}
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"

    parent = file()
    child = file(text="1幢门口电杆歪了")
    merged = post_json(grid, f"/tickets/{child.pk}/merge", {"version": child.version, "parent": parent.pk})
    assert merged.status_code == 200, merged.content
    assert merged.json()["state"] == "merged" and merged.json()["merged_into"] == parent.pk


def test_the_desk_sees_possible_duplicates(as_user, file):
    first = file(text="1幢门口电线杆倾斜，电线垂到路边")
    second = file(text="1幢门口电线杆倾斜，电线垂下来了")
    response = as_user("grid").get(f"{API}/tickets/{second.pk}/duplicates")
    assert response.status_code == 200
    assert first.pk in [c["id"] for c in response.json()]
    assert as_user("liaison").get(f"{API}/tickets/{second.pk}/duplicates").status_code == 403
