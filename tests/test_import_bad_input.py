"""Bad input is refused with the row, the column and the reason, and changes nothing at all.

Every test here compares the registry's row counts before and after: an import with any
error must leave the database exactly as it was, even when the error sits after rows that
were already written in an earlier batch.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.utils import translation

from gongzhi.housing.importer import BATCH_SIZE, MAX_ERROR_DETAILS, ImportResult, import_registry
from gongzhi.housing.importing import sources
from gongzhi.housing.importing.columns import HEADERS
from gongzhi.housing.models import Unit
from tests.test_import_registry import (
    ImportWorld,
    build_import_world,
    registry_counts,
    to_shared_strings,
    unit_row,
    write_csv,
    write_xlsx,
)


@pytest.fixture(autouse=True)
def english() -> Any:
    """Messages are asserted as their English msgids, whatever LANGUAGE_CODE says."""
    with translation.override("en"):
        yield


@pytest.fixture
def world(db: Any) -> ImportWorld:
    return build_import_world()


# unit_row() keyword -> the header of its column
HEADER_OF = {
    "number": "房号",
    "floor": "楼层",
    "area": "建筑面积(㎡)",
    "source": "面积来源",
    "phones": "业主电话",
    "developer": "开发商持有",
}


def refused(path: Path, **kwargs: Any) -> ImportResult:
    """Import ``path`` expecting failure; check that nothing changed and return the result."""
    before = registry_counts()
    result = import_registry(path, filename=path.name, actor=kwargs.pop("actor", None), **kwargs)
    assert not result.ok
    assert registry_counts() == before
    assert (result.created, result.updated, result.owners_created) == (0, 0, 0)
    return result


def cells(result: ImportResult) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.message) for error in result.errors]


# ---- headers ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_column_is_named(world, tmp_path):
    result = refused(write_xlsx(tmp_path / "r.xlsx", [unit_row() + ["x"]], headers=[*HEADERS, "备注"]))

    assert result.fatal == "The header row is wrong: 备注."
    assert cells(result) == [(1, "备注", "Unknown column.")]


@pytest.mark.django_db
def test_a_missing_required_column_is_named(world, tmp_path):
    headers = [h for h in HEADERS if h != "建筑面积(㎡)"]
    result = refused(write_xlsx(tmp_path / "r.xlsx", [["IMP-A1", "1", "1", "101"]], headers=headers))

    assert cells(result) == [(1, "建筑面积(㎡)", "Required column is missing.")]


@pytest.mark.django_db
def test_a_column_given_twice_is_named(world, tmp_path):
    result = refused(
        write_xlsx(tmp_path / "r.xlsx", [[*unit_row(), "101"]], headers=[*HEADERS, "unit_number"])
    )

    assert cells(result) == [(1, "unit_number", "This column appears twice.")]


@pytest.mark.django_db
def test_a_value_under_an_empty_header_is_an_error(world, tmp_path):
    result = refused(write_xlsx(tmp_path / "r.xlsx", [[*unit_row(), None, "stray note"]]))

    assert cells(result) == [(2, "N", "A value in a column without a header.")]


# ---- bad values ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("area", "abc", "Must be a number of square metres, such as 65.32."),
        ("area", "-12.5", "Must be greater than 0."),
        ("area", 0, "Must be greater than 0."),
        ("area", "65.321", "At most two decimal places."),
        ("area", "1500", "Implausibly large for a residential unit (over 1000 m²)."),
        ("area", "", "This value is required."),
        ("floor", "3.5", "Must be a whole number."),
        ("floor", 120, "Must be between -5 and 99."),
        ("source", "估算", "Must be one of: 登记 / 测绘 / 合同 / register / survey / contract."),
        ("developer", "也许", "Must be 是 or 否 (yes or no)."),
        ("phones", "call me", "callme is not a phone number."),
        ("number", "", "This value is required."),
        ("number", "1" * 21, "At most 20 characters."),
    ],
)
def test_a_bad_value_names_its_row_and_column(world, tmp_path, column, value, message):
    rows = [unit_row(number="100"), unit_row(**{column: value})]

    result = refused(write_xlsx(tmp_path / "r.xlsx", rows))

    assert cells(result) == [(3, HEADER_OF[column], message)]


@pytest.mark.django_db
def test_an_absurd_area_is_refused_for_any_kind(world, tmp_path):
    result = refused(write_xlsx(tmp_path / "r.xlsx", [unit_row(kind="商业", area="20000")]))

    assert cells(result) == [(2, "建筑面积(㎡)", "Implausibly large: no unit has more than 10000 m².")]


@pytest.mark.django_db
def test_a_value_excel_turned_into_a_date_is_explained(world, tmp_path):
    result = refused(write_xlsx(tmp_path / "r.xlsx", [unit_row(number=dt.date(2026, 1, 2))]))

    assert cells(result)[0][:2] == (2, "房号")
    assert "date" in cells(result)[0][2]


@pytest.mark.django_db
def test_more_phones_than_owners_is_an_error(world, tmp_path):
    result = refused(
        write_xlsx(tmp_path / "r.xlsx", [unit_row(owners="张三", phones="13800000001、13800000002")])
    )

    assert cells(result) == [(2, "业主电话", "2 phone numbers for 1 owners.")]


@pytest.mark.django_db
def test_a_duplicate_unit_names_the_earlier_row(world, tmp_path):
    rows = [unit_row(number="101"), unit_row(number="102"), unit_row(number=101, area="70")]

    result = refused(write_xlsx(tmp_path / "r.xlsx", rows))

    assert cells(result) == [
        (4, "房号", "Duplicate unit: row 2 already has this compound, building, entrance and number.")
    ]


@pytest.mark.django_db
def test_an_unknown_compound_is_refused(world, tmp_path):
    result = refused(write_xlsx(tmp_path / "r.xlsx", [unit_row(code="NO-SUCH")]))

    assert cells(result) == [(2, "小区编码", "Unknown compound.")]


@pytest.mark.django_db
def test_a_masked_phone_must_match_a_current_owner(world, tmp_path):
    result = refused(write_xlsx(tmp_path / "r.xlsx", [unit_row(phones="138****0001")]))

    assert cells(result) == [
        (
            2,
            "业主电话",
            "The masked number 138****0001 matches none of this unit's current owners: give the full number.",
        )
    ]


# ---- formulas --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_formula_in_a_workbook_is_refused(world, tmp_path):
    rows = [unit_row(number="101"), unit_row(number="102", area="=60+5"), unit_row(number='=A2&"x"')]

    result = refused(write_xlsx(tmp_path / "r.xlsx", rows))

    assert cells(result) == [
        (3, "建筑面积(㎡)", "Formulas are not allowed: type the value itself."),
        (4, "房号", "Formulas are not allowed: type the value itself."),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["=1+1", "+1", "@SUM(A1)", "\tcmd", "\r=1"])
def test_a_csv_cell_that_could_start_a_formula_is_refused(world, tmp_path, value):
    result = refused(write_csv(tmp_path / "r.csv", [unit_row(owners=value)]))

    assert cells(result) == [
        (2, "业主", "Cells may not start with =, +, @, a tab or a line break (formula injection).")
    ]


@pytest.mark.django_db
def test_a_leading_minus_in_a_csv_number_is_just_a_negative_number(world, tmp_path):
    result = refused(write_csv(tmp_path / "r.csv", [unit_row(area="-65")]))

    assert cells(result) == [(2, "建筑面积(㎡)", "Must be greater than 0.")]


# ---- not a spreadsheet, too big, empty -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "fatal"),
    [
        ("r.xlsx", os.urandom(4096), "This file is not a valid Excel workbook."),
        (
            "r.csv",
            bytes(range(256)) * 16,
            "This is not a spreadsheet: upload an Excel workbook (.xlsx) or a CSV file.",
        ),
        (
            "r.bin",
            b"\x00\x01garbage" * 100,
            "This is not a spreadsheet: upload an Excel workbook (.xlsx) or a CSV file.",
        ),
        (
            "r.pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
            "This is a PDF document, not a spreadsheet: upload an .xlsx or .csv file.",
        ),
        (
            "r.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "This is an old Excel 97-2003 (.xls) or Word "
            "file: save it as an Excel workbook (.xlsx) and upload that.",
        ),
        ("r.xlsx", b"", "The file is empty."),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused(world, tmp_path, name, content, fatal):
    path = tmp_path / name
    path.write_bytes(content)

    assert refused(path).fatal == fatal


@pytest.mark.django_db
def test_a_word_document_is_refused(world, tmp_path):
    path = tmp_path / "letter.docx"
    with zipfile.ZipFile(path, "w") as docx:
        docx.writestr("[Content_Types].xml", "<Types/>")
        docx.writestr("word/document.xml", "<w:document/>")

    assert "holds no worksheet" in refused(path).fatal


@pytest.mark.django_db
def test_a_damaged_workbook_is_refused(world, tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("xl/workbook.xml", "<workbook>not closed")
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")

    assert refused(path).fatal == "The workbook could not be read: it is damaged or not an Excel workbook."


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused_unless_the_limit_is_raised(world, tmp_path, settings):
    path = write_xlsx(tmp_path / "r.xlsx", [unit_row(number=str(n)) for n in range(100, 300)])
    settings.GONGZHI_MAX_IMPORT_BYTES = 1024

    assert refused(path).fatal == "The file is larger than the limit of 1.0\xa0KB."
    assert refused(path, max_bytes=2048).fatal.startswith("The file is larger than the limit")
    upload = io.BytesIO(path.read_bytes())
    assert import_registry(upload, filename="r.xlsx", actor=None).fatal.startswith("The file is larger")
    assert import_registry(path, filename="r.xlsx", actor=None, max_bytes=10 * 1024 * 1024).ok


@pytest.mark.django_db
def test_a_sheet_with_only_headers_is_refused(world, tmp_path):
    assert refused(write_xlsx(tmp_path / "r.xlsx", [])).fatal == (
        "The sheet has no data rows: add one row per unit below the headers."
    )
    assert refused(write_csv(tmp_path / "r.csv", [])).fatal.startswith("The sheet has no data rows")


@pytest.mark.django_db
def test_a_sheet_without_even_headers_is_refused(world, tmp_path):
    path = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(path)

    assert refused(path).fatal == "The sheet is empty: the first row must hold the column headers."


@pytest.mark.django_db
def test_a_zip_bomb_is_refused_before_it_is_unpacked(world, tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "r.xlsx", [unit_row()])
    # A sheet that unpacks to more than the row limit allows: lower the limit rather than
    # spend a gigabyte on the test; the ratio check below uses a real, highly compressed member.
    monkeypatch.setattr(sources, "MAX_SHEET_XML_BYTES", 200)

    assert "far more data than a registry" in refused(path).fatal


@pytest.mark.django_db
def test_a_highly_compressed_member_is_refused_as_a_bomb(world, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "BOMB_RATIO_MIN_BYTES", 1024 * 1024)
    path = write_xlsx(tmp_path / "r.xlsx", [unit_row()])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/media/padding.bin", bytes(8 * 1024 * 1024))  # 8 MB of zeros: ratio ~1000

    assert "far more data than a registry" in refused(path).fatal


# ---- all or nothing --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_error_after_a_written_batch_rolls_everything_back(world, tmp_path):
    rows = [unit_row(building=str(n // 100), number=str(n)) for n in range(BATCH_SIZE + 50)]
    rows.append(unit_row(building="x", number="1", area="-1"))

    result = refused(write_csv(tmp_path / "r.csv", rows))

    assert result.rows == BATCH_SIZE + 51
    assert cells(result) == [(BATCH_SIZE + 52, "建筑面积(㎡)", "Must be greater than 0.")]
    assert not Unit.objects.filter(compound=world.a1).exists()


@pytest.mark.django_db
def test_errors_are_listed_up_to_the_limit_and_all_counted(world, tmp_path):
    rows = [unit_row(number=str(n), area="big") for n in range(MAX_ERROR_DETAILS + 200)]

    result = refused(write_csv(tmp_path / "r.csv", rows))

    assert len(result.errors) == MAX_ERROR_DETAILS
    assert result.error_count == MAX_ERROR_DETAILS + 200


@pytest.mark.django_db
def test_csv_that_is_neither_utf8_nor_gb18030_is_refused(world, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(",".join(HEADERS).encode("gb18030") + b"\n\x81\x20\x81\x20,1\n")

    assert refused(path).fatal == "This is not a spreadsheet: upload an Excel workbook (.xlsx) or a CSV file."


@pytest.mark.django_db
def test_row_numbers_are_the_ones_the_user_sees_blank_rows_included(world, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(HEADERS))
    sheet.append(unit_row(number="101"))
    sheet.cell(row=6, column=1, value="IMP-A1")  # rows 3-5 left empty, row 6 incomplete
    book.save(tmp_path / "gaps.xlsx")
    write_csv(tmp_path / "gaps.csv", [unit_row(number="101"), [], unit_row(number="102", floor="x")])

    assert cells(refused(tmp_path / "gaps.xlsx"))[0][:2] == (6, "楼幢")
    assert cells(refused(tmp_path / "gaps.csv")) == [(4, "楼层", "Must be a whole number.")]


@pytest.mark.django_db
def test_a_workbook_pointing_past_its_string_table_is_damaged(world, tmp_path):
    path = to_shared_strings(
        write_xlsx(tmp_path / "r.xlsx", [unit_row(number="101"), unit_row(number="102")])
    )
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        '<c r="A3" t="s"><v>12</v>', '<c r="A3" t="s"><v>99999</v>'
    ).encode()
    with zipfile.ZipFile(path, "w") as book:
        for name, data in parts.items():
            book.writestr(name, data)

    assert refused(path).fatal == "The worksheet could not be read after row 2: the file is damaged."
