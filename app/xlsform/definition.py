"""From XLSForm sheets to a questionnaire definition (a plain, JSON-ready dict), and back.

The definition keeps the form as XLSForm shapes it — rows of the survey, choices, indicators
and areas sheets, each cell under its canonical column, translations per language — so an
export gives the same form back. ``validate`` reports every problem located by sheet, row
and column; the compiled form (``compiled.py``) builds the question tree from it.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers
from openpyxl.utils import get_column_letter

from app.languages import LANGUAGES
from app.xlsform.expressions import ExpressionError, parse
from app.xlsform.issues import Issue
from app.xlsform.workbook import MAX_ROWS, Sheet

TRANSLATABLE = {
    "survey": {"label", "hint", "guidance_hint", "constraint_message", "required_message"},
    "choices": {"label"},
    "external_choices": {"label"},
    "indicators": {"label"},
    "areas": {"label"},
    "settings": {"label"},   # ``label::Shqip (sq)``: the form's title per language (pyxform's form label)
}
KNOWN = {
    "survey": {"type", "name", "label", "hint", "guidance_hint", "required", "required_message", "relevant",
               "constraint", "constraint_message", "calculation", "default", "read_only", "appearance",
               "choice_filter", "parameters", "repeat_count", "indicator", "score", "max_score", "evidence",
               "applies_to", "unit", "machine_made"},
    "choices": {"list_name", "name", "label", "score", "machine_made"},
    "external_choices": {"list_name", "name", "label"},
    "settings": {"form_id", "version", "form_title", "label", "default_language", "instance_name", "style",
                 "public_key", "submission_url", "allow_choice_duplicates", "namespaces", "clean_text_values",
                 "machine_made"},
    "indicators": {"code", "area", "section", "label", "method", "numerator", "denominator", "factor", "value",
                   "thresholds", "aggregate", "upper", "responsible", "when_no_cases", "availability", "machine_made"},
    "areas": {"code", "order", "label", "rating", "machine_made"},
}
ALIASES = {
    "survey": {"relevance": "relevant", "calculate": "calculation", "caption": "label",
               "constraint message": "constraint_message", "jr:constraintmsg": "constraint_message",
               "required message": "required_message", "jr:requiredmsg": "required_message",
               "readonly": "read_only", "read only": "read_only", "choice filter": "choice_filter",
               "bind::relevant": "relevant", "bind::constraint": "constraint", "bind::required": "required",
               "bind::calculate": "calculation", "bind::jr:constraintmsg": "constraint_message",
               "bind::jr:requiredmsg": "required_message", "bind::readonly": "read_only",
               "control::appearance": "appearance", "repeat count": "repeat_count", "jr:count": "repeat_count",
               "max score": "max_score", "maxscore": "max_score", "guidance hint": "guidance_hint",
               "default value": "default"},
    "choices": {"list name": "list_name", "value": "name", "caption": "label"},
    "external_choices": {"list name": "list_name", "value": "name", "caption": "label"},
    "settings": {"id_string": "form_id", "form id": "form_id", "title": "form_title", "form title": "form_title",
                 "default language": "default_language"},
    "indicators": {"indicator": "code", "name": "code"},
    "areas": {"area": "code", "name": "code"},
}
REJECTED_COLUMNS = {"trigger"}
# Pictures, sound and video shown beside a question's text: the files are not in the upload.
MEDIA_COLUMNS = {"image", "audio", "video", "big-image"}
SHEET_NAMES = {"survey", "choices", "settings", "indicators", "areas", "external_choices"}

# Questions answered with an uploaded document (evidence): the value is the file's stored name.
FILE_TYPES = {"image", "audio", "video", "file"}
QUESTION_TYPES = {"integer", "decimal", "range", "text", "note", "date", "time", "datetime", "calculate",
                  "acknowledge", "hidden", "geopoint"} | FILE_TYPES
SELECT_TYPES = {"select_one", "select_multiple", "rank"}
STRUCTURE_TYPES = {"begin_group", "end_group", "begin_repeat", "end_repeat"}
# What a device fills in: a desk survey keeps the row (so the form goes back as it came) and
# leaves the value empty; those with no meaning at a desk say so with a warning.
DEVICE_METADATA = {"simserial", "subscriberid", "phonenumber", "audit"}
METADATA_TYPES = {"start", "end", "today", "username", "email", "deviceid"} | DEVICE_METADATA
UNSUPPORTED_TYPES = {"background-audio", "background-geopoint", "start-geopoint", "xml-external",
                     "csv-external", "osm", "signature",
                     "annotate", "draw"}
TYPE_ALIASES = {"begin group": "begin_group", "end group": "end_group", "begin repeat": "begin_repeat",
                "end repeat": "end_repeat", "int": "integer", "string": "text",                 "datetime": "datetime", "begin_group": "begin_group", "q integer": "integer", "q decimal": "decimal",
                "imei": "deviceid", "photo": "image", "add image prompt": "image", "add photo prompt": "image",
                "add audio prompt": "audio", "add video prompt": "video", "add file prompt": "file", "gps": "geopoint",
                "phone number": "text", "get phone number": "phonenumber", "get device id": "deviceid",
                "get sim id": "simserial", "get subscriber id": "subscriberid", "barcode": "text",
                "geotrace": "text", "geoshape": "text", "location": "geopoint", "q location": "geopoint",
                "add date prompt": "date", "add integer prompt": "integer", "add decimal prompt": "decimal",
                "add text prompt": "text", "add note prompt": "note", "trigger": "acknowledge"}
EVIDENCE_VALUES = {"", "none", "optional", "required-when-positive"}
# ``unit`` of a number: ``currency`` is an amount in the answering institution's national
# currency, shown converted to euro at the cycle's exchange rate wherever it is read.
UNITS = {"currency"}
SECTIONS = {"law_policy", "practice"}
METHODS = {"points", "ratio", "band"}
AGGREGATES = {"", "sum", "mean"}
# How an area is rated: ``overall`` (its score, all its indicators together) or ``weakest_section``
# (the lower of its two sections' ratings: a law on paper does not make up for its practice).
AREA_RATINGS = {"overall", "weakest_section"}
# The kinds of institution that answer (``Institution.kind``): a survey row's ``applies_to``
# asks it of some of them only, and an indicator's ``responsible`` names whose answers a
# country's figure is made of.
INSTITUTION_KINDS = ("ministry", "police", "prosecution", "court", "social_welfare", "shelter",
                     "labour_inspectorate", "national_coordinator", "ngo", "other")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")
DEFAULT_THRESHOLDS = {"green": 75.0, "amber": 50.0}   # percent; an indicator's `thresholds` overrides them
# What one questionnaire may hold, so that no upload can exhaust a worker's stack, memory or time.
MAX_GROUP_DEPTH = 20        # groups and repeats inside one another
MAX_REPEAT_DEPTH = 3        # repeats inside one another
MAX_CALCULATIONS = 1000     # calculate rows and calculation cells
MAX_EXPRESSIONS = 5000      # expressions of every kind, in all sheets
MAX_REGEX = 100             # regex() calls in all expressions
MAX_NUMBER = 1e15           # no number in a definition (scores, parameters…) is larger
LANGUAGE_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)\)\s*$")
# Columns holding expressions, where typographic quotes are straightened as pyxform does.
EXPRESSION_COLUMNS = {
    "survey": {"relevant", "constraint", "required", "calculation", "choice_filter", "default", "read_only",
               "repeat_count", "score"},
    "indicators": {"numerator", "denominator", "value"},
}
STRAIGHT_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
                                 "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'"})
YES = {"yes", "true", "true()", "1"}
NO = {"", "no", "false", "false()", "0"}


def language_code(spec: str) -> str:
    """``Shqip (sq)`` → ``sq``; ``sq`` → ``sq``; a language's name in English or in itself
    (``English``, ``Français``, ``Српски``) → its code; any other name stays a content
    language of its own (``Tigrinya dialect`` → ``Tigrinya dialect``)."""
    match = LANGUAGE_CODE.search(spec)
    code = match.group(1) if match else language_names().get(spec.strip().lower(), spec.strip())
    return code.replace("-", "_")


def named_language(spec: str) -> bool:
    """Whether ``spec`` names a language by a name that ``language_code`` turns into a code."""
    return not LANGUAGE_CODE.search(spec) and spec.strip().lower() in language_names()


@cache
def language_names() -> dict[str, str]:
    """Language names, lowercased, in English and in the language itself → code: CLDR's base
    languages, and Matrica's interface languages by their own names first."""
    names = {name.lower(): code for code, (name, _locale) in LANGUAGES.items()}
    names.update({"srpski": "sr_Latn", "српски": "sr_Cyrl", "crnogorski": "cnr", "montenegrin": "cnr"})
    english = Locale("en").languages
    for code in (identifier for identifier in locale_identifiers() if "_" not in identifier):
        if code in english:
            names.setdefault(english[code].lower(), code)
        try:
            native = Locale.parse(code).get_language_name(code)
        except (UnknownLocaleError, ValueError):
            native = None
        if native:
            names.setdefault(native.lower(), code)
    return names


def _split_header(header: str, sheet: str) -> tuple[str, str | None]:
    """(canonical column, language spec or None); ``label:English`` (one colon, as some tools
    write it) is read as ``label::English``."""
    text = header.strip()
    base, sep, language = text.partition("::")
    if not sep and ":" in base and base.split(":", 1)[0].strip().lower() in TRANSLATABLE.get(sheet, ()):
        base, sep, language = base.partition(":")
    lowered = base.strip().lower()
    if lowered in ("media", "bind", "body", "instance", "control") and sep:
        inner, sep2, language2 = language.partition("::")
        lowered = f"{lowered}::{inner.strip().lower()}"
        language, sep = language2, sep2
    lowered = ALIASES.get(sheet, {}).get(lowered, lowered)
    return lowered, (language.strip() if sep else None)


class _Builder:
    def __init__(self, sheets: dict[str, Sheet]):
        self.sheets = {name.lower(): sheet for name, sheet in sheets.items()}
        self.issues: list[Issue] = []
        self.languages: dict[str, str] = {}  # code → spec as written

    def error(self, sheet, row, column, code, /, **params):
        self.issues.append(Issue(sheet, row, column, code, params))

    def warn(self, sheet, row, column, code, /, **params):
        self.issues.append(Issue(sheet, row, column, code, params, warning=True))

    def columns(self, key: str) -> list[tuple[int, str, str | None, str]]:
        """(index, canonical column, language code, header as written) for one sheet."""
        sheet = self.sheets[key]
        seen: dict[tuple[str, str | None], str] = {}
        result = []
        for index, header in enumerate(sheet.headers):
            if not header:
                continue
            column, language = _split_header(header, key)
            letter = get_column_letter(index + 1)
            if column in REJECTED_COLUMNS:
                self.error(sheet.name, sheet.header_row, letter, "column_not_supported", column=header)
                continue
            if media_column(column):
                self.warn(sheet.name, sheet.header_row, letter, "media_not_shown", column=header)
                result.append((index, header, None, header))   # kept as written, as other columns are
                continue
            code = language_code(language) if language is not None else None
            if code is not None and named_language(language) and column in TRANSLATABLE.get(key, set()):
                self.warn(sheet.name, sheet.header_row, letter, "language_by_name", name=language, code=code)
            if language is not None and column not in TRANSLATABLE.get(key, set()):
                self.warn(sheet.name, sheet.header_row, letter, "column_kept", column=header)
                column, code = header, None
            elif column not in KNOWN.get(key, set()) and language is None:
                self.warn(sheet.name, sheet.header_row, letter, "column_kept", column=header)
                column = header
            if (column, code) in seen:
                self.error(sheet.name, sheet.header_row, letter, "duplicate_column", column=header,
                           first=seen[(column, code)])
                continue
            seen[(column, code)] = header
            if code is not None:
                self.languages.setdefault(code, language)
            result.append((index, column, code, header))
        return result

    def rows(self, key: str) -> list[dict[str, Any]]:
        if key not in self.sheets:
            return []
        sheet = self.sheets[key]
        columns = self.columns(key)
        rows = []
        blank = [index for index, header in enumerate(sheet.headers) if not header]
        reported: set[int] = set()   # columns without a header: not read, as pyxform has it; said once each
        for number, cells in sheet.rows:
            for index in [*blank, *range(len(sheet.headers), len(cells))]:
                if index < len(cells) and cells[index].strip() and index not in reported:
                    reported.add(index)
                    self.warn(sheet.name, number, get_column_letter(index + 1), "cell_without_header")
            record: dict[str, Any] = {"row": number}
            for index, column, code, header in columns:
                value = cells[index].strip() if index < len(cells) else ""
                if column in EXPRESSION_COLUMNS.get(key, ()) and value in ("TRUE", "FALSE") \
                        and column not in ("required", "read_only"):   # an Excel truth value
                    value = "true()" if value == "TRUE" else "false()"
                if column in EXPRESSION_COLUMNS.get(key, ()) and value != value.translate(STRAIGHT_QUOTES):
                    value = value.translate(STRAIGHT_QUOTES)
                    self.warn(sheet.name, number, get_column_letter(index + 1), "quotes_straightened")
                if column in TRANSLATABLE.get(key, set()):
                    if value:
                        record.setdefault(column, {})[code if code is not None else ""] = value
                elif column in KNOWN.get(key, set()):
                    record[column] = value
                elif value:
                    record.setdefault("extra", {})[header] = value
            if any(value for column, value in record.items() if column != "row"):
                # text only under columns without a header makes no row, as pyxform has it
                rows.append(record)
        return rows


def media_column(header: str) -> bool:
    """Whether a column names a picture, sound or video shown beside a text."""
    return header.startswith("media::") or header in MEDIA_COLUMNS


def shown_with_media(record: dict) -> bool:
    """Whether a row has a picture, sound or video beside its texts (kept among its extra cells)."""
    return any(media_column(header) for header in record.get("extra", {}))


def row_key(sheet: str, record: dict[str, Any]) -> str:
    """What names a row of a sheet across versions: a question's name, ``list/choice`` for a
    choice, an indicator's or area's code."""
    if sheet == "survey":
        return record.get("name", "")
    if sheet in ("choices", "external_choices"):
        return f"{record.get('list_name', '')}/{record.get('name', '')}"
    return record.get("code", "")


def name_from_file(file_name: str) -> str:
    """A form_id made from a file's name, as pyxform takes it: ``Évaluation 2019 (v2).xlsx`` →
    ``Evaluation_2019_v2``; letters without an ASCII form are dropped."""
    stem = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    return valid_name(stem.rsplit(".", 1)[0] if "." in stem.lstrip(".") else stem)


def valid_name(text: str) -> str:
    """``text`` made a valid name: ``Spec test`` → ``Spec_test``, ``contact:person:edit`` →
    ``contact_person_edit``; letters without an ASCII form are dropped (empty if none is left)."""
    ascii_only = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9._-]", "_", ascii_only)).strip("_.-")
    if name and not NAME.match(name):
        name = f"form_{name}"
    return name[:100]


def build(sheets: dict[str, Sheet], file_name: str | None = None) -> tuple[dict[str, Any], list[Issue]]:
    """The definition and every located problem (errors and warnings). Without a form_id in
    the settings, one is made from ``file_name`` (with a warning)."""
    builder = _Builder(sheets)
    lower = {name.lower(): name for name in sheets}
    for name in sheets:
        if name.lower() not in SHEET_NAMES:
            builder.warn(name, None, None, "sheet_ignored", sheet=name)
    if "survey" not in lower:
        builder.error("survey", None, None, "missing_sheet", sheet="survey")
        return {}, builder.issues
    survey_sheet = builder.sheets["survey"]
    if "type" not in {_split_header(h, "survey")[0] for h in survey_sheet.headers}:
        builder.error(survey_sheet.name, survey_sheet.header_row, None, "missing_column", column="type")
        return {}, builder.issues

    settings_rows = builder.rows("settings")
    title_languages = dict(builder.languages)   # listed after the languages of the texts, as they came
    builder.languages.clear()
    settings = {k: v for k, v in (settings_rows[0] if settings_rows else {}).items() if k not in ("row",)}
    default_spec = settings.get("default_language", "")
    default_language = language_code(default_spec) if default_spec else None
    if default_language:
        builder.languages.setdefault(default_language, default_spec)

    survey = builder.rows("survey")
    choices = builder.rows("choices")
    survey = _expand_loops(survey, choices, builder)
    external = builder.rows("external_choices")
    indicators = builder.rows("indicators")
    areas = builder.rows("areas")
    for code, spec in title_languages.items():
        builder.languages.setdefault(code, spec)

    # Text without a language (plain ``label``) belongs to the default language.
    plain_key = default_language or "default"
    for record in survey + choices + external + indicators + areas:
        for column in ("label", "hint", "guidance_hint", "constraint_message", "required_message"):
            texts = record.get(column)
            if isinstance(texts, dict) and "" in texts:
                text = texts.pop("")
                texts.setdefault(plain_key, text)
                if plain_key == "default":
                    builder.languages.setdefault("default", "default")
    if not default_language:
        default_language = plain_key if plain_key in builder.languages else next(iter(builder.languages), "default")

    titles = dict(settings.get("label") or {})
    if "" in titles:
        titles.setdefault(plain_key, titles.pop(""))
    if settings.get("form_title") and default_language:
        titles.setdefault(default_language, settings["form_title"])
    form_id = settings.get("form_id") or ""
    settings_name = builder.sheets["settings"].name if "settings" in builder.sheets else "settings"
    if not form_id and file_name and name_from_file(file_name):
        form_id = name_from_file(file_name)
        builder.warn(settings_name, None, "form_id", "form_id_from_file_name", name=form_id)
    elif form_id and not NAME.match(form_id) and valid_name(form_id):
        # pyxform writes any form_id into the form; a version's identity needs a name
        builder.warn(settings_name, None, "form_id", "form_id_adapted", written=form_id, name=valid_name(form_id))
        form_id = valid_name(form_id)
    definition = {
        "form_id": form_id,
        "version": settings.get("version", ""),
        "title": settings.get("form_title") or titles.get(default_language) or next(iter(titles.values()), "") or form_id,
        "titles": titles,
        "default_language": default_language,
        "plain_language": plain_key,   # the language of columns written without one (``label``)
        "languages": [{"code": code, "name": spec} for code, spec in builder.languages.items()],
        "settings": {k: v for k, v in settings.items() if v},
        "survey": survey,
        "choices": choices,
        "external_choices": external,
        "indicators": indicators,
        "areas": areas,
        "columns": {key: [h for _i, _c, _l, h in builder.columns(key)] if key in builder.sheets else []
                    for key in ("survey", "choices", "settings", "indicators", "areas", "external_choices")},
        "sheet_names": {key: builder.sheets[key].name for key in builder.sheets if key in SHEET_NAMES},
    }
    # columns() was called twice per sheet: keep only the first report of each problem.
    unique: list[Issue] = []
    for issue in builder.issues:
        if issue not in unique:
            unique.append(issue)
    builder.issues = unique
    _validate(definition, builder)
    return definition, builder.issues


# -- loops ----------------------------------------------------------------------------

_BEGIN_LOOP = re.compile(r"^begin[ _]loop(?: over)? (?P<list>\S+)$", re.I)
_END_LOOP = re.compile(r"^end[ _]loop$", re.I)
_LOOP_FIELD = re.compile(r"%\((name|label)\)s")


def _loop_type(record: dict) -> str:
    return " ".join(record.get("type", "").split())


def _expand_loops(rows: list[dict], choices: list[dict], b: _Builder) -> list[dict]:
    """``begin loop over <list>`` … ``end loop`` read as pyxform reads it: a group named as
    the loop holding one group per choice of the list (named and labelled as the choice), each
    with the loop's questions, where ``%(name)s`` and ``%(label)s`` in texts are the choice's.
    A question in a loop is named ``<choice>.<name>`` for Matrica and written back as it was."""
    if not any(_BEGIN_LOOP.match(_loop_type(record)) or _END_LOOP.match(_loop_type(record)) for record in rows):
        return rows
    sheet = b.sheets["survey"]
    column = next((get_column_letter(i + 1) for i, h in enumerate(sheet.headers)
                   if _split_header(h, "survey")[0] == "type"), None)
    lists: dict[str, list[dict]] = defaultdict(list)
    for choice in choices:
        lists[choice.get("list_name", "")].append(choice)
    result: list[dict] = []
    index = 0
    while index < len(rows):
        record = rows[index]
        begin = _BEGIN_LOOP.match(_loop_type(record))
        if not begin:
            if _END_LOOP.match(_loop_type(record)):
                b.error(sheet.name, record["row"], column, "unmatched_end", type=record["type"])
            else:
                result.append(record)
            index += 1
            continue
        depth, end = 1, index + 1
        while end < len(rows) and depth:
            depth += bool(_BEGIN_LOOP.match(_loop_type(rows[end]))) - bool(_END_LOOP.match(_loop_type(rows[end])))
            end += 1
        if depth:
            b.error(sheet.name, record["row"], column, "unclosed", name=record.get("name", ""))
            return result
        body = _expand_loops(rows[index + 1:end - 1], choices, b)
        items = lists.get(begin.group("list"), [])
        if not items:
            b.error(sheet.name, record["row"], column, "unknown_list", list=begin.group("list"))
        elif len(result) + len(items) * (len(body) + 2) + 2 > MAX_ROWS:   # loops multiply rows
            b.error(sheet.name, record["row"], column, "loop_too_large", limit=MAX_ROWS)
        else:
            b.warn(sheet.name, record["row"], column, "loop_expanded", list=begin.group("list"), count=len(items))
            result.append({**record, "type": "begin_group"})
            for choice in items:
                result.append({"row": record["row"], "type": "begin_group", "name": choice.get("name", ""),
                               "label": dict(choice.get("label") or {})})
                result.extend(_loop_copy(inner, choice) for inner in body)
                result.append({"row": rows[end - 1]["row"], "type": "end_group"})
            result.append({**rows[end - 1], "type": "end_group"})
        index = end
    return result


def _loop_copy(record: dict, choice: dict) -> dict:
    copy = {key: dict(value) if isinstance(value, dict) else value for key, value in record.items()}
    name, labels = choice.get("name", ""), choice.get("label") or {}
    for column in ("label", "hint", "constraint_message", "required_message"):
        for language, text in (copy.get(column) or {}).items():
            copy[column][language] = _LOOP_FIELD.sub(
                lambda m: name if m.group(1) == "name" else labels.get(language) or next(iter(labels.values()), name),
                text)
    if copy.get("name") and normalise_type(copy.get("type", ""))[0] not in ("end_group", "end_repeat"):
        copy["written_name"] = copy.get("written_name") or copy["name"]
        copy["name"] = f"{name}.{copy['name']}"
    return copy


# -- validation -----------------------------------------------------------------------

# The spellings pyxform reads for a select (old and alias forms included), and for "or other".
SELECT_SPELLINGS = {
    "select_one": "select_one", "select one": "select_one", "select one from": "select_one", "select1": "select_one",
    "add select one prompt using": "select_one", "select_multiple": "select_multiple",
    "select multiple": "select_multiple", "select all that apply": "select_multiple",
    "select all that apply from": "select_multiple", "add select multiple prompt using": "select_multiple",
    "rank": "rank", "select_one_external": "select_one",   # its list on the external_choices sheet
}
_SELECT = re.compile(r"^(?P<kind>" + "|".join(sorted(map(re.escape, SELECT_SPELLINGS), key=len, reverse=True))
                     + r") (?P<list>\S+)(?: (?P<rest>.+))?$", re.I)
OR_OTHER = {"or_other", "or other", "or specify other"}
_FROM_FILE = re.compile(r"^(?P<kind>select_one_from_file|select_multiple_from_file|select one from file|"
                        r"select multiple from file) (?P<file>\S+)$", re.I)


def normalise_type(raw: str) -> tuple[str, str | None, str | None]:
    """(base type, list name, or-other flag) from ``select_one yes_no``, ``select all that
    apply from yes_no or specify other`` etc."""
    text = " ".join(raw.strip().split())
    lowered = text.lower()
    if lowered in TYPE_ALIASES and TYPE_ALIASES[lowered]:
        return TYPE_ALIASES[lowered], None, None
    if lowered.startswith("uri:") and lowered[4:] in METADATA_TYPES:   # uri:deviceid, an old spelling
        return lowered[4:], None, None
    match = _SELECT.match(text)
    if match:
        rest = (match.group("rest") or "").lower()
        flag = "or_other" if rest in OR_OTHER else rest or None
        return SELECT_SPELLINGS[match.group("kind").lower()], match.group("list"), flag
    if lowered in SELECT_SPELLINGS:
        return SELECT_SPELLINGS[lowered], None, None
    from_file = _FROM_FILE.match(text)
    if from_file:   # the list is the file's name; its rows must be on the choices sheet
        file = from_file.group("file")
        base = "select_multiple" if "multiple" in from_file.group("kind").lower() else "select_one"
        return base, file.rsplit(".", 1)[0] if "." in file else file, f"file:{file}"
    head = lowered.split(" ")[0]
    if head in UNSUPPORTED_TYPES:   # select_one_from_file data.csv: said plainly, not as an unknown type
        return head, None, None
    return lowered, None, None


def _old_spelling(raw: str) -> bool:
    """Whether ``raw`` is an old or alias spelling (``select one from x``, ``imei``), not merely
    today's written with spaces or capitals (``begin group``, ``Select_One x``)."""
    def plain(text: str) -> str:
        return " ".join(text.replace("_", " ").lower().split())
    return plain(raw) != plain(canonical_type(raw))


def canonical_type(raw: str) -> str:
    """The type as XLSForm spells it today: ``select all that apply from x`` → ``select_multiple x``."""
    base, list_name, flag = normalise_type(raw)
    return " ".join(part for part in (base, list_name, flag) if part and not part.startswith("file:"))


def _validate(definition: dict[str, Any], b: _Builder) -> None:
    sheet_names = definition["sheet_names"]
    survey_name = sheet_names.get("survey", "survey")
    columns = {key: {_split_header(h, key)[0]: get_column_letter(i + 1)
                     for i, h in enumerate(b.sheets[key].headers) if h} if key in b.sheets else {}
               for key in SHEET_NAMES}

    def col(sheet_key: str, column: str) -> str | None:
        return columns.get(sheet_key, {}).get(column)

    if not definition["form_id"]:
        b.error(sheet_names.get("settings", "settings"), None, "form_id", "missing_form_id")
    elif not NAME.match(definition["form_id"]):
        b.error(sheet_names.get("settings", "settings"), None, "form_id", "bad_name", name=definition["form_id"])

    # choices (a name with a space can only be a single answer: a multiple answer is stored space-separated)
    typed = [normalise_type(record["type"]) for record in definition["survey"] if record.get("type")]
    several = {list_name for base, list_name, _flag in typed if base in ("select_multiple", "rank")}
    lists: dict[str, dict[str, dict]] = defaultdict(dict)
    for key, choice in [("choices", c) for c in definition["choices"]] + [
            ("external_choices", c) for c in definition.get("external_choices", [])]:
        list_sheet = sheet_names.get(key, key)
        row, list_name, name = choice["row"], choice.get("list_name", ""), choice.get("name", "")
        if not list_name:
            b.error(list_sheet, row, col(key, "list_name"), "missing_list_name")
            continue
        if not name:
            b.error(list_sheet, row, col(key, "name"), "missing_choice_name")
            continue
        if " " in name and list_name in several:
            b.error(list_sheet, row, col(key, "name"), "choice_name_space", name=name)
        elif " " in name:   # as pyxform allows for a list only single answers use
            b.warn(list_sheet, row, col(key, "name"), "choice_name_space_single", name=name)
        # external choices repeat a name under different filter values (a city in two states)
        if name in lists[list_name] and key != "external_choices" \
                and definition["settings"].get("allow_choice_duplicates", "").lower() not in YES:
            b.error(list_sheet, row, col(key, "name"), "duplicate_choice", name=name, list=list_name,
                    first=lists[list_name][name]["row"])
        lists[list_name].setdefault(name, choice)
        score = choice.get("score", "")
        if score and _number(score) is None:
            b.error(list_sheet, row, col(key, "score"), "score_not_number", value=score)
        if not choice.get("label"):   # as pyxform allows: the name is shown
            b.warn(list_sheet, row, col(key, "label"), "label_from_name", name=choice.get("name", ""))

    # survey structure and names: unique within their group, as pyxform has them; a name met
    # again in another group is made unique for Matrica (``group.name``) and cannot be referenced
    names: dict[str, int] = {}
    parents: dict[str, tuple[str, ...]] = {}
    written: dict[str, str] = {}                 # Matrica's name → the name as written
    paths: dict[tuple[str, ...], str] = {}       # the XPath steps to a row, as written → its name
    ambiguous: set[str] = set()
    stack: list[tuple[str, int, str]] = []  # (kind, row, name)
    questions: list[dict] = []
    for record in definition["survey"]:
        row = record["row"]
        raw_type = record.get("type", "")
        if not raw_type:
            if any(v for k, v in record.items() if k not in ("row", "extra")):
                b.error(survey_name, row, col("survey", "type"), "missing_type")
            continue
        base, list_name, flag = normalise_type(raw_type)
        record["_type"] = base
        if raw_type.strip().lower() == "barcode":   # no scanner at a desk: typed in
            b.warn(survey_name, row, col("survey", "type"), "barcode_as_text")
        elif raw_type.strip().lower() in ("geotrace", "geoshape"):   # no map to draw on: written out
            b.warn(survey_name, row, col("survey", "type"), "geo_as_text", type=raw_type.strip().lower())
        elif flag and flag.startswith("file:"):
            if list_name in lists:
                b.warn(survey_name, row, col("survey", "type"), "choices_from_sheet", file=flag[5:], list=list_name)
            else:
                b.error(survey_name, row, col("survey", "type"), "choices_file_missing", file=flag[5:], list=list_name)
                continue
        elif base in QUESTION_TYPES | SELECT_TYPES | STRUCTURE_TYPES | METADATA_TYPES and _old_spelling(raw_type):
            b.warn(survey_name, row, col("survey", "type"), "type_spelling", type=raw_type,
                   canonical=canonical_type(raw_type))
        if base in DEVICE_METADATA:
            b.warn(survey_name, row, col("survey", "type"), "metadata_left_empty", type=base)
        if base in UNSUPPORTED_TYPES:
            b.error(survey_name, row, col("survey", "type"), "type_not_supported", type=raw_type)
            continue
        if base not in QUESTION_TYPES | SELECT_TYPES | STRUCTURE_TYPES | METADATA_TYPES:
            b.error(survey_name, row, col("survey", "type"), "unknown_type", type=raw_type)
            continue
        name = record.get("name", "")
        if base in ("end_group", "end_repeat"):
            kind = "group" if base == "end_group" else "repeat"
            if not stack or stack[-1][0] != kind:
                b.error(survey_name, row, col("survey", "type"), "unmatched_end", type=raw_type)
            else:
                stack.pop()
            continue
        if not name and base == "note":   # as pyxform names it
            name = record["name"] = f"generated_note_name_{row}"
            b.warn(survey_name, row, col("survey", "name"), "name_generated", name=name)
        if not name:
            b.error(survey_name, row, col("survey", "name"), "missing_name")
            continue
        if not NAME.match(name):
            b.error(survey_name, row, col("survey", "name"), "bad_name", name=name)
        elif name in names and parents[name] == tuple(n for _kind, _row, n in stack):
            b.error(survey_name, row, col("survey", "name"), "duplicate_name", name=name, first=names[name])
        elif name in names:
            unique = f"{stack[-1][2]}.{name}" if stack else f"{name}_{row}"
            while unique in names:
                unique = f"{unique}_{row}"
            b.warn(survey_name, row, col("survey", "name"), "name_made_unique", name=name, first=names[name],
                   unique=unique)
            ambiguous.add(name)
            record["written_name"], record["name"] = name, unique
            name = unique
        names.setdefault(name, row)
        parents.setdefault(name, tuple(n for _kind, _row, n in stack))
        written[name] = record.get("written_name", name)
        record["_path"] = tuple(written[n] for _kind, _row, n in stack) + (written[name],)
        paths.setdefault(record["_path"], name)
        if base in ("begin_group", "begin_repeat"):
            stack.append(("group" if base == "begin_group" else "repeat", row, name))
            if len(stack) > MAX_GROUP_DEPTH:
                b.error(survey_name, row, col("survey", "type"), "too_deep_groups", limit=MAX_GROUP_DEPTH)
                return
            if sum(1 for kind, _row, _name in stack if kind == "repeat") > MAX_REPEAT_DEPTH:
                b.error(survey_name, row, col("survey", "type"), "too_deep_repeats", limit=MAX_REPEAT_DEPTH)
                return
        if base in SELECT_TYPES:
            if not list_name:
                b.error(survey_name, row, col("survey", "type"), "missing_list", type=raw_type)
            elif list_name not in lists:
                b.error(survey_name, row, col("survey", "type"), "unknown_list", list=list_name)
            if flag not in (None, "or_other") and not flag.startswith("file:"):
                b.error(survey_name, row, col("survey", "type"), "unknown_type", type=raw_type)
        if base == "begin_repeat" and not record.get("label"):   # as pyxform allows: the name is shown
            b.warn(survey_name, row, col("survey", "label"), "label_from_name", name=name)
        elif base not in METADATA_TYPES | {"calculate", "hidden", "begin_group"} and not record.get("label"):
            if record.get("hint"):   # as pyxform allows: the hint is the question's text
                b.warn(survey_name, row, col("survey", "label"), "label_from_hint")
            elif shown_with_media(record):
                b.warn(survey_name, row, col("survey", "label"), "label_from_name", name=name)
            else:
                b.error(survey_name, row, col("survey", "label"), "missing_label")
        if base == "calculate" and not record.get("calculation"):
            b.error(survey_name, row, col("survey", "calculation"), "missing_calculation")
        if base == "range":
            _check_range(record, b, survey_name, col("survey", "parameters"))
        elif base in ("integer", "decimal"):
            _check_bounds(record, base, b, survey_name, col("survey", "parameters"))
        evidence = record.get("evidence", "").lower()
        if evidence not in EVIDENCE_VALUES:
            b.error(survey_name, row, col("survey", "evidence"), "bad_evidence", value=record.get("evidence"))
        unit = record.get("unit", "").lower()
        if unit and unit not in UNITS:
            b.error(survey_name, row, col("survey", "unit"), "unknown_unit", value=record.get("unit"))
        elif unit and base not in ("integer", "decimal"):
            b.error(survey_name, row, col("survey", "unit"), "unit_not_number")
        questions.append(record)
    for _kind, row, name in stack:
        b.error(survey_name, row, col("survey", "type"), "unclosed", name=name)
    calculations = [r for r in definition["survey"] if r.get("calculation")]
    if len(calculations) > MAX_CALCULATIONS:
        b.error(survey_name, calculations[MAX_CALCULATIONS]["row"], col("survey", "calculation"),
                "too_many_calculations", limit=MAX_CALCULATIONS)

    # expressions
    calc_refs: dict[str, set[str]] = {}
    counted = {"expressions": 0, "regex": 0}
    for record in definition["survey"]:
        for column in ("relevant", "constraint", "required", "calculation", "choice_filter", "default",
                       "read_only", "repeat_count", "score"):
            text = record.get(column, "")
            if not text or (column in ("required", "read_only") and text.lower() in YES | NO):
                continue
            if column == "default" and not _looks_like_expression(text):
                continue
            if "/" in text and "_path" in record:
                text, unknown = _paths_as_references(text, record["_path"], paths)
                if unknown:
                    b.error(survey_name, record["row"], col("survey", column), "unknown_path", path=unknown[0])
                    continue
                if text != record[column]:
                    b.warn(survey_name, record["row"], col("survey", column), "path_as_reference", expression=text)
                    record[column] = text
            if not _count_expression(counted, text, b, survey_name, record["row"], col("survey", column)):
                return
            try:
                expression = parse(text, choice_columns=column == "choice_filter")
            except ExpressionError as exc:
                b.error(survey_name, record["row"], col("survey", column), "expression_invalid",
                        detail=exc.code, position=exc.position + 1, expression=text, **exc.params)
                continue
            for reference in sorted(expression.references - set(names)):
                b.error(survey_name, record["row"], col("survey", column), "unknown_reference", name=reference)
            for reference in sorted(expression.references & ambiguous):
                b.error(survey_name, record["row"], col("survey", column), "ambiguous_reference", name=reference)
            for list_name in sorted(expression.lists - set(lists)):
                b.error(survey_name, record["row"], col("survey", column), "unknown_list", list=list_name)
            if column == "calculation" and record.get("name"):
                calc_refs[record["name"]] = set(expression.references)
    for cycle in _cycles(calc_refs):
        first = next(r for r in definition["survey"] if r.get("name") == cycle[0])
        b.error(survey_name, first["row"], col("survey", "calculation"), "calculation_cycle",
                names=" → ".join(cycle + [cycle[0]]))

    _validate_scoring(definition, b, lists, names, col, counted, ambiguous)
    _validate_routing(definition, b, col)
    _validate_translations(definition, b, col)


# A string, or an XPath path outside one: /data/group/q, ./q, ../q, ../../group/q.
_STRING_OR_PATH = re.compile(r"""('[^']*'|"[^"]*")
                               |(?<![\w)\]}.$/])((?:\.\.?|(?=/))(?:/(?:\.\.|\.|[A-Za-z_][\w.-]*))+)""", re.X)


def _paths_as_references(text: str, here: tuple[str, ...],
                         paths: dict[tuple[str, ...], str]) -> tuple[str, list[str]]:
    """``text`` with each XPath path to a question written as ``${name}``, as the path reads
    from the row at ``here`` (the names of its groups and its own, as written; an absolute
    path's first step is the form's root, whatever its name); and the paths that lead nowhere."""
    unknown: list[str] = []

    def replace(match: re.Match) -> str:
        if match.group(1) is not None:
            return match.group(1)
        path = match.group(2)
        steps = path.split("/")
        current = [] if path.startswith("/") else list(here)
        for step in steps[2:] if path.startswith("/") else steps:
            if step == "..":
                if not current:
                    unknown.append(path)
                    return path
                current.pop()
            elif step != ".":
                current.append(step)
        name = paths.get(tuple(current))
        if name is None:
            unknown.append(path)
            return path
        return "${" + name + "}"
    return _STRING_OR_PATH.sub(replace, text), unknown


def _looks_like_expression(text: str) -> bool:
    return "${" in text or "(" in text


def _count_expression(counted: dict[str, int], text: str, b: _Builder, sheet: str, row: int, column) -> bool:
    """Count one more expression (and its regex() calls) against the form's limits; False,
    with a located error, once a limit is passed (nothing more is parsed)."""
    counted["expressions"] += 1
    counted["regex"] += text.count("regex(")
    if counted["expressions"] > MAX_EXPRESSIONS:
        b.error(sheet, row, column, "too_many_expressions", limit=MAX_EXPRESSIONS)
        return False
    if counted["regex"] > MAX_REGEX:
        b.error(sheet, row, column, "too_many_patterns", limit=MAX_REGEX)
        return False
    return True


def _number(text: str) -> float | None:
    """A finite number no larger than ``MAX_NUMBER`` (``nan``, ``inf`` and ``1e400`` are not)."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_NUMBER else None


def _check_range(record, b, sheet, column) -> None:
    parameters = _parameters(record.get("parameters", ""))
    values = {}
    for key, default in (("start", 1.0), ("end", 10.0), ("step", 1.0)):
        raw = parameters.get(key)
        values[key] = default if raw is None else _number(raw)
        if values[key] is None:
            b.error(sheet, record["row"], column, "bad_parameter", parameter=key, value=raw)
            return
    if values["step"] == 0 or (values["end"] - values["start"]) / values["step"] < 0:
        b.error(sheet, record["row"], column, "bad_range", **{k: _fmt(v) for k, v in values.items()})


def _check_bounds(record, base: str, b, sheet, column) -> None:
    """``min``, ``max`` and (decimal) ``decimals`` parameters of a number question."""
    parameters = _parameters(record.get("parameters", ""))
    for key in ("min", "max") + (("decimals",) if base == "decimal" else ()):
        raw = parameters.get(key)
        if raw is None:
            continue
        number = _number(raw)
        if number is None or (key == "decimals" and not (number.is_integer() and 0 <= number <= 10)):
            b.error(sheet, record["row"], column, "bad_parameter", parameter=key, value=raw)
            return
    low, high = _number(parameters.get("min", "")), _number(parameters.get("max", ""))
    if low is not None and high is not None and low > high:
        b.error(sheet, record["row"], column, "bad_bounds", low=_fmt(low), high=_fmt(high))


def _parameters(text: str) -> dict[str, str]:
    result = {}
    for part in text.replace(";", " ").split():
        key, sep, value = part.partition("=")
        if sep:
            result[key.strip().lower()] = value.strip()
    return result


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles between calculations (each reported once); a depth-first search with its own
    stack, so a chain of thousands of calculations costs no recursion."""
    found: list[list[str]] = []
    seen_cycles: set[frozenset[str]] = set()
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        path: list[str] = [start]
        state[start] = 1
        stack = [iter(sorted(n for n in graph[start] if n in graph))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                state[path.pop()] = 2
                continue
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):]
                if frozenset(cycle) not in seen_cycles:
                    seen_cycles.add(frozenset(cycle))
                    found.append(list(cycle))
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(n for n in graph[nxt] if n in graph)))
    return found


def _validate_scoring(definition, b: _Builder, lists, names, col, counted: dict[str, int],
                      ambiguous: set[str]) -> None:
    sheet_names = definition["sheet_names"]
    survey_name = sheet_names.get("survey", "survey")
    ind_name = sheet_names.get("indicators", "indicators")
    area_name = sheet_names.get("areas", "areas")
    area_codes: dict[str, int] = {}
    for area in definition["areas"]:
        code = area.get("code", "")
        if not code or not NAME.match(code):
            b.error(area_name, area["row"], col("areas", "code"), "bad_name", name=code)
        elif code in area_codes:
            b.error(area_name, area["row"], col("areas", "code"), "duplicate_name", name=code, first=area_codes[code])
        area_codes.setdefault(code, area["row"])
        if (area.get("rating") or "overall") not in AREA_RATINGS:
            b.error(area_name, area["row"], col("areas", "rating"), "bad_area_rating", value=area["rating"])
        if area.get("order") and _number(area["order"]) is None:
            b.error(area_name, area["row"], col("areas", "order"), "score_not_number", value=area["order"])
        if not area.get("label"):
            b.error(area_name, area["row"], col("areas", "label"), "missing_label")
    codes: dict[str, dict] = {}
    selects = {}   # single-answer questions outside repeats: name → their list
    depth = 0
    for record in definition["survey"]:
        base, list_name, _flag = normalise_type(record["type"]) if record.get("type") else ("", None, None)
        depth += base == "begin_repeat"
        depth -= base == "end_repeat"
        if base == "select_one" and not depth and record.get("name"):
            selects[record["name"]] = list_name
    for indicator in definition["indicators"]:
        row, code = indicator["row"], indicator.get("code", "")
        if not code or not NAME.match(code):
            b.error(ind_name, row, col("indicators", "code"), "bad_name", name=code)
            continue
        if code in codes:
            b.error(ind_name, row, col("indicators", "code"), "duplicate_name", name=code, first=codes[code]["row"])
            continue
        codes[code] = indicator
        if indicator.get("area") not in area_codes:
            b.error(ind_name, row, col("indicators", "area"), "unknown_area", area=indicator.get("area", ""))
        if indicator.get("section") not in SECTIONS:
            b.error(ind_name, row, col("indicators", "section"), "bad_section", value=indicator.get("section", ""))
        method = indicator.get("method", "") or "points"
        if method not in METHODS:
            b.error(ind_name, row, col("indicators", "method"), "bad_method", value=method)
        if (indicator.get("aggregate") or "") not in AGGREGATES:
            b.error(ind_name, row, col("indicators", "aggregate"), "bad_aggregate", value=indicator["aggregate"])
        if not indicator.get("label"):
            b.error(ind_name, row, col("indicators", "label"), "missing_label")
        expressions = {"ratio": ("numerator", "denominator"), "band": ("value",)}.get(method, ())
        for column in expressions:
            text = indicator.get(column, "")
            if not text:
                b.error(ind_name, row, col("indicators", column), "missing_expression", column=column)
                continue
            if not _count_expression(counted, text, b, ind_name, row, col("indicators", column)):
                return
            try:
                expression = parse(text)
            except ExpressionError as exc:
                b.error(ind_name, row, col("indicators", column), "expression_invalid", detail=exc.code,
                        position=exc.position + 1, expression=text, **exc.params)
                continue
            for reference in sorted(expression.references - set(names)):
                b.error(ind_name, row, col("indicators", column), "unknown_reference", name=reference)
            for reference in sorted(expression.references & ambiguous):
                b.error(ind_name, row, col("indicators", column), "ambiguous_reference", name=reference)
            for list_name in sorted(expression.lists - set(lists)):
                b.error(ind_name, row, col("indicators", column), "unknown_list", list=list_name)
        if indicator.get("factor") and _number(indicator["factor"]) is None:
            b.error(ind_name, row, col("indicators", "factor"), "score_not_number", value=indicator["factor"])
        if indicator.get("upper") and _number(indicator["upper"]) is None:
            b.error(ind_name, row, col("indicators", "upper"), "score_not_number", value=indicator["upper"])
        if indicator.get("when_no_cases"):
            if _number(indicator["when_no_cases"]) is None:
                b.error(ind_name, row, col("indicators", "when_no_cases"), "score_not_number",
                        value=indicator["when_no_cases"])
            elif method != "ratio":
                b.error(ind_name, row, col("indicators", "when_no_cases"), "when_no_cases_not_ratio")
        if indicator.get("availability"):
            asked = selects.get(indicator["availability"])
            if asked is None:
                b.error(ind_name, row, col("indicators", "availability"), "availability_not_select",
                        name=indicator["availability"])
            elif not {"not_available", "not_competent"} & {c for c in lists.get(asked, {})}:
                b.error(ind_name, row, col("indicators", "availability"), "availability_choices",
                        name=indicator["availability"], list=asked)
        thresholds = indicator.get("thresholds", "")
        if thresholds and parse_thresholds(thresholds) is None:
            b.error(ind_name, row, col("indicators", "thresholds"), "bad_thresholds", value=thresholds)
        elif thresholds and len(parse_thresholds(thresholds)) == 1:
            band = next(iter(parse_thresholds(thresholds)))
            b.warn(ind_name, row, col("indicators", "thresholds"), "one_threshold", value=thresholds,
                   band=band, default=_fmt(DEFAULT_THRESHOLDS["amber" if band == "green" else "green"]))
    fed: set[str] = set()
    for record in definition["survey"]:
        code = record.get("indicator", "")
        row = record["row"]
        if code:
            if code not in codes:
                b.error(survey_name, row, col("survey", "indicator"), "unknown_indicator", indicator=code)
            fed.add(code)
        base, list_name, _flag = normalise_type(record.get("type", "")) if record.get("type") else ("", None, None)
        max_score = record.get("max_score", "")
        if max_score and _number(max_score) is None:
            b.error(survey_name, row, col("survey", "max_score"), "score_not_number", value=max_score)
            continue
        choice_scores = [_number(c["score"]) for c in lists.get(list_name or "", {}).values()
                         if c.get("score") and _number(c["score"]) is not None]
        if code and not record.get("score") and not choice_scores and base != "calculate":
            b.error(survey_name, row, col("survey", "indicator"), "nothing_to_score", name=record.get("name", ""))
        if record.get("score") and not max_score:
            b.error(survey_name, row, col("survey", "max_score"), "max_score_needed")
        if max_score and choice_scores and not record.get("score"):
            top = max(choice_scores) if base != "select_multiple" else sum(s for s in choice_scores if s > 0)
            if abs(top - float(max_score)) > 1e-9:
                b.error(survey_name, row, col("survey", "max_score"), "max_score_mismatch",
                        max_score=max_score, highest=_fmt(top))
    for code, indicator in codes.items():
        method = indicator.get("method", "") or "points"
        if method == "points" and code not in fed:
            b.error(ind_name, indicator["row"], col("indicators", "code"), "indicator_unused", indicator=code)


def kinds_of(text: str) -> frozenset[str]:
    """The institution kinds a cell names (``police prosecution``; commas allowed)."""
    return frozenset(text.replace(",", " ").split())


def _validate_routing(definition, b: _Builder, col) -> None:
    """Questions asked of some kinds of institution only (``applies_to``) and indicators made of
    one kind's answers (``responsible``): known kinds; once a form routes by kind, every
    indicator names its responsible kinds; and each of them is asked what the indicator reads."""
    sheet_names = definition["sheet_names"]
    ind_name = sheet_names.get("indicators", "indicators")

    def known(key: str, row: int, column: str, text: str) -> frozenset[str]:
        kinds = kinds_of(text)
        for kind in sorted(kinds - set(INSTITUTION_KINDS)):
            b.error(sheet_names.get(key, key), row, col(key, column), "unknown_institution_kind", value=kind,
                    known=", ".join(INSTITUTION_KINDS))
        return kinds & set(INSTITUTION_KINDS)

    asked: dict[str, frozenset[str] | None] = {}   # name → the kinds it is asked of (None: all)
    stack: list[frozenset[str] | None] = [None]
    for record in definition["survey"]:
        base = record.get("_type", "")
        if base in ("end_group", "end_repeat"):
            if len(stack) > 1:
                stack.pop()
            continue
        own = known("survey", record["row"], "applies_to", record["applies_to"]) \
            if record.get("applies_to") else None
        effective = own if stack[-1] is None else stack[-1] if own is None else stack[-1] & own
        if record.get("name"):
            asked[record["name"]] = effective
        if base in ("begin_group", "begin_repeat"):
            stack.append(effective)
    routed = any(record.get("applies_to") for record in definition["survey"]) or \
        any(indicator.get("responsible") for indicator in definition["indicators"])
    if not routed:
        return
    feeding: dict[str, list[str]] = defaultdict(list)
    for record in definition["survey"]:
        if record.get("indicator") and record.get("name"):
            feeding[record["indicator"]].append(record["name"])
    for indicator in definition["indicators"]:
        row, code = indicator["row"], indicator.get("code", "")
        if not indicator.get("responsible"):
            b.error(ind_name, row, col("indicators", "responsible") or col("indicators", "code"),
                    "responsible_missing", indicator=code)
            continue
        responsible = known("indicators", row, "responsible", indicator["responsible"])
        read = list(feeding.get(code, [])) + ([indicator["availability"]] if indicator.get("availability") else [])
        for column in ("numerator", "denominator", "value"):
            try:
                read += sorted(parse(indicator[column]).references) if indicator.get(column) else []
            except ExpressionError:
                pass   # reported with the scoring
        for name in dict.fromkeys(read):
            kinds = asked.get(name)
            if kinds is not None and responsible - kinds:
                b.error(ind_name, row, col("indicators", "responsible"), "responsible_not_asked", indicator=code,
                        name=name, kinds=", ".join(sorted(responsible - kinds)))


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def parse_thresholds(text: str) -> dict[str, float] | None:
    """``green>=75; amber>=50`` (percent) → {"green": 75.0, "amber": 50.0}; red is the rest."""
    result: dict[str, float] = {}
    for part in text.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(green|amber)\s*>=\s*(-?\d+(?:\.\d+)?)\s*%?", part, flags=re.I)
        if not match:
            return None
        result[match.group(1).lower()] = float(match.group(2))
    if "green" in result and "amber" in result and result["amber"] > result["green"]:
        return None
    return result or None


def _validate_translations(definition, b: _Builder, col) -> None:
    """Every language must carry every text the form has in any language; report what is missing."""
    languages = [language["code"] for language in definition["languages"]]
    if len(languages) < 1:
        return
    sheet_names = definition["sheet_names"]
    for key in ("survey", "choices", "indicators", "areas"):
        for record in definition[key]:
            if key == "survey" and record.get("_type") in ("end_group", "end_repeat", None):
                continue
            for column in sorted(TRANSLATABLE[key]):
                texts = record.get(column)
                if not texts:
                    continue
                for language in languages:
                    if language not in texts:
                        b.warn(sheet_names.get(key, key), record["row"], col(key, column),
                               "translation_missing", language=language, field=column)
    _copied_languages(definition, b, languages)


COPY_SHARE = 0.8   # a language whose texts are this identical to another's is a relabelled copy
COPY_MINIMUM = 20  # texts both languages have, before two languages are compared at all


def _copied_languages(definition, b: _Builder, languages: list[str]) -> None:
    """A language whose texts are mostly another's, word for word (Bosnian relabelled as
    Montenegrin), is reported once, on the survey sheet: a reader would be given the wrong language."""
    texts: dict[str, dict[tuple, str]] = {language: {} for language in languages}
    for key in ("survey", "choices", "indicators", "areas"):
        for record in definition[key]:
            for column in TRANSLATABLE[key]:
                for language, text in (record.get(column) or {}).items():
                    if language in texts and not text.isdigit():
                        texts[language][(key, record["row"], column)] = text
    for index, first in enumerate(languages):
        for second in languages[index + 1:]:
            shared = texts[first].keys() & texts[second].keys()
            if len(shared) < COPY_MINIMUM:
                continue
            same = sum(texts[first][place] == texts[second][place] for place in shared)
            if same > COPY_SHARE * len(shared):
                b.warn(definition["sheet_names"].get("survey", "survey"), None, None, "language_copy",
                       language=second, other=first, share=round(same / len(shared) * 100))


def missing_translations(issues: list[Issue]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for issue in issues:
        if issue.code == "translation_missing":
            counts[issue.params["language"]] += 1
    return dict(counts)


# -- back to sheets -------------------------------------------------------------------

def to_sheets(definition: dict[str, Any]) -> list[Sheet]:
    """The definition as XLSForm sheets, with the columns it was read with."""
    result = []
    for key in ("survey", "choices", "settings", "indicators", "areas", "external_choices"):
        headers = list(definition["columns"].get(key) or [])
        if key == "settings":
            records = [dict(definition["settings"], row=2)] if definition["settings"] else []
        else:
            records = definition.get(key, [])
        if not headers and not records:
            continue
        rows = []
        for record in records:
            cells = []
            for header in headers:
                column, language = _split_header(header, key)
                if column in TRANSLATABLE.get(key, set()):
                    code = language_code(language) if language is not None else definition["plain_language"]
                    cells.append((record.get(column) or {}).get(code, ""))
                elif column == "name" and record.get("written_name"):   # as written, not as made unique
                    cells.append(record["written_name"])
                elif column in KNOWN.get(key, set()):
                    cells.append(record.get(column, ""))
                else:
                    cells.append((record.get("extra") or {}).get(header, ""))
            rows.append((record.get("row", 0), cells))
        result.append(Sheet(definition["sheet_names"].get(key, key), headers, rows))
    return result


def public(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition without the builder's private keys (those starting with ``_``)."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if not k.startswith("_")}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value
    return clean(definition)


def translation_completeness(definition: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Per language: (texts present, texts the form has in any language), the title included."""
    totals = {language["code"]: 0 for language in definition["languages"]}
    units = 0
    every = [definition.get("titles")] + [record.get(column) for key in ("survey", "choices", "indicators", "areas")
                                          for record in definition[key] for column in TRANSLATABLE[key]]
    for texts in every:
        if not texts:
            continue
        units += 1
        for language in texts:
            if language in totals:
                totals[language] += 1
    return {language: (present, units) for language, present in totals.items()}
