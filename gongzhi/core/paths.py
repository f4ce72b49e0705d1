"""Subtree queries over materialized area paths such as ``/330921/330921100/``."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q

# Paths are built of digits, letters and "/" only, all below this character in byte order.
_PATH_CEILING = "\x7f"


def under(field: str, path: str) -> Q:
    """Q for rows whose ``field`` lies at or below ``path``.

    PostgreSQL turns ``startswith`` into ``LIKE 'p%'`` served by the ``varchar_pattern_ops``
    index Django adds. SQLite's LIKE is case-insensitive and skips the index, so there a
    byte-ordered range does the same job on the ordinary index.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": path, f"{field}__lt": path + _PATH_CEILING})
    return Q(**{f"{field}__startswith": path})
