"""The translation workbook: every translatable text of a questionnaire version on one sheet —
where it is, the text in the form's default language, and one column per language — for
translators to fill in Excel, and the merge of a filled one into a new definition.

A merge never drops a translation: an empty cell keeps what is there. A row whose default
text changed since the workbook was made is flagged and left as it is (its translation may
no longer fit). The workbook names its questionnaire and version on an ``about`` sheet, so one
made for another questionnaire or version is refused before anything is read.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from babel import Locale, UnknownLocaleError
from openpyxl.utils import get_column_letter

from app.languages import LANGUAGES
from app.xlsform.definition import TRANSLATABLE, _split_header, language_code, row_key
from app.xlsform.issues import Issue
from app.xlsform.workbook import Sheet

TEXTS = "translations"
ABOUT = "about"
FIXED = ["sheet", "name", "column"]
MACHINE = "machine-made"   # the last column: the languages of the row whose text no person has confirmed
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
COLUMN_ORDER = ["label", "hint", "guidance_hint", "constraint_message", "required_message"]
SHEETS = ("settings", "survey", "choices", "indicators", "areas")
TITLE = "title"   # the name of the row holding the form's title (the settings' ``label::…``)


def _titled(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with its title in every language it has as the settings' label, which
    the workbook's title row reads and writes (a shallow copy: ``definition`` is unchanged)."""
    if not definition.get("titles"):
        return definition
    return {**definition, "settings": dict(definition.get("settings") or {}, label=dict(definition["titles"]))}


def _records(definition: dict[str, Any], sheet: str) -> list[dict]:
    return [definition.get("settings") or {}] if sheet == "settings" else definition[sheet]


def _texts(definition: dict[str, Any]):
    """(sheet, key, column, record) of every text the form has in some language, in form order:
    the title first (from a definition ``_titled``), then the survey, choices, indicators, areas."""
    for sheet in SHEETS:
        for record in _records(definition, sheet):
            key = TITLE if sheet == "settings" else row_key(sheet, record)
            for column in COLUMN_ORDER:
                if column in TRANSLATABLE[sheet] and record.get(column) and key:
                    yield sheet, key, column, record


def _spec(definition: dict[str, Any], code: str) -> str:
    """A language as a header names it: ``Shqip (sq)``."""
    name = next((language["name"] for language in definition["languages"] if language["code"] == code),
                LANGUAGES[code][0] if code in LANGUAGES else code)
    return name if language_code(name) == code and "(" in name else f"{name} ({code})" if name != code else code


def latin_from_cyrillic(text: str) -> str:
    """Serbian Cyrillic → Latin (lossless in that direction), ``${…}`` placeholders as written."""
    from serbian_translit import srp
    kept = PLACEHOLDER.findall(text)
    parts = [srp.to_lat(part) for part in PLACEHOLDER.split(text)]
    return "".join(part + (kept[i] if i < len(kept) else "") for i, part in enumerate(parts))


def _marks(record: dict) -> set[tuple[str, str]]:
    """(column, language) of the record's texts made by a machine: its ``machine_made`` cell,
    such as ``label:sr_Latn hint:sr_Latn``."""
    return {tuple(token.split(":", 1)) for token in (record.get("machine_made") or "").split() if ":" in token}


def _machine(record: dict, column: str) -> list[str]:
    return sorted(code for marked, code in _marks(record) if marked == column)


def workbook_sheets(definition: dict[str, Any], form_id: str, number: int, add: list[str] = (),
                    latin: bool = False) -> list[Sheet]:
    """The translation workbook of a version: ``about`` (what it belongs to) and the texts, with
    a column per language of the form and per language in ``add``. With ``latin``, Serbian
    Latin texts missing are made from the Serbian Cyrillic ones and marked machine-made."""
    definition = _titled(definition)
    source = definition["default_language"]
    languages = [language["code"] for language in definition["languages"] if language["code"] != source]
    add = list(add) + (["sr_Latn"] if latin else [])
    languages += [code for code in add if code not in languages and code != source]
    headers = FIXED + [_spec(definition, source)] + [_spec(definition, code) for code in languages] + [MACHINE]
    rows = []
    for number_in_sheet, (sheet, key, column, record) in enumerate(_texts(definition), start=2):
        texts, machine = dict(record[column]), _machine(record, column)
        if latin and not texts.get("sr_Latn") and texts.get("sr_Cyrl"):
            texts["sr_Latn"] = latin_from_cyrillic(texts["sr_Cyrl"])
            machine.append("sr_Latn")
        rows.append((number_in_sheet, [sheet, key, column, texts.get(source, "")]
                     + [texts.get(code, "") for code in languages] + [", ".join(sorted(set(machine)))]))
    about = Sheet(ABOUT, ["what", "value"], [(2, ["form_id", form_id]), (3, ["version", str(number)]),
                                             (4, ["source_language", source])])
    return [about, Sheet(TEXTS, headers, rows)]


@dataclass
class Merged:
    definition: dict[str, Any] | None
    issues: list[Issue] = field(default_factory=list)
    applied: int = 0                  # texts written (new or changed), or confirmed by a person
    untranslated: dict[str, int] = field(default_factory=dict)   # per language, after the merge


def _known(code: str) -> bool:
    if code in LANGUAGES:
        return True
    try:
        Locale.parse(code)
        return True
    except (UnknownLocaleError, ValueError):
        return False


def merge(definition: dict[str, Any], form_id: str, number: int, sheets: dict[str, Sheet]) -> Merged:
    """The definition with the workbook's translations merged in; errors leave it None."""
    issues: list[Issue] = []
    about = {cells[0].strip(): cells[1].strip() if len(cells) > 1 else ""
             for _row, cells in sheets.get(ABOUT, Sheet(ABOUT, [])).rows if cells}
    texts_sheet = sheets.get(TEXTS)
    if texts_sheet is None or ABOUT not in sheets:
        return Merged(None, [Issue(TEXTS if texts_sheet is None else ABOUT, None, None, "missing_sheet",
                                   {"sheet": TEXTS if texts_sheet is None else ABOUT})])
    if about.get("form_id") != form_id or about.get("version") != str(number):
        return Merged(None, [Issue(ABOUT, 2, "B", "translation_other_version",
                                   {"form_id": about.get("form_id", ""), "version": about.get("version", ""),
                                    "expected_form_id": form_id, "expected_version": number})])
    headers = [h.strip() for h in texts_sheet.headers]
    if [h.lower() for h in headers[:3]] != FIXED or len(headers) < 4:
        return Merged(None, [Issue(TEXTS, texts_sheet.header_row, None, "translation_columns",
                                   {"columns": ", ".join(FIXED + ["…"])})])
    source = definition["default_language"]
    languages: list[tuple[int, str, str]] = []   # (index, code, spec)
    machine_at = headers.index(MACHINE) if MACHINE in headers else None
    for index, spec in enumerate(headers[4:], start=4):
        if not spec or index == machine_at:
            continue
        code = language_code(spec)
        if not _known(code):
            issues.append(Issue(TEXTS, texts_sheet.header_row, _letter(index), "unknown_language", {"language": spec}))
        elif code == source or code in {c for _i, c, _s in languages}:
            issues.append(Issue(TEXTS, texts_sheet.header_row, _letter(index), "duplicate_column",
                                {"column": spec, "first": spec}))
        else:
            languages.append((index, code, spec))
    if issues:
        return Merged(None, issues)
    merged = _titled(copy.deepcopy(definition))
    found = {(sheet, key, column): record for sheet, key, column, record in _texts(merged)}
    applied = 0
    for row, cells in texts_sheet.rows:
        cells = cells + [""] * (len(headers) - len(cells))
        where = (cells[0].strip(), cells[1].strip(), cells[2].strip())
        record = found.get(where)
        if record is None:
            issues.append(Issue(TEXTS, row, "B", "translation_row_unknown", {"name": where[1]}, warning=True))
            continue
        if cells[3].strip() != record[where[2]].get(source, "").strip():
            issues.append(Issue(TEXTS, row, "D", "source_changed", {"name": where[1]}, warning=True))
            continue
        marked = {code.strip() for code in cells[machine_at].split(",")} if machine_at is not None else set()
        machine = set(_machine(record, where[2]))
        for index, code, _spec_text in languages:
            value = cells[index].strip()
            if not value:
                continue   # an empty cell keeps the text, and whether a person confirmed it
            if record[where[2]].get(code) != value or (code in machine) != (code in marked):
                applied += 1
            record[where[2]][code] = value
            machine = machine | {code} if code in marked else machine - {code}
        marks = {(column, code) for column, code in _marks(record) if column != where[2]}
        marks |= {(where[2], code) for code in machine}
        if marks:
            record["machine_made"] = " ".join(f"{column}:{code}" for column, code in sorted(marks))
        else:
            record.pop("machine_made", None)
    known = {language["code"] for language in merged["languages"]}
    for _index, code, spec in languages:
        if code not in known:
            merged["languages"].append({"code": code, "name": spec})
    if merged.get("titles"):
        _untitle(merged, definition.get("settings") or {})
    _add_columns(merged)
    texts = [record[column] for _sheet, _key, column, record in _texts(_titled(merged))]
    untranslated = {language["code"]: sum(1 for text in texts if not text.get(language["code"]))
                    for language in merged["languages"]}
    return Merged(merged, issues, applied, untranslated)


def _untitle(merged: dict[str, Any], settings: dict[str, Any]) -> None:
    """The merged title row back in ``titles`` and the settings' label, where the title in the
    default language stays in ``form_title`` if that is where it was written."""
    merged["titles"] = dict(merged["settings"]["label"])
    written = settings.get("label") or {}
    label = {code: text for code, text in merged["titles"].items()
             if code != merged["default_language"] or code in written or not settings.get("form_title")}
    if label:
        merged["settings"]["label"] = label
    else:
        merged["settings"].pop("label")


def _letter(index: int) -> str:
    return get_column_letter(index + 1)


def _add_columns(definition: dict[str, Any]) -> None:
    """A header for every (column, language) that now has a text but no column to be written in."""
    for sheet in SHEETS:
        headers = definition["columns"].setdefault(sheet, [])
        present = set()
        for header in headers:
            column, language = _split_header(header, sheet)
            if column in TRANSLATABLE[sheet]:
                present.add((column, language_code(language) if language is not None else definition["plain_language"]))
        needed = []
        for record in _records(definition, sheet):
            for column in COLUMN_ORDER:
                for code in (record.get(column) or {}) if column in TRANSLATABLE[sheet] else ():
                    if (column, code) not in present and (column, code) not in needed:
                        needed.append((column, code))
        headers.extend(f"{column}::{_spec(definition, code)}" for column, code in needed)
        if any(record.get("machine_made") for record in _records(definition, sheet)) and "machine_made" not in headers:
            headers.append("machine_made")


def machine_made(definition: dict[str, Any]) -> dict[str, int]:
    """Per language: the texts made by a machine that no person has confirmed yet."""
    counts: dict[str, int] = {}
    for _sheet, _key, column, record in _texts(_titled(definition)):
        for code in _machine(record, column):
            counts[code] = counts.get(code, 0) + 1
    return counts
