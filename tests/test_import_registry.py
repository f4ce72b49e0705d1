"""Importing the housing registry: what a good file creates, and that importing it again does not.

The world is small and explicit (``ImportWorld``): a county with one town, community A with
compounds IMP-A1 (grid A1) and IMP-A2 (grid A2), and community B with IMP-B1. Anna is
community staff of A (may import there), Bruno community staff of B, Gao a grid worker on
grid A1 (may not import at all). The helpers here are shared by the other import tests.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation

from gongzhi.core.models import AuditEvent
from gongzhi.housing import importer
from gongzhi.housing.identity import owner_identity_key
from gongzhi.housing.importer import (
    ImportResult,
    RowError,
    error_workbook,
    import_registry,
    template_workbook,
)
from gongzhi.housing.importing import writer
from gongzhi.housing.importing.columns import HEADERS
from gongzhi.housing.models import Building, Compound, CompoundGrid, Entrance, Owner, Ownership, Unit
from gongzhi.orgs.models import Area, Role, RoleGrant


@pytest.fixture(autouse=True)
def english() -> Any:
    """Messages are asserted as their English msgids, whatever LANGUAGE_CODE says."""
    with translation.override("en"):
        yield


# ---- shared helpers ------------------------------------------------------------------------------


@dataclass
class ImportWorld:
    county: Area
    community_a: Area
    community_b: Area
    grid_a1: Area
    a1: Compound
    a2: Compound
    b1: Compound
    anna: Any  # community staff of A
    bruno: Any  # community staff of B
    gao: Any  # grid worker on grid A1


def build_import_world() -> ImportWorld:
    def area(code: str, level: str, parent: Area | None) -> Area:
        return Area.objects.create(
            code=code,
            name=code,
            level=level,
            parent=parent,
            path=(parent.path if parent else "/") + code + "/",
            depth=0 if parent is None else parent.depth + 1,
        )

    county = area("IMPC", Area.Level.COUNTY, None)
    town = area("IMPT", Area.Level.TOWN, county)
    community_a = area("IMPCA", Area.Level.COMMUNITY, town)
    community_b = area("IMPCB", Area.Level.COMMUNITY, town)
    grid_a1 = area("IMPGA1", Area.Level.GRID, community_a)
    grid_a2 = area("IMPGA2", Area.Level.GRID, community_a)
    a1 = Compound.objects.create(code="IMP-A1", name="东园新村", community=community_a)
    a2 = Compound.objects.create(code="IMP-A2", name="西园新村", community=community_a)
    b1 = Compound.objects.create(code="IMP-B1", name="南园小区", community=community_b)
    CompoundGrid.objects.create(compound=a1, grid=grid_a1)
    CompoundGrid.objects.create(compound=a2, grid=grid_a2)
    User = get_user_model()
    users = {}
    for name, role, node in (
        ("imp-anna", Role.COMMUNITY_STAFF, community_a),
        ("imp-bruno", Role.COMMUNITY_STAFF, community_b),
        ("imp-gao", Role.GRID_WORKER, grid_a1),
    ):
        users[name] = User.objects.create_user(username=name, password="x")
        RoleGrant.objects.create(user=users[name], role=role, area=node)
    return ImportWorld(
        county,
        community_a,
        community_b,
        grid_a1,
        a1,
        a2,
        b1,
        users["imp-anna"],
        users["imp-bruno"],
        users["imp-gao"],
    )


@pytest.fixture
def world(db: Any) -> ImportWorld:
    return build_import_world()


def write_xlsx(path: Path, rows: list[list[Any]], headers: list[Any] | tuple[Any, ...] = HEADERS) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(
    path: Path,
    rows: list[list[Any]],
    headers: list[Any] | tuple[Any, ...] = HEADERS,
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


_INLINE_CELL = re.compile(
    r'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>'
)
_SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def to_shared_strings(path: Path) -> Path:
    """Rewrite an openpyxl workbook the way Excel and WPS save one: texts in a shared-string table.

    openpyxl writes every text inline in the sheet; Excel writes ``<c t="s"><v>7</v></c>`` and
    keeps the texts in ``xl/sharedStrings.xml``, which the importer reads differently.
    """
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    table: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        index = table.setdefault(match.group(3), len(table))
        return f'<c r="{match.group(1)}"{match.group(2)} t="s"><v>{index}</v></c>'

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = _INLINE_CELL.sub(shared, parts[sheet].decode()).encode()
    items = "".join(f"<si><t>{text}</t></si>" for text in table)
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(table)}" '
        f'uniqueCount="{len(table)}">{items}</sst>'
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST}"/></Types>'
    ).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Type="{_SST_REL}" Target="sharedStrings.xml" Id="rIdSST"/></Relationships>',
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)
    return path


def unit_row(
    code: str = "IMP-A1",
    building: Any = "1",
    entrance: Any = "1",
    number: Any = "101",
    floor: Any = 1,
    area: Any = "65.32",
    source: Any = "登记",
    kind: Any = "住宅",
    owners: Any = "张三",
    owner_kind: Any = "自然人",
    phones: Any = "13800000001",
    developer: Any = "否",
) -> list[Any]:
    """One row in the canonical column order (``HEADERS``)."""
    return [
        code,
        building,
        entrance,
        number,
        floor,
        area,
        source,
        kind,
        owners,
        owner_kind,
        phones,
        developer,
    ]


def registry_counts() -> dict[str, int]:
    """Row counts of everything an import may change (and of the audit log)."""
    return {
        "buildings": Building.objects.count(),
        "entrances": Entrance.objects.count(),
        "units": Unit.objects.count(),
        "owners": Owner.objects.count(),
        "ownerships": Ownership.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def run(path: Path, actor: Any = None, **kwargs: Any) -> ImportResult:
    return import_registry(path, filename=path.name, actor=actor, **kwargs)


# ---- a good import -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_good_import_creates_buildings_entrances_units_owners_and_ownerships(world, tmp_path):
    path = write_xlsx(
        tmp_path / "registry.xlsx",
        [
            unit_row(number="101", owners="张三", phones="13800000001"),
            unit_row(number="102", floor=1, area=70.5, owners="李四", phones=13800000002),
            unit_row(entrance="2", number="201", floor=2, owners="王五", phones=""),
            unit_row(
                building="2",
                number="101",
                kind="商业",
                source="测绘",
                owners="岱山县供销社",
                owner_kind="法人",
            ),
        ],
    )
    before = registry_counts()

    result = run(path)

    assert result.ok, result.errors
    assert (result.rows, result.created, result.updated, result.unchanged) == (4, 4, 0, 0)
    assert result.owners_created == 4
    assert (result.buildings_created, result.entrances_created) == (2, 3)
    after = registry_counts()
    assert after["units"] - before["units"] == 4
    assert after["ownerships"] - before["ownerships"] == 4
    shop = Unit.objects.get(compound=world.a1, building__number="2", number="101")
    assert (shop.kind, shop.area_source, shop.entrance.number) == ("commercial", "survey", "1")
    assert shop.ownerships.get().owner.kind == Owner.Kind.LEGAL
    flat = Unit.objects.get(compound=world.a1, building__number="1", entrance__number="1", number="102")
    assert flat.area_m2 == Decimal("70.50")
    assert flat.ownerships.get().owner.phone == "13800000002"
    # An owner without a phone is keyed by name and compound, as identity.py prescribes.
    wang = Owner.objects.get(name="王五")
    assert wang.identity_key == owner_identity_key("natural", "王五", "", scope="IMP-A1")


@pytest.mark.django_db
def test_co_owners_share_a_unit_and_one_owner_holds_two_units(world, tmp_path):
    path = write_xlsx(
        tmp_path / "registry.xlsx",
        [
            unit_row(number="101", owners="张三、李四", phones="13800000001、13800000002"),
            unit_row(number="102", owners="张三；赵六", phones="13800000001;13800000006"),
            unit_row(number="103", owners="钱七; 孙八", owner_kind="自然人、法人", phones="13800000007"),
        ],
    )

    result = run(path)

    assert result.ok, result.errors
    assert result.owners_created == 5  # 张三 appears twice but is one owner
    zhang = Owner.objects.get(name="张三")
    assert sorted(zhang.ownerships.values_list("unit__number", flat=True)) == ["101", "102"]
    u101 = Unit.objects.get(compound=world.a1, number="101")
    assert sorted(u101.ownerships.values_list("owner__name", flat=True)) == ["张三", "李四"]
    sun = Owner.objects.get(name="孙八")
    assert (sun.kind, sun.phone) == ("legal", "")  # fewer phones than names: the rest have none


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(world, tmp_path):
    path = write_xlsx(
        tmp_path / "registry.xlsx",
        [unit_row(number=str(n), owners=f"业主{n}", phones=f"1380000{n:04d}") for n in range(101, 121)],
    )
    first = run(path)
    assert first.ok and first.created == 20
    before = registry_counts()

    again = run(path)

    assert again.ok
    assert (again.created, again.updated, again.unchanged, again.owners_created) == (0, 0, 20, 0)
    after = registry_counts()
    assert after == before | {"audit": before["audit"] + 1}  # only the second import's event


@pytest.mark.django_db
def test_many_small_batches_with_forgotten_buildings_give_the_same_result(world, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 3)
    monkeypatch.setattr(writer, "CACHE_LIMIT", 1)  # forget buildings between every batch
    rows = [
        unit_row(building=str(n % 4), entrance=str(n // 6), number=str(n), owners="张三") for n in range(11)
    ]
    path = write_xlsx(tmp_path / "registry.xlsx", rows)

    first = run(path)
    again = run(path)

    assert (first.created, first.buildings_created, first.entrances_created, first.owners_created) == (
        11,
        4,
        8,
        1,
    )
    assert (again.created, again.unchanged, again.buildings_created, again.owners_created) == (0, 11, 0, 0)
    assert Owner.objects.get(name="张三").ownerships.count() == 11


@pytest.mark.django_db
def test_a_changed_area_or_owner_counts_as_updated_and_the_file_replaces_the_owners(world, tmp_path):
    run(write_xlsx(tmp_path / "v1.xlsx", [unit_row(number="101", owners="张三、李四", phones="")]))
    unit = Unit.objects.get(compound=world.a1, number="101")

    result = run(
        write_xlsx(
            tmp_path / "v2.xlsx",
            [unit_row(number="101", area="66.00", owners="李四、王五", phones=""), unit_row(number="102")],
        )
    )

    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert (result.ownerships_added, result.ownerships_removed) == (2, 1)
    unit.refresh_from_db()
    assert unit.area_m2 == Decimal("66.00")
    assert sorted(unit.ownerships.values_list("owner__name", flat=True)) == ["李四", "王五"]
    # 张三 no longer owns the unit but stays in the registry (other records may name him).
    assert Owner.objects.filter(name="张三").exists()


@pytest.mark.django_db
def test_an_empty_owner_cell_means_the_unit_has_no_known_owner(world, tmp_path):
    run(write_xlsx(tmp_path / "v1.xlsx", [unit_row(number="101", owners="张三")]))

    result = run(
        write_xlsx(tmp_path / "v2.xlsx", [unit_row(number="101", owners="", phones="", owner_kind="")])
    )

    assert result.ok and result.updated == 1
    assert not Ownership.objects.filter(unit__compound=world.a1, unit__number="101").exists()


@pytest.mark.django_db
def test_english_headers_in_any_order_and_defaults_are_accepted(world, tmp_path):
    headers = ["unit_number", "area_m2", "building", "compound_code", "owners"]
    path = write_xlsx(tmp_path / "english.xlsx", [["301", "80", "3", "IMP-A2", "Lee"]], headers=headers)

    result = run(path)

    assert result.ok, result.errors
    unit = Unit.objects.get(compound=world.a2, number="301")
    assert (unit.entrance.number, unit.floor, unit.area_source, unit.kind) == (
        "1",
        None,
        "register",
        "residential",
    )
    assert unit.ownerships.get().owner.kind == "natural"


@pytest.mark.django_db
def test_a_new_building_joins_the_grid_of_its_compound(world, tmp_path):
    run(write_xlsx(tmp_path / "registry.xlsx", [unit_row(building="7")]))

    assert Building.objects.get(compound=world.a1, number="7").grid == world.grid_a1


@pytest.mark.django_db
def test_developer_held_marks_the_owner_as_developer(world, tmp_path):
    path = write_xlsx(
        tmp_path / "registry.xlsx",
        [
            unit_row(
                number="101", owners="岱山置业", owner_kind="法人", phones="0580-4470000", developer="是"
            ),
            unit_row(
                number="102", owners="岱山置业", owner_kind="legal", phones="0580-4470000", developer="yes"
            ),
        ],
    )

    result = run(path)

    assert result.ok, result.errors
    developer = Owner.objects.get(name="岱山置业")
    assert developer.is_developer and developer.ownerships.count() == 2
    assert result.owners_created == 1


@pytest.mark.django_db
def test_a_dry_run_counts_but_saves_nothing(world, tmp_path):
    path = write_xlsx(tmp_path / "registry.xlsx", [unit_row(number="101"), unit_row(number="102")])
    before = registry_counts()

    result = run(path, dry_run=True)

    assert result.ok and result.dry_run
    assert (result.created, result.owners_created) == (2, 1)
    assert registry_counts() == before


@pytest.mark.django_db
def test_a_successful_import_leaves_one_audit_event_with_counts_and_sha256(world, tmp_path):
    path = write_xlsx(tmp_path / "registry.xlsx", [unit_row(number="101"), unit_row(code="IMP-A2")])

    result = run(path, actor=world.anna)

    event = AuditEvent.objects.filter(action="housing.import").get()
    assert event.actor == world.anna
    assert event.after["created"] == 2 and event.after["filename"] == "registry.xlsx"
    assert event.after["sha256"] == result.sha256 and len(result.sha256) == 64
    assert event.area_path == world.community_a.path  # both compounds lie in community A


@pytest.mark.django_db
def test_a_user_may_import_only_into_compounds_in_their_scope(world, tmp_path):
    path = write_xlsx(tmp_path / "registry.xlsx", [unit_row(code="IMP-A1"), unit_row(code="IMP-B1")])
    before = registry_counts()

    refused = run(path, actor=world.anna)

    assert not refused.ok
    assert [(e.row, e.column, e.message) for e in refused.errors] == [
        (3, "小区编码", "No permission for this compound.")
    ]
    assert registry_counts() == before
    assert run(path, actor=world.gao).error_count == 2  # grid workers may not import at all
    assert run(write_xlsx(tmp_path / "b.xlsx", [unit_row(code="IMP-B1")]), actor=world.bruno).ok


@pytest.mark.django_db
def test_a_workbook_saved_by_excel_with_shared_strings_imports_the_same(world, tmp_path):
    rows = [
        unit_row(number="101", owners="张三、李四", phones="13800000001、13800000002"),
        unit_row(number="102"),
    ]
    path = to_shared_strings(write_xlsx(tmp_path / "excel.xlsx", rows))
    assert b"sharedStrings" in path.read_bytes()

    result = run(path)

    assert result.ok, result.errors
    assert (result.created, result.owners_created) == (2, 2)
    u101 = Unit.objects.get(compound=world.a1, number="101")
    assert sorted(u101.ownerships.values_list("owner__phone", flat=True)) == ["13800000001", "13800000002"]


@pytest.mark.django_db
@pytest.mark.parametrize("wrap", [io.BytesIO, lambda data: SimpleUploadedFile("upload.xlsx", data)])
def test_an_uploaded_file_object_is_read_and_left_open(world, tmp_path, wrap):
    path = write_xlsx(tmp_path / "registry.xlsx", [unit_row()])
    upload = wrap(path.read_bytes())

    result = import_registry(upload, filename="upload.xlsx", actor=world.anna)

    assert result.ok and result.created == 1
    assert not upload.closed


@pytest.mark.django_db
def test_csv_in_gb18030_works(world, tmp_path):
    path = write_csv(
        tmp_path / "registry.csv",
        [unit_row(number="101", owners="张三、李四", phones="13800000001、13800000002")],
        encoding="gb18030",  # what "CSV" from Excel in China is: GBK, a subset of GB18030
    )
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")

    result = run(path)

    assert result.ok, result.errors
    assert sorted(Owner.objects.filter(name__in=["张三", "李四"]).values_list("name", flat=True)) == [
        "张三",
        "李四",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_csv_in_utf8_with_or_without_bom_works(world, tmp_path, encoding):
    path = write_csv(tmp_path / "registry.csv", [unit_row(owners="欧阳娜娜")], encoding=encoding)

    result = run(path)

    assert result.ok, result.errors
    assert Owner.objects.filter(name="欧阳娜娜").exists()


@pytest.mark.django_db
def test_tab_separated_text_is_read_like_csv(world, tmp_path):
    path = tmp_path / "pasted.txt"
    lines = ["\t".join(HEADERS), "\t".join(str(v) for v in unit_row(owners="张三、李四", phones=""))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run(path)

    assert result.ok, result.errors
    assert result.owners_created == 2


@pytest.mark.django_db
def test_the_template_has_the_headers_an_example_row_and_an_explanation_sheet(world, tmp_path):
    book = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    sheet, help_sheet = book.worksheets
    assert tuple(cell.value for cell in sheet[1]) == HEADERS
    assert sheet["A1"].font.bold
    assert help_sheet.max_row >= len(HEADERS) + 1
    assert {row[0] for row in help_sheet.iter_rows(min_row=2, max_col=1, values_only=True)} >= set(HEADERS)

    # Filled in below the example, the template imports; the example row itself is skipped.
    sheet.append(unit_row(number="909"))
    book.save(tmp_path / "filled.xlsx")
    result = run(tmp_path / "filled.xlsx")
    assert result.ok, result.errors
    assert (result.rows, result.created) == (1, 1)


@pytest.mark.django_db
def test_the_error_workbook_lists_row_column_and_reason(world, tmp_path):
    result = run(
        write_xlsx(tmp_path / "bad.xlsx", [unit_row(area="-3"), unit_row(code="NOPE", number="102")])
    )

    book = openpyxl.load_workbook(io.BytesIO(error_workbook(result)))

    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("Row", "Column", "Reason")
    assert rows[1:] == [(2, "建筑面积(㎡)", "Must be greater than 0."), (3, "小区编码", "Unknown compound.")]


@pytest.mark.django_db
def test_the_error_workbook_starts_with_the_file_level_problem(world, tmp_path):
    result = run(write_xlsx(tmp_path / "bad.xlsx", [["x", "y"]], headers=["小区", "=cmd()"]))
    result.errors.append(RowError(9, "=HYPERLINK()", "+1"))  # text from the file never turns into a formula

    rows = list(openpyxl.load_workbook(io.BytesIO(error_workbook(result))).active.iter_rows())

    assert rows[1][2].value == "The header row is wrong: 小区, =cmd(), 小区编码, 楼幢, 房号, 建筑面积(㎡)."
    assert [(c.value, c.data_type) for c in rows[-1]] == [(9, "n"), ("=HYPERLINK()", "s"), ("+1", "s")]


# ---- the command ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_imports_and_prints_a_summary(world, tmp_path, capsys):
    path = write_xlsx(tmp_path / "registry.xlsx", [unit_row(number="101"), unit_row(number="102")])

    call_command("import-registry", str(path))

    out = capsys.readouterr().out
    assert "2 rows: units created 2, updated 0, unchanged 0; owners created 1" in out
    assert Unit.objects.filter(compound=world.a1).count() == 2


@pytest.mark.django_db
def test_the_command_lists_errors_writes_the_error_workbook_and_exits_with_1(world, tmp_path, capsys):
    path = write_xlsx(
        tmp_path / "registry.xlsx", [unit_row(number="101"), unit_row(number="102", area="abc")]
    )
    before = registry_counts()

    with pytest.raises(CommandError) as failure:
        call_command("import-registry", str(path), "--errors", str(tmp_path / "errors.xlsx"))

    assert failure.value.returncode == 1
    assert "row 3, 建筑面积(㎡): Must be a number of square metres, such as 65.32." in capsys.readouterr().err
    assert registry_counts() == before
    listed = list(openpyxl.load_workbook(tmp_path / "errors.xlsx").active.values)
    assert listed[1][:2] == (3, "建筑面积(㎡)")


@pytest.mark.django_db
def test_the_command_imports_as_a_user_within_their_scope_and_can_dry_run(world, tmp_path, capsys):
    path = write_xlsx(tmp_path / "registry.xlsx", [unit_row(code="IMP-B1")])

    with pytest.raises(CommandError):
        call_command("import-registry", str(path), "--user", "imp-anna")
    call_command("import-registry", str(path), "--user", "imp-bruno", "--dry-run")

    assert "dry run, nothing saved: 1 rows: units created 1" in capsys.readouterr().out
    assert not Unit.objects.filter(compound=world.b1).exists()
