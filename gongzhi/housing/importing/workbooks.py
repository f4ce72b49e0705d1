"""Workbooks handed to users: the blank import template and the list of errors of an import."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from gongzhi.housing.importing.columns import (
    AREA_SOURCE_VALUES,
    COLUMNS,
    EXAMPLE_MARKER,
    KIND_VALUES,
    OWNER_KIND_VALUES,
)
from gongzhi.housing.importing.results import ImportResult
from gongzhi.housing.importing.sources import MAX_ROWS

HEADER_FONT = Font(bold=True, color="FFFFFF")
REQUIRED_FILL = PatternFill("solid", fgColor="9C2A2A")  # required columns in the party-red
OPTIONAL_FILL = PatternFill("solid", fgColor="5A6B7B")
THIN = Side(style="thin", color="BBBBBB")
# Characters that make a spreadsheet treat a text as a formula (or, in CSV, smuggle one in).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TEXT_FIELDS = ("compound_code", "building", "entrance", "unit_number", "owner_phones")


def safe_cell(sheet: Any, value: Any) -> Any:
    """A write-only cell for ``value`` that can never become a formula.

    openpyxl stores a string starting with "=" as a formula; forcing the string type keeps it
    inert, and the quote prefix keeps it text when someone later edits the cell in Excel.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def template_workbook() -> bytes:
    """The blank import template (.xlsx): headers, one example row and a sheet explaining each column.

    Read-only: anyone who may import may download it.
    """
    book = Workbook()
    sheet = book.active
    sheet.title = "名册"
    for position, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=position, value=column.header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if column.required else OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
        cell.comment = Comment(f"{column.alias}: {column.help}", "gongzhi", width=320, height=120)
        example = EXAMPLE_MARKER if column.field == "compound_code" else column.example
        sample = sheet.cell(row=2, column=position, value=example)
        sample.font = Font(italic=True, color="808080")
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = max(10, len(column.header) * 2 + 4)
        if column.field in _TEXT_FIELDS:
            # Text format, so Excel keeps "0101" and does not turn "1-2" into a date.
            sample.number_format = "@"
            sheet.column_dimensions[letter].number_format = "@"
    sheet.column_dimensions["I"].width = 18
    sheet.column_dimensions["K"].width = 26
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 24

    choices = {
        "area_source": AREA_SOURCE_VALUES,
        "kind": KIND_VALUES,
        "owner_kind": OWNER_KIND_VALUES,
        "developer_held": {"是": "", "否": ""},
    }
    for position, column in enumerate(COLUMNS, start=1):
        if column.field not in choices:
            continue
        # A warning, not a stop: the English spellings and per-owner lists are valid too.
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(choices[column.field]) + '"',
            allow_blank=True,
            errorStyle="warning",
        )
        letter = get_column_letter(position)
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        sheet.add_data_validation(validation)

    help_sheet = book.create_sheet("说明")
    help_sheet.append([_("Column"), _("English header"), _("Required"), _("Explanation"), _("Example")])
    for cell in help_sheet[1]:
        cell.font = HEADER_FONT
        cell.fill = OPTIONAL_FILL
    for column in COLUMNS:
        help_sheet.append(
            [
                column.header,
                column.alias,
                _("yes") if column.required else _("no"),
                str(column.help),
                str(column.example),
            ]
        )
    help_sheet.append([])
    limit_mb = settings.GONGZHI_MAX_IMPORT_BYTES // (1024 * 1024)
    for note in (
        _("One row per unit. Header order does not matter; the English headers are accepted too."),
        _("Rows whose compound code is %(marker)s are examples and are skipped.")
        % {"marker": EXAMPLE_MARKER},
        _("The import is all or nothing: if any row has an error, nothing is changed and you get the list."),
        _("Importing the same file again changes nothing. The owners listed replace a unit's owners."),
        _("Formulas are refused: type values. Save as .xlsx, or as CSV in UTF-8 or GBK."),
        _("At most %(rows)s rows and %(mb)s MB per file.") % {"rows": f"{MAX_ROWS:,}", "mb": limit_mb},
    ):
        help_sheet.append([note])
    for letter, width in zip("ABCDE", (16, 16, 8, 80, 26), strict=True):
        help_sheet.column_dimensions[letter].width = width
    for row in help_sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def error_workbook(result: ImportResult) -> bytes:
    """An .xlsx listing an import's problems: row, column, reason (the file-level one first).

    Read-only; for the user who ran the import.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Errors"))
    sheet.append([_("Row"), _("Column"), _("Reason")])
    if result.fatal:
        sheet.append(["", "", safe_cell(sheet, result.fatal)])
    for error in result.errors:
        sheet.append([error.row, safe_cell(sheet, error.column), safe_cell(sheet, error.message)])
    hidden = result.error_count - len(result.errors)
    if hidden > 0:
        sheet.append(["", "", _("… and %(n)s more errors not listed.") % {"n": hidden}])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
