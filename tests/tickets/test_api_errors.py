"""What the REST API says when something is wrong: always the one error shape, the right
status, the field at fault, in the caller's language, and nothing changed. Also the
OpenAPI document and the offline docs page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client, override_settings
from hypothesis import HealthCheck, settings

from gongzhi.api import api
from gongzhi.tickets import actions, apikeys, queries
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.schemas import StateGroup

try:
    import schemathesis
    from schemathesis.specs.openapi.checks import (
        ignored_auth,
        negative_data_rejection,
        positive_data_acceptance,
    )
except ImportError:  # a dev dependency; without it the property-based test reports a skip
    schemathesis = None

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def as_user(users):  # type: ignore[no-untyped-def]
    def _client(username: str, **extra: Any) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en", **extra)
        client.force_login(users[username])
        return client

    return _client


@pytest.fixture
def partner_key(db) -> str:  # type: ignore[no-untyped-def]
    return apikeys.create("partner for errors")[1]


@pytest.fixture
def partner(partner_key) -> Client:  # type: ignore[no-untyped-def]
    return Client(HTTP_X_API_KEY=partner_key, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def intake(building1):  # type: ignore[no-untyped-def]
    """A valid intake body; tests spoil one field at a time."""

    def _body(**changes: Any) -> dict[str, Any]:
        body = {
            "category": "water",
            "description": "1幢水压太低",
            "building": building1.pk,
            "reporter_phone": "13900002222",
        }
        body.update(changes)
        return body

    return _body


def post_json(client: Client, path: str, body: Any, **headers: Any) -> Any:
    return client.post(API + path, data=json.dumps(body), content_type="application/json", **headers)


def error_of(response: Any, status: int) -> dict[str, Any]:
    """The body of an error response, checked against the shared error shape."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str) and body["detail"]
    assert all(set(e) == {"field", "message"} for e in body["errors"])
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


# --------------------------------------------------------------------------- bad input


def test_an_unknown_category_is_a_400_naming_the_field(partner, intake):
    body = error_of(post_json(partner, "/tickets", intake(category="no-such-thing")), 400)
    assert fields(body) == {"category"}
    assert body["detail"] == "Unknown category."
    assert not Ticket.objects.filter(description="1幢水压太低").exists()


def test_a_ten_thousand_character_description_is_refused(partner, intake):
    body = error_of(post_json(partner, "/tickets", intake(description="漏" * 10_000)), 400)
    assert fields(body) == {"description"}
    assert "2000" in body["errors"][0]["message"] and "10000" in body["errors"][0]["message"]
    assert not Ticket.objects.filter(description__startswith="漏漏").exists()


def test_missing_and_unknown_fields_and_bad_types_are_each_named(partner, intake):
    body = intake(urgency="very", lat=100, colour="red")
    del body["description"]
    error = error_of(post_json(partner, "/tickets", body), 400)
    assert fields(error) == {"description", "urgency", "lat", "colour"}
    messages = {e["field"]: e["message"] for e in error["errors"]}
    assert messages["description"] == "This field is required."
    assert messages["lat"] == "Ensure this value is less than or equal to 90."


def test_a_body_that_is_not_json_is_a_400(partner):
    response = partner.post(API + "/tickets", data="{not json", content_type="application/json")
    assert error_of(response, 400)["detail"] == "The body is not valid JSON."


def test_a_file_that_is_not_a_photo_is_refused(partner, intake):
    fake = SimpleUploadedFile("pole.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")
    body = error_of(partner.post(API + "/tickets", {**intake(), "photos": [fake]}), 400)
    assert fields(body) == {"photos"}
    assert not Ticket.objects.filter(description="1幢水压太低").exists()


def test_a_wrong_answer_to_a_category_question_names_the_question(partner, intake):
    body = error_of(post_json(partner, "/tickets", intake(category="power", attributes={"hazard": "x"})), 400)
    assert fields(body) == {"attribute[hazard]"}


def test_a_path_id_that_is_not_a_number_is_a_400(as_user):
    body = error_of(as_user("grid").get(API + "/tickets/abc"), 400)
    assert fields(body) == {"ticket_id"}


def test_an_unknown_list_filter_value_is_a_400(as_user):
    body = error_of(as_user("grid").get(API + "/tickets", {"group": "everything"}), 400)
    assert fields(body) == {"group"}


def test_the_state_groups_offered_are_those_the_lists_know():
    assert set(StateGroup.__args__) == set(queries.STATE_GROUPS)  # type: ignore[attr-defined]


def test_markup_is_stored_and_returned_as_plain_text(partner, as_user, intake):
    markup = '<script>alert("x")</script><img src=x onerror=alert(1)> & “引号”'
    filed = post_json(partner, "/tickets", intake(description=markup, address_text="<b>1幢</b>"))
    assert filed.status_code == 201
    ticket = Ticket.objects.get(pk=filed.json()["id"])
    assert ticket.description == markup and ticket.address_text == "<b>1幢</b>"
    shown = as_user("grid").get(f"{API}/tickets/{ticket.pk}")
    assert shown.json()["description"] == markup
    # JSON, never a page a browser would run: the script travels as an escaped JSON string.
    assert shown["Content-Type"] == "application/json; charset=utf-8"
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" in shown.content and b"text/html" not in shown.content


# --------------------------------------------------------------------------- refusals


def test_a_stale_version_is_a_409_and_changes_nothing(as_user, file):
    ticket = file()
    grid = as_user("grid")
    body = error_of(post_json(grid, f"/tickets/{ticket.pk}/accept", {"version": ticket.version + 5}), 409)
    assert "Someone else changed this request" in body["detail"]
    assert Ticket.objects.get(pk=ticket.pk).state == Ticket.State.REPORTED
    # The same for the moves whose action takes no version of its own.
    stale = {"version": ticket.version + 1, "reason": "涉及多部门"}
    error_of(post_json(grid, f"/tickets/{ticket.pk}/refer", stale), 409)
    assert not Ticket.objects.get(pk=ticket.pk).referred


def test_a_move_the_workflow_does_not_allow_is_a_409_with_the_reason(as_user, file):
    ticket = file()
    body = error_of(
        post_json(as_user("grid"), f"/tickets/{ticket.pk}/close", {"version": ticket.version}), 409
    )
    assert body["detail"] == "This cannot be done while the request is “Reported”."


def test_a_unit_acting_on_a_task_not_dispatched_to_it_gets_403(as_user, users, units, file):
    ticket = file()
    actions.accept(users["grid"], ticket)
    actions.dispatch(users["grid"], ticket, lead_unit=units["MU03"], co_units=[units["MU13"]])
    co = ticket.tasks.get(unit=units["MU13"])
    ticket.refresh_from_db()
    body = error_of(post_json(as_user("liaison"), f"/tasks/{co.pk}/accept", {"version": ticket.version}), 403)
    assert body["detail"] == "Not allowed"
    # The desk may see the task but is not the unit: still 403.
    error_of(post_json(as_user("grid"), f"/tasks/{co.pk}/accept", {"version": ticket.version}), 403)
    co.refresh_from_db()
    assert co.state == "dispatched"


def test_a_request_outside_ones_area_is_403_and_an_unknown_one_404(as_user, file, category):
    other = actions.file_ticket(
        None, channel="api", category=category("water"), description="县城某处水管漏水", address_text="县城"
    )
    grid = as_user("grid")
    error_of(grid.get(f"{API}/tickets/{other.pk}"), 403)
    assert error_of(grid.get(f"{API}/tickets/999999999"), 404)["detail"] == "No such record."
    error_of(post_json(grid, "/tickets/999999999/accept", {"version": 1}), 404)
    error_of(post_json(grid, "/tasks/999999999/accept", {"version": 1}), 404)
    error_of(post_json(grid, "/approvals/999999999/decide", {"approve": True}), 404)


def test_without_a_session_or_key_it_is_401(demo_county):
    body = error_of(Client().get(API + "/tickets"), 401)
    assert "X-Api-Key" in body["detail"]
    error_of(Client(HTTP_X_API_KEY="gz000000.wrong").post(API + "/tickets", {}), 401)


def test_a_session_needs_the_csrf_token_to_change_anything_but_a_key_does_not(
    as_user, partner_key, file, intake
):
    ticket = file()
    strict = as_user("grid", enforce_csrf_checks=True)
    refused = post_json(strict, f"/tickets/{ticket.pk}/accept", {"version": ticket.version})
    assert error_of(refused, 403)["detail"].startswith("CSRF verification failed")
    strict.cookies["csrftoken"] = "k" * 32  # what the pages' CSRF cookie holds
    allowed = post_json(
        strict, f"/tickets/{ticket.pk}/accept", {"version": ticket.version}, HTTP_X_CSRFTOKEN="k" * 32
    )
    assert allowed.status_code == 200

    partner = Client(enforce_csrf_checks=True, HTTP_X_API_KEY=partner_key)
    assert post_json(partner, "/tickets", intake()).status_code == 201


def test_a_partner_may_not_claim_to_be_staff_entering_a_paper_form(partner, intake):
    body = error_of(post_json(partner, "/tickets", intake(channel="paper", consent_note="签字")), 400)
    assert fields(body) == {"channel"}


# --------------------------------------------------------------------------- limits


@override_settings(GONGZHI_INTAKE_RATE=(2, 100, 3600))
def test_intake_is_rate_limited_per_address(partner, intake):
    for n in range(2):
        assert post_json(partner, "/tickets", intake(description=f"第{n}次")).status_code == 201
    refused = post_json(partner, "/tickets", intake(description="第三次"))
    assert error_of(refused, 429)["detail"].startswith("Too many requests")
    assert refused["Retry-After"] == "3600"
    assert not Ticket.objects.filter(description="第三次").exists()
    other_address = post_json(partner, "/tickets", intake(description="别处"), REMOTE_ADDR="10.1.2.3")
    assert other_address.status_code == 201


@override_settings(GONGZHI_INTAKE_RATE=(100, 2, 3600))
def test_intake_is_rate_limited_per_phone(partner, intake):
    for n in range(2):
        response = post_json(partner, "/tickets", intake(description=f"第{n}次"), REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 201
    error_of(post_json(partner, "/tickets", intake(description="第三次"), REMOTE_ADDR="10.0.0.9"), 429)
    other_phone = intake(description="第三次", reporter_phone="13900003333")
    assert post_json(partner, "/tickets", other_phone).status_code == 201


@override_settings(GONGZHI_INTAKE_RATE=(1, 1, 3600))
def test_the_desk_entering_calls_is_not_rate_limited(as_user, intake):
    grid = as_user("grid")
    for n in range(3):
        body = intake(description=f"来电{n}", channel="staff_call", consent_note="电话中同意代为登记")
        assert post_json(grid, "/tickets", body).status_code == 201


def test_the_same_idempotency_key_twice_files_one_request(partner, partner_key, intake, as_user):
    first = post_json(partner, "/tickets", intake(), HTTP_IDEMPOTENCY_KEY="hotline-2026-0001")
    again = post_json(partner, "/tickets", intake(), HTTP_IDEMPOTENCY_KEY="hotline-2026-0001")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert Ticket.objects.filter(description="1幢水压太低").count() == 1
    # Another caller's equal key is theirs alone: it files its own request.
    other = post_json(as_user("resident"), "/tickets", intake(), HTTP_IDEMPOTENCY_KEY="hotline-2026-0001")
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


# --------------------------------------------------------------------------- language


def test_errors_come_in_the_callers_language(users, file):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(users["liaison"])
    ticket = file()
    assert error_of(client.get(f"{API}/tickets/{ticket.pk}"), 403)["detail"] == "没有权限"
    missing = error_of(post_json(client, f"/tickets/{ticket.pk}/accept", {}), 400)
    assert missing["errors"] == [{"field": "version", "message": "这个字段是必填项。"}]


# --------------------------------------------------------------------------- the documents


def openapi(client: Client | None = None) -> dict[str, Any]:
    response = (client or Client()).get(API + "/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_openapi_document_is_3_1_and_documents_every_route(demo_county):
    doc = openapi()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "Gongzhi API"
    patterns, _app, _namespace = api.urls
    routed = set()
    for pattern in patterns:
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        if route not in ("openapi.json", "docs", ""):  # "" only answers 404, as ninja's root
            routed.add(f"{API}/{route}")
    assert routed == set(doc["paths"])
    assert len(routed) >= 24
    for path in (
        "/tickets/{ticket_id}/send-back",
        "/tasks/{task_id}/request-extension",
        "/approvals/{approval_id}/decide",
    ):
        assert API + path in doc["paths"]


def test_every_error_of_every_operation_is_the_shared_error_schema(demo_county):
    doc = openapi()
    assert set(doc["components"]["schemas"]["ErrorOut"]["properties"]) == {"detail", "errors"}
    operations = [(p, m, op) for p, ops in doc["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 25
    for path, method, op in operations:
        failures = {code: r for code, r in op["responses"].items() if code.startswith("4")}
        if path != API + "/categories":
            assert "401" in failures, (path, method)
        for code, response in failures.items():
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, code)
    intake = doc["paths"][API + "/tickets"]["post"]
    assert {"200", "201", "400", "401", "403", "429"} == set(intake["responses"])
    assert set(intake["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    header = next(p for p in intake["parameters"] if p["in"] == "header")
    assert header["name"] == "Idempotency-Key"
    assert set(doc["components"]["securitySchemes"]) == {"PartnerKey", "UserSession"}


def test_the_docs_page_loads_only_our_own_static_files(demo_county):
    response = Client().get(API + "/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)=\"([^\"]+)\"", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not among the static files"
    assert "http://" not in html and "https://" not in html
    assert '"url": "/api/v1/openapi.json"' in html


# --------------------------------------------------------------------------- property-based


@pytest.fixture
def connection_kept():
    """A request through the plain WSGI app closes the database connection when it ends;
    within a test's transaction it must stay open, as Django's test client keeps it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def desk_session(users) -> dict[str, str]:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(users["grid"])
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": "k" * 32}


def _property_test() -> Any:
    if schemathesis is None:

        def test_every_route_keeps_to_the_openapi_document() -> None:
            pytest.skip("schemathesis is not installed")

        return test_every_route_keeps_to_the_openapi_document

    # Loaded when the tests are collected: the document is built from the URL conf alone.
    schema = schemathesis.openapi.from_wsgi(API + "/openapi.json", get_wsgi_application())

    # Left out, and why: which category codes, ids and versions exist is data, not schema, so
    # a schema-valid body may rightly be refused (positive_data_acceptance); and every case is
    # sent signed in, so one meant to go without its session still carries it (ignored_auth,
    # negative_data_rejection). Calls without credentials are tested above.
    not_applicable = [positive_data_acceptance, ignored_auth, negative_data_rejection]

    @schema.parametrize()
    @settings(
        max_examples=10,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @override_settings(GONGZHI_INTAKE_RATE=(10_000, 10_000, 3600))
    def test_every_route_keeps_to_the_openapi_document(case, desk_session, partner_key, connection_kept):  # type: ignore[no-untyped-def]
        """Generated requests, valid and invalid, never crash the API, and every answer —
        status, content type, body — is one the document promises."""
        case.call_and_validate(
            headers={"X-Api-Key": partner_key, "X-CSRFToken": desk_session["csrftoken"]},
            cookies=desk_session,
            excluded_checks=not_applicable,
        )

    return test_every_route_keeps_to_the_openapi_document


test_every_route_keeps_to_the_openapi_document = _property_test()
