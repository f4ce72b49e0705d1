from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gongzhi.coverage.compute import compute_coverage
from gongzhi.housing.models import Compound
from gongzhi.orgs.models import Area


class Command(BaseCommand):
    help = (
        "Coverage of the zero-out campaign: member units, committees, branches, covered buildings and gaps."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--area", help="area code: limit to that area's subtree")

    def handle(self, *args: Any, **options: Any) -> None:
        area = None
        if options["area"]:
            area = Area.objects.filter(code=options["area"]).first()
            if area is None:
                raise CommandError(f"unknown area code {options['area']!r}")
        report = compute_coverage(Compound.objects.all(), area)
        data = report.as_json()
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        self.stdout.write(
            f"member units {data['member_units']}, owners' committees {data['owners_committees']} "
            f"(+{data['stand_in_committees']} standing in), joint branches {data['joint_branches']}"
        )
        self.stdout.write(
            f"unmanaged buildings {data['unmanaged_buildings']}, covered {data['covered_buildings']} "
            f"({data['coverage_pct']}%)"
        )
        for row in data["by_area"]:
            self.stdout.write(
                f"  {row['code']:<16} {row['name']:<20} {row['covered_buildings']:>5}/"
                f"{row['unmanaged_buildings']:<5} {row['coverage_pct']}%"
            )
        for gap in data["gaps"]:
            self.stdout.write(f"  gap: {gap['compound']} {gap['building']}: {', '.join(gap['lacks'])}")
