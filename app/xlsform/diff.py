"""What changed between two versions of a questionnaire: questions, choices, indicators and
areas added, removed or changed (which columns), with the changes that move a score called
out. Rows are matched by name (survey), by list and name (choices) and by code (indicators,
areas), never by row number, so moving a row is no change."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.xlsform.definition import row_key

# Columns whose change alters what a response scores.
SCORING = {"survey": {"score", "max_score", "indicator", "evidence"}, "choices": {"score"},
           "indicators": None, "areas": None}   # None: every column of the sheet
IGNORED = {"row"}


@dataclass(frozen=True)
class Change:
    sheet: str                 # survey | choices | indicators | areas | settings
    key: str                   # the name, list/name or code
    kind: str                  # added | removed | changed
    columns: tuple[str, ...] = ()   # the columns that differ (changed)
    scoring: bool = False      # it changes what a response scores


def _keyed(definition: dict[str, Any], sheet: str) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for record in definition.get(sheet, []):
        key = row_key(sheet, record)
        if key and key.strip("/"):
            rows.setdefault(key, record)
    return rows


def _columns(record: dict) -> dict[str, Any]:
    return {column: value for column, value in record.items()
            if column not in IGNORED and not column.startswith("_") and value not in ("", {}, None)}


def _scores(sheet: str, columns) -> bool:
    scoring = SCORING.get(sheet, set())
    return scoring is None or bool(scoring & set(columns))


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``, sheet by sheet, in the new version's order (the
    removed rows after, in the old version's order)."""
    found: list[Change] = []
    for sheet in ("survey", "choices", "indicators", "areas"):
        before, after = _keyed(old, sheet), _keyed(new, sheet)
        for key, record in after.items():
            if key not in before:
                found.append(Change(sheet, key, "added", scoring=_scores(sheet, _columns(record))))
                continue
            a, b = _columns(before[key]), _columns(record)
            differing = tuple(sorted(column for column in set(a) | set(b) if a.get(column) != b.get(column)))
            if differing:
                found.append(Change(sheet, key, "changed", differing, _scores(sheet, differing)))
        for key, record in before.items():
            if key not in after:
                found.append(Change(sheet, key, "removed", scoring=_scores(sheet, _columns(record))))
    settings = tuple(sorted(column for column in ("title", "version", "default_language")
                            if old.get(column) != new.get(column)))
    if settings:
        found.append(Change("settings", "", "changed", settings))
    return found
