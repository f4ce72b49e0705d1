from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gongzhi.tickets import apikeys
from gongzhi.tickets.models import ApiKey


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = (
        "API keys of partner systems for the Open311 endpoint and the REST intake: "
        "create --name NAME (prints the key once), revoke --name NAME, list."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,revoke,list}")
        create = sub.add_parser("create", help="issue a key; the key is printed once and never stored")
        create.add_argument("--name", required=True, help="the partner system the key is for")
        revoke = sub.add_parser("revoke", help="revoke a key at once")
        revoke.add_argument("--name", required=True)
        sub.add_parser("list", help="all keys: name, prefix, created, last used, revoked")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "create":
            try:
                key, raw_key = apikeys.create(options["name"])
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            self.stdout.write(raw_key)
            self.stderr.write(
                f"Key {key.prefix} for {key.name!r} created. Store it now: it cannot be shown again."
            )
        elif action == "revoke":
            try:
                key = apikeys.revoke(options["name"])
            except ApiKey.DoesNotExist:
                raise CommandError(f"No key named {options['name']!r}.") from None
            self.stdout.write(f"Key {key.prefix} for {key.name!r} revoked at {_when(key.revoked_at)}.")
        else:
            rows = [("name", "prefix", "created", "last used", "revoked")]
            for key in ApiKey.objects.order_by("name"):
                rows.append(
                    (
                        key.name,
                        key.prefix,
                        _when(key.created_at),
                        _when(key.last_used_at),
                        _when(key.revoked_at),
                    )
                )
            widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
            for row in rows:
                cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                self.stdout.write("  ".join(cells).rstrip())
