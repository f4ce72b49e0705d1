from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gongzhi.tickets.sweep import parse_moment, sweep


class Command(BaseCommand):
    help = (
        "Write time-limit warnings (50 %, 80 %), overdue flags and automatic supervision, remind "
        "units to sign for their tasks and archive followed-up requests after 7 days. Safe to run "
        "from cron while another run is still going. Prints a one-line JSON summary."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--now", help="sweep as at this ISO 8601 moment (default: now)")
        parser.add_argument("--no-rollups", action="store_true", help="do not refresh the dashboards")

    def handle(self, *args: Any, now: str | None, no_rollups: bool, **options: Any) -> None:
        try:
            moment = parse_moment(now)
        except ValueError as bad:
            raise CommandError(f"--now: {bad}") from None
        summary = sweep(moment, rollups=not no_rollups)
        self.stdout.write(json.dumps(summary, ensure_ascii=False, sort_keys=True))
        if summary["errors"]:
            raise CommandError(f"{summary['errors']} request(s) could not be swept; see the log")
