from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gongzhi.demo.seed import seed


class Command(BaseCommand):
    help = "Build the demo county (deterministic). --scale N builds N times the data for benchmarks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scale", type=int, default=1, help="copies of every community (default 1)")

    def handle(self, *args: Any, scale: int, **options: Any) -> None:
        if scale < 1:
            raise CommandError("--scale must be at least 1")
        try:
            counts = seed(scale=scale, log=self.stdout.write)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
