"""The formula guard: user text goes into a workbook as text, never as a formula.

openpyxl stores any string that begins with ``=`` as a formula. A cell made here keeps such
a string as a plain text value (data type ``s``), so opening the file runs nothing.
"""
from __future__ import annotations

from openpyxl.cell import WriteOnlyCell


def text_cell(worksheet, value):
    """A write-only cell holding ``value``; strings are always stored as text."""
    cell = WriteOnlyCell(worksheet, value=value)
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell
