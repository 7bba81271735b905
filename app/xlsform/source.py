"""The diffable source form of a questionnaire: a folder with one CSV file per sheet.

``survey.csv``, ``choices.csv``, ``settings.csv``, ``indicators.csv``, ``areas.csv`` (UTF-8,
comma-separated, a header row). The shipped questionnaires live in this form in the
repository; ``to_xlsx`` produces the .xlsx that users download and edit.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from app.xlsform.workbook import Sheet, write_workbook

SHEET_ORDER = ("survey", "choices", "settings", "indicators", "areas")


def read_folder(folder: Path) -> dict[str, Sheet]:
    sheets: dict[str, Sheet] = {}
    for name in SHEET_ORDER:
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            headers = next(reader)
            rows = [(number, row) for number, row in enumerate(reader, start=2) if any(cell.strip() for cell in row)]
        sheets[name] = Sheet(name, headers, rows)
    return sheets


def to_xlsx(folder: Path) -> bytes:
    return write_workbook(list(read_folder(folder).values()))


def write_folder(sheets: list[Sheet], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for sheet in sheets:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(sheet.headers)
        for _number, cells in sheet.rows:
            writer.writerow(cells + [""] * (len(sheet.headers) - len(cells)))
        (folder / f"{sheet.name}.csv").write_text(buffer.getvalue(), encoding="utf-8")
