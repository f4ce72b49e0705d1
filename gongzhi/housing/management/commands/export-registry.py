from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from gongzhi.housing.exporter import EXPORTS, export_workbook
from gongzhi.orgs.models import Area


class Command(BaseCommand):
    help = "Export part of the registry as .xlsx (phones masked unless --unmasked). Every export is logged."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--kind", choices=sorted(EXPORTS), default="units", help="what to export")
        parser.add_argument("--area", metavar="CODE", help="only this area's subtree")
        parser.add_argument("--out", metavar="FILE.xlsx", help="output file (default: registry-<kind>.xlsx)")
        parser.add_argument("--unmasked", action="store_true", help="full phone numbers (needs reveal)")
        parser.add_argument(
            "--user", metavar="USERNAME", help="export as this user, within their scope (default: the system)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        out = options["out"] or f"registry-{kind}.xlsx"
        if out == "-":
            raise CommandError("a workbook is binary: give --out FILE.xlsx instead of stdout")
        area = None
        if options["area"]:
            area = Area.objects.filter(code=options["area"]).first()
            if area is None:
                raise CommandError(f"unknown area code {options['area']!r}")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"unknown user {options['user']!r}")
        target = Path(out)
        # Write beside the target and rename, so a failed export never leaves half a workbook.
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as stream:
                rows = export_workbook(kind, user, area=area, unmasked=options["unmasked"], out=stream)
            os.replace(partial, target)
        except PermissionDenied:
            raise CommandError(
                f"{options['user']} may not export {kind}{' unmasked' if options['unmasked'] else ''}"
            )
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"{rows} {kind} written to {target}")
