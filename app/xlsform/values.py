"""Answers as stored (canonical XLSForm strings) ↔ typed values, and checking raw input.

Answers are stored as ODK stores them: numbers as written, ``select_multiple`` and ``rank`` as
space-separated choice names, dates ``YYYY-MM-DD``, times ``HH:MM:SS``, date-times ISO 8601.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from app.xlsform.compiled import CompiledForm, Node

MAX_TEXT = 10_000
MAX_EVIDENCE = 10_000
MAX_NUMBER = 1e15
_INTEGER = re.compile(r"^[+-]?\d{1,16}$")
_DECIMAL = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


@dataclass(frozen=True)
class InputError(Exception):
    code: str            # not_integer, not_number, too_long, not_date…, unknown_choice…
    params: tuple = ()

    def __str__(self) -> str:
        return self.code


def parse_input(form: CompiledForm, node: Node, raw: str | list[str] | None) -> str:
    """The canonical stored string for what the respondent entered; InputError if it is not valid
    for the question's type. An empty answer is ``""``."""
    if isinstance(raw, list):
        items = [item.strip() for item in raw if item and item.strip()]
        text = " ".join(items)
    else:
        text = (raw or "").strip() if node.type not in ("text",) else (raw or "")
        if node.type == "text":
            text = text.replace("\r\n", "\n")
            if not text.strip():
                text = ""
    if text == "":
        return ""
    kind = node.type
    if kind == "integer":
        if not _INTEGER.match(text):
            raise InputError("not_integer")
        number = int(text)
        if abs(number) >= MAX_NUMBER:
            raise InputError("number_too_large")
        return str(number)
    if kind in ("decimal", "range"):
        if not _DECIMAL.match(text):
            raise InputError("not_number")
        number = float(text.replace(",", "."))
        if not math.isfinite(number) or abs(number) >= MAX_NUMBER:
            raise InputError("number_too_large")
        if kind == "range":
            start = float(node.parameters.get("start", 1))
            end = float(node.parameters.get("end", 10))
            step = float(node.parameters.get("step", 1))
            low, high = min(start, end), max(start, end)
            if not low <= number <= high or abs(((number - start) / step) - round((number - start) / step)) > 1e-9:
                raise InputError("out_of_range", (_fmt(low), _fmt(high), _fmt(abs(step))))
        return _fmt(number)
    if kind == "text":
        if len(text) > MAX_TEXT:
            raise InputError("too_long", (MAX_TEXT,))
        return text
    if kind == "date":
        try:
            return date.fromisoformat(text[:10]).isoformat() if len(text) == 10 else _bad("not_date")
        except ValueError:
            raise InputError("not_date") from None
    if kind == "time":
        try:
            return time.fromisoformat(text).replace(microsecond=0).isoformat()
        except ValueError:
            raise InputError("not_time") from None
    if kind == "datetime":
        try:
            return datetime.fromisoformat(text).replace(microsecond=0).isoformat()
        except ValueError:
            raise InputError("not_datetime") from None
    if kind in ("select_one", "select_multiple", "rank"):
        names = {choice.name for choice in form.choices.get(node.list_name or "", [])}
        if node.or_other:
            names.add("other")
        items = text.split()
        unknown = [item for item in items if item not in names]
        if unknown:
            raise InputError("unknown_choice", (unknown[0],))
        if kind == "select_one" and len(items) != 1:
            raise InputError("one_choice_only")
        if len(set(items)) != len(items):
            raise InputError("duplicate_choice")
        if kind == "rank" and len(items) != len(names):
            raise InputError("rank_all")
        return " ".join(items)
    if kind == "acknowledge":
        if text not in ("OK", "ok", "1", "true", "yes"):
            raise InputError("not_acknowledged")
        return "OK"
    if kind in ("hidden",):
        return text[:MAX_TEXT]
    raise InputError("not_answerable")


def _bad(code: str):
    raise InputError(code)


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def typed(node: Node, stored: str | None) -> Any:
    """The value an expression sees: numbers for numeric types, dates for dates, else the string."""
    if stored is None or stored == "":
        return ""
    if node.type in ("integer", "decimal", "range"):
        try:
            return float(stored)
        except ValueError:
            return ""
    if node.type == "date":
        try:
            return date.fromisoformat(stored)
        except ValueError:
            return ""
    return stored
