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
from app.xlsform.definition import FILE_TYPES

MAX_TEXT = 10_000
MAX_EVIDENCE = 10_000
MAX_NUMBER = 1e15      # no number the app accepts is this large, whatever a definition says
MAX_DECIMAL = 1e12     # a decimal answer's default bound (parameters: min=… max=…)
DECIMALS = 6           # a decimal answer's default digits after the point (parameters: decimals=…)
MAX_DECIMALS = 10
_INTEGER = re.compile(r"^[+-]?\d{1,16}$")
_DECIMAL = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
STORED_FILE = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]{1,5}$")
# Control characters other than tab and line breaks (C0, DEL, C1) and Unicode noncharacters:
# never part of an answer (HTML, spreadsheets and PostgreSQL cannot hold them all).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


def finite(text: str | None, low: float = -MAX_NUMBER, high: float = MAX_NUMBER) -> float | None:
    """``text`` as a finite number within [low, high], or None."""
    try:
        number = float(text)   # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def number_bounds(node: Node) -> tuple[float, float, int]:
    """(lowest, highest, digits after the point) a numeric question accepts: its ``parameters``
    (``min=0 max=100 decimals=2``), else the type's defaults; never beyond ``MAX_NUMBER``."""
    if node.type == "range":
        start, end, _step = range_parameters(node)
        return min(start, end), max(start, end), MAX_DECIMALS
    limit = MAX_DECIMAL if node.type == "decimal" else MAX_NUMBER - 1
    low = finite(node.parameters.get("min"))
    high = finite(node.parameters.get("max"))
    digits = finite(node.parameters.get("decimals"), 0, MAX_DECIMALS) if node.type == "decimal" else 0
    return (-limit if low is None else low, limit if high is None else high,
            DECIMALS if digits is None else int(digits))


def range_parameters(node: Node) -> tuple[float, float, float]:
    """(start, end, step) of a range question; the defaults (1, 10, 1) for what is missing or
    not a usable number."""
    start = finite(node.parameters.get("start"))
    end = finite(node.parameters.get("end"))
    step = finite(node.parameters.get("step"))
    return (1.0 if start is None else start, 10.0 if end is None else end,
            1.0 if not step else abs(step))


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
        items = [item.strip() for item in raw if item.strip()]
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
    if CONTROL.search(text):
        raise InputError("control_character")
    if kind == "integer":
        if not _INTEGER.match(text):
            raise InputError("not_integer")
        number = int(text)
        low, high, _digits = number_bounds(node)
        if not low <= number <= high:
            raise InputError("out_of_bounds", (_fmt(low), _fmt(high)))
        return str(number)
    if kind in ("decimal", "range"):
        if not _DECIMAL.match(text):
            raise InputError("not_number")
        written = text.replace(",", ".")
        number = float(written)
        low, high, digits = number_bounds(node)
        if kind == "range":
            start, _end, step = range_parameters(node)
            steps = (number - start) / step
            if not low <= number <= high or abs(steps - round(steps)) > 1e-9:
                raise InputError("out_of_range", (_fmt(low), _fmt(high), _fmt(step)))
        elif not low <= number <= high:
            raise InputError("out_of_bounds", (_fmt(low), _fmt(high)))
        fraction = written.partition(".")[2].rstrip("0")
        if len(fraction) > digits:
            raise InputError("too_many_decimals", (digits,))
        return _fmt(number)
    if kind == "text":
        if len(text) > MAX_TEXT:
            raise InputError("too_long", (MAX_TEXT,))
        return text
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat() if len(text) == 10 else _bad("not_date")
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
        if kind == "select_one" and " " in text and text in names:   # a choice name with a space, whole
            return text
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
    if kind == "geopoint":
        return _geopoint(text)
    if kind in FILE_TYPES:   # an uploaded file's stored name: <sha256>.<extension>
        if not STORED_FILE.match(text):
            raise InputError("unknown_file")
        return text
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
    """A finite number as stored: ``12``, ``12.5`` (never an exponent for what the bounds allow)."""
    number = float(number)
    if number.is_integer():
        return str(int(number))
    text = repr(number)
    return f"{number:.{MAX_DECIMALS}f}".rstrip("0") if "e" in text else text


def typed(node: Node, stored: str | None) -> Any:
    """The value an expression sees: numbers for numeric types, dates for dates, else the string."""
    if not stored:
        return ""
    if node.type in ("integer", "decimal", "range"):
        number = finite(stored)
        return "" if number is None else number
    if node.type == "date":
        try:
            return date.fromisoformat(stored)
        except ValueError:
            return ""
    return stored


def _geopoint(text: str) -> str:
    """``latitude longitude`` in decimal degrees (an altitude and an accuracy may follow, as ODK
    writes them; they are kept)."""
    parts = [part.replace(",", ".") for part in re.split(r"[\s;]+|,\s+", text) if part]
    if len(parts) < 2 or len(parts) > 4 or not all(_DECIMAL.match(part) for part in parts):
        raise InputError("not_geopoint")
    latitude, longitude = float(parts[0]), float(parts[1])
    if not -90 <= latitude <= 90:
        raise InputError("latitude_range")
    if not -180 <= longitude <= 180:
        raise InputError("longitude_range")
    return " ".join(parts)
