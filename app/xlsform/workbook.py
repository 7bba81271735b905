"""Reading an uploaded .xlsx safely into plain sheets of text, and writing sheets back.

Checks happen before and while parsing, so a hostile file costs little: the zip directory is
read first (not a zip, a corrupt zip, macros, a zip bomb), then openpyxl reads in read-only
mode with the stated dimensions ignored, stopping at the first cell beyond the limits.
Only the sheets the caller wants are parsed; the others are named and skipped. A formula is
never evaluated: its saved value is read, as pyxform does, with a located warning (a
questionnaire holds text); a formula without a saved value is refused. openpyxl parses
through defusedxml (a runtime dependency): entity expansion and external entities are
refused, and malformed XML is a "damaged file".
"""
from __future__ import annotations

import io
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

from app.exports.cells import text_cell
from app.xlsform.issues import DefinitionError, Issue

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 60 * 1024 * 1024
MAX_RATIO = 200          # uncompressed ÷ compressed, per member
MAX_ROWS = 5000
MAX_COLUMNS = 150
MAX_CELL_CHARS = 10_000
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


@dataclass
class Sheet:
    name: str
    headers: list[str]                                  # as written, in order
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (row number, cells)
    header_row: int = 1


def read_workbook(data: bytes, wanted: Callable[[str], bool] | None = None) -> tuple[dict[str, Sheet], list[Issue]]:
    """Sheets by name (those starting with ``_`` skipped) and warnings; DefinitionError if
    unreadable. A sheet ``wanted`` refuses is listed without its rows, and not parsed."""
    kind = _check_container(data)
    if kind == "ods":
        return _read_with_calamine(data, wanted, _ods_extent(data))
    if kind == "xls":
        return _read_with_calamine(data, wanted, _xls_extent(data))
    with warnings.catch_warnings():   # openpyxl's notes on what it skips (data validation…) are not the user's
        warnings.simplefilter("ignore")
        return _read(data, wanted)


def _read(data: bytes, wanted: Callable[[str], bool] | None) -> tuple[dict[str, Sheet], list[Issue]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise DefinitionError([Issue(None, None, None, "not_a_workbook", {"detail": type(exc).__name__})]) from None
    sheets: dict[str, Sheet] = {}
    notes: list[Issue] = []
    try:
        for worksheet in book.worksheets:
            if worksheet.title.startswith("_"):
                continue
            if wanted is not None and not wanted(worksheet.title):
                sheets[worksheet.title] = Sheet(worksheet.title, [])
                continue
            sheets[worksheet.title] = _read_sheet(worksheet, notes)
    except DefinitionError:
        raise
    except Exception as exc:  # a worksheet's XML is parsed as it is read: malformed, or refused by defusedxml
        raise DefinitionError([Issue(None, None, None, "corrupt_file", {"detail": type(exc).__name__})]) from None
    finally:
        book.close()
    return sheets, notes


def _check_container(data: bytes) -> str:
    """The kind of workbook (``xlsx``, ``ods`` or ``xls``), once the file is known to be a sound
    zip of the right shape or an old Excel file; DefinitionError otherwise."""
    if len(data) > MAX_FILE_BYTES:
        raise DefinitionError([Issue(None, None, None, "file_too_large", {"limit_mb": MAX_FILE_BYTES // 1048576})])
    if data.startswith(OLE2):   # .xls: its cells are counted from the records before calamine reads it
        return "xls"
    if not data.startswith(b"PK"):
        raise DefinitionError([Issue(None, None, None, "not_a_workbook", {"detail": "not a zip"})])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DefinitionError([Issue(None, None, None, "corrupt_file", {})]) from None
    names = {m.filename for m in members}
    _check_sizes(archive, members)
    if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE and "content.xml" in names:
        return "ods"
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise DefinitionError([Issue(None, None, None, "not_a_workbook", {"detail": "no worksheets"})])
    if any(n.lower().endswith("vbaproject.bin") for n in names):   # macros live there; a content type saying
        raise DefinitionError([Issue(None, None, None, "macros_not_allowed", {})])   # "macroEnabled" alone holds none
    return "xlsx"


def _check_sizes(archive: zipfile.ZipFile, members) -> None:
    """No zip bomb, no damaged member."""
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > MAX_UNCOMPRESSED_BYTES or total > MAX_UNCOMPRESSED_BYTES or (
                member.compress_size and member.file_size / member.compress_size > MAX_RATIO
                and member.file_size > 1024 * 1024):
            raise DefinitionError([Issue(None, None, None, "zip_bomb", {})])
    try:
        bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error):
        bad = "?"
    if bad is not None:
        raise DefinitionError([Issue(None, None, None, "corrupt_file", {})])


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):   # as Excel shows it; in an expression column it means true() / false()
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _rows(worksheet):
    """(row number, cells) of the rows the worksheet's XML holds, as openpyxl parses them — but
    not the empty rows between them, which ``iter_rows`` makes up one at a time (a single cell
    at row 1,000,000 would cost a million of them before the row limit is seen)."""
    book = worksheet.parent
    with worksheet._get_source() as source:
        parser = _SavedValues(source, worksheet._shared_strings, data_only=True, epoch=book.epoch,
                              date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        yield from parser.parse()


class _SavedValues(WorkSheetParser):
    """openpyxl's parser reading each cell's saved value, and noting which cells are formulas."""

    def parse_cell(self, element):
        cell = super().parse_cell(element)
        cell["formula"] = element.find(FORMULA_TAG) is not None
        return cell


def _read_sheet(worksheet, warnings: list[Issue]) -> Sheet:
    title = worksheet.title
    sheet = Sheet(title, [])
    formulas: list[tuple[int, str]] = []
    for row_number, row in _rows(worksheet):   # the cells as written, not the stated dimensions
        cells = [cell for cell in row if cell.get("value") is not None or cell["formula"]]
        if not cells:
            continue
        if row_number > MAX_ROWS + 1:
            raise DefinitionError([Issue(title, row_number, None, "too_many_rows", {"limit": MAX_ROWS})])
        values: dict[int, str] = {}
        for cell in cells:
            column = cell["column"]
            if column > MAX_COLUMNS:
                raise DefinitionError([Issue(title, row_number, get_column_letter(column), "too_many_columns",
                                             {"limit": MAX_COLUMNS})])
            if cell["formula"]:
                if cell["value"] is None or cell["data_type"] == "e":   # never calculated, or an error (#REF!)
                    raise DefinitionError([Issue(title, row_number, get_column_letter(column), "formula_not_allowed",
                                                 {})])
                formulas.append((row_number, get_column_letter(column)))
            text = _text(cell["value"])
            if len(text) > MAX_CELL_CHARS:
                raise DefinitionError([Issue(title, row_number, get_column_letter(column), "cell_too_long",
                                             {"limit": MAX_CELL_CHARS})])
            values[column] = text
        _add_row(sheet, row_number, values)
    if formulas:
        warnings.append(Issue(title, formulas[0][0], formulas[0][1], "formula_value_used", {"count": len(formulas)},
                              warning=True))
    return sheet


def _add_row(sheet: Sheet, number: int, values: dict[int, str]) -> None:
    """The first row with cells holds the headers; a later row with some text is a row, as
    wide as the headers or its last cell."""
    if not sheet.headers:
        sheet.headers = [values.get(c, "").strip() for c in range(1, max(values) + 1)]
        sheet.header_row = number
        return
    line = [values.get(c, "") for c in range(1, max(len(sheet.headers), max(values)) + 1)]
    if any(v.strip() for v in line):
        sheet.rows.append((number, line))


def write_workbook(sheets: list[Sheet]) -> bytes:
    """An .xlsx of the given sheets; every value is written as text, never as a formula."""
    book = Workbook(write_only=True)
    for sheet in sheets:
        worksheet = book.create_sheet(sheet.name)
        worksheet.append([text_cell(worksheet, h) for h in sheet.headers])
        for _number, cells in sheet.rows:
            worksheet.append([text_cell(worksheet, v) for v in cells])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# -- OpenDocument spreadsheets ------------------------------------------------------------

Extent = dict[str, tuple[int, int, list[tuple[int, int]]]]


def _ods_extent(data: bytes) -> Extent:
    """Per sheet: the last row and column holding something, and the (row, column) of its
    formulas, read from ``content.xml`` with repeats counted but never expanded — so a file
    that states a million repeated rows costs nothing here, and is refused before a reader
    builds them."""
    from defusedxml.ElementTree import iterparse
    extent: Extent = {}
    sheet, row, last_row, last_column, formulas = None, 0, 0, 0, []
    try:
        content = zipfile.ZipFile(io.BytesIO(data)).read("content.xml")
        for event, element in iterparse(io.BytesIO(content), events=("start", "end")):
            tag = element.tag
            if event == "start" and tag == _TABLE + "table":
                sheet, row, last_row, last_column, formulas = element.get(_TABLE + "name", ""), 0, 0, 0, []
            elif event == "end" and tag == _TABLE + "table-row":
                rows = int(element.get(_TABLE + "number-rows-repeated", "1") or 1)
                column, filled = 0, 0
                for cell in element:
                    if cell.tag not in (_TABLE + "table-cell", _TABLE + "covered-table-cell"):
                        continue
                    columns = int(cell.get(_TABLE + "number-columns-repeated", "1") or 1)
                    if cell.get(_OFFICE + "value-type") or cell.find(_TEXT + "p") is not None:
                        filled = column + columns
                        if cell.get(_TABLE + "formula"):
                            formulas.append((row + 1, column + 1))
                    column += columns
                if filled:
                    last_row, last_column = row + rows, max(last_column, filled)
                row += rows
                element.clear()
            elif event == "end" and tag == _TABLE + "table":
                extent[sheet or ""] = (last_row, last_column, formulas)
                element.clear()
    except Exception as exc:   # malformed XML, or entities refused by defusedxml
        raise DefinitionError([Issue(None, None, None, "corrupt_file", {"detail": type(exc).__name__})]) from None
    return extent


# BIFF records of an .xls: the sheet list, a substream's start and end, and those holding cells
# (their first two fields are the row and the column; MULRK and MULBLANK end with the last column).
_BOUNDSHEET, _BOF, _EOF, _FORMULA = 0x0085, 0x0809, 0x000A, 0x0006
_CELLS = {0x0006, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00D6}
_CELL_RUNS = {0x00BD, 0x00BE}


def _xls_extent(data: bytes) -> Extent:
    """Per sheet of an .xls: the last row and column of any cell record, and the (row, column)
    of its formulas — one pass over the records, so a file of a few kilobytes whose cells
    reach row 65,536 and column 256 is refused before calamine builds every cell between
    (about a gigabyte). Macros are refused as in .xlsx."""
    import struct

    import olefile
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as container:
            if container.exists("_VBA_PROJECT_CUR") or container.exists("_VBA_PROJECT"):
                raise DefinitionError([Issue(None, None, None, "macros_not_allowed", {})])
            name = "Workbook" if container.exists("Workbook") else "Book"
            stream = container.openstream(name).read()
    except DefinitionError:
        raise
    except Exception as exc:   # not a compound file, a damaged one, or one without a workbook
        raise DefinitionError([Issue(None, None, None, "corrupt_file", {"detail": type(exc).__name__})]) from None
    names: dict[int, str] = {}   # a sheet's substream offset → its name
    extent: Extent = {}
    current: list | None = None
    biff8 = True
    position = 0
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        body = stream[position + 4:position + 4 + length]
        if kind == _BOF and position == 0 and len(body) >= 2:
            biff8 = struct.unpack_from("<H", body)[0] == 0x0600
        elif kind == _BOUNDSHEET and len(body) >= 7:
            offset = struct.unpack_from("<I", body)[0]
            count = body[6]
            if biff8 and len(body) >= 8:
                wide = body[7] & 1
                raw = body[8:8 + count * (2 if wide else 1)]
                names[offset] = raw.decode("utf-16-le" if wide else "latin-1", "replace")
            else:
                names[offset] = body[7:7 + count].decode("cp1252", "replace")
        elif kind == _BOF and position in names:
            current = [0, 0, []]
            extent[names[position]] = current   # type: ignore[assignment]
        elif kind == _EOF:
            current = None
        elif current is not None and kind in _CELLS and len(body) >= 4:
            row, column = struct.unpack_from("<HH", body)
            current[0], current[1] = max(current[0], row + 1), max(current[1], column + 1)
            if kind == _FORMULA:
                current[2].append((row + 1, column + 1))
        elif current is not None and kind in _CELL_RUNS and len(body) >= 6:
            row, _first = struct.unpack_from("<HH", body)
            last = struct.unpack_from("<H", body, len(body) - 2)[0]
            current[0], current[1] = max(current[0], row + 1), max(current[1], last + 1)
        position += 4 + length
    return {title: tuple(values) for title, values in extent.items()}   # type: ignore[misc]


def _read_with_calamine(data: bytes, wanted: Callable[[str], bool] | None,
                        extent: Extent) -> tuple[dict[str, Sheet], list[Issue]]:
    """An .ods or .xls read by calamine, once ``extent`` shows every sheet small enough:
    calamine builds every sheet when it opens a file, so even one Matrica ignores must fit
    the cells a sheet may hold; one Matrica reads must fit its rows and columns."""
    from python_calamine import CalamineWorkbook
    for title, (last_row, last_column, _formulas) in extent.items():
        if not title.startswith("_") and (wanted is None or wanted(title)):
            if last_row > MAX_ROWS + 1:
                raise DefinitionError([Issue(title, MAX_ROWS + 2, None, "too_many_rows", {"limit": MAX_ROWS})])
            if last_column > MAX_COLUMNS:
                raise DefinitionError([Issue(title, None, get_column_letter(MAX_COLUMNS + 1), "too_many_columns",
                                             {"limit": MAX_COLUMNS})])
        elif last_row * last_column > (MAX_ROWS + 1) * MAX_COLUMNS:
            raise DefinitionError([Issue(title, None, None, "sheet_too_large", {"limit": (MAX_ROWS + 1) * MAX_COLUMNS})])
    sheets: dict[str, Sheet] = {}
    notes: list[Issue] = []
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for title in book.sheet_names:
            if title.startswith("_"):
                continue
            if wanted is not None and not wanted(title):
                sheets[title] = Sheet(title, [])
                continue
            rows = book.get_sheet_by_name(title).to_python(skip_empty_area=False)
            sheets[title] = _sheet_of(title, rows)
            formulas = extent.get(title, (0, 0, []))[2]
            if formulas:
                notes.append(Issue(title, formulas[0][0], get_column_letter(formulas[0][1]), "formula_value_used",
                                   {"count": len(formulas)}, warning=True))
    except DefinitionError:
        raise
    except Exception as exc:   # the reader's own errors for a broken file
        raise DefinitionError([Issue(None, None, None, "corrupt_file", {"detail": type(exc).__name__})]) from None
    return sheets, notes


def _sheet_of(title: str, rows: list[list]) -> Sheet:
    """Rows of values as a Sheet: the first row with something in it holds the headers."""
    sheet = Sheet(title, [])
    for number, row in enumerate(rows, start=1):
        values = {}
        for column, value in enumerate(row, start=1):
            text = _text(value)
            if len(text) > MAX_CELL_CHARS:
                raise DefinitionError([Issue(title, number, get_column_letter(column), "cell_too_long",
                                             {"limit": MAX_CELL_CHARS})])
            if text != "":
                values[column] = text
        if values:
            _add_row(sheet, number, values)
    return sheet
