"""The Open311 GeoReport v2 endpoint: every resource in XML and JSON against the schemas,
a partner (a FixMyStreet site) filing requests and posting updates, the status mapping
along the workflow, and an independent Open311 client reading it all over HTTP."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests
import xmltodict
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from georeport import GeoReport
from PIL import Image

from gongzhi.housing.models import Compound
from gongzhi.orgs.models import Area, ServiceCategory
from gongzhi.tickets import actions, apikeys
from gongzhi.tickets.models import (
    ApiKey,
    CategoryQuestion,
    CategorySetting,
    Notification,
    Ticket,
    TicketEvent,
)
from tests.demo_snapshot import seed_demo
from tests.tickets.open311_support import BASE, get, jpeg, json_validator, post, rows, valid_json, valid_xml

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Tickets placed in a quiet stretch of the past, so other data never mixes into the lists.
T0 = dt.datetime(2001, 3, 1, 9, 0, tzinfo=SHANGHAI)
WINDOW = {"start_date": "2001-03-01T00:00:00+08:00", "end_date": "2001-03-02T00:00:00+08:00"}
PERSONAL = ("13905807311", "haiyan.ouyang@example.cn", "欧阳海燕")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.GONGZHI_PUBLIC_URL = ""
    cache.clear()  # rate-limit counters
    yield
    cache.clear()


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def fms_key(demo_county) -> str:  # type: ignore[no-untyped-def]
    """The key of the county's FixMyStreet partner site."""
    return apikeys.create("FixMyStreet 岱山")[1]


def a_report(key: str, **fields: object) -> dict[str, object]:
    """What a FixMyStreet site posts for a resident who saw a leaning pole."""
    data: dict[str, object] = {
        "api_key": key,
        "jurisdiction_id": "daishan.gov.cn",
        "service_code": "power",
        "lat": "30.243312",
        "long": "122.203575",
        "address_string": "育才新村1幢东侧路口",
        "description": "路口电线杆倾斜，电线垂到路边",
        "first_name": "海燕",
        "last_name": "欧阳",
        "phone": "13905807311",
        "email": "haiyan.ouyang@example.cn",
        "attribute[hazard]": "yes",
    }
    data.update(fields)
    return data


def file_via_open311(client: Client, key: str, **fields: object) -> Ticket:
    response = post(client, "requests.json", a_report(key, **fields))
    assert response.status_code == 200, response.content
    created = valid_json("created", response)
    return Ticket.objects.get(pk=int(created[0]["service_request_id"]))


def one_request(client: Client, ticket: Ticket) -> dict:
    response = get(client, f"requests/{ticket.pk}.json")
    assert response.status_code == 200
    return valid_json("requests", response)[0]


# --------------------------------------------------------------------------- discovery and services


def test_discovery_names_the_endpoint_and_both_formats(client, demo_county):
    data = valid_json("discovery", get(client, "discovery.json"))
    endpoint = data["endpoints"][0]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] == "test"
    assert endpoint["formats"] == ["text/xml", "application/json"]

    root = valid_xml("discovery", get(client, "discovery.xml"))
    assert root.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]
    # With no suffix the answer is XML, the format every client must understand.
    valid_xml("discovery", get(client, "discovery"))


def test_discovery_uses_the_public_address_when_one_is_set(client, demo_county, settings):
    settings.GONGZHI_PUBLIC_URL = "https://gongzhi.daishan.example/"
    data = valid_json("discovery", get(client, "discovery.json"))
    assert data["endpoints"][0]["url"] == "https://gongzhi.daishan.example/open311/v2"


def test_services_list_public_categories_as_a_bare_array(client, demo_county):
    CategorySetting.objects.filter(category__code="welfare").update(public=False)
    services = valid_json("services", get(client, "services.json"))
    by_code = {s["service_code"]: s for s in services}
    assert "welfare" not in by_code  # closed to public intake
    assert by_code["power"] == {
        "service_code": "power",
        "service_name": "电力设施",
        "description": None,
        "metadata": True,
        "type": "realtime",
        "keywords": "水电气",
        "group": "水电气",
    }
    assert by_code["parking"]["metadata"] is False
    assert by_code["parking"]["group"] == "停车管理"

    root = valid_xml("services", get(client, "services.xml"))
    xml_rows = {row["service_code"]: row for row in rows(root)}
    assert set(xml_rows) == set(by_code)
    assert xml_rows["power"]["metadata"] == "true"
    assert xml_rows["parking"]["metadata"] == "false"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_turns_the_extra_questions_into_attributes(client, demo_county, fmt):
    CategoryQuestion.objects.create(
        category=ServiceCategory.objects.get(code="power"),
        code="since",
        label="从什么时候开始？",
        description="例如 2024-05-01T08:00:00+08:00",
        datatype=CategoryQuestion.Datatype.DATETIME,
        order=5,
    )
    response = get(client, f"services/power.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        definition = valid_json("definition", response)
        assert definition["service_code"] == "power"
        hazard, since = definition["attributes"]
    else:
        root = valid_xml("definition", response)
        assert root.findtext("service_code") == "power"
        attributes = root.findall("attributes/attribute")
        assert len(attributes) == 2
        hazard, since = (
            {
                **{f.tag: f.text or "" for f in a if f.tag != "values"},
                "values": [{v.tag: v.text for v in value} for value in a.findall("values/value")],
            }
            for a in attributes
        )
        hazard = {
            **hazard,
            "variable": hazard["variable"] == "true",
            "required": hazard["required"] == "true",
        }
        hazard["order"] = int(hazard["order"])
        hazard["datatype_description"] = hazard["datatype_description"] or None
    assert hazard == {
        "variable": True,
        "code": "hazard",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "是否有安全隐患（如电线垂落、电杆倾斜）？",
        "values": [{"key": "yes", "name": "有"}, {"key": "no", "name": "没有"}],
    }
    assert since["code"] == "since" and since["datatype"] == "datetime"
    assert str(since["order"]) == "2"
    assert since["datatype_description"] == "例如 2024-05-01T08:00:00+08:00"


# --------------------------------------------------------------------------- filing a request


def test_a_partner_files_a_request_that_shows_nothing_personal(client, fms_key):
    response = post(client, "requests.xml", a_report(fms_key))
    assert response.status_code == 200
    created = rows(valid_xml("created", response))
    ticket = Ticket.objects.get(pk=int(created[0]["service_request_id"]))
    assert created[0]["service_notice"].strip()

    assert ticket.channel == Ticket.Channel.OPEN311
    assert ticket.reporter_user is None and ticket.anonymous
    assert (ticket.reporter_name, ticket.reporter_phone, ticket.reporter_email) == (
        "欧阳海燕",
        "13905807311",
        "haiyan.ouyang@example.cn",
    )
    assert ticket.attributes == {"hazard": "yes"}
    assert (ticket.lat, ticket.long) == (Decimal("30.243312"), Decimal("122.203575"))
    assert ticket.address_text == "育才新村1幢东侧路口"
    assert ticket.events.get().action == "report"

    shown = one_request(client, ticket)
    assert shown["service_request_id"] == str(ticket.pk)
    assert (shown["status"], shown["detailed_status"]) == ("open", "reported")
    assert shown["service_code"] == "power" and shown["service_name"] == "电力设施"
    assert shown["description"] == "路口电线杆倾斜，电线垂到路边"
    assert shown["address"] == "育才新村1幢东侧路口"
    assert (shown["lat"], shown["long"]) == (30.243312, 122.203575)
    assert shown["requested_datetime"].endswith("+08:00")
    assert shown["media_url"] is None and shown["agency_responsible"] is None
    for fmt in ("json", "xml"):
        body = get(client, f"requests/{ticket.pk}.{fmt}").content.decode()
        assert not any(secret in body for secret in PERSONAL)
    root = valid_xml("requests", get(client, f"requests/{ticket.pk}.xml"))
    assert rows(root)[0]["lat"] == "30.243312"


def test_the_compound_named_in_the_address_routes_the_request(client, fms_key, building1):
    ticket = file_via_open311(client, fms_key)  # "育才新村1幢东侧路口"
    assert (ticket.compound, ticket.building) == (building1.compound, building1)
    assert ticket.grid == building1.grid and ticket.area_path == building1.grid.path
    assert ticket.suggested_lead.code == "MU03"
    assert Notification.objects.filter(ticket=ticket, channel="inbox").exists()  # the grid's desk
    assert one_request(client, ticket)["address"] == "育才新村1幢东侧路口"
    no_such_building = file_via_open311(client, fms_key, address_string="育才新村99幢门口")
    assert (no_such_building.compound, no_such_building.building) == (building1.compound, None)
    nowhere = file_via_open311(client, fms_key, address_string="县城某个路口")
    assert (nowhere.compound, nowhere.building, nowhere.grid) == (None, None, None)
    Compound.objects.create(code="o311-hj", name="海景花园", community=building1.compound.community)
    between = file_via_open311(client, fms_key, address_string="育才新村与海景花园之间的路口")
    assert between.compound is None  # two places named: the desk decides


def test_a_request_with_a_building_shows_compound_and_building_but_never_the_flat(client, file):
    ticket = file()  # filed from the resident's phone page for 育才新村 building 1
    shown = one_request(client, ticket)
    assert shown["address"] == f"育才新村 {ticket.building.label}"
    assert shown["lat"] is None and shown["long"] is None


def test_several_choice_answers_arrive_as_a_list(client, fms_key):
    environment = ServiceCategory.objects.get(code="environment")
    CategoryQuestion.objects.create(
        category=environment,
        code="kinds",
        label="哪些问题？",
        datatype=CategoryQuestion.Datatype.MULTI,
        choices=[
            {"key": "smell", "name": "异味"},
            {"key": "litter", "name": "垃圾"},
            {"key": "noise", "name": "噪音"},
        ],
    )
    ticket = file_via_open311(
        client,
        fms_key,
        service_code="environment",
        **{"attribute[hazard]": "", "attribute[kinds][]": ["smell", "litter"]},
    )
    assert ticket.attributes == {"kinds": ["smell", "litter"]}


def test_a_photo_sent_with_the_request_is_cleaned_and_served_at_media_url(client, fms_key):
    upload = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make: metadata that must not survive
    Image.new("RGB", (80, 60), "blue").save(upload, "JPEG", exif=exif)
    upload.seek(0)
    upload.name = "pole.jpg"
    ticket = file_via_open311(client, fms_key, media=upload)
    photo = ticket.attachments.get()
    assert photo.event.action == "report"

    shown = one_request(client, ticket)
    assert shown["media_url"].startswith("http://testserver/open311/v2/media/")
    served = client.get(shown["media_url"].removeprefix("http://testserver"))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert image.size == (80, 60) and not image.getexif()


def test_a_token_gives_back_the_request_id(client, file):
    ticket = file()
    data = valid_json("token", get(client, f"tokens/{ticket.token}.json"))
    assert data == [{"service_request_id": str(ticket.pk), "token": ticket.token}]
    assert rows(valid_xml("token", get(client, f"tokens/{ticket.token}.xml"))) == data


# --------------------------------------------------------------------------- status along the workflow


def test_status_is_open_until_the_request_is_closed_and_the_detail_is_kept(client, file, users, units):
    def status() -> tuple[str, str]:
        shown = one_request(client, ticket)
        return shown["status"], shown["detailed_status"]

    ticket = file()
    seen = [status()]
    actions.accept(users["grid"], ticket)
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"])
    lead = ticket.tasks.get()
    actions.task_accept(users["liaison"], lead)
    seen.append(status())
    actions.task_reply(users["liaison"], lead, result="已将电杆扶正加固", photos=[jpeg("green")])
    ticket.refresh_from_db()
    replied = one_request(client, ticket)
    seen.append((replied["status"], replied["detailed_status"]))
    actions.verify(users["grid"], ticket)
    actions.close(users["grid"], ticket, note="核查完成，办结")
    closed = one_request(client, ticket)
    seen.append((closed["status"], closed["detailed_status"]))
    assert seen == [
        ("open", "reported"),
        ("open", "unit_accepted"),
        ("open", "replied"),
        ("closed", "closed"),
    ]
    ticket.refresh_from_db()
    assert replied["agency_responsible"] == "国网岱山县供电公司"
    assert replied["status_notes"] == "已将电杆扶正加固"
    assert replied["expected_datetime"] == ticket.due_at.astimezone(SHANGHAI).isoformat(timespec="seconds")
    assert replied["media_url"].startswith("http://testserver/open311/v2/media/")
    assert closed["status_notes"] == "核查完成，办结"
    assert closed["updated_datetime"] >= replied["updated_datetime"] >= replied["requested_datetime"]


@pytest.mark.parametrize(
    ("end", "state"),
    [("reject", Ticket.State.REJECTED), ("withdraw", Ticket.State.WITHDRAWN)],
)
def test_requests_that_ended_early_are_closed_with_the_reason(client, file, users, end, state):
    ticket = file()
    if end == "reject":
        actions.reject(users["grid"], ticket, reason="属物业维修基金事项，请联系业委会")
    else:
        actions.withdraw(users["resident"], ticket, reason="属物业维修基金事项，请联系业委会")
    shown = one_request(client, ticket)
    assert (shown["status"], shown["detailed_status"]) == ("closed", state)
    assert shown["status_notes"] == "属物业维修基金事项，请联系业委会"


def test_private_notes_never_reach_status_notes(client, file, users):
    ticket = file()
    actions.add_note(users["grid"], ticket, note="住户电话打不通，明天再联系")
    assert one_request(client, ticket)["status_notes"] is None


# --------------------------------------------------------------------------- the request list


def _tickets_in_2001(file, users):  # type: ignore[no-untyped-def]
    """Three power requests and one water request in March 2001; one of them closed."""
    made = {
        "first": file(now=T0),
        "second": file(now=T0 + dt.timedelta(hours=2)),
        "water": file(code="water", text="楼下水管漏水", now=T0 + dt.timedelta(hours=3)),
        "last": file(now=T0 + dt.timedelta(hours=4)),
    }
    actions.reject(users["grid"], made["second"], reason="重复", now=T0 + dt.timedelta(hours=5))
    return made


def _ids(data: list[dict]) -> list[int]:
    return [int(row["service_request_id"]) for row in data]


def test_list_filters_by_window_code_and_status_newest_first(client, file, users):
    made = _tickets_in_2001(file, users)
    everything = valid_json("requests", get(client, "requests.json", **WINDOW))
    assert _ids(everything) == [made[k].pk for k in ("last", "water", "second", "first")]
    power = valid_json("requests", get(client, "requests.json", service_code="power", **WINDOW))
    assert _ids(power) == [made[k].pk for k in ("last", "second", "first")]
    both = valid_json("requests", get(client, "requests.json", service_code="water,power", **WINDOW))
    assert len(both) == 4
    closed = valid_json("requests", get(client, "requests.json", status="closed", **WINDOW))
    assert _ids(closed) == [made["second"].pk]
    open_power = valid_json(
        "requests", get(client, "requests.json", status="open", service_code="power", **WINDOW)
    )
    assert _ids(open_power) == [made["last"].pk, made["first"].pk]
    morning = valid_json(
        "requests",
        get(client, "requests.json", start_date="2001-03-01T10:30:00+08:00", end_date="2001-03-01T12:00:00Z"),
    )
    assert _ids(morning) == [made[k].pk for k in ("last", "water", "second")]
    xml_ids = [
        int(r["service_request_id"])
        for r in rows(valid_xml("requests", get(client, "requests.xml", **WINDOW)))
    ]
    assert xml_ids == _ids(everything)


def test_service_request_id_overrides_every_other_filter(client, file, users):
    made = _tickets_in_2001(file, users)
    wanted = f"{made['first'].pk},{made['water'].pk},999999999"
    data = valid_json(
        "requests",
        get(client, "requests.json", service_request_id=wanted, status="closed", service_code="gas"),
    )
    assert _ids(data) == [made["water"].pk, made["first"].pk]


def test_the_default_window_is_the_last_90_days(client, file):
    # A category of its own, so that no other request of the last 90 days can crowd these out.
    ServiceCategory.objects.create(code="graffiti", name="乱涂乱画")
    today = file(code="graffiti", text="楼道墙上乱涂乱画")
    old = file(code="graffiti", text="楼道墙上乱涂乱画", now=today.created_at - dt.timedelta(days=91))
    recent = file(code="graffiti", text="楼道墙上乱涂乱画", now=today.created_at - dt.timedelta(days=89))
    listed = _ids(valid_json("requests", get(client, "requests.json", service_code="graffiti")))
    assert listed == [today.pk, recent.pk]
    # A start date alone covers the 90 days after it.
    start = (old.created_at - dt.timedelta(days=1)).isoformat()
    listed = _ids(
        valid_json("requests", get(client, "requests.json", start_date=start, service_code="graffiti"))
    )
    assert listed == [recent.pk, old.pk]


def test_pages_of_the_list(client, file, users):
    made = _tickets_in_2001(file, users)
    first = valid_json("requests", get(client, "requests.json", page_size=3, **WINDOW))
    second = valid_json("requests", get(client, "requests.json", page_size=3, page=2, **WINDOW))
    third = valid_json("requests", get(client, "requests.json", page_size=3, page=3, **WINDOW))
    assert _ids(first) == [made[k].pk for k in ("last", "water", "second")]
    assert _ids(second) == [made["first"].pk]
    assert third == []
    assert rows(valid_xml("requests", get(client, "requests.xml", page_size=3, page=3, **WINDOW))) == []


def test_requests_of_a_category_closed_to_the_public_are_not_shown(client, file):
    ticket = file(code="water", text="楼下水管漏水")
    CategorySetting.objects.filter(category__code="water").update(public=False)
    assert get(client, f"requests/{ticket.pk}.json").status_code == 404
    listed = valid_json("requests", get(client, "requests.json", service_request_id=str(ticket.pk)))
    assert listed == []


def test_a_long_list_keeps_to_a_constant_number_of_queries(
    client, file, users, django_assert_max_num_queries
):
    for hour in range(6):
        ticket = file(now=T0 + dt.timedelta(hours=hour))
        actions.accept(users["grid"], ticket, now=T0 + dt.timedelta(hours=hour, minutes=5))
    with django_assert_max_num_queries(4):
        data = valid_json("requests", get(client, "requests.json", **WINDOW))
    assert len(data) == 6


# --------------------------------------------------------------------------- updates (mySociety)


def _worked_on_in_2001(file, users, units):  # type: ignore[no-untyped-def]
    ticket = file(now=T0)
    at = [T0 + dt.timedelta(hours=h) for h in range(1, 6)]
    actions.accept(users["grid"], ticket, now=at[0])
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"], now=at[1])
    lead = ticket.tasks.get()
    actions.task_accept(users["liaison"], lead, now=at[2])
    actions.add_note(users["grid"], ticket, note="内部：已电话联系供电所", now=at[3])
    actions.task_reply(users["liaison"], lead, result="已将电杆扶正加固", photos=[jpeg("green")], now=at[4])
    return ticket


def test_the_update_feed_lists_public_changes_with_their_status(client, file, users, units):
    ticket = _worked_on_in_2001(file, users, units)
    updates = valid_json("updates", get(client, "servicerequestupdates.json", **WINDOW))
    events = {str(e.pk): e for e in ticket.events.all()}
    assert [events[u["update_id"]].action for u in updates] == [
        "accept",
        "dispatch",
        "unit_accept",
        "task_reply",
        "replied",
    ]
    assert {u["service_request_id"] for u in updates} == {str(ticket.pk)}
    assert {u["status"] for u in updates} == {"open"}
    assert [u["external_status_code"] for u in updates] == [
        "accepted",
        "dispatched",
        "unit_accepted",
        "unit_accepted",
        "replied",
    ]
    reply = updates[3]
    assert reply["description"] == "已将电杆扶正加固"
    assert reply["updated_datetime"] == "2001-03-01T14:00:00+08:00"
    photo = client.get(reply["media_url"].removeprefix("http://testserver"))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert all(u["media_url"] == "" for u in updates if u is not reply)
    assert all(u["description"] for u in updates)  # a bare state change is described by its state
    assert not any("内部" in u["description"] for u in updates)

    xml = rows(valid_xml("updates", get(client, "servicerequestupdates.xml", **WINDOW)))
    assert [row["update_id"] for row in xml] == [u["update_id"] for u in updates]
    later = valid_json(
        "updates",
        get(
            client,
            "servicerequestupdates.json",
            start_date="2001-03-01T13:30:00+08:00",
            end_date="2001-03-01T15:00:00+08:00",
        ),
    )
    assert [u["update_id"] for u in later] == [u["update_id"] for u in updates[3:]]


def test_a_partner_posts_an_update_that_joins_the_timeline(client, fms_key, file, users, units):
    ticket = file()
    actions.accept(users["grid"], ticket)
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"])
    form = {
        "api_key": fms_key,
        "service_request_id": str(ticket.pk),
        "update_id": "fms-4711",
        "status": "OPEN",
        "updated_datetime": "2024-05-01T10:00:00+01:00",
        "description": "居民补充：晚上电线会打火花",
        "first_name": "海燕",
        "email": "haiyan.ouyang@example.cn",
        "media": jpeg("orange"),
    }
    response = post(client, "servicerequestupdates.xml", form)
    assert response.status_code == 200, response.content
    update_id = rows(valid_xml("update_created", response))[0]["update_id"]
    event = TicketEvent.objects.get(pk=int(update_id))
    assert (event.ticket_id, event.action, event.public) == (ticket.pk, "partner_update", True)
    assert event.actor_label == "FixMyStreet 岱山"
    assert event.note == "居民补充：晚上电线会打火花"
    assert event.data["status"] == "OPEN" and event.data["update_id"] == "fms-4711"
    assert "haiyan.ouyang@example.cn" not in json.dumps(event.data)
    assert event.attachments.count() == 1
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.DISPATCHED  # a partner never moves the workflow

    shown = one_request(client, ticket)
    assert shown["status_notes"] == "居民补充：晚上电线会打火花"
    # The desk of the grid and the lead unit hear of it.
    told = Notification.objects.filter(ticket=ticket, subject__contains="FixMyStreet 岱山")
    assert told.filter(recipient=users["liaison"]).exists()
    assert told.filter(recipient__username__startswith="gw").exists()

    # The same update sent again (a retry) is the same update.
    form["media"] = jpeg("orange")
    again = post(client, "servicerequestupdates.json", form)
    assert valid_json("update_created", again) == [{"update_id": update_id}]
    assert ticket.events.filter(action="partner_update").count() == 1
    # The partner does not get its own update back from the feed.
    start = (event.at - dt.timedelta(minutes=1)).isoformat()
    feed = valid_json("updates", get(client, "servicerequestupdates.json", start_date=start))
    assert update_id not in {u["update_id"] for u in feed}


# --------------------------------------------------------------------------- API keys


def test_a_key_is_shown_once_and_only_its_hash_is_kept(demo_county):
    key, raw = apikeys.create("区县 12345 热线")
    assert raw.startswith(key.prefix + ".")
    assert raw not in (key.key_hash, key.prefix) and len(key.key_hash) == 64
    assert apikeys.verify(raw) == key
    assert apikeys.verify(raw + "x") is None
    assert apikeys.verify("") is None
    key.refresh_from_db()
    assert key.last_used_at is not None
    apikeys.revoke("区县 12345 热线")
    assert apikeys.verify(raw) is None


def test_the_key_command_creates_lists_and_revokes(demo_county, capsys):
    call_command("open311-key", "create", "--name", "FixMyStreet 岱山")
    raw = capsys.readouterr().out.strip()
    assert apikeys.verify(raw) is not None
    call_command("open311-key", "list")
    listing = capsys.readouterr().out
    assert "FixMyStreet 岱山" in listing and raw.split(".")[0] in listing and raw not in listing
    call_command("open311-key", "revoke", "--name", "FixMyStreet 岱山")
    assert "revoked" in capsys.readouterr().out
    assert apikeys.verify(raw) is None
    assert ApiKey.objects.get(name="FixMyStreet 岱山").revoked_at is not None


# --------------------------------------------------------------------------- an independent client over HTTP


@pytest.mark.django_db(transaction=True)
def test_an_independent_open311_client_reads_what_a_partner_filed(live_server, settings, tmp_path):
    """``georeport`` (a GeoReport v2 client from PyPI) reads services, definitions and requests
    over real HTTP, in JSON and in XML; a partner files with plain HTTP posts, since that
    client cannot file."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if not Area.objects.exists():  # an earlier transactional test flushed the database
        seed_demo()
    cache.clear()
    key = apikeys.create("FixMyStreet 岱山")[1]
    base = live_server.url + BASE.rstrip("/")

    filed = requests.post(
        f"{base}/requests.json",
        data=a_report(key),
        files={"media": ("pole.jpg", jpeg("purple").read(), "image/jpeg")},
        timeout=30,
    )
    assert filed.status_code == 200 and filed.headers["Content-Type"] == "application/json; charset=utf-8"
    first_id = filed.json()[0]["service_request_id"]
    filed_xml = requests.post(  # street lights need a photo
        f"{base}/requests.xml",
        data=a_report(
            key, service_code="lighting", **{"attribute[fixture]": "stair", "attribute[hazard]": ""}
        ),
        files={"media": ("lamp.jpg", jpeg("yellow").read(), "image/jpeg")},
        timeout=30,
    )
    assert filed_xml.status_code == 200
    second_id = xmltodict.parse(filed_xml.content)["service_requests"]["request"]["service_request_id"]

    as_json = GeoReport(base, jurisdiction="daishan.gov.cn")
    services = as_json.get_service_list()
    json_validator("services").validate(services)
    assert {"power", "lighting"} <= {s["service_code"] for s in services}
    definition = as_json.get_service_definition("lighting")
    json_validator("serviceDefinition").validate(definition)
    assert [v["key"] for v in definition["attributes"][0]["values"]] == ["street", "stair", "yard"]
    listed = as_json.get_service_requests(service_request_id=f"{first_id},{second_id}")
    json_validator("serviceRequests").validate(listed)
    assert [r["service_request_id"] for r in listed] == [second_id, first_id]
    first = as_json.get_service_request(first_id)
    assert first["status"] == "open" and first["service_code"] == "power"
    media = requests.get(first["media_url"], timeout=30)
    assert media.status_code == 200 and media.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(media.content)).size == (64, 48)

    as_xml = GeoReport(base, output_format="xml")
    xml_services = as_xml.get_service_list()
    assert {s["service_code"] for s in xml_services} == {s["service_code"] for s in services}
    xml_definition = as_xml.get_service_definition("power")
    attribute = xml_definition["attributes"]["attribute"]
    assert (attribute["code"], attribute["required"]) == ("hazard", "true")
    assert [v["key"] for v in attribute["values"]["value"]] == ["yes", "no"]
    xml_request = as_xml.get_service_request(second_id)
    assert (xml_request["service_code"], xml_request["status"]) == ("lighting", "open")
    assert xml_request["description"] == "路口电线杆倾斜，电线垂到路边"
    assert xml_request["requested_datetime"] == as_json.get_service_request(second_id)["requested_datetime"]

    token = Ticket.objects.get(pk=int(first_id)).token
    by_token = requests.get(f"{base}/tokens/{token}.json", timeout=30).json()
    assert by_token == [{"service_request_id": first_id, "token": token}]

    update = requests.post(
        f"{base}/servicerequestupdates.json",
        data={
            "api_key": key,
            "service_request_id": first_id,
            "update_id": "fms-1",
            "status": "OPEN",
            "updated_datetime": "2024-05-01T10:00:00Z",
            "description": "居民补充：已拉警戒线",
        },
        timeout=30,
    )
    assert update.status_code == 200
    assert as_json.get_service_request(first_id)["status_notes"] == "居民补充：已拉警戒线"
    everything = requests.get(f"{base}/requests.json", timeout=30).json()
    assert not any(secret in json.dumps(everything, ensure_ascii=False) for secret in PERSONAL)
