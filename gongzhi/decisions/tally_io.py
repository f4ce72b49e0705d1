"""Reading an electorate (UNITS) and its ballots (BALLOTS) from .csv or .xlsx files, for ``tally``.

UNITS has the columns ``unit_id, owner_id, area_m2, kind, developer_held``; BALLOTS has
``unit_id, choice``. The header is the first row; its order is free, other columns are
ignored; names and cells are stripped of whitespace, and names, kinds and choices are read
whatever their case. CSV is UTF-8, with or without a byte-order mark; of a workbook only the
first sheet is read, formulas as the value Excel last computed. Entirely blank rows are
skipped. Rows are numbered as a spreadsheet shows them, the header being row 1.

Both files are streamed, a row at a time (``csv`` row by row, openpyxl in read-only mode),
straight into ``tally``: only ``tally``'s own per-unit table grows with the electorate.

Every problem is an ``InputError`` naming the file, the row and what is wrong (the column
among it), in English; the command prints it. No Django here.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
import warnings
from collections.abc import Callable, Generator, Iterator, Sequence
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

from gongzhi.decisions.tally import KINDS, Choice, TallyError, TallyResult, VoterUnit, tally, thresholds

UNIT_COLUMNS = ("unit_id", "owner_id", "area_m2", "kind", "developer_held")
BALLOT_COLUMNS = ("unit_id", "choice")
FORMATS = (".csv", ".xlsx")
# A plain decimal number: digits with an optional fraction (no exponent, sign or separators).
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)
# ... with at most two decimal places, zeros beyond them aside (1.500 is 1.50).
_HUNDREDTHS = re.compile(r"(?:[0-9]+(?:\.[0-9]{0,2})?|\.[0-9]{1,2})0*", re.ASCII)
_MATTER = re.compile(r"[0-9]+", re.ASCII)
Rows = Generator[tuple[int, Sequence[Any]], None, None]  # (row number, cell values)


class InputError(Exception):
    """A file (or an argument) that cannot be tallied; ``str()`` is the message for the user."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        code: str = "bad_input",
    ) -> None:
        self.message, self.path, self.row, self.code = message, path, row, code
        where = [str(path)] if path is not None else []
        if row is not None:
            where.append(f"row {row}")
        super().__init__(": ".join([*where, message]))


def parse_matter(text: str | int) -> int:
    """The Art. 278 matter number 1–9 from a command-line argument."""
    value = str(text).strip()
    if not _MATTER.fullmatch(value) or not 1 <= int(value) <= 9:
        raise InputError(f"--matter must be a whole number from 1 to 9, not {str(text)!r}", code="bad_matter")
    return int(value)


# ---- cells and rows ------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    """A cell as stripped text. A workbook's numbers come from openpyxl as int or float; a
    float is turned back into text by its shortest repr (what was typed, up to 15 digits) at
    once and never computed with."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)  # refused later as not a number
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value).strip()


def _decoded_lines(stream: BinaryIO) -> Iterator[str]:
    """UTF-8 lines (a leading byte-order mark dropped), decoded one by one so that a bad byte
    is reported at its own row."""
    for number, line in enumerate(stream):
        yield (line[3:] if number == 0 and line.startswith(codecs.BOM_UTF8) else line).decode("utf-8")


def _csv_rows(path: Path) -> Rows:
    with path.open("rb") as stream:
        number = 0
        try:
            for number, values in enumerate(csv.reader(_decoded_lines(stream), strict=True), start=1):
                yield number, values
        except UnicodeDecodeError:
            raise InputError("the file is not UTF-8 text", row=number + 1, code="bad_file")
        except csv.Error as exc:
            raise InputError(f"the CSV text cannot be read: {exc}", row=number + 1, code="bad_file")


def _xlsx_rows(path: Path) -> Rows:
    import openpyxl  # only when a workbook is read

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            # data_only: a formula cell reads as the value Excel last computed and showed.
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged file; all mean the same here
        raise InputError("the workbook cannot be read: it is damaged or not an .xlsx file", code="bad_file")
    number = 0
    try:
        if not workbook.worksheets:
            raise InputError("the workbook has no worksheet", code="bad_file")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # do not trust the stored size: read the rows that are there
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, values
        except Exception:
            raise InputError("the worksheet cannot be read past this row: the file is damaged", row=number)
    finally:
        workbook.close()


class Table:
    """The rows of one UNITS or BALLOTS file as tuples of the wanted columns, header checked.

    ``row`` is the number of the row last yielded (as a spreadsheet shows it), so whoever
    consumes the rows can say where a problem was. Call ``close()`` when done.
    """

    def __init__(self, path: str | Path, columns: tuple[str, ...]) -> None:
        self.path, self.columns, self.row = Path(path), columns, 0
        self.shown = str(path)  # the file as the user named it
        suffix = self.path.suffix.lower()
        if suffix not in FORMATS:
            raise self.error(f"the file must be .csv or .xlsx, not {suffix or 'without an extension'}")
        if not self.path.is_file():
            raise self.error("no such file", code="no_file")
        self._rows = _xlsx_rows(self.path) if suffix == ".xlsx" else _csv_rows(self.path)
        try:
            first = next(self._rows, None)
        except (InputError, OSError) as exc:
            raise self._located(exc)
        try:
            if first is None or not any(_cell_text(value) for value in first[1]):
                raise self.error(
                    "the file is empty: the first row must be the header", row=1, code="empty_file"
                )
            self.row = 1
            self._index = self._header(first[1])
        except InputError:
            self.close()
            raise

    def error(self, message: str, *, row: int | None = None, code: str = "bad_input") -> InputError:
        return InputError(message, path=self.shown, row=row, code=code)

    def _located(self, exc: InputError | OSError) -> InputError:
        if isinstance(exc, InputError):
            return self.error(exc.message, row=exc.row, code=exc.code)
        return self.error(f"the file cannot be read: {exc.strerror or exc}", code="bad_file")

    def close(self) -> None:
        self._rows.close()

    def _header(self, names: Sequence[Any]) -> dict[str, int]:
        index: dict[str, int] = {}
        for position, name in enumerate(names):
            text = _cell_text(name).lstrip("\ufeff").strip().lower()
            if text in self.columns and text in index:
                raise self.error(f"the header names the column {text!r} twice", row=1, code="bad_header")
            index.setdefault(text, position)
        missing = [name for name in self.columns if name not in index]
        if missing:
            raise self.error(
                f"the header lacks the column(s) {', '.join(missing)}; it needs {', '.join(self.columns)}",
                row=1,
                code="missing_column",
            )
        return {name: index[name] for name in self.columns}

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        """Each non-blank row as the stripped text of the wanted columns, in ``columns`` order."""
        positions = tuple(self._index.values())
        pick, width = itemgetter(*positions), max(positions) + 1
        # CSV cells are already text; only a workbook's need converting.
        is_csv = self.path.suffix.lower() == ".csv"
        clean: Callable[[Any], str] = str.strip if is_csv else _cell_text
        filler = "" if is_csv else None
        data_rows = 0
        try:
            for number, values in self._rows:
                self.row = number
                if len(values) < width:
                    values = [*values, *[filler] * (width - len(values))]
                picked = pick(values)
                cells = tuple(map(clean, picked)) if len(positions) > 1 else (clean(picked),)
                if not any(cells) and not any(map(_cell_text, values)):
                    continue  # a blank row
                data_rows += 1
                yield cells
        except (InputError, OSError) as exc:
            raise self._located(exc)
        if data_rows == 0:
            raise self.error("the file has a header but no rows", code="empty_file")


# ---- units and ballots ---------------------------------------------------------------------


def parse_area(text: str) -> Decimal:
    """A unit's area in m²: a positive plain number with at most two decimal places (1.50 and
    1.500 are the same area; 1.505 is refused)."""
    if len(text) <= 24 and _HUNDREDTHS.fullmatch(text):
        area = Decimal(text)
        if area:
            return area
        raise ValueError(f"area_m2 {text!r} must be more than 0")
    if not text:
        raise ValueError("area_m2 is empty")
    if len(text) > 24 or not _NUMBER.fullmatch(text):
        raise ValueError(f"area_m2 {text!r} is not a plain positive number of m² (such as 88.25)")
    raise ValueError(f"area_m2 {text!r} has more than two decimal places")


_DEVELOPER_FLAGS = {"0": False, "1": True}


def _unit(unit_id: str, owner_id: str, area: str, kind: str, flag: str) -> VoterUnit:
    """The unit of a UNITS row; ValueError with the problem (column first) if a cell is wrong."""
    if not unit_id:
        raise ValueError("unit_id is empty")
    if kind not in KINDS:
        if kind.lower() not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        kind = kind.lower()
    developer_held = _DEVELOPER_FLAGS.get(flag)
    if developer_held is None:
        raise ValueError(f"developer_held {flag!r} is not 0 or 1")
    if not owner_id and not developer_held:
        raise ValueError("owner_id is empty (only a developer-held unit may have none)")
    return VoterUnit(unit_id, owner_id, parse_area(area), kind, developer_held)


def read_units(table: Table) -> Iterator[VoterUnit]:
    """The units of a UNITS table (columns in ``UNIT_COLUMNS`` order), one at a time."""
    for cells in table:
        try:
            yield _unit(*cells)
        except ValueError as exc:
            raise table.error(str(exc), row=table.row, code="bad_unit_row")


def read_ballots(table: Table) -> Iterator[tuple[str, Choice]]:
    """The ``(unit_id, choice)`` ballots of a BALLOTS table, one at a time."""
    choices = {choice.value: choice for choice in Choice}
    for unit_id, text in table:
        if not unit_id:
            raise table.error("unit_id is empty", row=table.row, code="bad_ballot_row")
        choice = choices.get(text) or choices.get(text.lower())
        if choice is None:
            hint = " (record an unmarked ballot as spoiled)" if not text else ""
            raise table.error(
                f"choice {text!r} is not one of {', '.join(choices)}{hint}", row=table.row, code="bad_choice"
            )
        yield unit_id, choice


def tally_files(
    units_path: str | Path,
    ballots_path: str | Path,
    matter: int,
    *,
    deemed_votes: bool = False,
    include_parking: bool = False,
) -> TallyResult:
    """Tally the BALLOTS file against the UNITS file: ``InputError`` names the file and the row.

    The matter is checked first, then both headers, then the rows as ``tally`` reads them.
    """
    try:
        thresholds(matter)
    except TallyError as exc:
        raise InputError(exc.message, code=exc.code)
    units = Table(units_path, UNIT_COLUMNS)
    try:
        ballots = Table(ballots_path, BALLOT_COLUMNS)
    except InputError:
        units.close()
        raise
    try:
        return tally(
            read_units(units),
            read_ballots(ballots),
            matter,
            deemed_votes=deemed_votes,
            include_parking=include_parking,
        )
    except TallyError as exc:
        # tally takes each row as it is read, so the table's current row is the culprit.
        table = units if exc.source == "units" else ballots
        exc.row = table.row
        raise table.error(exc.message, row=table.row, code=exc.code) from exc
    finally:
        units.close()
        ballots.close()
