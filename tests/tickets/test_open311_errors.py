"""Everything an Open311 client can get wrong, and what it gets back: the spec's error list
(in the format it asked for, 403 for keys, 404 for what does not exist, 400 for the rest),
and never a change to the data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from gongzhi.orgs.models import ServiceCategory
from gongzhi.tickets import actions, apikeys
from gongzhi.tickets.models import Attachment, CategoryQuestion, CategorySetting, Ticket, TicketEvent
from tests.tickets.open311_support import BASE, get, jpeg, post, rows, valid_json, valid_xml

pytestmark = pytest.mark.django_db

REPORT = {
    "service_code": "power",
    "lat": "30.243312",
    "long": "122.203575",
    "description": "路口电线杆倾斜",
    "attribute[hazard]": "yes",
}


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def key(demo_county) -> str:  # type: ignore[no-untyped-def]
    return apikeys.create("FixMyStreet 岱山")[1]


def errors_of(response, status: int, fmt: str = "json") -> list[str]:  # type: ignore[no-untyped-def]
    """The error descriptions, after checking the status and the error document."""
    assert response.status_code == status, response.content
    if fmt == "json":
        data = valid_json("errors", response)
        assert {item["code"] for item in data} == {status}
        return [item["description"] for item in data]
    found = rows(valid_xml("errors", response))
    assert {int(item["code"]) for item in found} == {status}
    return [item["description"] for item in found]


def filed(key: str, client: Client, fmt: str = "json", **fields: object):  # type: ignore[no-untyped-def]
    return post(client, f"requests.{fmt}", {"api_key": key, **REPORT, **fields})


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_filing_without_a_key_is_forbidden(client, demo_county, fmt):
    count = Ticket.objects.count()
    response = post(client, f"requests.{fmt}", REPORT)
    assert "api_key" in errors_of(response, 403, fmt)[0]
    empty = post(client, f"requests.{fmt}", {**REPORT, "api_key": "  "})
    errors_of(empty, 403, fmt)
    assert Ticket.objects.count() == count


def test_a_wrong_or_revoked_key_is_forbidden(client, key):
    count = Ticket.objects.count()
    errors_of(filed(key + "0", client), 403)
    errors_of(filed("gz000000." + "a" * 43, client), 403)
    errors_of(filed("x" * 5000, client), 403)
    apikeys.revoke("FixMyStreet 岱山")
    errors_of(filed(key, client), 403)
    assert Ticket.objects.count() == count


def test_posting_an_update_needs_a_key_too(client, key, file):
    ticket = file()
    form = {"service_request_id": str(ticket.pk), "update_id": "1", "description": "补充"}
    errors_of(post(client, "servicerequestupdates.json", form), 403)
    errors_of(post(client, "servicerequestupdates.xml", {**form, "api_key": "nope"}), 403, "xml")
    assert not ticket.events.filter(action="partner_update").exists()


def test_reading_needs_no_key_and_ignores_a_wrong_one(client, demo_county):
    assert get(client, "services.json", api_key="wrong").status_code == 200


# --------------------------------------------------------------------------- service codes


def test_an_unknown_service_code_is_not_found(client, key):
    assert "nosuch" in errors_of(filed(key, client, service_code="nosuch"), 404)[0]
    errors_of(get(client, "services/nosuch.json"), 404)
    errors_of(get(client, "services/nosuch.xml"), 404, "xml")


def test_a_missing_service_code_is_a_bad_request(client, key):
    assert errors_of(filed(key, client, service_code=""), 400) == ["service_code is required."]


def test_a_category_closed_to_the_public_cannot_be_filed_or_described(client, key):
    CategorySetting.objects.filter(category__code="power").update(public=False)
    errors_of(filed(key, client), 404)
    errors_of(get(client, "services/power.json"), 404)


# --------------------------------------------------------------------------- location


@pytest.mark.parametrize(
    ("lat", "long", "words"),
    [
        ("30.2", "", "together"),
        ("", "122.2", "together"),
        ("north", "122.2", "lat must be a number"),
        ("30.2", "1e999", "long must lie between"),
        ("91", "122.2", "lat must lie between"),
        ("30.2", "-180.5", "long must lie between"),
        ("NaN", "122.2", "lat must lie between"),
        ("Infinity", "122.2", "lat must lie between"),
    ],
)
def test_bad_coordinates_are_refused(client, key, lat, long, words):
    count = Ticket.objects.count()
    descriptions = errors_of(filed(key, client, lat=lat, long=long), 400)
    assert words in descriptions[0]
    assert Ticket.objects.count() == count


def test_a_request_needs_some_location(client, key):
    assert "location is required" in errors_of(filed(key, client, lat="", long=""), 400)[0]
    assert "address_id" in errors_of(filed(key, client, lat="", long="", address_id="A-17"), 400)[0]


def test_coordinates_are_kept_to_six_decimals(client, key):
    response = filed(key, client, lat="30.24331249", long="-0.0000001")
    ticket = Ticket.objects.get(pk=int(valid_json("created", response)[0]["service_request_id"]))
    assert (str(ticket.lat), str(ticket.long)) == ("30.243312", "0.000000")


# --------------------------------------------------------------------------- other fields


def test_answers_are_checked_against_the_questions(client, key):
    assert "attribute[hazard]" in errors_of(filed(key, client, **{"attribute[hazard]": ""}), 400)[0]
    assert "attribute[hazard]" in errors_of(filed(key, client, **{"attribute[hazard]": "maybe"}), 400)[0]
    CategoryQuestion.objects.create(
        category=ServiceCategory.objects.get(code="power"),
        code="since",
        label="从什么时候开始？",
        datatype=CategoryQuestion.Datatype.DATETIME,
    )
    assert "since" in errors_of(filed(key, client, **{"attribute[since]": "yesterday"}), 400)[0]
    assert filed(key, client, **{"attribute[since]": "2024-05-01T08:00:00+08:00"}).status_code == 200
    # A one-answer question sent in the list form keeps one answer.
    listed = filed(key, client, **{"attribute[hazard]": "", "attribute[hazard][]": ["yes", "no"]})
    ticket = Ticket.objects.get(pk=int(valid_json("created", listed)[0]["service_request_id"]))
    assert ticket.attributes == {"hazard": "no"}


def test_description_email_and_photos_are_checked(client, key):
    count = Ticket.objects.count()
    assert "description" in errors_of(filed(key, client, description=""), 400)[0]
    assert "2000" in errors_of(filed(key, client, description="长" * 2001), 400)[0]
    assert "email" in errors_of(filed(key, client, email="not-an-address"), 400)[0]
    not_a_photo = SimpleUploadedFile("photo.jpg", b"this is no image", content_type="image/jpeg")
    assert "photos" in errors_of(filed(key, client, media=not_a_photo), 400)[0]
    assert Ticket.objects.count() == count


def test_empty_optional_fields_count_as_absent_when_filing(client, key):
    response = filed(
        key,
        client,
        lat="",
        long="",
        address_string="育才新村1幢东侧",
        email="",
        phone="",
        first_name="",
        last_name="",
        address_id="",
        device_id="",
        account_id="",
        media_url="",
        jurisdiction_id="",
    )
    ticket = Ticket.objects.get(pk=int(valid_json("created", response)[0]["service_request_id"]))
    assert (ticket.lat, ticket.reporter_email, ticket.reporter_name) == (None, "", "")


# --------------------------------------------------------------------------- idempotency


def test_the_same_idempotency_key_files_one_request(client, key):
    response = post(
        client, "requests.json", {"api_key": key, **REPORT}, **{"Idempotency-Key": "fms-report-88"}
    )
    again = post(client, "requests.json", {"api_key": key, **REPORT}, **{"Idempotency-Key": "fms-report-88"})
    created = valid_json("created", response)
    assert valid_json("created", again) == created
    assert Ticket.objects.filter(pk=int(created[0]["service_request_id"])).count() == 1
    as_field = filed(key, client, idempotency_key="fms-report-88")
    assert valid_json("created", as_field) == created
    # Another partner using the same text gets a request of its own.
    other = apikeys.create("区县 12345 热线")[1]
    theirs = post(
        client, "requests.json", {"api_key": other, **REPORT}, **{"Idempotency-Key": "fms-report-88"}
    )
    assert valid_json("created", theirs) != created
    # Without a key, two identical posts are two requests.
    plain = [valid_json("created", filed(key, client))[0]["service_request_id"] for _ in range(2)]
    assert plain[0] != plain[1]
    errors_of(
        post(client, "requests.json", {"api_key": key, **REPORT}, **{"Idempotency-Key": "k" * 201}), 400
    )


# --------------------------------------------------------------------------- reading


def test_unknown_requests_and_tokens_are_not_found(client, demo_county):
    for path in ("requests/999999999.json", "requests/abc.json", "requests/99999999999999999999999.json"):
        errors_of(get(client, path), 404)
    errors_of(get(client, "requests/999999999.xml"), 404, "xml")
    errors_of(get(client, "tokens/no-such-token.json"), 404)
    errors_of(get(client, "tokens/no-such-token.xml"), 404, "xml")


@pytest.mark.parametrize(
    "path", ["services.csv", "requests/1.html", "discovery.yaml", "servicerequestupdates.txt"]
)
def test_an_unknown_format_is_a_bad_request_in_xml(client, demo_county, path):
    assert "format" in errors_of(get(client, path), 400, "xml")[0]


@pytest.mark.parametrize("path", ["nothing.json", "services/", "requests/1/notes.json", "media/1-abc.jpg"])
def test_an_unknown_path_is_not_found_in_the_spec_format(client, demo_county, path):
    fmt = "json" if path.endswith(".json") else "xml"
    errors_of(get(client, path), 404, fmt)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"start_date": "2024-13-01"}, "start_date"),
        ({"start_date": "last week"}, "start_date"),
        ({"end_date": "2024-05-01T10:00:00"}, "time zone"),
        ({"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2024-05-02T00:00:00Z", "end_date": "2024-05-01T00:00:00Z"}, "before"),
        ({"page_size": "1001"}, "at most 1000"),
        ({"page_size": "0"}, "at least 1"),
        ({"page": "-1"}, "at least 1"),
        ({"page": "two"}, "at least 1"),
        ({"status": "pending"}, "open or closed"),
    ],
)
def test_bad_list_parameters_are_refused(client, demo_county, params, words):
    assert words in errors_of(get(client, "requests.json", **params), 400)[0]
    errors_of(get(client, "requests.xml", **params), 400, "xml")


def test_empty_optional_parameters_count_as_absent_when_reading(client, file):
    file()
    plain = get(client, "requests.json")
    empty = get(
        client,
        "requests.json",
        service_request_id="",
        service_code="",
        start_date="",
        end_date="",
        status="",
        page="",
        page_size="",
        jurisdiction_id="",
    )
    assert plain.status_code == empty.status_code == 200
    assert valid_json("requests", plain) == valid_json("requests", empty)
    assert get(client, "servicerequestupdates.json", start_date="", end_date="").status_code == 200


def test_update_feed_dates_are_checked_too(client, demo_county):
    errors_of(get(client, "servicerequestupdates.json", start_date="soon"), 400)
    errors_of(get(client, "servicerequestupdates.xml", page_size="5000"), 400, "xml")


# --------------------------------------------------------------------------- escaping


def test_markup_and_control_characters_in_text_are_escaped(client, key):
    text = '<script>alert("x")</script> & <b>电杆</b>\x0b倾斜'
    response = filed(key, client, description=text)
    ticket_id = valid_json("created", response)[0]["service_request_id"]
    xml = get(client, f"requests/{ticket_id}.xml")
    shown = rows(valid_xml("requests", xml))[0]
    assert shown["description"] == text.replace("\x0b", "")
    assert b"<script>" not in xml.content and b"&lt;script&gt;" in xml.content
    assert valid_json("requests", get(client, f"requests/{ticket_id}.json"))[0]["description"] == text


# --------------------------------------------------------------------------- limits and methods


def test_filing_is_rate_limited_per_address_and_per_phone(client, key, settings):
    settings.GONGZHI_INTAKE_RATE = (3, 1, 600)
    assert filed(key, client, phone="13905800001").status_code == 200
    busy = filed(key, client, phone="13905800001")
    assert "Too many" in errors_of(busy, 429)[0]
    assert busy["Retry-After"] == "600"
    assert filed(key, client, phone="13905800002").status_code == 200
    errors_of(filed(key, client, phone="13905800003", fmt="xml"), 429, "xml")
    count = Ticket.objects.count()
    errors_of(filed(key, client), 429)
    assert Ticket.objects.count() == count


def test_other_methods_are_refused(client, demo_county):
    response = client.delete(BASE + "services.json")
    errors_of(response, 405)
    assert response["Allow"] == "GET, HEAD"
    response = client.put(BASE + "requests.xml")
    errors_of(response, 405, "xml")
    assert response["Allow"] == "GET, HEAD, POST"


def test_posting_needs_no_csrf_token(key):
    strict = Client(enforce_csrf_checks=True)
    assert filed(key, strict).status_code == 200


# --------------------------------------------------------------------------- updates


def test_bad_updates_are_refused(client, key, file, users):
    ticket = file()
    form = {"api_key": key, "service_request_id": str(ticket.pk), "update_id": "u1", "description": "补充"}
    missing = errors_of(post(client, "servicerequestupdates.json", {"api_key": key}), 400)
    assert missing == ["service_request_id is required.", "update_id is required."]
    errors_of(post(client, "servicerequestupdates.json", {**form, "service_request_id": "999999999"}), 404)
    assert (
        "status"
        in errors_of(post(client, "servicerequestupdates.json", {**form, "status": "SOLVED"}), 400)[0]
    )
    errors_of(post(client, "servicerequestupdates.json", {**form, "updated_datetime": "noon"}), 400)
    errors_of(post(client, "servicerequestupdates.json", {**form, "description": ""}), 400)
    errors_of(post(client, "servicerequestupdates.json", {**form, "update_id": "u" * 101}), 400)
    actions.withdraw(users["resident"], ticket, reason="已自行解决")
    with translation.override("en"):
        refused = errors_of(
            post(client, "servicerequestupdates.json", form, **{"Accept-Language": "en"}), 400
        )
    assert "takes no more updates" in refused[0]
    assert not ticket.events.filter(action="partner_update").exists()


# --------------------------------------------------------------------------- photos


def test_photos_of_private_events_or_with_a_wrong_checksum_are_not_served(client, file, users):
    ticket = file(photos=[jpeg("blue")])
    photo = ticket.attachments.get()
    path = f"media/{photo.pk}-{photo.sha256[:16]}.jpg"
    assert client.get(BASE + path).status_code == 200
    errors_of(client.get(BASE + f"media/{photo.pk}-{'0' * 16}.jpg"), 404, "xml")
    errors_of(client.get(BASE + f"media/{photo.pk}-{photo.sha256[:16]}.png"), 404, "xml")
    errors_of(client.post(BASE + path), 405, "xml")

    private = TicketEvent.objects.create(
        ticket=ticket, action="note", actor_label="网格", at=ticket.created_at, note="内部照片", public=False
    )
    hidden = Attachment.objects.create(
        ticket=ticket,
        event=private,
        file=photo.file.name,
        content_type=photo.content_type,
        extension=photo.extension,
        size=photo.size,
        width=photo.width,
        height=photo.height,
        sha256=photo.sha256,
        created_at=ticket.created_at + dt.timedelta(minutes=1),
    )
    errors_of(client.get(BASE + f"media/{hidden.pk}-{hidden.sha256[:16]}.jpg"), 404, "xml")
