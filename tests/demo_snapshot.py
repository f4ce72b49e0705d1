"""The demo county, seeded once per test session and copied back after a flush.

Seeding the demo county takes twenty seconds; tests that commit (browser tests, concurrency
tests) empty the database after each test, and the next one that needs the county would seed
it again. Instead, the first seed is copied aside — with SQLite's backup API, or with
PostgreSQL's COPY in binary — and later calls copy it back in a second or two. The copy is
exactly the seeded database, so a test sees the same county either way.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

_copy: Any = None


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def _keep() -> Any:
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        kept = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(kept)
        return kept
    if connection.vendor == "postgresql":
        kept = {}
        with connection.cursor() as cursor:
            for table in _tables():
                with cursor.cursor.copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as copy:
                    kept[table] = b"".join(bytes(block) for block in copy)
        return kept
    return None


def _restore(kept: Any) -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        kept.backup(connection.connection)
        return
    from django.apps import apps

    tables = _tables()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        # Rows go back table by table, so foreign keys are checked by nobody while they do.
        cursor.execute("SET session_replication_role = replica")
        try:
            for table in tables:
                data = kept.get(table)
                if data:
                    with cursor.cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy:
                        copy.write(data)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
            cursor.execute(sql)


def seed_demo() -> None:
    """Put the demo county into the (empty) test database: seeded the first time, copied
    back from that first seed afterwards."""
    global _copy
    if _copy is not None:
        _restore(_copy)
        return
    call_command("seed-demo", verbosity=0)
    _copy = _keep()
