"""What an import hands back to its caller (a web view, the CLI, a test)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RowError:
    """One problem in one cell: ``row`` as the user sees it in the sheet (header is row 1)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


@dataclass
class ImportResult:
    """Outcome of ``import_registry``; when ``ok`` is false nothing was changed.

    ``fatal`` is a file-level problem (not a spreadsheet, too large, bad headers); ``errors``
    holds at most ``MAX_ERROR_DETAILS`` row errors while ``error_count`` counts them all.
    """

    ok: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    owners_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    fatal: str | None = None
    # Beyond the counts the web page shows: useful in the audit event and the CLI summary.
    buildings_created: int = 0
    entrances_created: int = 0
    ownerships_added: int = 0
    ownerships_removed: int = 0
    filename: str = ""
    sha256: str = ""
    size: int = 0
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "owners_created": self.owners_created,
            "buildings_created": self.buildings_created,
            "entrances_created": self.entrances_created,
            "ownerships_added": self.ownerships_added,
            "ownerships_removed": self.ownerships_removed,
        }
