"""Writing validated rows in batches: buildings, entrances, units (upserted), owners, ownerships.

The writer runs inside the import's one transaction. It keeps only small caches (compounds,
buildings, entrances: a few per hundred units) and a compact index of unit keys for the
duplicate check, so memory stays flat however long the file is. Once any error is reported
it stops writing (everything will be rolled back) but keeps checking, so the user gets the
full list of problems in one go.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.utils.translation import gettext as _

from gongzhi.core.masking import mask_phone
from gongzhi.housing.identity import owner_identity_key
from gongzhi.housing.importing.results import ImportResult, RowError
from gongzhi.housing.importing.rows import HeaderMap, RegistryRow
from gongzhi.housing.models import Building, Compound, CompoundGrid, Entrance, Owner, Ownership, Unit
from gongzhi.orgs import policy

BATCH_SIZE = 2000
MAX_ERROR_DETAILS = 1000
CACHE_LIMIT = 20_000  # buildings (and entrances) remembered between batches
# Keeps every IN (...) list well below SQLite's and PostgreSQL's parameter limits.
_IN_CHUNK = 1000
_UNIT_FIELDS = ("floor", "area_m2", "area_source", "kind")

T = TypeVar("T")


def chunked(items: Sequence[T], size: int = _IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class UnitKeyIndex:
    """The unit keys seen so far, as 8-byte hashes with the row that first had each.

    Open addressing over two flat arrays costs 12 bytes a slot (about 25 MB for a million
    rows), where a Python set of ints plus a dict of rows would take several times that.
    Two different keys share a 64-bit hash with odds of about 1 in 10^7 for a million rows;
    the cost of that would be one spurious "duplicate" error, never a silent merge.
    """

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._hashes = array("Q", bytes(8 * capacity))
        self._rows = array("I", bytes(4 * capacity))
        self._mask = capacity - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @staticmethod
    def digest(parts: Iterable[str]) -> int:
        raw = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
        return int.from_bytes(raw, "little") or 1  # 0 marks an empty slot

    def add(self, parts: Iterable[str], row: int) -> int | None:
        """Record the key; return the earlier row number if it was already there."""
        value = self.digest(parts)
        earlier = self._insert(value, row)
        if earlier is None:
            self._count += 1
            if self._count * 2 > len(self._hashes):
                self._grow()
        return earlier

    def _insert(self, value: int, row: int) -> int | None:
        hashes, mask = self._hashes, self._mask
        slot = value & mask
        while True:
            found = hashes[slot]
            if found == 0:
                hashes[slot] = value
                self._rows[slot] = row
                return None
            if found == value:
                return self._rows[slot]
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old_hashes, old_rows = self._hashes, self._rows
        capacity = len(old_hashes) * 2
        self._hashes = array("Q", bytes(8 * capacity))
        self._rows = array("I", bytes(4 * capacity))
        self._mask = capacity - 1
        for value, row in zip(old_hashes, old_rows, strict=True):
            if value:
                self._insert(value, row)


@dataclass
class CompoundInfo:
    id: int
    code: str
    area_path: str
    grid_id: int | None  # the compound's grid when it has exactly one: new buildings join it
    allowed: bool


@dataclass
class CurrentOwner:
    ownership_id: int
    owner_id: int
    name: str
    kind: str
    phone: str


@dataclass
class _Item:
    number: int
    row: RegistryRow
    compound: CompoundInfo
    entrance_id: int | None = None
    building_id: int | None = None
    unit_id: int | None = None
    failed: bool = False
    # Each listed owner: ("key", identity key) or ("id", owner id) for a masked phone's match.
    refs: list[tuple[str, Any]] = field(default_factory=list)


class RegistryWriter:
    """Checks and writes batches of rows for one import; counts go straight into ``result``."""

    def __init__(self, actor: Any, header: HeaderMap, result: ImportResult) -> None:
        self.actor = actor
        self.header = header
        self.result = result
        self.writing = True
        self.compounds: dict[str, CompoundInfo | None] = {}
        self.buildings: dict[tuple[int, str], int] = {}
        self.entrances: dict[tuple[int, str], int] = {}
        self.keys = UnitKeyIndex()
        self.touched_paths: set[str] = set()

    # ---- errors -------------------------------------------------------------------------------
    def report(self, error: RowError) -> None:
        """Record an error: the import will roll back, so nothing more is written."""
        self.writing = False
        self.result.error_count += 1
        if len(self.result.errors) < MAX_ERROR_DETAILS:
            self.result.errors.append(error)

    def _error(self, item: _Item, field_name: str, message: str) -> None:
        item.failed = True
        self.report(RowError(item.number, self.header.label(field_name), message))

    # ---- per-row checks -----------------------------------------------------------------------
    def compound(self, code: str) -> CompoundInfo | None:
        if code in self.compounds:
            return self.compounds[code]
        found = Compound.objects.filter(code=code).values("id", "area_path").first()
        info = None
        if found is not None:
            grids = list(
                CompoundGrid.objects.filter(compound_id=found["id"]).values_list("grid_id", flat=True)
            )
            if self.actor is None:
                allowed = True  # the system (CLI without --user) has full scope
            else:
                allowed = policy.scope(self.actor, "compound", policy.IMPORT).filter(pk=found["id"]).exists()
            info = CompoundInfo(
                id=found["id"],
                code=code,
                area_path=found["area_path"],
                grid_id=grids[0] if len(grids) == 1 else None,
                allowed=allowed,
            )
        self.compounds[code] = info
        return info

    def admit(self, number: int, row: RegistryRow) -> bool:
        """Compound, permission and duplicate checks; True if the row may go into a batch."""
        info = self.compound(row.compound_code)
        label = self.header.label
        if info is None:
            self.report(RowError(number, label("compound_code"), _("Unknown compound.")))
            return False
        if not info.allowed:
            self.report(RowError(number, label("compound_code"), _("No permission for this compound.")))
            return False
        earlier = self.keys.add((row.compound_code, row.building, row.entrance, row.unit_number), number)
        if earlier is not None:
            self.report(
                RowError(
                    number,
                    label("unit_number"),
                    _("Duplicate unit: row %(row)s already has this compound, building, entrance and number.")
                    % {"row": earlier},
                )
            )
            return False
        return True

    # ---- a batch ------------------------------------------------------------------------------
    def process(self, batch: list[tuple[int, RegistryRow]]) -> None:
        """Write one batch of admitted rows (or, after an error, only check them)."""
        if not batch:
            return
        # Files run compound by compound, so the buildings needed next are the recent ones;
        # forgetting the rest now and then keeps memory flat on a county-wide file, at the cost
        # of one query to look a building up again. Each batch fills what it needs afresh.
        for cache in (self.buildings, self.entrances):
            if len(cache) > CACHE_LIMIT:
                cache.clear()
        items = []
        for number, row in batch:
            info = self.compounds[row.compound_code]
            assert info is not None  # admit() let only known compounds through
            items.append(_Item(number, row, info))
            self.touched_paths.add(info.area_path)
        self._ensure_buildings(items)
        self._ensure_entrances(items)
        existing = self._existing_units(items)
        current = self._current_owners([unit[0] for unit in existing.values()])
        owner_ids, promoted = self._resolve_owners(items, existing, current)
        self._write_units(items, existing, current, owner_ids, promoted)

    # Buildings, entrances and owners are inserted with ignore_conflicts and then looked up:
    # on PostgreSQL a concurrent import may create the same one first, and this import
    # should then use it rather than fail on the unique constraint.

    def _load_buildings(self, keys: list[tuple[int, str]]) -> None:
        compound_ids = {key[0] for key in keys}
        for chunk in chunked(sorted({key[1] for key in keys})):
            for pk, compound_id, number in Building.objects.filter(
                compound_id__in=compound_ids, number__in=chunk
            ).values_list("id", "compound_id", "number"):
                self.buildings[(compound_id, number)] = pk

    def _ensure_buildings(self, items: list[_Item]) -> None:
        wanted = {(item.compound.id, item.row.building): item.compound for item in items}
        missing = [key for key in wanted if key not in self.buildings]
        if missing:
            self._load_buildings(missing)
            new = [key for key in missing if key not in self.buildings]
            if new and self.writing:
                Building.objects.bulk_create(
                    [Building(compound_id=c, number=n, grid_id=wanted[(c, n)].grid_id) for c, n in new],
                    ignore_conflicts=True,
                )
                self._load_buildings(new)
                self.result.buildings_created += len(new)
        for item in items:
            item.building_id = self.buildings.get((item.compound.id, item.row.building))

    def _load_entrances(self, keys: list[tuple[int, str]]) -> None:
        numbers = {key[1] for key in keys}
        for chunk in chunked(sorted({key[0] for key in keys})):
            for pk, building_id, number in Entrance.objects.filter(
                building_id__in=chunk, number__in=numbers
            ).values_list("id", "building_id", "number"):
                self.entrances[(building_id, number)] = pk

    def _ensure_entrances(self, items: list[_Item]) -> None:
        wanted = {(item.building_id, item.row.entrance) for item in items if item.building_id}
        missing = [key for key in wanted if key not in self.entrances]
        if missing:
            self._load_entrances(missing)  # type: ignore[arg-type]
            new = [key for key in missing if key not in self.entrances]
            if new and self.writing:
                Entrance.objects.bulk_create(
                    [Entrance(building_id=b, number=n) for b, n in new], ignore_conflicts=True
                )
                self._load_entrances(new)  # type: ignore[arg-type]
                self.result.entrances_created += len(new)
        for item in items:
            if item.building_id:
                item.entrance_id = self.entrances.get((item.building_id, item.row.entrance))

    def _existing_units(self, items: list[_Item]) -> dict[tuple[int, str], tuple[Any, ...]]:
        """(entrance id, number) -> (id, floor, area_m2, area_source, kind) of units already there."""
        entrance_ids = sorted({item.entrance_id for item in items if item.entrance_id})
        numbers = {item.row.unit_number for item in items if item.entrance_id}
        found: dict[tuple[int, str], tuple[Any, ...]] = {}
        for chunk in chunked(entrance_ids):
            for pk, entrance_id, number, *values in Unit.objects.filter(
                entrance_id__in=chunk, number__in=numbers
            ).values_list("id", "entrance_id", "number", *_UNIT_FIELDS):
                found[(entrance_id, number)] = (pk, *values)
        for item in items:
            if item.entrance_id:
                unit = found.get((item.entrance_id, item.row.unit_number))
                item.unit_id = unit[0] if unit else None
        return found

    def _current_owners(self, unit_ids: list[int]) -> dict[int, list[CurrentOwner]]:
        current: dict[int, list[CurrentOwner]] = {}
        for chunk in chunked(unit_ids):
            rows = (
                Ownership.objects.filter(unit_id__in=chunk)
                .order_by("id")
                .values_list("id", "unit_id", "owner_id", "owner__name", "owner__kind", "owner__phone")
            )
            for pk, unit_id, owner_id, name, kind, phone in rows:
                current.setdefault(unit_id, []).append(CurrentOwner(pk, owner_id, name, kind, phone))
        return current

    def _resolve_owners(
        self,
        items: list[_Item],
        existing: dict[tuple[int, str], tuple[Any, ...]],
        current: dict[int, list[CurrentOwner]],
    ) -> tuple[dict[str, int], set[int]]:
        """Find or create the owners the rows list; return identity key -> id and promoted ids."""
        wanted: dict[str, list[Any]] = {}  # identity key -> [kind, name, phone, developer]
        developer_ids: set[int] = set()
        for item in items:
            row = item.row
            for kind, name, phone in row.owner_entries():
                if "*" in phone:
                    # A masked number from an export can only mean an owner the unit already has.
                    matches = [
                        owner
                        for owner in current.get(item.unit_id or 0, [])
                        if owner.name == name and owner.kind == kind and mask_phone(owner.phone) == phone
                    ]
                    if len(matches) != 1:
                        if matches:
                            message = _(
                                "The masked number %(phone)s matches several owners: give the full number."
                            )
                        else:
                            message = _(
                                "The masked number %(phone)s matches none of this unit's current owners: "
                                "give the full number."
                            )
                        self._error(item, "owner_phones", message % {"phone": phone})
                        continue
                    item.refs.append(("id", matches[0].owner_id))
                    if row.developer_held:
                        developer_ids.add(matches[0].owner_id)
                    continue
                key = owner_identity_key(kind, name, phone, scope=row.compound_code)
                item.refs.append(("key", key))
                spec = wanted.setdefault(key, [kind, name, phone, False])
                spec[3] = spec[3] or row.developer_held

        ids: dict[str, int] = {}
        keys = list(wanted)
        for chunk in chunked(keys):
            for key, pk, is_developer in Owner.objects.filter(identity_key__in=chunk).values_list(
                "identity_key", "id", "is_developer"
            ):
                ids[key] = pk
                if wanted[key][3] and not is_developer:
                    developer_ids.add(pk)
        promoted: set[int] = set()
        new = [key for key in keys if key not in ids]
        if new and self.writing:
            owners = [
                Owner(
                    kind=wanted[key][0],
                    name=wanted[key][1],
                    phone=wanted[key][2],
                    is_developer=wanted[key][3],
                    identity_key=key,
                )
                for key in new
            ]
            Owner.objects.bulk_create(owners, batch_size=_IN_CHUNK, ignore_conflicts=True)
            for chunk in chunked(new):
                ids.update(Owner.objects.filter(identity_key__in=chunk).values_list("identity_key", "id"))
            self.result.owners_created += len(owners)
        if developer_ids:
            ids_list = sorted(developer_ids)
            promoted = set(
                Owner.objects.filter(id__in=ids_list, is_developer=False).values_list("id", flat=True)
            )
            if promoted and self.writing:
                Owner.objects.filter(id__in=sorted(promoted)).update(is_developer=True)
        return ids, promoted

    def _write_units(
        self,
        items: list[_Item],
        existing: dict[tuple[int, str], tuple[Any, ...]],
        current: dict[int, list[CurrentOwner]],
        owner_ids: dict[str, int],
        promoted: set[int],
    ) -> None:
        result = self.result
        upserts: list[_Item] = []  # new units and units whose own fields changed
        desired_by_item: list[tuple[_Item, list[int]]] = []
        for item in items:
            if item.failed:
                continue
            row = item.row
            desired: list[int] = []
            for how, ref in item.refs:
                owner_id = ref if how == "id" else owner_ids.get(ref)
                if owner_id is not None and owner_id not in desired:
                    desired.append(owner_id)
            desired_by_item.append((item, desired))
            if item.unit_id is None:
                result.created += 1
                upserts.append(item)
                continue
            old = existing[(item.entrance_id, row.unit_number)]  # type: ignore[index]
            fields_changed = tuple(old[1:]) != (row.floor, row.area_m2, row.area_source, row.kind)
            owners_before = {owner.owner_id for owner in current.get(item.unit_id, [])}
            if fields_changed:
                upserts.append(item)
            if fields_changed or owners_before != set(desired) or promoted.intersection(desired):
                result.updated += 1
            else:
                result.unchanged += 1
        if not self.writing:
            return  # counted for the summary; nothing is written once an error is known

        if upserts:
            units = [self._unit(item) for item in upserts]
            # One statement for new and changed units; RETURNING gives the ids of both.
            Unit.objects.bulk_create(
                units,
                batch_size=_IN_CHUNK,
                update_conflicts=True,
                unique_fields=["entrance", "number"],
                update_fields=list(_UNIT_FIELDS),
            )
            for item, unit in zip(upserts, units, strict=True):
                item.unit_id = unit.pk

        removed: list[int] = []
        added: list[Ownership] = []
        for item, desired in desired_by_item:
            assert item.unit_id is not None
            before = current.get(item.unit_id, [])
            keep = set(desired)
            removed.extend(owner.ownership_id for owner in before if owner.owner_id not in keep)
            had = {owner.owner_id for owner in before}
            added.extend(Ownership(unit_id=item.unit_id, owner_id=o) for o in desired if o not in had)
        for chunk in chunked(removed):
            Ownership.objects.filter(id__in=chunk).delete()
        Ownership.objects.bulk_create(added, batch_size=_IN_CHUNK, ignore_conflicts=True)
        result.ownerships_removed += len(removed)
        result.ownerships_added += len(added)

    @staticmethod
    def _unit(item: _Item) -> Unit:
        # While writing, every admitted row has its building and entrance (created if missing).
        assert item.building_id is not None and item.entrance_id is not None
        row = item.row
        return Unit(
            compound_id=item.compound.id,
            building_id=item.building_id,
            entrance_id=item.entrance_id,
            number=row.unit_number,
            floor=row.floor,
            area_m2=row.area_m2,
            area_source=row.area_source,
            kind=row.kind,
        )


def common_area_path(paths: Iterable[str]) -> str:
    """The deepest area path all ``paths`` lie under ("" when they share nothing)."""
    split = [[part for part in path.split("/") if part] for path in paths]
    if not split:
        return ""
    shared: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        shared.append(parts[0])
    return "/" + "/".join(shared) + "/" if shared else ""
