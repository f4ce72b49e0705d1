from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from gongzhi.demo.seed import DEMO_LOGINS, DEMO_PASSWORD
from gongzhi.orgs.models import Area


class Command(BaseCommand):
    help = "Migrate, seed the demo county when the database is empty, print the logins and serve."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default="8000")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-serve", action="store_true", help="prepare the database and stop")

    def handle(self, *args: Any, port: str, host: str, no_serve: bool, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("the demo runs only with GONGZHI_ENV=demo")
        call_command("migrate", verbosity=0, interactive=False)
        if not Area.objects.exists():
            self.stdout.write("Seeding the demo county (岱山县)…")
            call_command("seed-demo", stdout=self.stdout)
        url = f"http://{host}:{port}/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Gongzhi demo: {url}"))
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")
        for username, role, where in DEMO_LOGINS:
            self.stdout.write(f"  {username:<10} {role:<18} {where}")
        self.stdout.write("")
        if not no_serve:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
