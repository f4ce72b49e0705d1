from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gongzhi.decisions.tally_io import InputError, parse_matter, tally_files


class Command(BaseCommand):
    help = (
        "Tally an owners' vote (Civil Code Art. 278) from a UNITS and a BALLOTS file (.csv or .xlsx) "
        "and print the result as one JSON object. Errors go to stderr with the file and row, and "
        "exit with status 1."
    )
    # Reads two files and touches no database: no system checks, nothing but the JSON on stdout.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--units",
            required=True,
            help="UNITS file: unit_id, owner_id, area_m2, kind (residential|commercial|parking), "
            "developer_held (0|1)",
        )
        parser.add_argument(
            "--ballots", required=True, help="BALLOTS file: unit_id, choice (agree|disagree|abstain|spoiled)"
        )
        # Parsed here rather than by argparse, so that a bad matter fails like every other input.
        parser.add_argument("--matter", required=True, help="Art. 278 matter, 1–9 (6–8 need 3/4)")
        parser.add_argument(
            "--deemed-votes",
            action="store_true",
            help="also report the result with non-voters counted with the majority (随多数)",
        )
        parser.add_argument(
            "--include-parking", action="store_true", help="count parking units in area and headcount"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = tally_files(
                options["units"],
                options["ballots"],
                parse_matter(options["matter"]),
                deemed_votes=options["deemed_votes"],
                include_parking=options["include_parking"],
            )
        except InputError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False))
