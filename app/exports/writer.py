"""Writing sheets of rows — to an .xlsx through XlsxWriter, or to CSV — behind one small
interface, so a faster writer can be added later without touching what builds the rows.

Safe by construction: every text is written as text, never as a formula or a link
(XlsxWriter's ``write_string``, with ``strings_to_formulas`` and ``strings_to_urls`` off); in
CSV a cell that a spreadsheet would evaluate (it begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is prefixed with an apostrophe. A cell longer than Excel's limit is cut
with a visible marker; sheet names are made valid and unique.
"""
from __future__ import annotations

import contextlib
import csv
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import xlsxwriter

MAX_CELL = 32_767
CUT = " […]"   # ends a text cut to the cell limit
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_EVALUATED = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: str) -> str:
    """A text as a cell can hold it: cut to the limit, with the marker."""
    return value if len(value) <= MAX_CELL else value[:MAX_CELL - len(CUT)] + CUT


def csv_text(value: str) -> str:
    """A text as a CSV cell that no spreadsheet evaluates."""
    value = cell_text(value)
    return "'" + value if value.startswith(_EVALUATED) else value


def excel_date_format(pattern: str) -> str:
    """A CLDR date pattern (Babel's ``get_date_format("short", locale).pattern``, such as
    ``d. M. y.`` or ``M/d/yy``) as an Excel number format: the reader's order and separators,
    months as numbers, four-digit years, every other character a literal (so Excel does not swap
    in the system's own separators)."""
    out = []
    for token in re.findall(r"y+|M+|L+|d+|'[^']*'|.", pattern):
        if token[0] == "y":
            out.append("yyyy")
        elif token[0] in "ML":
            out.append("mm" if len(token) != 1 else "m")
        elif token[0] == "d":
            out.append(token[:2])
        elif token.startswith("'"):
            out.append("".join("\\" + char for char in token.strip("'")))
        elif token.isalpha():
            continue   # an era, a weekday: not in a short date's cell
        else:
            out.append("\\" + token)
    return "".join(out).strip("\\ ") or "yyyy-mm-dd"


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid worksheet name (31 characters, no ``[]:*?/\\``, not empty, not quoted), unique
    among ``taken`` (compared as Excel does, without case); added to ``taken``."""
    clean = _SHEET_FORBIDDEN.sub("_", name).strip().strip("'") or "Sheet"
    candidate, number = clean[:31], 1
    while candidate.lower() in {t.lower() for t in taken}:
        number += 1
        suffix = f" ({number})"
        candidate = clean[:31 - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


@dataclass
class Styles:
    """The few formats a Matrica workbook uses, made once per workbook."""
    header: Any = None
    wrap: Any = None
    percent: Any = None
    number: Any = None
    date: Any = None
    moment: Any = None
    title: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class XlsxSheet:
    def __init__(self, book: XlsxBook, worksheet):
        self.book, self.worksheet, self.row = book, worksheet, 0
        self.name = worksheet.get_name()

    def write(self, values: Iterable[Any], formats: Iterable[Any] | None = None) -> int:
        """Write one row (texts as text, numbers as numbers, dates as dates); its index."""
        formats = list(formats) if formats is not None else []
        for column, value in enumerate(values):
            style = formats[column] if column < len(formats) else None
            self.book.write_cell(self.worksheet, self.row, column, value, style)
        self.row += 1
        return self.row - 1

    def header(self, names: Iterable[str], widths: Iterable[float] | None = None, freeze: bool = True,
               autofilter: bool = True) -> None:
        names = list(names)
        self.write(names, [self.book.styles.header] * len(names))
        for column, width in enumerate(widths or []):
            self.worksheet.set_column(column, column, width, self.book.styles.wrap if width >= 30 else None)
        if freeze:
            self.worksheet.freeze_panes(self.row, 0)
        self._columns = len(names)
        self._autofilter = autofilter

    def finish(self) -> None:
        """Filters over the written table, header rows repeated on paper, landscape."""
        if getattr(self, "_autofilter", False) and self.row > 1:
            self.worksheet.autofilter(0, 0, self.row - 1, self._columns - 1)
        self.worksheet.repeat_rows(0)
        self.worksheet.set_landscape()
        self.worksheet.fit_to_pages(1, 0)


class XlsxBook:
    """A workbook written through XlsxWriter; ``constant_memory`` streams rows to disk as they
    are written (rows must then be written in order, one sheet at a time)."""

    def __init__(self, target, constant_memory: bool = False, date_format: str = "yyyy-mm-dd"):
        # rows streamed to disk go to a scratch directory of this book's own, removed however it ends
        self._scratch = tempfile.mkdtemp(prefix="matrica-xlsx-") if constant_memory else None
        self.workbook = xlsxwriter.Workbook(target, {
            "constant_memory": constant_memory, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "in_memory": not constant_memory, "default_date_format": date_format,
            "tmpdir": self._scratch})
        self.names: set[str] = set()
        add = self.workbook.add_format
        self.styles = Styles(header=add({"bold": True, "bg_color": "#E8EEF5", "text_wrap": True, "valign": "top",
                                         "bottom": 1}),
                             wrap=add({"text_wrap": True, "valign": "top"}), percent=add({"num_format": "0%"}),
                             number=add({"num_format": "#,##0.##"}), date=add({"num_format": date_format}),
                             moment=add({"num_format": f"{date_format} hh:mm"}),
                             title=add({"bold": True, "font_size": 14}))

    def sheet(self, name: str) -> XlsxSheet:
        return XlsxSheet(self, self.workbook.add_worksheet(sheet_name(name, self.names)))

    def write_cell(self, worksheet, row: int, column: int, value: Any, style=None) -> None:
        if value is None or value == "":
            worksheet.write_blank(row, column, None, style)
        elif isinstance(value, bool):
            worksheet.write_boolean(row, column, value, style)
        elif isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                worksheet.write_string(row, column, str(value), style)
            else:
                worksheet.write_number(row, column, value, style)
        elif isinstance(value, datetime):   # a moment: as the caller gives it, naive, in the reader's time zone
            worksheet.write_datetime(row, column, value.replace(tzinfo=None), style or self.styles.moment)
        elif isinstance(value, date):
            worksheet.write_datetime(row, column, value, style or self.styles.date)
        else:
            worksheet.write_string(row, column, cell_text(str(value)), style)

    def close(self) -> None:
        """Assemble the file; the scratch files go whether or not it could be written."""
        try:
            self.workbook.close()
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop what was written so far, without assembling a file (a failed export)."""
        for worksheet in self.workbook.worksheets():
            handle = getattr(worksheet, "row_data_fh", None)   # XlsxWriter's stream of a sheet's rows
            if handle is not None and not handle.closed:
                handle.close()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


class CsvSheet:
    def __init__(self, stream, name: str = ""):
        self.writer = csv.writer(stream, lineterminator="\r\n")
        self.row, self.name = 0, name

    def write(self, values: Iterable[Any], formats=None) -> int:
        self.writer.writerow([csv_text(v) if isinstance(v, str) else "" if v is None else
                              v.isoformat() if isinstance(v, (date, datetime)) else v for v in values])
        self.row += 1
        return self.row - 1

    def header(self, names: Iterable[str], widths=None, freeze: bool = True, autofilter: bool = True) -> None:
        self.write(list(names))

    def finish(self) -> None:
        pass


class CsvBook:
    """CSV in UTF-8 with a byte order mark (Excel then reads Cyrillic correctly), written to
    ``target`` (a path or a binary stream): one sheet is one .csv; several are a .zip of one
    .csv per sheet. Rows go to temporary files as they are written."""

    def __init__(self, target):
        self.target, self.names = target, set()
        self._sheets: list[tuple[str, Any]] = []

    def sheet(self, name: str) -> CsvSheet:
        name = sheet_name(name, self.names)
        stream = tempfile.TemporaryFile("w+", encoding="utf-8-sig", newline="")
        self._sheets.append((name, stream))
        return CsvSheet(stream, name)

    @property
    def several(self) -> bool:
        return len(self._sheets) > 1

    def close(self) -> None:
        try:
            self._assemble()
        finally:
            self.abort()

    def abort(self) -> None:
        for _name, stream in self._sheets:
            stream.close()

    def _assemble(self) -> None:
        with contextlib.ExitStack() as stack:
            out = self.target if hasattr(self.target, "write") else stack.enter_context(open(self.target, "wb"))
            if not self.several:
                for _name, stream in self._sheets:
                    stream.seek(0)
                    shutil.copyfileobj(stream.buffer, out)
            else:
                with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                    for name, stream in self._sheets:
                        stream.seek(0)
                        with archive.open(f"{name}.csv", "w") as member:
                            shutil.copyfileobj(stream.buffer, member)
