"""Import of the housing registry from Excel (.xlsx) or CSV: one row per exclusive unit.

The web views and the ``import-registry`` command call ``import_registry``; everything else
lives in ``gongzhi.housing.importing`` (file format, file checks, row validation, writing).

An import is all or nothing: it runs in one transaction, and if any row has an error the
transaction is rolled back and the result lists the errors instead. Rows are streamed and
written in batches, so a million-row file needs no more memory than a small one.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from gongzhi.core.audit import record_change
from gongzhi.housing.importing.columns import EXAMPLE_MARKER
from gongzhi.housing.importing.results import ImportResult, RowError
from gongzhi.housing.importing.rows import is_blank, parse_row, read_header
from gongzhi.housing.importing.sources import MAX_ROWS, FileProblem, iter_rows, open_source
from gongzhi.housing.importing.workbooks import error_workbook, template_workbook
from gongzhi.housing.importing.writer import (
    BATCH_SIZE,
    MAX_ERROR_DETAILS,
    RegistryWriter,
    common_area_path,
)

__all__ = [
    "BATCH_SIZE",
    "MAX_ERROR_DETAILS",
    "MAX_ROWS",
    "ImportResult",
    "RowError",
    "error_workbook",
    "import_registry",
    "template_workbook",
]


def import_registry(
    source: str | Path | IO[bytes],
    *,
    filename: str,
    actor: Any,
    request: HttpRequest | None = None,
    dry_run: bool = False,
    max_bytes: int | None = None,
) -> ImportResult:
    """Create or update compounds' buildings, entrances, units, owners and ownerships from a file.

    ``source`` is a path or a binary file object (an upload; it is read, not closed);
    ``filename`` tells CSV from .xlsx when the bytes alone do not. Each listed unit is created
    or updated; the owners listed for a unit replace its ownerships. With ``dry_run`` every
    check and write runs and is then rolled back, so the counts say what would happen.

    Callers: users with ``import`` on every compound the file names (others get a row error
    per such row), or the system (``actor=None``, from the CLI). On success one
    ``housing.import`` audit event records the counts, the file name and its SHA-256.
    """
    limit = max_bytes or settings.GONGZHI_MAX_IMPORT_BYTES
    result = ImportResult(ok=False, filename=filename, dry_run=dry_run)
    try:
        with open_source(source, filename=filename, max_bytes=limit) as found:
            result.sha256, result.size = found.sha256, found.size
            with transaction.atomic():
                writer = _run(iter_rows(found), result, actor, csv=found.format == "csv")
                result.ok = result.error_count == 0
                if result.ok and not dry_run:
                    record_change(
                        actor,
                        "housing.import",
                        None,
                        after={"filename": filename, "sha256": result.sha256, "bytes": result.size}
                        | result.counts(),
                        object_type="housing.registry",
                        area_path=common_area_path(writer.touched_paths),
                        request=request,
                    )
                else:
                    transaction.set_rollback(True)
    except FileProblem as problem:
        # Raised inside the atomic block too (a damaged sheet at row 90,000): that rolled back.
        result.ok = False
        result.fatal = problem.message
        result.errors = (
            problem.errors[:MAX_ERROR_DETAILS] + result.errors[: MAX_ERROR_DETAILS - len(problem.errors)]
        )
        result.error_count += len(problem.errors)
    if not result.ok:
        # Nothing was saved: counts of what was checked before the failure would only mislead.
        for name in result.counts():
            if name != "rows":
                setattr(result, name, 0)
    return result


def _run(rows: Any, result: ImportResult, actor: Any, *, csv: bool) -> RegistryWriter:
    """Validate and write every row; return the writer (its caches say what was touched)."""
    first = next(rows, None)
    if first is None:
        raise FileProblem(_("The sheet is empty: the first row must hold the column headers."))
    header = read_header(first[1])
    writer = RegistryWriter(actor, header, result)
    code_position = header.fields.index("compound_code")
    pending: list[tuple[int, Any]] = []
    for number, values in rows:
        if not any(values) and all(is_blank(value) for value in values):
            continue  # Excel keeps formatted but empty rows; they are not data
        if number - 1 > MAX_ROWS:
            raise FileProblem(_("The file has more than %(limit)s data rows.") % {"limit": f"{MAX_ROWS:,}"})
        if code_position < len(values) and str(values[code_position]).strip() == EXAMPLE_MARKER:
            continue  # the template's example row
        result.rows += 1
        row, errors = parse_row(number, values, header, csv=csv)
        if row is None:
            for error in errors:
                writer.report(error)
            continue
        if writer.admit(number, row):
            pending.append((number, row))
        if len(pending) >= BATCH_SIZE:
            writer.process(pending)
            pending = []
    writer.process(pending)
    if result.rows == 0:
        raise FileProblem(_("The sheet has no data rows: add one row per unit below the headers."))
    return writer
