from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from gongzhi.tickets.notify import deliver_pending
from gongzhi.tickets.sweep import parse_moment


def drain(now: Any = None, batch: int = 500) -> dict[str, int]:
    """Deliver until nothing is due; failed messages wait for their retry time."""
    total = {"sent": 0, "retry": 0, "failed": 0}
    while True:
        counts = deliver_pending(limit=batch, now=now)
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
        if not any(counts.values()):
            return total


class Command(BaseCommand):
    help = (
        "Deliver the queued notifications (inbox, SMS, e-mail, WeChat) until nothing is due; "
        "failures are retried after 1, 5, 30 and 120 minutes, then given up. With --loop SECONDS "
        "it keeps running as a worker. Prints a one-line JSON summary per round."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", help="run as a worker, pausing between rounds"
        )
        parser.add_argument("--rounds", type=int, default=0, help="with --loop: stop after this many rounds")
        parser.add_argument("--batch", type=int, default=500, help="messages claimed per pass (default 500)")
        parser.add_argument("--now", help="deliver as at this ISO 8601 moment (default: now)")

    def handle(
        self, *args: Any, loop: float | None, rounds: int, batch: int, now: str | None, **options: Any
    ) -> None:
        if loop is not None and loop <= 0:
            raise CommandError("--loop needs a pause of more than 0 seconds")
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        try:
            moment = parse_moment(now)
        except ValueError as bad:
            raise CommandError(f"--now: {bad}") from None
        done = 0
        while True:
            total = drain(moment, batch)
            if loop is None or any(total.values()):
                self.stdout.write(json.dumps(total, sort_keys=True))
            done += 1
            if loop is None or (rounds and done >= rounds):
                return
            if not connection.in_atomic_block:
                close_old_connections()  # as between requests: drop a broken or aged connection
            time.sleep(loop)
