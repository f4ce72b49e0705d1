"""``gongzhi verify-vote EXPORT``: recompute a vote export's hash chain and tally.

Exit status 0 when the chain is intact and every result in the export equals a recount of
the ballots it covered; 1 with the problems listed otherwise. Needs no database.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongzhi.decisions.counting import verify_export


class Command(BaseCommand):
    help = "Check a tamper-evident vote export: the hash chain and a recount of its ballots."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("export", help="the .jsonl file downloaded from the decision's page")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with open(options["export"], encoding="utf-8") as lines:
                report = verify_export(lines)
        except OSError as error:
            raise CommandError(f"{options['export']}: {error.strerror}") from None
        except (KeyError, TypeError, ValueError) as error:
            raise CommandError(f"{options['export']}: malformed export ({error})") from None
        self.stdout.write(
            json.dumps(
                {
                    "ok": report.ok,
                    "electors": report.electors,
                    "entries": report.entries,
                    "problems": report.problems,
                    "recount": report.recomputed,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        if not report.ok:
            raise CommandError(f"{len(report.problems)} problem(s) found")
