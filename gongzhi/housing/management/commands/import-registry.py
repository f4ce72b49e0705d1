from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gongzhi.housing.importer import error_workbook, import_registry


class Command(BaseCommand):
    help = (
        "Import the housing registry from an .xlsx or .csv file (one row per unit). All or nothing: "
        "on any error nothing changes, the errors are listed and the exit status is 1."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the .xlsx or .csv file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count, then roll everything back"
        )
        parser.add_argument("--errors", metavar="OUT.xlsx", help="also write the errors to this workbook")
        parser.add_argument(
            "--max-mb", type=int, help="raise the file size limit (MB) for bulk loads (default: the setting)"
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="import as this user, within their scope (default: the system, full scope)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"unknown user {options['user']!r}")
        max_bytes = options["max_mb"] * 1024 * 1024 if options["max_mb"] else None
        result = import_registry(
            path, filename=path.name, actor=actor, dry_run=options["dry_run"], max_bytes=max_bytes
        )
        if result.ok:
            self.stdout.write(
                f"{'dry run, nothing saved: ' if result.dry_run else ''}{result.rows} rows: "
                f"units created {result.created}, updated {result.updated}, unchanged {result.unchanged}; "
                f"owners created {result.owners_created}; buildings created {result.buildings_created}, "
                f"entrances created {result.entrances_created}; ownerships added {result.ownerships_added}, "
                f"removed {result.ownerships_removed}"
            )
            return
        if result.fatal:
            self.stderr.write(result.fatal)
        for error in result.errors:
            self.stderr.write(f"row {error.row}, {error.column}: {error.message}")
        hidden = result.error_count - len(result.errors)
        if hidden > 0:
            self.stderr.write(f"… and {hidden} more errors")
        if options["errors"]:
            Path(options["errors"]).write_bytes(error_workbook(result))
            self.stderr.write(f"errors written to {options['errors']}")
        raise CommandError(
            f"{result.error_count} error(s) in {result.rows} rows: nothing was imported", returncode=1
        )
