"""Exporting the registry: scoped by the policy, phones masked unless revealed, always logged,
formula-proof, and the units export imports again without changing anything.

Small cases use the import tests' world (Anna: community staff of A; Gao: grid worker on
grid A1); scope and round-trip cases use the demo county, whose "grid" login is the grid
worker of 南峰社区 grid 1.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import translation

from gongzhi.core.models import AuditEvent
from gongzhi.housing.exporter import EXPORTS, export_workbook
from gongzhi.housing.importer import import_registry
from gongzhi.housing.importing.columns import HEADERS
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
from tests.test_import_registry import ImportWorld, build_import_world, registry_counts

PHONE = "13912345678"
MASKED = "139****5678"


@pytest.fixture(autouse=True)
def english() -> Any:
    """Messages are asserted as their English msgids, whatever LANGUAGE_CODE says."""
    with translation.override("en"):
        yield


@pytest.fixture
def world(db: Any) -> ImportWorld:
    w = build_import_world()
    building = Building.objects.create(compound=w.a1, number="1")
    entrance = Entrance.objects.create(building=building, number="1")
    unit = Unit.objects.create(
        compound=w.a1,
        building=building,
        entrance=entrance,
        number="101",
        floor=1,
        area_m2=Decimal("60.00"),
        area_source="register",
    )
    owner = Owner.objects.create(name="陈海", phone=PHONE, identity_key="export-test-chen")
    Ownership.objects.create(unit=unit, owner=owner)
    Resident.objects.create(unit=unit, name="陈海", phone=PHONE, is_household_head=True)
    return w


def export(kind: str, user: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    """Export to memory and read the sheet back as rows of values (header first)."""
    out = io.BytesIO()
    export_workbook(kind, user, out=out, **kwargs)
    out.seek(0)
    return list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))


def column(rows: list[tuple[Any, ...]], header: str) -> list[Any]:
    position = rows[0].index(header)
    return [row[position] for row in rows[1:]]


# ---- masking, reveal, logging ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "header"), [("owners", "业主电话"), ("units", "业主电话"), ("residents", "电话")]
)
def test_exported_phones_are_masked(world, kind, header):
    rows = export(kind, world.anna)

    assert column(rows, header) == [MASKED]


@pytest.mark.django_db
def test_an_unmasked_export_shows_full_numbers_and_is_logged_as_such(world):
    rows = export("owners", world.anna, unmasked=True, area=world.community_a)

    assert column(rows, "业主电话") == [PHONE]
    event = AuditEvent.objects.filter(action="registry.export").latest("id")
    assert (event.kind, event.actor) == (AuditEvent.Kind.EXPORT, world.anna)
    assert event.after == {"kind": "owners", "rows": 1, "area": "IMPCA", "unmasked": True}
    assert event.area_path == world.community_a.path


@pytest.mark.django_db
def test_an_unmasked_export_needs_reveal_on_what_it_holds(world):
    # Community staff may export organisations but not reveal anything about them.
    with pytest.raises(PermissionDenied):
        export("organisations", world.anna, unmasked=True)
    assert not AuditEvent.objects.filter(action="registry.export").exists()


@pytest.mark.django_db
def test_a_user_without_export_permission_gets_nothing(world):
    with pytest.raises(PermissionDenied):
        export("organisations", world.gao)  # grid workers only view organisations
    with pytest.raises(PermissionDenied):
        export("units", get_user_model().objects.create_user("imp-nobody"))


@pytest.mark.django_db
def test_every_export_is_logged_even_when_masked(world):
    export("units", world.anna)

    event = AuditEvent.objects.get(action="registry.export")
    assert event.after == {"kind": "units", "rows": 1, "area": None, "unmasked": False}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(EXPORTS))
def test_every_kind_exports_its_headers_and_rows_in_scope(world, kind):
    rows = export(kind, world.anna, area=world.community_a)

    assert rows[0] == tuple(EXPORTS[kind].headers)
    assert len(rows) > 1 or kind == "organisations"  # the small world has no organisations


@pytest.mark.django_db
def test_an_area_narrows_the_export(world):
    assert column(export("compounds", None, area="IMPCB"), "小区编码") == ["IMP-B1"]
    assert column(export("compounds", None, area=world.grid_a1), "小区编码") == ["IMP-A1"]


# ---- formula injection -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_text_that_looks_like_a_formula_is_exported_as_text(world, tmp_path):
    Compound.objects.filter(pk=world.a1.pk).update(name='=HYPERLINK("http://evil.example","点我")')
    Owner.objects.filter(identity_key="export-test-chen").update(name="+cmd|' /C calc'!A0")
    Building.objects.filter(compound=world.a1).update(number="-1")

    for kind, header, expected in (
        ("compounds", "小区名称", '=HYPERLINK("http://evil.example","点我")'),
        ("owners", "业主", "+cmd|' /C calc'!A0"),
        ("buildings", "楼幢", "-1"),
    ):
        out = tmp_path / f"{kind}.xlsx"
        with out.open("wb") as stream:
            export_workbook(kind, None, out=stream)
        sheet = openpyxl.load_workbook(out).active
        position = [cell.value for cell in sheet[1]].index(header) + 1
        (cell,) = [
            c
            for (c,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position)
            if c.value == expected
        ]
        assert cell.data_type == "s"  # a string, not a formula
        assert cell.quotePrefix  # stays text when someone edits the cell in Excel


# ---- against the demo county -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_grid_workers_export_contains_only_their_grids_compounds(demo_county):
    grid_worker = get_user_model().objects.get(username="grid")
    grid = grid_worker.role_grants.get().area
    own = set(CompoundGrid.objects.filter(grid=grid).values_list("compound__code", flat=True))

    compounds = column(export("compounds", grid_worker), "小区编码")
    units = column(export("units", grid_worker), "小区编码")

    assert own and set(compounds) == own
    assert set(units) == own
    assert len(units) == Unit.objects.filter(compound__code__in=own).count()


@pytest.mark.django_db
def test_the_units_export_has_exactly_the_import_columns(demo_county):
    assert export("units", None, area="330921100001")[0] == HEADERS


@pytest.mark.django_db
@pytest.mark.parametrize("unmasked", [False, True])
def test_exported_units_import_again_with_nothing_changed(demo_county, tmp_path, unmasked):
    path = tmp_path / "units.xlsx"
    with path.open("wb") as stream:
        exported = export_workbook("units", None, unmasked=unmasked, out=stream)
    before = registry_counts()

    result = import_registry(path, filename=path.name, actor=None)

    assert result.ok, result.errors[:5]
    assert result.rows == exported == Unit.objects.count()
    assert (result.created, result.updated, result.owners_created) == (0, 0, 0)
    assert result.unchanged == exported
    assert registry_counts() == before | {"audit": before["audit"] + 1}


@pytest.mark.django_db
def test_the_units_export_runs_a_fixed_number_of_queries(demo_county, django_assert_max_num_queries):
    units = Unit.objects.count()
    assert units > 2000  # more than one chunk, so a per-row query would show

    # Per 2,000-row chunk: the units and their prefetched ownerships; plus the audit event.
    with django_assert_max_num_queries(2 * (units // 2000 + 1) + 2):
        export("units", None)


# ---- the command -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_export_command_writes_the_workbook(world, tmp_path, capsys):
    out = tmp_path / "units.xlsx"

    call_command("export-registry", "--kind", "units", "--area", "IMPCA", "--out", str(out))

    assert "1 units written to" in capsys.readouterr().out
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == HEADERS and rows[1][10] == MASKED


@pytest.mark.django_db
def test_the_export_command_refuses_stdout_and_unknown_areas(world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match="binary"):
        call_command("export-registry", "--out", "-")
    with pytest.raises(CommandError, match="unknown area"):
        call_command("export-registry", "--area", "NOWHERE")
    with pytest.raises(CommandError, match="may not export"):
        call_command("export-registry", "--kind", "organisations", "--unmasked", "--user", "imp-anna")
    assert not list(Path(tmp_path).iterdir())  # no half-written workbook left behind

    call_command("export-registry", "--kind", "owners")
    assert (tmp_path / "registry-owners.xlsx").exists()
