from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gongzhi.meetings.sweep import sweep
from gongzhi.tickets.sweep import parse_moment


class Command(BaseCommand):
    help = (
        "Warn owners of action items due within 2 days, mark overdue action items (and put them "
        "on the next meeting's agenda), and remind conveners of owners' committee decisions not "
        "published within 3 days. Prints a one-line JSON summary."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--now", help="sweep as at this ISO 8601 moment (default: now)")

    def handle(self, *args: Any, now: str | None, **options: Any) -> None:
        try:
            moment = parse_moment(now)
        except ValueError as bad:
            raise CommandError(f"--now: {bad}") from None
        self.stdout.write(json.dumps(sweep(moment), sort_keys=True))
