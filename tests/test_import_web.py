"""Community staff import the registry from the web page: template, upload, errors back."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.core.models import AuditEvent
from gongzhi.demo.seed import DEMO_PASSWORD
from gongzhi.housing.models import Compound, Unit

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def workbook(rows: list[list[object]]) -> io.BytesIO:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        [
            "小区编码",
            "楼幢",
            "单元",
            "房号",
            "楼层",
            "建筑面积(㎡)",
            "面积来源",
            "类型",
            "业主",
            "业主类型",
            "业主电话",
            "开发商持有",
        ]
    )
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    data.name = "registry.xlsx"
    return data


def test_the_template_downloads_with_chinese_headers(demo_county):
    response = signed_in("community").get(reverse("registry-import-template"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    headers = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
    assert headers[:4] == ["小区编码", "楼幢", "单元", "房号"]


def test_a_good_file_is_imported_and_audited(demo_county):
    code = Compound.objects.get(name="育才新村").code
    upload = workbook(
        [
            [code, "7", "1", "101", 1, "66.50", "登记", "住宅", "王海", "自然人", "13900001111", "否"],
            [code, "7", "1", "102", 1, "58.20", "测绘", "住宅", "李芳", "自然人", "13900002222", "否"],
        ]
    )
    response = signed_in("community").post(reverse("registry-import"), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert Unit.objects.filter(compound__code=code, building__number="7").count() == 2
    assert AuditEvent.objects.filter(action="housing.import", actor_label="community").exists()


def test_a_bad_row_imports_nothing_and_the_errors_come_back_as_a_workbook(demo_county):
    code = Compound.objects.get(name="育才新村").code
    before = Unit.objects.count()
    upload = workbook(
        [
            [code, "8", "1", "101", 1, "66.50", "登记", "住宅", "王海", "自然人", "13900001111", "否"],
            [code, "8", "1", "102", 1, "-3", "登记", "住宅", "李芳", "自然人", "13900002222", "否"],
        ]
    )
    client = signed_in("community")
    response = client.post(reverse("registry-import"), {"file": upload})
    assert response.status_code == 200
    body = response.content.decode()
    assert "未导入任何数据" in body
    assert "建筑面积(㎡)" in body
    assert Unit.objects.count() == before
    errors = client.get(reverse("registry-import-errors"))
    rows = list(openpyxl.load_workbook(io.BytesIO(errors.content)).worksheets[0].iter_rows(values_only=True))
    assert any(3 in row and "建筑面积(㎡)" in row for row in rows)


def test_a_compound_outside_the_importers_scope_is_a_row_error(demo_county):
    elsewhere = Compound.objects.get(name="秀山新村").code  # 秀山乡, not 南峰社区
    upload = workbook(
        [[elsewhere, "9", "1", "101", 1, "66.50", "登记", "住宅", "王海", "自然人", "13900001111", "否"]]
    )
    before = Unit.objects.count()
    response = signed_in("community").post(reverse("registry-import"), {"file": upload})
    assert response.context["result"].ok is False
    assert Unit.objects.count() == before


@pytest.mark.parametrize("username", ["grid", "branch", "committee", "liaison", "volunteer", "resident"])
def test_roles_without_import_are_refused(demo_county, username):
    assert signed_in(username).get(reverse("registry-import")).status_code == 403


def test_exports_are_scoped_masked_and_logged(demo_county):
    response = signed_in("grid").get(reverse("registry-export", args=["units"]))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    codes = {row[0] for row in rows[1:]}
    grid_codes = set(
        Compound.objects.filter(grid_links__grid__code="33092110000101").values_list("code", flat=True)
    )
    assert codes and codes <= grid_codes
    phones = [p for row in rows[1:] for p in str(row[10] or "").replace("、", ";").split(";") if p]
    assert phones and all("****" in p for p in phones)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT, actor_label="grid").exists()
