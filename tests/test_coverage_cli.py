from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command


def coverage_json(*args: str) -> dict:
    out = StringIO()
    call_command("coverage", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_demo_county_matches_the_article(demo_county):
    data = coverage_json()
    assert data["member_units"] == 14
    assert data["owners_committees"] == 43
    assert data["joint_branches"] == 49
    assert data["unmanaged_buildings"] == 155
    assert 0 < data["covered_buildings"] < 155
    assert data["coverage_pct"] == round(100 * data["covered_buildings"] / 155, 1)
    assert len(data["gaps"]) == 155 - data["covered_buildings"]
