"""Localised text for the problems found in a questionnaire file."""
from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext

from app.xlsform.issues import Issue


def describe(issue: Issue) -> str:
    p = {k: v for k, v in issue.params.items()}
    messages = {
        "not_a_workbook": lambda: _("This is not an Excel workbook (.xlsx)."),
        "corrupt_file": lambda: _("The file is damaged and cannot be opened."),
        "sheet_too_large": lambda: _("The sheet holds more than %(limit)s cells; even a sheet Matrica ignores must be smaller. Delete what it does not need, or move it to another file.", limit=format_decimal(p["limit"])),
        "file_too_large": lambda: _("The file is larger than %(limit)d MB.", limit=p["limit_mb"]),
        "macros_not_allowed": lambda: _("Workbooks with macros (.xlsm) are not accepted. Save it as a plain .xlsx."),
        "zip_bomb": lambda: _("The file unpacks to far more data than a questionnaire holds; it was not opened."),
        "too_many_rows": lambda: _("The sheet has data beyond row %(limit)d; a questionnaire sheet may have at most %(limit)d rows.", limit=p["limit"]),
        "too_many_columns": lambda: _("The sheet uses more than %(limit)d columns.", limit=p["limit"]),
        "formula_not_allowed": lambda: _("This formula has no saved value (or its value is an error); write the value itself."),
        "formula_value_used": lambda: ngettext(
            "This cell holds a formula: its saved value was read, and the formula is not kept.",
            "This sheet holds %(num)d formulas (the first here): their saved values were read, and the formulas are not kept.",
            p["count"]),
        "cell_too_long": lambda: _("The cell holds more than %(limit)d characters.", limit=p["limit"]),
        "sheet_ignored": lambda: _("The sheet “%(sheet)s” is not part of XLSForm and is ignored (start its name with _ to silence this).", sheet=p["sheet"]),
        "missing_sheet": lambda: _("The workbook has no “%(sheet)s” sheet.", sheet=p["sheet"]),
        "missing_column": lambda: _("The column “%(column)s” is missing.", column=p["column"]),
        "column_not_supported": lambda: _("The column “%(column)s” has no meaning in a desk survey and is not supported.", column=p["column"]),
        "media_not_shown": lambda: _("The column “%(column)s” names a picture, sound or video to show beside a text; the file is not part of the upload, so nothing is shown. The column is kept.", column=p["column"]),
        "column_kept": lambda: _("The column “%(column)s” is not used by Matrica; it is kept and exported again.", column=p["column"]),
        "duplicate_column": lambda: _("The column “%(column)s” appears twice (first as “%(first)s”).", column=p["column"], first=p["first"]),
        "missing_form_id": lambda: _("The settings sheet needs a form_id."),
        "form_id_adapted": lambda: _("The form_id “%(written)s” is not a valid name; “%(name)s” is used.", written=p["written"], name=p["name"]),
        "sheet_read_as_survey": lambda: _("The workbook has one sheet, “%(sheet)s”: it is read as the survey sheet.", sheet=p["sheet"]),
        "name_generated": lambda: _("The note has no name: it is named “%(name)s”.", name=p["name"]),
        "loop_expanded": lambda: ngettext("The loop over the list “%(list)s” is read as a group for its %(num)d choice.", "The loop over the list “%(list)s” is read as a group for each of its %(num)d choices.", p["count"], list=p["list"]),
        "path_as_reference": lambda: _("The XPath paths in this expression were read as references to the questions they lead to: %(expression)s", expression=p["expression"]),
        "unknown_path": lambda: _("The path “%(path)s” leads to no question of this form; refer to questions as ${name}.", path=p["path"]),
        "loop_too_large": lambda: _("Read as a group per choice, this loop would make the survey longer than %(limit)d rows.", limit=p["limit"]),
        "cell_without_header": lambda: _("This column has no header: its text (here first) is not read."),
        "label_from_hint": lambda: _("No label: the hint is shown as the question's text."),
        "form_id_from_file_name": lambda: _("No form_id in the settings: “%(name)s”, from the file's name, is used.", name=p["name"]),
        "type_spelling": lambda: _("“%(type)s” is an old spelling; it was read as “%(canonical)s”.", type=p["type"], canonical=p["canonical"]),
        "language_by_name": lambda: _("The language “%(name)s” is read as the language with the code “%(code)s”.", name=p["name"], code=p["code"]),
        "label_from_name": lambda: _("No label: the name “%(name)s” is shown instead.", name=p["name"]),
        "barcode_as_text": lambda: _("A barcode is typed in as text: a desk survey has no scanner."),
        "metadata_left_empty": lambda: _("“%(type)s” is filled in by a phone; it is kept in the questionnaire and left empty here.", type=p["type"]),
        "translation_other_version": lambda: _("This workbook belongs to “%(form_id)s” version %(version)s, not to “%(expected_form_id)s” version %(expected_version)s.", form_id=p["form_id"], version=p["version"], expected_form_id=p["expected_form_id"], expected_version=p["expected_version"]),
        "translation_columns": lambda: _("The first columns must be %(columns)s, then the default language and one column per language.", columns=p["columns"]),
        "unknown_language": lambda: _("“%(language)s” is not a language code Matrica knows; write it as “Name (code)”, for example “Français (fr)”.", language=p["language"]),
        "translation_row_unknown": lambda: _("“%(name)s” is not in this version; the row was left out.", name=p["name"]),
        "source_changed": lambda: _("The text of “%(name)s” in the default language differs from this version's; its translations were not used. Translate the current text.", name=p["name"]),
        "geo_as_text": lambda: _("“%(type)s” is written out as text: a desk survey has no map to draw on.", type=p["type"]),
        "choice_name_space_single": lambda: _("The choice name “%(name)s” contains a space; it is kept, since only single-answer questions use its list.", name=p["name"]),
        "choices_from_sheet": lambda: _("The choices of “%(file)s” are read from the list “%(list)s” on the choices sheet.", file=p["file"], list=p["list"]),
        "choices_file_missing": lambda: _("This question reads its choices from “%(file)s”, which cannot come with a workbook: put its rows on the choices sheet under list_name “%(list)s”.", file=p["file"], list=p["list"]),
        "quotes_straightened": lambda: _("Typographic quotes in this expression were read as straight quotes."),
        "bad_name": lambda: _("“%(name)s” is not a valid name: start with a letter or _, then letters, digits, _, - or . only.", name=p.get("name", "")),
        "missing_list_name": lambda: _("The choice has no list_name."),
        "missing_choice_name": lambda: _("The choice has no name."),
        "choice_name_space": lambda: _("The choice name “%(name)s” contains a space.", name=p["name"]),
        "duplicate_choice": lambda: _("The choice “%(name)s” appears twice in the list “%(list)s” (first in row %(first)d).", name=p["name"], list=p["list"], first=p["first"]),
        "score_not_number": lambda: _("“%(value)s” is not a number.", value=p["value"]),
        "missing_label": lambda: _("A label is required."),
        "missing_type": lambda: _("The row has content but no type."),
        "type_not_supported": lambda: _("The type “%(type)s” is not supported in Matrica (it needs a device, a drawing or external data).", type=p["type"]),
        "unknown_type": lambda: _("“%(type)s” is not an XLSForm type.", type=p["type"]),
        "unmatched_end": lambda: _("“%(type)s” has no matching begin.", type=p["type"]),
        "missing_name": lambda: _("A name is required."),
        "name_made_unique": lambda: _("The name “%(name)s” is also used in row %(first)d, in another group; here it is kept as “%(unique)s”, and “${%(name)s}” cannot be used in expressions.", name=p["name"], first=p["first"], unique=p["unique"]),
        "ambiguous_reference": lambda: _("“${%(name)s}” is ambiguous: more than one question has that name. Rename one of them.", name=p["name"]),
        "duplicate_name": lambda: _("The name “%(name)s” is already used in row %(first)d.", name=p["name"], first=p["first"]),
        "missing_list": lambda: _("“%(type)s” needs a choice list name.", type=p["type"]),
        "unknown_list": lambda: _("The choice list “%(list)s” is not on the choices sheet.", list=p["list"]),
        "missing_calculation": lambda: _("A calculate row needs a calculation."),
        "bad_parameter": lambda: _("The parameter %(parameter)s is not a number.", parameter=p["parameter"]),
        "bad_bounds": lambda: _("The lowest value %(low)s is above the highest %(high)s.", low=p["low"], high=p["high"]),
        "too_deep_groups": lambda: _("Groups and repeats are nested more than %(limit)d levels deep.", limit=p["limit"]),
        "too_deep_repeats": lambda: _("Repeats are nested more than %(limit)d levels deep.", limit=p["limit"]),
        "too_many_calculations": lambda: _("The form has more than %(limit)d calculations.", limit=p["limit"]),
        "too_many_expressions": lambda: _("The form has more than %(limit)d expressions.", limit=p["limit"]),
        "too_many_patterns": lambda: _("The form uses regex() more than %(limit)d times.", limit=p["limit"]),
        "bad_range": lambda: _("The range from %(start)s to %(end)s in steps of %(step)s is empty.", start=p["start"], end=p["end"], step=p["step"]),
        "unknown_unit": lambda: _("“%(value)s” is not a unit Matrica knows; the unit of an amount of money is currency.", value=p["value"]),
        "unit_not_number": lambda: _("Only a number (integer or decimal) can have a unit."),
        "bad_evidence": lambda: _("Evidence must be none, optional or required-when-positive."),
        "unclosed": lambda: _("The group or repeat “%(name)s” is never closed.", name=p["name"]),
        "expression_invalid": lambda: _("The expression is not valid at character %(position)d: %(reason)s", position=p["position"], reason=expression_reason(p)),
        "unknown_reference": lambda: _("${%(name)s} refers to a question that does not exist.", name=p["name"]),
        "calculation_cycle": lambda: _("These calculations depend on each other in a circle: %(names)s.", names=p["names"]),
        "unknown_area": lambda: _("The area “%(area)s” is not on the areas sheet.", area=p["area"]),
        "bad_section": lambda: _("The section must be law_policy or practice."),
        "bad_method": lambda: _("The method must be points, ratio or band."),
        "bad_area_rating": lambda: _("An area's rating must be overall or weakest_section."),
        "bad_aggregate": lambda: _("The aggregate must be sum or mean."),
        "language_copy": lambda: _("The texts in “%(language)s” are %(share)s %% the same as in “%(other)s”, word for word: is one a relabelled copy of the other? A reader choosing it would get the wrong language.", language=p["language"], other=p["other"], share=p["share"]),
        "when_no_cases_not_ratio": lambda: _("when_no_cases gives a ratio its value when it has no cases; this indicator is not a ratio."),
        "availability_not_select": lambda: _("availability must name a single-answer question outside repeats; “%(name)s” is not one.", name=p["name"]),
        "availability_choices": lambda: _("The list “%(list)s” of “%(name)s” has neither a not_available nor a not_competent choice, so it can never say that the data are missing.", list=p["list"], name=p["name"]),
        "unknown_institution_kind": lambda: _("“%(value)s” is not a kind of institution. Known kinds: %(known)s.", value=p["value"], known=p["known"]),
        "responsible_missing": lambda: _("The questionnaire asks some questions of some kinds of institution only, so each indicator must name in “responsible” the kinds whose answers make its country figure; “%(indicator)s” names none.", indicator=p["indicator"]),
        "responsible_not_asked": lambda: _("“%(indicator)s” is made of the answers of %(kinds)s, but “%(name)s”, which it reads, is not asked of them (see its applies_to).", indicator=p["indicator"], kinds=p["kinds"], name=p["name"]),
        "missing_expression": lambda: _("The %(column)s expression is required for this method.", column=p["column"]),
        "bad_thresholds": lambda: _("Thresholds are written like: green>=75; amber>=50"),
        "one_threshold": lambda: _("“%(value)s” names one band only; the other keeps its default (%(default)s %%).", value=p["value"], default=p["default"]),
        "unknown_indicator": lambda: _("The indicator “%(indicator)s” is not on the indicators sheet.", indicator=p["indicator"]),
        "nothing_to_score": lambda: _("The question feeds an indicator but has no score: give its choices a score or write a score expression."),
        "max_score_needed": lambda: _("A score expression needs a max_score."),
        "max_score_mismatch": lambda: _("max_score is %(max_score)s but the choices give at most %(highest)s.", max_score=p["max_score"], highest=p["highest"]),
        "indicator_unused": lambda: _("No question feeds the indicator “%(indicator)s”.", indicator=p["indicator"]),
        "translation_missing": lambda: _("No %(field)s in the language “%(language)s”.", field=p["field"], language=p["language"]),
    }
    make = messages.get(issue.code)
    return make() if make else issue.code


def expression_reason(p: dict) -> str:
    reasons = {
        "empty": lambda: _("it is empty"),
        "too_long": lambda: _("it is longer than %(limit)d characters", limit=p.get("limit", 0)),
        "too_deep": lambda: _("it is nested more than %(limit)d levels deep", limit=p.get("limit", 0)),
        "unexpected_character": lambda: _("unexpected character “%(character)s”", character=p.get("character", "")),
        "unexpected_token": lambda: _("unexpected “%(token)s”", token=p.get("token", "")),
        "expected": lambda: _("expected “%(expected)s” but found “%(found)s”", expected=p.get("expected", ""), found=p.get("found", "")),
        "bad_reference": lambda: _("“%(reference)s” is not a valid ${name} reference", reference=p.get("reference", "")),
        "path_not_supported": lambda: _("XPath paths are not supported; refer to questions as ${name}"),
        "bare_name": lambda: _("“%(name)s” is neither a function nor a ${name} reference", name=p.get("name", "")),
        "unknown_function": lambda: _("unknown function “%(name)s”", name=p.get("name", "")),
        "lookup_form": lambda: _("instance() is read only as a lookup in a choice list: instance('list')/root/item[name = ${question}]/label"),
        "function_not_supported": lambda: _("%(name)s() needs data from outside the form or a device's location, which a desk survey does not have", name=p.get("name", "")),
        "wrong_arity": lambda: _("%(name)s() does not take %(count)d arguments", name=p.get("name", ""), count=p.get("count", 0)),
        "too_many_arguments": lambda: _("too many arguments to %(name)s()", name=p.get("name", "")),
        "union_not_supported": lambda: _("the | operator is not supported"),
        "pattern_not_text": lambda: _("the pattern of regex() must be written in quotes"),
        "pattern_too_long": lambda: _("the pattern of regex() is longer than %(limit)d characters", limit=p.get("limit", 0)),
        "pattern_too_large": lambda: _("the pattern of regex() repeats too much (more than %(limit)d characters once expanded)", limit=p.get("limit", 0)),
        "bad_pattern": lambda: _("the pattern of regex() is not valid (%(reason)s)", reason=p.get("reason", "")),
    }
    make = reasons.get(p.get("detail", ""))
    return make() if make else str(p.get("detail", ""))


def located(issue: Issue) -> str:
    """``survey, row 12, column F: message`` in the interface language."""
    where = []
    if issue.sheet:
        where.append(issue.sheet)
    if issue.row:
        where.append(_("row %(row)d", row=issue.row))
    if issue.column:
        where.append(_("column %(column)s", column=issue.column))
    prefix = ", ".join(where)
    return f"{prefix}: {describe(issue)}" if prefix else describe(issue)
