"""Registry workbooks for the import benchmark: write one, or read one with openpyxl alone.

    python bench/workbook.py generate --codes codes.json --rows 100000 --building-base 101 --path f.xlsx
    python bench/workbook.py read --path f.xlsx --result read.json

``generate`` writes one row per new unit in existing compounds (new building numbers from
``--building-base``, so every row creates a unit), in openpyxl's write-only mode. ``read``
is the baseline the importer is compared with: openpyxl's read-only mode touching every
cell, and nothing else (no Django is imported, so its peak RSS is openpyxl's own).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from measure import own_peak_rss_mb

# The import format's headers, in order (gongzhi/housing/importing/columns.py); the worker
# checks them against the importer's own list before an import is timed.
HEADERS = (
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
)
SEED = 20260206
BUILDINGS_PER_COMPOUND = 10
ENTRANCES = 2
FLOORS = 6
FLATS = 2
ROWS_PER_BUILDING = ENTRANCES * FLOORS * FLATS
PHONE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "158", "187", "188")


class People:
    """Owner names and phone numbers, deterministic and (phones) unique within one file."""

    def __init__(self, rng: random.Random, surnames: tuple[str, ...], given: tuple[str, ...]) -> None:
        self.rng, self.surnames, self.given = rng, surnames, given
        self.seq = 0

    def name(self) -> str:
        first = self.rng.choice(self.given)
        return (
            self.rng.choice(self.surnames)
            + first
            + (self.rng.choice(self.given) if self.rng.random() < 0.7 else "")
        )

    def phone(self, base: int) -> str:
        self.seq += 1
        # A different stride and offset from the demo seed's, so imported owners are new people.
        return (
            f"{self.rng.choice(PHONE_PREFIXES)}{(base * 1_000_003 + self.seq * 7877 + 424_242) % 10**8:08d}"
        )


def unit_rows(codes: list[str], rows: int, building_base: int) -> Iterator[list[Any]]:
    """``rows`` registry rows: whole new buildings (2 entrances x 6 floors x 2 flats) per compound."""
    from gongzhi.demo.county import GIVEN, SURNAMES  # plain data, no Django needed

    rng = random.Random(f"{SEED}:{building_base}:{rows}")
    people = People(rng, tuple(SURNAMES), tuple(GIVEN))
    emitted, previous_owner = 0, ("", "")
    per_pass = len(codes) * BUILDINGS_PER_COMPOUND
    for k in range(rows // ROWS_PER_BUILDING + 1):
        code = codes[k // BUILDINGS_PER_COMPOUND % len(codes)]
        # On a second pass over the compounds the building numbers move on, so rows stay new.
        building = building_base + k % BUILDINGS_PER_COMPOUND + 1000 * (k // per_pass)
        for entrance in range(1, ENTRANCES + 1):
            for floor in range(1, FLOORS + 1):
                for flat in range(1, FLATS + 1):
                    if emitted == rows:
                        return
                    row, previous_owner = _row(
                        rng, people, code, building, entrance, floor, flat, previous_owner
                    )
                    yield row
                    emitted += 1


def _row(
    rng: random.Random,
    people: People,
    code: str,
    building: int,
    entrance: int,
    floor: int,
    flat: int,
    previous: tuple[str, str],
) -> tuple[list[Any], tuple[str, str]]:
    shop = floor == 1 and flat == 1 and building % 3 == 0
    roll = rng.random()
    if roll < 0.02:
        names, phones, owner = "", "", ("", "")  # unsold or unknown owner
    elif roll < 0.05 and previous[0]:
        names, phones, owner = previous[0], previous[1], previous  # the neighbour owns this one too
    elif roll < 0.09:
        pair = [(people.name(), people.phone(building)) for _ in range(2)]  # a couple, co-owners
        names, phones, owner = "、".join(n for n, _ in pair), "、".join(p for _, p in pair), ("", "")
    else:
        owner = (people.name(), people.phone(building))
        names, phones = owner
    area = round(rng.uniform(60, 140) if shop else rng.uniform(40, 95), 2)
    source = rng.choices(("登记", "测绘", "合同"), weights=(80, 12, 8))[0]
    row = [
        code,
        str(building),
        str(entrance),
        f"{floor}0{flat}",
        floor,
        area,
        source,
        "商业" if shop else "住宅",
        names,
        "自然人" if names else "",
        phones,
        "否" if rng.random() < 0.5 else "",
    ]
    return row, owner


def generate(codes: list[str], rows: int, building_base: int, path: Path) -> dict[str, Any]:
    from openpyxl import Workbook

    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("registry")
    sheet.append(list(HEADERS))
    for row in unit_rows(codes, rows, building_base):
        sheet.append(row)
    tmp = path.with_suffix(".partial.xlsx")
    workbook.save(tmp)
    tmp.replace(path)
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "bytes": path.stat().st_size,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds, 1),
        "compounds_used": min(len(codes), -(-rows // (ROWS_PER_BUILDING * BUILDINGS_PER_COMPOUND))),
    }


def read_all(path: Path) -> dict[str, Any]:
    """The baseline: every cell of every row through openpyxl's read-only mode."""
    from openpyxl import load_workbook

    started = time.perf_counter()
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    rows = cells = 0
    for values in sheet.iter_rows(min_row=2, values_only=True):
        rows += 1
        cells += sum(1 for value in values if value is not None and value != "")
    workbook.close()
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "cells": cells,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds, 1) if seconds else None,
        "self_peak_rss_mb": own_peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="task", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--codes", type=Path, required=True, help="JSON list of compound codes")
    gen.add_argument("--rows", type=int, required=True)
    gen.add_argument("--building-base", type=int, required=True)
    gen.add_argument("--path", type=Path, required=True)
    gen.add_argument("--result", type=Path)
    read = sub.add_parser("read")
    read.add_argument("--path", type=Path, required=True)
    read.add_argument("--result", type=Path)
    args = parser.parse_args(argv)
    if args.task == "generate":
        codes = json.loads(args.codes.read_text())
        result = generate(codes, args.rows, args.building_base, args.path)
    else:
        result = read_all(args.path)
    text = json.dumps(result, ensure_ascii=False)
    if args.result:
        args.result.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
