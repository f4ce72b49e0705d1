"""Export of the registry as .xlsx: compounds, buildings, units, owners, residents, organisations.

Every export starts from the permission policy's ``export`` scope, streams rows through
openpyxl's write-only mode (``iterator(chunk_size=...)`` with the related rows joined or
prefetched per chunk: a fixed number of queries per 2,000 rows), masks phone numbers unless
the caller may reveal them, writes text that could be read as a formula as inert text, and
leaves an export event in the access log. The units export has exactly the import columns,
so an export can be edited and imported again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from gongzhi.core.audit import record_access
from gongzhi.core.masking import mask_phone
from gongzhi.core.models import AuditEvent
from gongzhi.core.paths import under
from gongzhi.housing.importing.columns import (
    AREA_SOURCE_LABELS,
    HEADERS,
    KIND_LABELS,
    LIST_SEPARATOR,
    OWNER_KIND_LABELS,
)
from gongzhi.housing.importing.workbooks import safe_cell
from gongzhi.housing.models import (
    Building,
    Compound,
    CompoundGrid,
    Entrance,
    Owner,
    Ownership,
    Resident,
    Unit,
)
from gongzhi.orgs import policy
from gongzhi.orgs.models import Area, Organisation

CHUNK_SIZE = 2000
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="9C2A2A")


@dataclass(frozen=True)
class ExportSpec:
    """One kind of export: which policy kind scopes it, its columns and how rows are made."""

    policy_kind: str  # the kind ``policy.scope(user, kind, "export")`` is asked about
    reveal_kind: str  # the kind whose phones it holds: ``unmasked`` needs ``reveal`` on it
    sheet: str
    headers: Sequence[str]
    queryset: Callable[[QuerySet], QuerySet]  # joins and ordering for the streamed rows
    in_area: Callable[[Area], Q]  # rows below an area
    row: Callable[[Any, bool], Sequence[Any]]  # (object, unmasked) -> cell values
    also_requires: tuple[str, ...] = ()  # further kinds the user must be allowed to export


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _phone(phone: str, unmasked: bool) -> str:
    return phone if unmasked else mask_phone(phone)


def _compounds_in(area: Area) -> Q:
    """Q over Compound for the compounds in an area (grids reach theirs through grid links)."""
    if area.level == Area.Level.GRID:
        return Q(id__in=CompoundGrid.objects.filter(under("grid__path", area.path)).values("compound_id"))
    return under("area_path", area.path)


def _count(model: type, link: str) -> Coalesce:
    """A correlated count subquery: one query for the chunk instead of one per row."""
    counted = (
        model._default_manager.filter(**{link: OuterRef("pk")})  # type: ignore[attr-defined]
        .order_by()
        .values(link)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# ---- compounds ------------------------------------------------------------------------------------


def _compound_rows(qs: QuerySet) -> QuerySet:
    grids = Prefetch("grids", queryset=Area.objects.order_by("code"))
    return qs.select_related("community").prefetch_related(grids).order_by("code")


def _compound_row(compound: Compound, unmasked: bool) -> list[Any]:
    return [
        compound.code,
        compound.name,
        compound.address,
        compound.year_built,
        _yes(compound.unmanaged),
        _yes(compound.open),
        compound.households_count,
        compound.community.code,
        compound.community.name,
        LIST_SEPARATOR.join(grid.name for grid in compound.grids.all()),
    ]


# ---- buildings ------------------------------------------------------------------------------------


def _building_rows(qs: QuerySet) -> QuerySet:
    return (
        qs.select_related("compound", "grid")
        .annotate(entrance_count=_count(Entrance, "building"), unit_count=_count(Unit, "building"))
        .order_by("compound__code", "id")
    )


def _building_row(building: Any, unmasked: bool) -> list[Any]:
    return [
        building.compound.code,
        building.compound.name,
        building.number,
        building.floors,
        building.grid.name if building.grid_id else "",
        building.entrance_count,
        building.unit_count,
    ]


# ---- units: exactly the import format -----------------------------------------------------------


def _unit_rows(qs: QuerySet) -> QuerySet:
    ownerships = Prefetch("ownerships", queryset=Ownership.objects.select_related("owner").order_by("id"))
    return (
        qs.select_related("compound", "building", "entrance")
        .prefetch_related(ownerships)
        .order_by("compound__code", "building_id", "entrance_id", "id")
    )


def _unit_row(unit: Unit, unmasked: bool) -> list[Any]:
    owners = [ownership.owner for ownership in unit.ownerships.all()]
    kinds = [OWNER_KIND_LABELS[owner.kind] for owner in owners]
    phones = [_phone(owner.phone, unmasked) for owner in owners]
    return [
        unit.compound.code,
        unit.building.number,
        unit.entrance.number,
        unit.number,
        unit.floor,
        unit.area_m2,
        AREA_SOURCE_LABELS[unit.area_source],
        KIND_LABELS[unit.kind],
        LIST_SEPARATOR.join(owner.name for owner in owners),
        # One type for all owners when they agree (the usual case), else one per owner.
        (kinds[0] if len(set(kinds)) == 1 else LIST_SEPARATOR.join(kinds)) if kinds else "",
        LIST_SEPARATOR.join(phones) if any(phones) else "",
        _yes(any(owner.is_developer for owner in owners)),
    ]


# ---- owners ----------------------------------------------------------------------------------------


def _owner_rows(qs: QuerySet) -> QuerySet:
    return qs.annotate(unit_count=_count(Ownership, "owner")).order_by("id")


def _owner_row(owner: Any, unmasked: bool) -> list[Any]:
    return [
        owner.name,
        OWNER_KIND_LABELS[owner.kind],
        _phone(owner.phone, unmasked),
        _yes(owner.is_developer),
        owner.unit_count,
    ]


def _owners_in(area: Area) -> Q:
    compounds = Compound.objects.filter(_compounds_in(area)).values("id")
    return Q(id__in=Ownership.objects.filter(unit__compound__in=compounds).values("owner_id"))


# ---- residents -------------------------------------------------------------------------------------


def _resident_rows(qs: QuerySet) -> QuerySet:
    return qs.select_related("unit__compound", "unit__building", "unit__entrance").order_by("unit_id", "id")


def _resident_row(resident: Resident, unmasked: bool) -> list[Any]:
    unit = resident.unit
    return [
        unit.compound.code,
        unit.building.number,
        unit.entrance.number,
        unit.number,
        resident.name,
        _phone(resident.phone, unmasked),
        str(resident.get_tenure_display()),
        _yes(resident.is_household_head),
        resident.birth_year,
        resident.moved_in,
        resident.moved_out,
    ]


# ---- organisations ---------------------------------------------------------------------------------


def _organisation_rows(qs: QuerySet) -> QuerySet:
    return qs.select_related("area", "parent", "compound").order_by("kind", "code")


def _organisation_row(org: Organisation, unmasked: bool) -> list[Any]:
    return [
        org.code,
        org.name,
        str(org.get_kind_display()),
        org.area.code,
        org.area.name,
        org.parent.name if org.parent else "",
        org.compound.code if org.compound else "",
        org.phone,  # a public phone (hotline, office): never masked
        org.founded_on,
        org.dissolved_on,
    ]


EXPORTS: dict[str, ExportSpec] = {
    "compounds": ExportSpec(
        "compound",
        "compound",
        "小区",
        ("小区编码", "小区名称", "地址", "建成年份", "无物业", "开放式", "户数", "社区编码", "社区", "网格"),
        _compound_rows,
        _compounds_in,
        _compound_row,
    ),
    "buildings": ExportSpec(
        "building",
        "building",
        "楼幢",
        ("小区编码", "小区名称", "楼幢", "层数", "网格", "单元数", "户数"),
        _building_rows,
        lambda area: Q(compound__in=Compound.objects.filter(_compounds_in(area)).values("id")),
        _building_row,
    ),
    "units": ExportSpec(
        "unit",
        "owner",
        "名册",
        HEADERS,
        _unit_rows,
        lambda area: Q(compound__in=Compound.objects.filter(_compounds_in(area)).values("id")),
        _unit_row,
        also_requires=("owner",),  # owner names and phones are in it
    ),
    "owners": ExportSpec(
        "owner",
        "owner",
        "业主",
        ("业主", "业主类型", "业主电话", "开发商", "房屋数"),
        _owner_rows,
        _owners_in,
        _owner_row,
    ),
    "residents": ExportSpec(
        "resident",
        "resident",
        "住户",
        (
            "小区编码",
            "楼幢",
            "单元",
            "房号",
            "姓名",
            "电话",
            "身份",
            "户主",
            "出生年份",
            "入住日期",
            "迁出日期",
        ),
        _resident_rows,
        lambda area: Q(unit__compound__in=Compound.objects.filter(_compounds_in(area)).values("id")),
        _resident_row,
    ),
    "organisations": ExportSpec(
        "organisation",
        "organisation",
        "组织",
        (
            "编码",
            "名称",
            "类型",
            "区域编码",
            "区域",
            "上级组织",
            "小区编码",
            "公开电话",
            "成立日期",
            "撤销日期",
        ),
        _organisation_rows,
        lambda area: under("area__path", area.path),
        _organisation_row,
    ),
}

# Models behind each export, for callers that want to count before exporting.
EXPORT_MODELS: dict[str, type] = {
    "compounds": Compound,
    "buildings": Building,
    "units": Unit,
    "owners": Owner,
    "residents": Resident,
    "organisations": Organisation,
}


def export_queryset(kind: str, user: Any, *, area: Area | None = None) -> QuerySet:
    """The rows ``user`` may export of ``kind`` (``user=None``: the system, everything)."""
    spec = EXPORTS[kind]
    if user is None:
        qs = policy.KINDS[spec.policy_kind]._default_manager.all()
    else:
        qs = policy.scope(user, spec.policy_kind, policy.EXPORT)
    if area is not None:
        qs = qs.filter(spec.in_area(area))
    return spec.queryset(qs)


def export_workbook(
    kind: str,
    user: Any,
    *,
    area: Area | str | None = None,
    unmasked: bool = False,
    request: HttpRequest | None = None,
    out: IO[bytes],
) -> int:
    """Write the ``kind`` export as .xlsx to ``out`` and return the number of data rows.

    Callers: users with ``export`` on the kind (PermissionDenied otherwise), or the system
    (``user=None``, unscoped). ``area`` (an Area or its code) narrows to that subtree.
    Phones are masked unless ``unmasked``, which needs ``reveal`` on the kind holding them.
    Changes nothing but leaves a ``registry.export`` event in the access log.
    """
    if kind not in EXPORTS:
        raise ValueError(f"unknown export kind {kind!r}; choose from {', '.join(EXPORTS)}")
    spec = EXPORTS[kind]
    if isinstance(area, str):
        area = Area.objects.get(code=area)
    if user is not None:
        for needed in (spec.policy_kind, *spec.also_requires):
            if not policy.has_any(user, needed, policy.EXPORT):
                raise PermissionDenied
        if unmasked and not policy.has_any(user, spec.reveal_kind, policy.REVEAL):
            raise PermissionDenied

    book = Workbook(write_only=True)
    sheet = book.create_sheet(spec.sheet)
    sheet.freeze_panes = "A2"
    header = []
    for title in spec.headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        header.append(cell)
    sheet.append(header)
    rows = 0
    for obj in export_queryset(kind, user, area=area).iterator(chunk_size=CHUNK_SIZE):
        sheet.append([safe_cell(sheet, value) for value in spec.row(obj, unmasked)])
        rows += 1
    book.save(out)
    record_access(
        user,
        "registry.export",
        kind=AuditEvent.Kind.EXPORT,
        detail={"kind": kind, "rows": rows, "area": area.code if area else None, "unmasked": unmasked},
        object_type=f"export.{kind}",
        area_path=area.path if area else None,
        request=request,
    )
    return rows
