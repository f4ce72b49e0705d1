"""Validation of the header row and of one data row, with messages naming the cell.

Each field has a plain validator that does all of the parsing, so every message is ours (an
English msgid, translated by gettext) and pydantic only gathers the errors of a row. Checks
that need the database (compound exists, permission, masked phones) live in ``writer``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

from gongzhi.housing.importing.columns import (
    AREA_SOURCE_VALUES,
    COLUMN_BY_FIELD,
    COLUMNS,
    HEADER_LOOKUP,
    KIND_VALUES,
    LIST_SPLIT,
    NO_VALUES,
    OWNER_KIND_VALUES,
    REQUIRED_FIELDS,
    YES_VALUES,
    normalise_header,
)
from gongzhi.housing.importing.results import RowError
from gongzhi.housing.importing.sources import FileProblem

MAX_RESIDENTIAL_AREA = Decimal(1000)
MAX_AREA = Decimal(10000)
CENT = Decimal("0.01")
# Characters a phone cell may hold besides digits; "*" only in masked numbers from an export.
_PHONE_CHARS = frozenset("0123456789-+()*")
# In CSV these open a formula in Excel (and "\t"/"\r" hide one); "-" is left to the number checks.
_CSV_FORMULA_STARTS = ("=", "+", "@", "\t", "\r")


class CellError(ValueError):
    """A problem with a cell; ``field`` names the column when the check spans several."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---- the header row ---------------------------------------------------------------------------


@dataclass
class HeaderMap:
    """Where each field sits in the file, and the header text the user typed for it."""

    fields: list[str | None]  # per column position; None for an empty header cell
    labels: dict[str, str]  # field -> header as written in the file

    def __post_init__(self) -> None:
        # Precomputed for the per-row loop, which runs a million times on a big file.
        self.placed = [(position, field) for position, field in enumerate(self.fields) if field]
        self.unnamed = [position for position, field in enumerate(self.fields) if field is None]

    def label(self, field: str) -> str:
        return self.labels.get(field) or COLUMN_BY_FIELD[field].header


def read_header(values: tuple[Any, ...]) -> HeaderMap:
    """Map the header row to fields; raise ``FileProblem`` naming every bad or missing header."""
    fields: list[str | None] = []
    labels: dict[str, str] = {}
    errors: list[RowError] = []
    for value in values:
        if is_blank(value):
            fields.append(None)
            continue
        text = str(value).strip()
        field = HEADER_LOOKUP.get(normalise_header(text))
        if field is None:
            errors.append(RowError(1, text, _("Unknown column.")))
        elif field in labels:
            errors.append(RowError(1, text, _("This column appears twice.")))
            field = None
        else:
            labels[field] = text
        fields.append(field)
    if not labels and not errors:
        raise FileProblem(_("The first row must hold the column headers, but it is empty."))
    for column in COLUMNS:
        if column.required and column.field not in labels:
            errors.append(RowError(1, column.header, _("Required column is missing.")))
    if errors:
        names = ", ".join(error.column for error in errors)
        raise FileProblem(_("The header row is wrong: %(columns)s.") % {"columns": names}, errors)
    return HeaderMap(fields=fields, labels=labels)


# ---- cell values --------------------------------------------------------------------------------


def _text(value: Any, info: ValidationInfo) -> str | None:
    """A cell as stripped text (None when empty), refusing formulas and dates."""
    if value is None:
        return None
    if isinstance(value, str):
        if info.context and info.context.get("csv") and value.startswith(_CSV_FORMULA_STARTS):
            raise CellError(_("Cells may not start with =, +, @, a tab or a line break (formula injection)."))
        value = value.strip()
        if value.startswith("="):
            raise CellError(_("Formulas are not allowed: type the value itself."))
        return value or None
    if isinstance(value, bool):
        raise CellError(_("A TRUE/FALSE value is not valid here."))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        raise CellError(
            _("Excel turned this value into a date or time: format the column as text and type it again.")
        )
    if type(value).__name__ in ("ArrayFormula", "DataTableFormula"):
        raise CellError(_("Formulas are not allowed: type the value itself."))
    raise CellError(_("This cell holds something other than a value."))


def _required(value: Any, info: ValidationInfo, max_length: int) -> str:
    text = _text(value, info)
    if text is None:
        raise CellError(_("This value is required."))
    if len(text) > max_length:
        raise CellError(_("At most %(n)s characters.") % {"n": max_length})
    return text


def _split(text: str | None) -> list[str]:
    """Split a list cell; trailing empty parts (a dangling separator) are dropped."""
    if text is None:
        return []
    parts = [part.strip() for part in LIST_SPLIT.split(text)]
    while parts and not parts[-1]:
        parts.pop()
    return parts


def _choice(value: Any, info: ValidationInfo, values: dict[str, str], default: str) -> str:
    text = _text(value, info)
    if text is None:
        return default
    lowered = text.lower()
    if lowered in values:
        return values[lowered]
    if lowered in values.values():
        return lowered
    raise CellError(_("Must be one of: %(choices)s.") % {"choices": " / ".join([*values, *values.values()])})


# ---- the row -------------------------------------------------------------------------------------


class RegistryRow(BaseModel):
    """One exclusive unit with its owners, as validated from one row of the file."""

    model_config = ConfigDict(frozen=True)

    compound_code: str
    building: str
    entrance: str = "1"
    unit_number: str
    floor: int | None = None
    area_m2: Decimal
    area_source: str = "register"
    kind: str = "residential"
    owners: tuple[str, ...] = ()
    owner_kind: tuple[str, ...] = ("natural",)
    owner_phones: tuple[str, ...] = ()
    developer_held: bool = False

    @field_validator("compound_code", mode="plain")
    @classmethod
    def _compound_code(cls, value: Any, info: ValidationInfo) -> str:
        return _required(value, info, 32)

    @field_validator("building", "unit_number", mode="plain")
    @classmethod
    def _number(cls, value: Any, info: ValidationInfo) -> str:
        return _required(value, info, 20)

    @field_validator("entrance", mode="plain")
    @classmethod
    def _entrance(cls, value: Any, info: ValidationInfo) -> str:
        text = _text(value, info)
        if text is None:
            return "1"
        if len(text) > 20:
            raise CellError(_("At most %(n)s characters.") % {"n": 20})
        return text

    @field_validator("floor", mode="plain")
    @classmethod
    def _floor(cls, value: Any, info: ValidationInfo) -> int | None:
        text = _text(value, info)
        if text is None:
            return None
        try:
            number = Decimal(text)  # "3", and "3.0" as spreadsheets sometimes write it
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or number != number.to_integral_value():
            raise CellError(_("Must be a whole number."))
        floor = int(number)
        if not -5 <= floor <= 99:
            raise CellError(_("Must be between -5 and 99."))
        return floor

    @field_validator("area_m2", mode="plain")
    @classmethod
    def _area(cls, value: Any, info: ValidationInfo) -> Decimal:
        text = _text(value, info)
        if text is None:
            raise CellError(_("This value is required."))
        try:
            area = Decimal(text)
        except InvalidOperation:
            raise CellError(_("Must be a number of square metres, such as 65.32."))
        if not area.is_finite():
            raise CellError(_("Must be a number of square metres, such as 65.32."))
        if area <= 0:
            raise CellError(_("Must be greater than 0."))
        if area != area.quantize(CENT):
            raise CellError(_("At most two decimal places."))
        if area > MAX_AREA:
            raise CellError(_("Implausibly large: no unit has more than 10000 m²."))
        return area.quantize(CENT)

    @field_validator("area_source", mode="plain")
    @classmethod
    def _area_source(cls, value: Any, info: ValidationInfo) -> str:
        return _choice(value, info, AREA_SOURCE_VALUES, "register")

    @field_validator("kind", mode="plain")
    @classmethod
    def _kind(cls, value: Any, info: ValidationInfo) -> str:
        return _choice(value, info, KIND_VALUES, "residential")

    @field_validator("owners", mode="plain")
    @classmethod
    def _owners(cls, value: Any, info: ValidationInfo) -> tuple[str, ...]:
        names = _split(_text(value, info))
        if any(not name for name in names):
            raise CellError(_("An owner name is empty between two separators."))
        if any(len(name) > 100 for name in names):
            raise CellError(_("An owner name is longer than 100 characters."))
        return tuple(names)

    @field_validator("owner_kind", mode="plain")
    @classmethod
    def _owner_kind(cls, value: Any, info: ValidationInfo) -> tuple[str, ...]:
        parts = _split(_text(value, info))
        if not parts:
            return ("natural",)
        return tuple(_choice(part or None, info, OWNER_KIND_VALUES, "natural") for part in parts)

    @field_validator("owner_phones", mode="plain")
    @classmethod
    def _owner_phones(cls, value: Any, info: ValidationInfo) -> tuple[str, ...]:
        phones = ["".join(part.split()) for part in _split(_text(value, info))]
        for phone in phones:
            if not phone:
                continue
            digits = sum(ch.isdigit() for ch in phone)
            if len(phone) > 20 or not set(phone) <= _PHONE_CHARS or digits < 3:
                raise CellError(_("%(phone)s is not a phone number.") % {"phone": phone[:24]})
        return tuple(phones)

    @field_validator("developer_held", mode="plain")
    @classmethod
    def _developer_held(cls, value: Any, info: ValidationInfo) -> bool:
        if isinstance(value, bool):
            return value
        text = _text(value, info)
        if text is None:
            return False
        if text.lower() in YES_VALUES:
            return True
        if text.lower() in NO_VALUES:
            return False
        raise CellError(_("Must be 是 or 否 (yes or no)."))

    @model_validator(mode="after")
    def _consistent(self) -> RegistryRow:
        if self.area_m2 > MAX_RESIDENTIAL_AREA and self.kind == "residential":
            raise CellError(_("Implausibly large for a residential unit (over 1000 m²)."), "area_m2")
        n = len(self.owners)
        if len(self.owner_phones) > n:
            raise CellError(
                _("%(phones)s phone numbers for %(names)s owners.")
                % {"phones": len(self.owner_phones), "names": n},
                "owner_phones",
            )
        if len(self.owner_kind) not in (1, n) and n:
            raise CellError(
                _("Give one owner type for all owners, or one per owner (%(names)s).") % {"names": n},
                "owner_kind",
            )
        if self.developer_held and not n:
            raise CellError(_("A unit the developer holds needs the developer as its owner."), "owners")
        return self

    def owner_entries(self) -> list[tuple[str, str, str]]:
        """``(kind, name, phone)`` per listed owner, in the file's order."""
        kinds = (
            self.owner_kind
            if len(self.owner_kind) == len(self.owners)
            else self.owner_kind[:1] * len(self.owners)
        )
        phones = self.owner_phones + ("",) * (len(self.owners) - len(self.owner_phones))
        return list(zip(kinds, self.owners, phones, strict=True))


def parse_row(
    number: int, values: tuple[Any, ...], header: HeaderMap, *, csv: bool
) -> tuple[RegistryRow | None, list[RowError]]:
    """Validate one data row; return the row or the errors of its cells."""
    width = len(values)
    data = {field: values[position] for position, field in header.placed if position < width}
    errors: list[RowError] = []
    stray = [position for position in header.unnamed if position < width and not is_blank(values[position])]
    if any(
        values[len(header.fields) :]
    ):  # cheap test first: beyond the headers cells are nearly always empty
        stray += [position for position in range(len(header.fields), width) if not is_blank(values[position])]
    for position in stray:
        errors.append(
            RowError(number, get_column_letter(position + 1), _("A value in a column without a header."))
        )
    try:
        row = RegistryRow.model_validate(data, context={"csv": csv})
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, CellError):
                field = cause.field or (str(error["loc"][0]) if error["loc"] else "")
                message = cause.message
            else:
                # A field missing from the data: only a required column can be, and those are checked.
                field = str(error["loc"][0]) if error["loc"] else ""
                message = _("This value is required.") if error["type"] == "missing" else str(error["msg"])
            errors.append(RowError(number, header.label(field) if field else "", message))
        return None, errors
    if errors:
        return None, errors
    return row, []


__all__ = ["REQUIRED_FIELDS", "CellError", "HeaderMap", "RegistryRow", "parse_row", "read_header"]
