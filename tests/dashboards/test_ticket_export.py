"""The one-row-per-request export: scoped, logged, streamed in keyset batches, without any
personal data, and with formula-looking text made inert."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from openpyxl import load_workbook

from gongzhi.core.models import AuditEvent
from gongzhi.dashboards import exports
from gongzhi.demo.seed import DEMO_PASSWORD
from gongzhi.housing.models import Compound
from gongzhi.orgs.models import Area
from gongzhi.tickets.models import Ticket
from tests.dashboards.scenario import START, file_request, walk_to_rating

pytestmark = pytest.mark.django_db

PERIOD = "?from=2031-01&to=2031-02"
PHONE_LIKE = re.compile(r"1[3-9]\d{9}|\d{3}\*{4}\d{4}")


def streamed(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def signed_in(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def csv_rows(username: str, query: str = PERIOD) -> list[list[str]]:
    response = signed_in(username).get("/kpi/tickets.csv" + query)
    assert response.status_code == 200
    assert response.streaming
    text = streamed(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(username: str, query: str = PERIOD) -> list[tuple]:
    response = signed_in(username).get("/kpi/tickets.xlsx" + query)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(streamed(response)), read_only=True)
    return list(book.worksheets[0].iter_rows(values_only=True))


@pytest.fixture
def two_requests(counting_from_here):  # type: ignore[no-untyped-def]
    leak = walk_to_rating(file_request(START, place="育才新村", code="water"), START)
    pole = walk_to_rating(
        file_request(START + dt.timedelta(days=2), place="大峧小区", code="power", phone="13957009876"),
        START + dt.timedelta(days=2),
        resolution="not",
        satisfaction="dissatisfied",
    )
    return leak, pole


def test_one_row_per_request_with_the_columns_asked_for(two_requests):
    leak, pole = two_requests
    header, *rows = csv_rows("county")
    assert header == [
        "Request",
        "Reported at",
        "Accepted at",
        "Dispatched at",
        "Unit signed for it at",
        "Replied at",
        "Verified at",
        "Closed at",
        "Resolved?",
        "Satisfaction",
        "Channel",
        "Lead unit",
        "Co-units",
        "Times reopened",
        "Category",
        "Compound",
        "Grid",
        "State",
        "Overdue",
    ]
    by_id = {int(r[0]): r for r in rows}
    assert set(by_id) == {leak.pk, pole.pk}
    assert by_id[leak.pk][1] == "2031-01-06 08:30"
    assert by_id[leak.pk][8:12] == ["Resolved", "Satisfied", "Phone call to staff", "县自来水公司"]
    assert by_id[leak.pk][14:] == ["供水", "育才新村", leak.grid.name, "Followed up", "No"]
    # Not resolved: reopened to the same lead unit, with its co-units kept.
    assert by_id[pole.pk][11] == "国网岱山县供电公司" and by_id[pole.pk][13] == "1"
    assert set(by_id[pole.pk][12].split("、")) == {"高亭镇人民政府", "县交通运输局"}
    assert by_id[pole.pk][17] == "Dispatched"
    assert by_id[pole.pk][7] == ""  # closed_at is cleared by the reopen


def test_the_excel_export_has_the_same_rows(two_requests):
    leak, pole = two_requests
    header, *rows = xlsx_rows("county")
    assert len(header) == 19
    by_id = {r[0]: r for r in rows}
    assert set(by_id) == {leak.pk, pole.pk}
    assert by_id[leak.pk][1] == START.replace(tzinfo=None)  # local wall-clock time, 08:30
    assert by_id[leak.pk][11] == "县自来水公司" and by_id[pole.pk][13] == 1


def test_a_unit_liaison_exports_only_the_requests_dispatched_to_their_unit(two_requests):
    leak, pole = two_requests
    _header, *rows = csv_rows("liaison")
    assert [int(r[0]) for r in rows] == [pole.pk]


def test_a_grid_worker_exports_only_their_grid(two_requests):
    leak, pole = two_requests
    _header, *rows = csv_rows("grid")
    assert [int(r[0]) for r in rows] == [leak.pk]
    town = Area.objects.get(name="高亭镇")
    assert signed_in("grid").get(f"/kpi/tickets.csv{PERIOD}&area={town.code}").status_code == 404


def test_an_area_narrows_the_export(two_requests):
    leak, pole = two_requests
    _header, *rows = csv_rows("county", f"{PERIOD}&area={pole.grid.code}")
    assert [int(r[0]) for r in rows] == [pole.pk]


@pytest.mark.parametrize("username", ["resident", "committee", "volunteer"])
def test_roles_without_export_are_refused(demo_county, username):
    assert signed_in(username).get("/kpi/tickets.csv").status_code == 403
    assert signed_in(username).get("/kpi/tickets.xlsx").status_code == 403


def test_every_export_is_in_the_access_log(two_requests):
    county = get_user_model().objects.get(username="county")
    csv_rows("county")
    xlsx_rows("county")
    logged = AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT, action="tickets.export", actor=county)
    assert [e.after["format"] for e in logged.order_by("id")] == ["csv", "xlsx"]
    xlsx = logged.get(after__format="xlsx")
    assert xlsx.after["rows"] == 2 and xlsx.after["from"] == "2031-01" and xlsx.after["to"] == "2031-02"


def test_a_ten_row_export_holds_no_phone_number(counting_from_here):
    phones = [f"1395800{n:04d}" for n in range(10)]
    for n, phone in enumerate(phones):
        at = START + dt.timedelta(days=n)
        ticket = file_request(
            at, place="育才新村", code="water", phone=phone, reporter_email=f"r{n}@example.cn"
        )
        if n % 2:
            walk_to_rating(ticket, at)
    _header, *rows = csv_rows("county")
    assert len(rows) == 10
    text = streamed(signed_in("county").get("/kpi/tickets.csv" + PERIOD)).decode()
    sheet = "\n".join(" ".join(str(v) for v in row) for row in xlsx_rows("county"))
    for body in (text, sheet):
        assert not PHONE_LIKE.search(body)
        assert "王秀英" not in body and "@example.cn" not in body and "漏水" not in body


def test_text_that_looks_like_a_formula_stays_text(two_requests):
    Compound.objects.filter(name="育才新村").update(name='=HYPERLINK("http://evil.example","x")')
    _header, *rows = csv_rows("county")
    compounds = {r[15] for r in rows}
    assert '\'=HYPERLINK("http://evil.example","x")' in compounds
    response = signed_in("county").get("/kpi/tickets.xlsx" + PERIOD)
    book = load_workbook(io.BytesIO(streamed(response)))
    cells = [row[15] for row in book.worksheets[0].iter_rows(min_row=2)]
    formula = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert formula.data_type == "s" and formula.quotePrefix


def test_rows_are_read_in_keyset_batches_of_a_fixed_number_of_queries(
    counting_from_here, django_assert_num_queries
):
    for n in range(10):
        file_request(START + dt.timedelta(hours=n), code="water", phone=f"1395900{n:04d}")
    county = get_user_model().objects.get(username="county")
    qs = exports.export_queryset(county).filter(id__gt=counting_from_here)
    labels = exports.Labels.current()
    # Per batch: the ids, the co-units and the rows; then one look that finds no more ids.
    with django_assert_num_queries(3 * 3 + 1):
        rows = list(exports.iter_rows(qs, labels, batch_size=4))
    with django_assert_num_queries(3 + 1):
        same = list(exports.iter_rows(qs, labels, batch_size=100))
    assert (
        [r[0] for r in rows]
        == [r[0] for r in same]
        == sorted(Ticket.objects.filter(id__gt=counting_from_here).values_list("id", flat=True))
    )
