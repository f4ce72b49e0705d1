from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gongzhi.dashboards.rollups import rebuild_rollups, refresh_rollups


class Command(BaseCommand):
    help = (
        "Count the request events not yet in the KPI rollups (safe to run at any time, also "
        "while the site or another run is counting). --rebuild forgets the rollups and counts "
        "every event again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rebuild", action="store_true", help="start again from the first event")

    def handle(self, *args: Any, **options: Any) -> None:
        result = rebuild_rollups() if options["rebuild"] else refresh_rollups()
        self.stdout.write(f"{result.events} events counted")
