"""Indicator workbooks: plain rows in (already in the reader's language), a styled workbook
out — frozen headers, filters, widths, wrapped text, landscape pages with repeated headers,
percentages as numbers with a percent format, ratings as text and by colour, and a native
chart of the area scores. Nothing here reads the database or the request."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.exports.writer import XlsxBook, XlsxSheet

RATING_COLOURS = {"green": "#C6EFCE", "amber": "#FFEB9C", "red": "#FFC7CE"}


@dataclass
class Table:
    """One sheet: its name, headers, widths and rows; ``percent`` and ``rating`` name the
    columns shown as percentages and as ratings (text, coloured by conditional formats)."""
    name: str
    headers: list[str]
    rows: list[list[Any]]
    widths: list[float] = field(default_factory=list)
    percent: set[int] = field(default_factory=set)
    rating: set[int] = field(default_factory=set)


@dataclass
class Chart:
    """A clustered bar chart of one table's columns (area scores: self and reviewed)."""
    title: str
    table: str           # the name of the table whose rows it draws
    categories: int      # the column of the labels
    series: list[int]    # the columns drawn, each a series named by its header
    y_title: str = ""


@dataclass
class Book:
    cover_title: str
    cover: list[tuple[str, Any]]   # (what, value) pairs of the cover sheet
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    rating_words: dict[str, str] = field(default_factory=dict)   # green → the reader's word for it


def write(book: Book, target) -> None:
    """Write ``book`` to ``target`` (a path or a binary stream); rows go to disk as they are
    written (XlsxWriter's constant memory mode), so a large country costs no more memory."""
    out = XlsxBook(target, constant_memory=True)
    try:
        _fill(book, out)
        out.close()
    except BaseException:
        out.abort()
        raise


def _fill(book: Book, out: XlsxBook) -> None:
    cover = out.sheet(book.cover_title)
    cover.write([book.cover_title], [out.styles.title])
    cover.row += 1
    for what, value in book.cover:
        cover.write([what, value], [out.styles.header, out.styles.wrap])
    cover.worksheet.set_column(0, 0, 34)
    cover.worksheet.set_column(1, 1, 70, out.styles.wrap)
    written: dict[str, tuple[XlsxSheet, Table]] = {}
    colours = {word: out.workbook.add_format({"bg_color": RATING_COLOURS[rating]})
               for rating, word in book.rating_words.items()}
    for table in book.tables:
        sheet = out.sheet(table.name)
        sheet.header(table.headers, table.widths)
        formats = [out.styles.percent if i in table.percent else out.styles.wrap if i < len(table.widths)
                   and table.widths[i] >= 30 else None for i in range(len(table.headers))]
        for row in table.rows:
            sheet.write([value / 100 if i in table.percent and isinstance(value, (int, float)) else value
                         for i, value in enumerate(row)], formats)
        for column in table.rating:
            for word, style in colours.items():
                if sheet.row > 1:
                    sheet.worksheet.conditional_format(1, column, sheet.row - 1, column, {
                        "type": "cell", "criteria": "==", "value": f'"{word}"', "format": style})
        sheet.finish()
        written[table.name] = (sheet, table)
    for chart in book.charts:
        sheet, table = written[chart.table]
        if sheet.row < 2:
            continue
        drawn = out.workbook.add_chart({"type": "bar"})
        name = sheet.worksheet.get_name()
        for column in chart.series:
            drawn.add_series({"name": [name, 0, column], "categories": [name, 1, chart.categories, sheet.row - 1, chart.categories],
                              "values": [name, 1, column, sheet.row - 1, column]})
        drawn.set_title({"name": chart.title})
        drawn.set_x_axis({"min": 0, "max": 1, "num_format": "0%", "name": chart.y_title})
        drawn.set_size({"width": 720, "height": 60 + 36 * (sheet.row - 1)})
        sheet.worksheet.insert_chart(1, len(table.headers) + 1, drawn)
