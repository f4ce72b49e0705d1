"""The registry file format: one row per exclusive unit, Chinese headers with English aliases.

The exporter writes exactly these columns, so a units export can be edited and imported
again. Changing a header here changes both sides.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # canonical (Chinese) header, as written in templates and exports
    alias: str  # English header, accepted on import
    required: bool
    help: str | Promise
    example: object


COLUMNS: tuple[Column, ...] = (
    Column(
        "compound_code",
        "小区编码",
        "compound_code",
        True,
        _("Code of an existing compound (see the compounds export)."),
        "C33092110000101",
    ),
    Column(
        "building",
        "楼幢",
        "building",
        True,
        _("Building number, at most 20 characters; a new number creates the building."),
        "1",
    ),
    Column(
        "entrance",
        "单元",
        "entrance",
        False,
        _("Entrance (stairway) number; empty means 1; a new number creates the entrance."),
        "1",
    ),
    Column("unit_number", "房号", "unit_number", True, _("Room number, at most 20 characters."), "101"),
    Column("floor", "楼层", "floor", False, _("Floor, a whole number from -5 to 99; may be empty."), 1),
    Column(
        "area_m2",
        "建筑面积(㎡)",
        "area_m2",
        True,
        _(
            "Floor area in square metres, greater than 0, at most two decimals; at most 1000 for "
            "a residential unit and 10000 for any unit."
        ),
        65.32,
    ),
    Column(
        "area_source",
        "面积来源",
        "area_source",
        False,
        _(
            "Where the area comes from: 登记 (land register), 测绘 (survey) or 合同 (sale contract); "
            "empty means 登记."
        ),
        "登记",
    ),
    Column(
        "kind",
        "类型",
        "kind",
        False,
        _("住宅 (residential), 商业 (commercial) or 车位 (parking); empty means 住宅."),
        "住宅",
    ),
    Column(
        "owners",
        "业主",
        "owners",
        False,
        _(
            "Owner names; co-owners separated by 、 or ;. Leave empty only if the unit has no known "
            "owner. The owners listed replace the unit's owners."
        ),
        "张三、李四",
    ),
    Column(
        "owner_kind",
        "业主类型",
        "owner_kind",
        False,
        _(
            "自然人 (natural person) or 法人 (legal person), one for all owners or one per owner in "
            "the same order; empty means 自然人."
        ),
        "自然人",
    ),
    Column(
        "owner_phones",
        "业主电话",
        "owner_phones",
        False,
        _("Phone numbers in the same order as the owner names, separated the same way; may be empty."),
        "13800000001、13800000002",
    ),
    Column(
        "developer_held",
        "开发商持有",
        "developer_held",
        False,
        _("是 if the developer still holds the unit (its owner is the developer), otherwise 否 or empty."),
        "否",
    ),
)

COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}
HEADERS = tuple(column.header for column in COLUMNS)
REQUIRED_FIELDS = frozenset(column.field for column in COLUMNS if column.required)

# Rows whose compound code is this word are the template's example and are skipped.
EXAMPLE_MARKER = "示例"

# Accepted spellings of choice values (lower-cased), Chinese first as written in exports.
AREA_SOURCE_VALUES = {"登记": "register", "测绘": "survey", "合同": "contract"}
KIND_VALUES = {"住宅": "residential", "商业": "commercial", "车位": "parking"}
OWNER_KIND_VALUES = {"自然人": "natural", "法人": "legal"}
YES_VALUES = frozenset({"是", "1", "yes", "y", "true"})
NO_VALUES = frozenset({"否", "0", "no", "n", "false"})

AREA_SOURCE_LABELS = {code: label for label, code in AREA_SOURCE_VALUES.items()}
KIND_LABELS = {code: label for label, code in KIND_VALUES.items()}
OWNER_KIND_LABELS = {code: label for label, code in OWNER_KIND_VALUES.items()}

# Co-owners are listed in one cell; the exporter joins with the first separator.
LIST_SEPARATOR = "、"
LIST_SPLIT = re.compile(r"[、;；]")


def normalise_header(text: str) -> str:
    """Header as compared: NFKC (full-width brackets, ㎡ → m2), no spaces or BOM, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).replace("\ufeff", "").split()).lower()


HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    HEADER_LOOKUP[normalise_header(_column.header)] = _column.field
    HEADER_LOOKUP[normalise_header(_column.alias)] = _column.field
# NFKC already folds "（㎡）" and "(m²)" into "(m2)"; a bare "建筑面积" is the other common variant.
HEADER_LOOKUP[normalise_header("建筑面积")] = "area_m2"
