"""Builders of XLSForm workbooks (good and hostile) for the tests and the bench."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook

from app.xlsform.source import to_xlsx

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "forms" / "sample"
SHIPPED = ROOT / "app" / "questionnaires"


def workbook(survey: list[list], choices: list[list] | None = None, settings: list[list] | None = None,
             extra: dict[str, list[list]] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    for title, rows in (("choices", choices), ("settings", settings or [["form_id"], ["tiny"]]), *(extra or {}).items()):
        if rows is None:
            continue
        other = book.create_sheet(title)
        for row in rows:
            other.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def minimal(**kwargs) -> bytes:
    return workbook([["type", "name", "label"], ["text", "q1", "Question one"]], **kwargs)


def sample_xlsx() -> bytes:
    return to_xlsx(SAMPLE)


def zip_bomb() -> bytes:
    """A workbook whose worksheet unpacks to 80 MB of blanks."""
    good = zipfile.ZipFile(io.BytesIO(minimal()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in good.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(item, good.read(item))
        with bomb.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b" " * (1024 * 1024)
            for _ in range(80):
                member.write(chunk)
    return buffer.getvalue()


def with_macros() -> bytes:
    good = zipfile.ZipFile(io.BytesIO(minimal()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as xlsm:
        for item in good.infolist():
            xlsm.writestr(item, good.read(item))
        xlsm.writestr("xl/vbaProject.bin", b"\x00" * 64)
    return buffer.getvalue()


def corrupt() -> bytes:
    data = bytearray(sample_xlsx())
    middle = len(data) // 2
    data[middle:middle + 200] = b"\xff" * 200
    return bytes(data)


def far_row(row: int = 1_000_000) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    sheet.append(["text", "q1", "Question one"])
    sheet.cell(row=row, column=1, value="text")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def stated_million_rows() -> bytes:
    """A small sheet whose <dimension> claims A1:Z1000000."""
    data = minimal()
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                import re
                content = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:Z1000000"', content)
            out.writestr(item, content)
    return buffer.getvalue()


def rewritten(data: bytes, member: str, old: bytes, new: bytes) -> bytes:
    """The workbook ``data`` with ``old`` replaced by ``new`` in one of its zip members."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            content = source.read(item)
            out.writestr(item, content.replace(old, new) if item.filename == member else content)
    return buffer.getvalue()


def malformed_xml() -> bytes:
    """A workbook whose worksheet is not well-formed XML."""
    return rewritten(minimal(), "xl/worksheets/sheet1.xml", b"</sheetData>", b"<row><c></sheetData>")


def calculations(rows: list[list]) -> bytes:
    """A form of one integer question ``n`` followed by ``rows`` (type, name, label, calculation)."""
    return workbook([["type", "name", "label", "calculation"], ["integer", "n", "N", ""]] + rows)


def operator_chain(terms: int = 999) -> bytes:
    return calculations([["calculate", "total", "", "+".join(["1"] * terms)]])


def calculation_chain(length: int = 1000) -> bytes:
    """``length`` calculations, each reading the one after it."""
    rows = [["calculate", f"c{i}", "", f"${{c{i + 1}}} + 1"] for i in range(length - 1)]
    return calculations(rows + [["calculate", f"c{length - 1}", "", "${n}"]])


def calculation_ladder(length: int = 120) -> bytes:
    """``length`` calculations, each reading the one before it (in document order)."""
    rows = [["calculate", "c0", "", "${n}"]] + [["calculate", f"c{i}", "", f"${{c{i - 1}}} + 1"]
                                                   for i in range(1, length)]
    return calculations(rows + [["note", "shown", "Last: ${c%d}" % (length - 1), ""]])


def nested_groups(depth: int = 1000) -> bytes:
    return workbook([["type", "name", "label"]] + [["begin_group", f"g{i}", f"G{i}"] for i in range(depth)]
                    + [["text", "q1", "Q"]] + [["end_group", "", ""] for _ in range(depth)])


def regex_bomb() -> bytes:
    return workbook([["type", "name", "label", "constraint"],
                     ["text", "q1", "Q", "regex(., '(?:a{1500}){1500}')"]])


def many_patterns(calculations_: int = 5, calls: int = 76) -> bytes:
    expression = " or ".join(["regex(${q1}, '(a+)+$')"] * calls)
    return workbook([["type", "name", "label", "calculation"], ["text", "q1", "Q", ""]]
                    + [["calculate", f"r{i}", "", expression] for i in range(calculations_)])


def nested_repeats(count: int = 40) -> bytes:
    return workbook([["type", "name", "label", "repeat_count"],
                     ["begin_repeat", "a", "A", str(count)], ["begin_repeat", "b", "B", str(count)],
                     ["begin_repeat", "c", "C", str(count)], ["integer", "q", "Q", ""],
                     ["end_repeat", "", "", ""], ["end_repeat", "", "", ""], ["end_repeat", "", "", ""]])


HOSTILE = {
    "not_xlsx": lambda: b"This is a CSV file, not a workbook\n1,2,3\n",
    "corrupt_zip": corrupt,
    "zip_bomb": zip_bomb,
    "xlsm_macros": with_macros,
    "formula": lambda: workbook([["type", "name", "label"], ["text", "q1", "=HYPERLINK(\"http://x\", \"click\")"]]),
    "rows_10000": lambda: workbook([["type", "name", "label"]] + [["text", f"q{i}", f"Q{i}"] for i in range(10_000)]),
    "columns_300": lambda: workbook([["type", "name", "label"] + [f"extra{i}" for i in range(297)], ["text", "q1", "Q"]]),
    "million_rows": far_row,
    "cell_5mb": lambda: workbook([["type", "name", "label"], ["text", "q1", "x" * (5 * 1024 * 1024)]]),
    "wrong_types": lambda: workbook([["type", "name", "label"], [123, 5, 7.5]]),
    "duplicate_headers": lambda: workbook([["type", "name", "label", "name"], ["text", "q1", "Q", "q2"]]),
    "malformed_xml": malformed_xml,
    "groups_1000": nested_groups,
    "regex_bomb": regex_bomb,
    "regex_380_calls": many_patterns,
    "range_nan": lambda: workbook([["type", "name", "label", "parameters"], ["range", "q1", "Q", "start=-inf step=nan"]]),
    "loop_bomb": lambda: workbook(   # one loop over 4,000 choices with 1,000 questions: 4 million rows once read
        [["type", "name", "label"], ["begin loop over many", "each", ""]]
        + [["integer", f"q{i}", f"Q{i}"] for i in range(1000)] + [["end loop", "", ""]],
        [["list_name", "name", "label"]] + [["many", f"c{i}", f"C{i}"] for i in range(4000)]),
}
# Hostile forms that are valid now: each must be accepted, and evaluating it stay bounded.
BOUNDED = {
    "chain_999_terms": operator_chain,
    "calculations_1000": calculation_chain,
    "ladder_120": calculation_ladder,
    "nested_repeats_40": nested_repeats,
}
EXPECTED_CODE = {
    "not_xlsx": "not_a_workbook", "corrupt_zip": "corrupt_file", "zip_bomb": "zip_bomb",
    "xlsm_macros": "macros_not_allowed", "formula": "formula_not_allowed", "rows_10000": "too_many_rows",
    "columns_300": "too_many_columns", "million_rows": "too_many_rows", "cell_5mb": "cell_too_long",
    "wrong_types": "unknown_type", "duplicate_headers": "duplicate_column", "malformed_xml": "corrupt_file",
    "groups_1000": "too_deep_groups", "regex_bomb": "expression_invalid", "regex_380_calls": "too_many_patterns",
    "range_nan": "bad_parameter", "loop_bomb": "loop_too_large",
}


def ods(sheets: dict[str, list[list]], repeated: dict[str, tuple[int, int]] | None = None,
        formulas: dict[tuple[str, int, int], str] | None = None) -> bytes:
    """A minimal OpenDocument spreadsheet: ``sheets`` of text rows; ``repeated[sheet] = (rows,
    columns)`` adds one filled cell repeated that many times (a hostile file states a huge
    extent cheaply); ``formulas[(sheet, row, column)] = formula`` gives a text cell a formula."""
    from xml.sax.saxutils import escape
    tables = []
    for name, rows in sheets.items():
        lines = []
        for r, row in enumerate(rows, start=1):
            cells = []
            for c, value in enumerate(row, start=1):
                formula = (formulas or {}).get((name, r, c))
                extra = f' table:formula="of:{escape(formula)}"' if formula else ""
                cells.append(f'<table:table-cell office:value-type="string"{extra}><text:p>{escape(str(value))}'
                             f'</text:p></table:table-cell>' if value != "" else "<table:table-cell/>")
            lines.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
        if name in (repeated or {}):
            many_rows, many_columns = repeated[name]
            lines.append(f'<table:table-row table:number-rows-repeated="{many_rows}"><table:table-cell '
                         f'table:number-columns-repeated="{many_columns}" office:value-type="string"><text:p>x</text:p>'
                         f'</table:table-cell></table:table-row>')
        tables.append(f'<table:table table:name="{escape(name)}">{"".join(lines)}</table:table>')
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f'<office:body><office:spreadsheet>{"".join(tables)}</office:spreadsheet></office:body>'
               '</office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
