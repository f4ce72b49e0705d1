"""Opening an uploaded registry file: size, type and zip-bomb checks, then streaming its rows.

Nothing here holds more than one row at a time, except a workbook's shared-string table
(kept compact, and bounded by ``MAX_SHARED_STRINGS_BYTES``). Workbooks are read with openpyxl
in read-only mode, with two memory and time savings explained in ``_open_workbook`` and
``_sheet_rows``. Every problem with the file as a whole is raised as ``FileProblem`` with a
message for the user.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import tempfile
import warnings
import zipfile
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, overload

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from gongzhi.housing.importing.results import RowError

# Excel's own limit, less the header row.
MAX_ROWS = 1_048_575
# Columns read per row: the format has 12; the slack finds values typed beside the table.
MAX_COLUMNS = 64
# A generous worksheet row (12 cells, long owner lists, styles) stays well under 1 KB of XML;
# a sheet that unpacks to more than that per allowed row is a zip bomb, not a registry.
SHEET_BYTES_PER_ROW = 1024
MAX_SHEET_XML_BYTES = MAX_ROWS * SHEET_BYTES_PER_ROW
# The shared-string table is held in memory (compactly: see CompactStrings), so it gets its
# own, lower cap. A million-row registry has about two million distinct names and phones,
# some 55 MB of XML; a table far larger than that is not a registry.
MAX_SHARED_STRINGS_BYTES = 128 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000
# Real workbooks compress 5-30 times; a large member that shrank more than this is a bomb.
BOMB_RATIO = 200
BOMB_RATIO_MIN_BYTES = 64 * 1024 * 1024

CHUNK = 1024 * 1024
_WORKSHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")


class FileProblem(Exception):
    """The file as a whole cannot be imported; ``errors`` may name the cells (e.g. headers)."""

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


@dataclass
class SourceFile:
    stream: BinaryIO
    size: int
    sha256: str
    format: str  # "xlsx" or "csv"
    encoding: str = ""


def _too_large(max_bytes: int) -> FileProblem:
    return FileProblem(
        _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(max_bytes)}
    )


def _declared_size(stream: Any) -> int | None:
    size = getattr(stream, "size", None)  # Django's UploadedFile knows its size
    if isinstance(size, int):
        return size
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return int(end)
    except (OSError, AttributeError, ValueError):
        return None


@contextmanager
def open_source(source: str | Path | IO[bytes], *, filename: str, max_bytes: int) -> Iterator[SourceFile]:
    """Open ``source``, check its size and type, and yield it ready for ``iter_rows``.

    A path is opened and closed here; a file object is only read (and rewound), never closed.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.stat().st_size > max_bytes:
            raise _too_large(max_bytes)
        with path.open("rb") as stream:
            yield _inspect(stream, filename, max_bytes)
        return
    declared = _declared_size(source)
    if declared is not None and declared > max_bytes:
        raise _too_large(max_bytes)
    seekable = getattr(source, "seekable", lambda: False)()
    if seekable:
        source.seek(0)
        yield _inspect(source, filename, max_bytes)  # type: ignore[arg-type]
        return
    # A pipe or socket: spool it (to disk past 8 MB) so zipfile and the second pass can seek.
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        copied = 0
        while chunk := source.read(CHUNK):
            copied += len(chunk)
            if copied > max_bytes:
                raise _too_large(max_bytes)
            spool.write(chunk)
        spool.seek(0)
        yield _inspect(spool, filename, max_bytes)  # type: ignore[arg-type]


def _inspect(stream: BinaryIO, filename: str, max_bytes: int) -> SourceFile:
    """One pass over the bytes: size, SHA-256, file type and (for text) the encoding."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    decoders: dict[str, Any] = {}
    while chunk := stream.read(CHUNK):
        if not head:
            head = chunk[:8192]
            if not head.startswith(b"PK\x03\x04"):
                # Only text needs decoding; try both encodings Chinese CSV files come in.
                decoders = {
                    "utf-8": codecs.getincrementaldecoder("utf-8")(),
                    "gb18030": codecs.getincrementaldecoder("gb18030")(),
                }
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        digest.update(chunk)
        for name, decoder in list(decoders.items()):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                del decoders[name]
    for name, decoder in list(decoders.items()):
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            del decoders[name]
    stream.seek(0)
    found = SourceFile(stream=stream, size=size, sha256=digest.hexdigest(), format="")

    suffix = Path(filename).suffix.lower()
    if size == 0:
        raise FileProblem(_("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        _check_zip(stream)
        found.format = "xlsx"
        return found
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            _(
                "This is an old Excel 97-2003 (.xls) or Word file: save it as an Excel workbook "
                "(.xlsx) and upload that."
            )
        )
    if head.startswith(b"%PDF"):
        raise FileProblem(_("This is a PDF document, not a spreadsheet: upload an .xlsx or .csv file."))
    if suffix in (".xlsx", ".xlsm"):
        raise FileProblem(_("This file is not a valid Excel workbook."))
    if b"\x00" in head or not decoders:
        raise FileProblem(_("This is not a spreadsheet: upload an Excel workbook (.xlsx) or a CSV file."))
    if head.startswith(codecs.BOM_UTF8):
        found.encoding = "utf-8-sig"
    else:
        # Excel in China saves "CSV" as GBK; GB18030 is its superset. UTF-8 wins when both fit.
        found.encoding = "utf-8" if "utf-8" in decoders else "gb18030"
    found.format = "csv"
    return found


def _bomb() -> FileProblem:
    return FileProblem(
        _(
            "The workbook unpacks to far more data than a registry of at most %(rows)s rows can hold; "
            "it was refused."
        )
        % {"rows": f"{MAX_ROWS:,}"}
    )


def _check_zip(stream: BinaryIO) -> None:
    """Refuse zips that are not workbooks or that unpack to absurd sizes (zip bombs)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem(_("This file is not a valid Excel workbook."))
    finally:
        stream.seek(0)
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _bomb()
    sheets = [info for info in infos if _WORKSHEET_PART.match(info.filename)]
    if not sheets or not any(info.filename == "xl/workbook.xml" for info in infos):
        raise FileProblem(
            _(
                "This zip file holds no worksheet (is it a Word document?): upload an Excel workbook "
                "(.xlsx) or a CSV file."
            )
        )
    # zipfile never unpacks more than a member's declared size, so checking that size bounds the work.
    for info in infos:
        if info in sheets and info.file_size > MAX_SHEET_XML_BYTES:
            raise _bomb()
        if info.filename.lower().endswith("sharedstrings.xml") and info.file_size > MAX_SHARED_STRINGS_BYTES:
            raise _bomb()
        if info.file_size > BOMB_RATIO_MIN_BYTES and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
            raise _bomb()
    if sum(info.file_size for info in infos) > MAX_SHEET_XML_BYTES + MAX_SHARED_STRINGS_BYTES:
        raise _bomb()


def iter_rows(source: SourceFile) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Yield ``(row number as the user sees it, cell values)`` for every row, header first."""
    if source.format == "xlsx":
        yield from _xlsx_rows(source.stream)
    else:
        yield from _csv_rows(source.stream, source.encoding)


class CompactStrings(Sequence[str]):
    """A workbook's shared strings as one UTF-8 buffer and an array of end offsets.

    Excel stores every distinct text once, in a table openpyxl keeps in memory even in
    read-only mode. For a million-row registry that is two million names and phone numbers:
    about 170 MB as a list of str, about 45 MB here. A string is decoded when a cell uses it.
    """

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._data += text.encode()
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not 0 <= index < len(self._ends):
            raise IndexError("shared string reference outside the table")  # a damaged workbook
        end = self._ends[index]
        start = self._ends[index - 1] if index > 0 else 0
        return self._data[start:end].decode()


def _open_workbook(stream: BinaryIO) -> Any:
    """``openpyxl.load_workbook(stream, read_only=True, data_only=False)``, with two savings.

    It is openpyxl's own reader with two steps replaced: the shared strings go into
    ``CompactStrings``, and worksheets skip reading their size, which openpyxl does at open
    by scanning the whole sheet when (as in files openpyxl writes) the <dimension> tag is
    missing: a third of the reading time, for a size the importer never uses.
    """
    from openpyxl.cell.text import Text
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    string_tag = f"{{{SHEET_MAIN_NS}}}si"

    class UnsizedReadOnlyWorksheet(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            pass  # leave the dimensions unknown, as reset_dimensions() would

    class CompactStringsReader(ExcelReader):  # type: ignore[misc]
        def read_worksheets(self) -> None:
            # openpyxl's read-only branch of read_worksheets; chart sheets hold no rows.
            for sheet, rel in self.parser.find_sheets():
                if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                    worksheet = UnsizedReadOnlyWorksheet(self.wb, sheet.name, rel.target, self.shared_strings)
                    worksheet.sheet_state = sheet.state
                    self.wb._sheets.append(worksheet)

        def read_strings(self) -> None:
            # openpyxl's read_string_table, into CompactStrings instead of a list, and with each
            # <si> detached from <sst> once read (cleared but attached, two million of them
            # would hold some 180 MB until the table is done).
            part = self.package.find(SHARED_STRINGS)
            if part is None:
                return
            strings = CompactStrings()
            table = None
            with self.archive.open(part.PartName[1:]) as source:
                for event, node in iterparse(source, events=("start", "end")):
                    if event == "start":
                        table = node if table is None else table
                    elif node.tag == string_tag:
                        strings.append(Text.from_tree(node).content.replace("x005F_", ""))
                        # The parser runs a chunk ahead: later <si> may follow, the earlier are gone.
                        if table is not None and len(table) and table[0] is node:
                            del table[0]
                        else:
                            node.clear()
            self.shared_strings = strings

    # data_only=False: a formula cell reads as its "=..." text, which rows.py refuses.
    reader = CompactStringsReader(stream, read_only=True, data_only=False)
    reader.read()
    return reader.wb


def _xlsx_rows(stream: BinaryIO) -> Iterator[tuple[int, tuple[Any, ...]]]:
    from openpyxl.worksheet._reader import WorkSheetParser

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            workbook = _open_workbook(stream)
    except Exception:  # openpyxl raises many types for a damaged file; all mean the same to the user
        raise FileProblem(_("The workbook could not be read: it is damaged or not an Excel workbook."))
    try:
        if not workbook.worksheets:
            raise FileProblem(_("The workbook has no worksheet."))
        sheet = workbook.worksheets[0]
        number = 0
        try:
            with workbook._archive.open(sheet._worksheet_path) as source:
                # The same cell parser ReadOnlyWorksheet.iter_rows uses (types, dates, formulas
                # as "=..." text since data_only is False), driven by _sheet_rows below.
                parser = WorkSheetParser(
                    source,
                    sheet._shared_strings,
                    data_only=False,
                    epoch=workbook.epoch,
                    date_formats=workbook._date_formats,
                    timedelta_formats=workbook._timedelta_formats,
                )
                for number, values in _sheet_rows(parser, source):
                    yield number, values
        except FileProblem:
            raise
        except Exception:
            raise FileProblem(
                _("The worksheet could not be read after row %(row)s: the file is damaged.") % {"row": number}
            )
    finally:
        workbook.close()


def _sheet_rows(parser: Any, source: IO[bytes]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Rows of a worksheet as value tuples, numbered as in Excel, each forgotten once yielded.

    openpyxl's read-only iteration clears each parsed <row> but leaves it attached to
    <sheetData>, about 85 bytes a row (90 MB at a million rows). Here each row is detached
    instead, so memory does not grow with the sheet. The <dimension> tag is never consulted
    (it may claim XFD1048576): a row is as wide as its last cell, at most MAX_COLUMNS.
    """
    from openpyxl.worksheet._reader import DATA_TAG, ROW_TAG
    from openpyxl.xml.functions import iterparse

    sheet_data = None
    expected = 1
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            if element.tag == DATA_TAG:
                sheet_data = element
            continue
        if element.tag != ROW_TAG:
            continue
        number, cells = parser.parse_row(element)
        parser.row_dimensions.clear()  # row heights and styles: not needed, and would pile up
        if sheet_data is not None and len(sheet_data) and sheet_data[0] is element:
            del sheet_data[0]  # earlier rows are gone; the parser, a chunk ahead, may have added later ones
        else:
            element.clear()  # not where a row belongs: at least free its cells
        for gap in range(expected, number):
            yield gap, ()  # rows absent from the XML are empty rows to the user
        expected = number + 1
        values: list[Any] = [None] * MAX_COLUMNS
        width = 0
        for cell in cells:
            column = cell["column"]
            if column <= MAX_COLUMNS:
                values[column - 1] = cell["value"]
                width = max(width, column)
        yield number, tuple(values[:width])


def _csv_rows(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")  # type: ignore[type-var]
    number = 0
    try:
        first = text.readline()
        # Tab-separated text is what Excel's "Unicode text" and copy-paste produce.
        delimiter = "\t" if "\t" in first and "," not in first else ","
        lines = _chain_first(first, text)
        try:
            for number, values in enumerate(csv.reader(lines, delimiter=delimiter), start=1):
                yield number, tuple(values[:MAX_COLUMNS])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FileProblem(
                _("The CSV file could not be read at row %(row)s: %(detail)s")
                % {"row": number + 1, "detail": str(exc)}
            )
    finally:
        text.detach()  # the caller owns the binary stream: do not let the wrapper close it


def _chain_first(first: str, rest: io.TextIOWrapper) -> Iterator[str]:
    if first:
        yield first
    yield from rest
