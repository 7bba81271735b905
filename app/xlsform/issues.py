"""Located problems found in a questionnaire file: (sheet, row, column, message)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    sheet: str | None
    row: int | None
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    warning: bool = False

    def where(self) -> str:
        parts = [p for p in (self.sheet, f"row {self.row}" if self.row else None,
                             f"column {self.column}" if self.column else None) if p]
        return ", ".join(parts)


class DefinitionError(Exception):
    """The file cannot be read at all (not a workbook, too large, macros…)."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(i.code for i in issues))
        self.issues = issues
