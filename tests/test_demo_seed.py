"""The demo county is deterministic and scales by whole copies of its communities."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from gongzhi.demo.seed import seed
from gongzhi.housing.models import Ownership, Unit
from gongzhi.orgs.models import Area


def gongzhi_cli(db: Path, *args: str) -> str:
    env = {**os.environ, "GONGZHI_ENV": "test", "DATABASE_URL": f"sqlite:///{db}"}
    result = subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [sys.executable, "-m", "gongzhi", *args], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.fixture(scope="module")
def scale_two_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("scale2") / "gongzhi.sqlite3"
    gongzhi_cli(db, "migrate", "-v0")
    gongzhi_cli(db, "seed-demo", "--scale", "2")
    return db


def test_scale_two_doubles_the_county_but_not_the_member_units(scale_two_db):
    data = json.loads(gongzhi_cli(scale_two_db, "coverage", "--json"))
    assert data["unmanaged_buildings"] == 310
    assert data["owners_committees"] == 86
    assert data["joint_branches"] == 98
    assert data["member_units"] == 14


@pytest.mark.django_db
def test_seeding_is_deterministic(demo_county, scale_two_db):
    # The first copy of a scale-2 county is the scale-1 county, row for row.
    here = [str(a) for a in Unit.objects.order_by("id").values_list("area_m2", flat=True)[:500]]
    with sqlite3.connect(scale_two_db) as conn:
        rows = conn.execute("select area_m2 from housing_unit order by id limit 500")
        there = [str(Decimal(str(a)).quantize(Decimal("0.01"))) for (a,) in rows]
    assert here == there
    assert all(40 <= float(a) <= 90 for a in here)


@pytest.mark.django_db
def test_seeding_refuses_a_database_that_already_has_areas(demo_county):
    with pytest.raises(RuntimeError):
        seed(scale=1)


@pytest.mark.django_db
def test_the_demo_has_co_owners_and_owners_of_several_units(demo_county):
    assert Ownership.objects.values("unit").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert Ownership.objects.values("owner").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert Area.objects.get(code="330921").name == "岱山县"


@pytest.mark.django_db
def test_coverage_of_one_town_by_area_code(demo_county):
    out = StringIO()
    call_command("coverage", "--json", "--area", "330921100", stdout=out)
    data = json.loads(out.getvalue())
    assert data["area"]["name"] == "高亭镇"
    assert data["unmanaged_buildings"] == 76
    assert {row["code"] for row in data["by_area"]} >= {"330921100", "330921100001"}
