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
        return _read_ods(data, wanted)
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
    """The kind of workbook (``xlsx`` or ``ods``), once the file is known to be a sound zip of
    the right shape; DefinitionError otherwise."""
    if len(data) > MAX_FILE_BYTES:
        raise DefinitionError([Issue(None, None, None, "file_too_large", {"limit_mb": MAX_FILE_BYTES // 1048576})])
    if data.startswith(OLE2):   # .xls (and other old Office files): no safe reader here
        raise DefinitionError([Issue(None, None, None, "old_excel_format", {})])
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

def _ods_extent(content: bytes) -> dict[str, tuple[int, int, list[tuple[int, int]]]]:
    """Per sheet: the last row and column holding something, and the (row, column) of its
    formulas, read from ``content.xml`` with repeats counted but never expanded — so a file
    that states a million repeated rows costs nothing here, and is refused before a reader
    builds them."""
    from defusedxml.ElementTree import iterparse
    extent: dict[str, tuple[int, int, list[tuple[int, int]]]] = {}
    sheet, row, last_row, last_column, formulas = None, 0, 0, 0, []
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
    return extent


def _read_ods(data: bytes, wanted: Callable[[str], bool] | None) -> tuple[dict[str, Sheet], list[Issue]]:
    from python_calamine import CalamineWorkbook
    try:
        extent = _ods_extent(zipfile.ZipFile(io.BytesIO(data)).read("content.xml"))
    except Exception as exc:   # malformed XML, or entities refused by defusedxml
        raise DefinitionError([Issue(None, None, None, "corrupt_file", {"detail": type(exc).__name__})]) from None
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
            last_row, last_column, formulas = extent.get(title, (0, 0, []))
            if last_row > MAX_ROWS + 1:
                raise DefinitionError([Issue(title, MAX_ROWS + 2, None, "too_many_rows", {"limit": MAX_ROWS})])
            if last_column > MAX_COLUMNS:
                raise DefinitionError([Issue(title, None, get_column_letter(MAX_COLUMNS + 1), "too_many_columns",
                                             {"limit": MAX_COLUMNS})])
            rows = book.get_sheet_by_name(title).to_python(skip_empty_area=False)
            sheets[title] = _sheet_of(title, rows)
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
