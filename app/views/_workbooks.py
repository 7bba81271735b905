"""Indicator workbooks in the reader's language: what the sheets show, as rows for
``app.exports.sheets``. Used by the download views (and usable by a command or a worker that
pushes an app context and a locale)."""
from __future__ import annotations

from datetime import datetime, timezone

from babel.dates import get_date_format
from flask_babel import format_datetime, get_locale, to_user_timezone
from flask_babel import gettext as _

from app.exports import raw as raw_export
from app.exports import sheets
from app.exports.writer import CsvBook, XlsxBook, excel_date_format
from app.models import Response, ResponseStatus, ThreadKind
from app.services import raw_data, reports, responses, review
from app.templating import (aggregation, country_label, country_name, flag_label, kosovo_footnote, person, reason_label,
                            status_label)
from app.views import _form

_SECTIONS = ("law_policy", "practice")


def _rating_words() -> dict[str, str]:
    return {"green": _("Green"), "amber": _("Amber"), "red": _("Red")}


def _rating(value) -> str:
    return _rating_words().get(value, _("not rated")) if value else _("not rated")


def _section(section: str) -> str:
    return _("Law and policy") if section == "law_policy" else _("Practice")


def _reason(result) -> str:
    """Why an indicator has no value (or is not rated), in words; empty when it has one."""
    if result is None:
        return ""
    if result.problem:
        return _("cannot be computed")
    if result.value is None:
        return reason_label(result.reason)
    return flag_label(result.flag)


def institution(user, response: Response, language: str) -> sheets.Book:
    form = reports.form_of(response.cycle)
    scored = reports.scored(form, response, reports.latest_snapshots([response.id]).get(response.id))
    loaded = responses.load(response)
    loaded.writable = False
    threads = review.threads(response.id)
    approved = review.approved_by(response.id)
    version = response.cycle.questionnaire_version
    cover = [
        (_("Institution"), response.institution.name),
        (_("Country"), country_name(response.institution.country)),
        (_("Cycle"), response.cycle.name_in(language)),
        (_("Questionnaire"), f"{version.questionnaire.title} — {_('Version %(number)d', number=version.number)}"),
        (_("Status"), status_label(response.status)),
        (_("Approved"), f"{format_datetime(approved[0], 'medium')} — {person(approved[1])}" if approved else "—"),
        (_("Figures as of"), format_datetime(scored.snapshot.created_at, "medium") if scored.snapshot else
         _("This response has not been submitted yet: it has no figures to show.")),
        (_("Generated"), format_datetime(datetime.now(timezone.utc), "medium")),
        (_("Language"), language),
        (_("Generated for"), person(user)),
    ]
    indicator_rows, area_rows = [], []
    for area in form.areas:
        label = form.text(area.label, language)[0]
        if scored.snapshot:
            area_rows.append([label, scored.areas[area.code].percent, scored.reviewed_areas[area.code].percent])
        for code, indicator in form.indicators.items():
            if indicator.area != area.code:
                continue
            names = indicator.questions or sorted(indicator.references())
            views = [_form.question(loaded, form.by_name[name], index, language)
                     for name in names if name in form.by_name and form.by_name[name].is_input
                     for index in loaded.state.instances(form.by_name[name])]
            own, as_reviewed = scored.own.get(code), scored.reviewed.get(code)
            comments = [f"{person(c.author)}: {c.body}" for kind_target in
                        [(ThreadKind.INDICATOR, code)] + [(ThreadKind.QUESTION, q.path) for q in views]
                        for thread in threads.get(kind_target, []) for c in thread.comments]
            indicator_rows.append([
                label, _section(indicator.section), code, form.text(indicator.label, language)[0],
                "\n".join(f"{q.label.text}: {q.display or '—'}" for q in views),
                "\n".join(q.evidence for q in views if q.evidence),
                own.value if own and indicator.method != "band" else None,
                own.value if own and indicator.method == "band" else None,
                _rating(own.rating if own else None), _reason(own),
                as_reviewed.value if as_reviewed and scored.reasons.get(code) is not None else None,
                _rating(as_reviewed.rating if as_reviewed else None), scored.reasons.get(code, ""),
                "\n".join(comments)])
    answers = []
    files = _form.files_of(loaded) if form.has_files else {}
    for node, index, path in loaded.state.input_paths():
        if node.chain:
            continue
        value = loaded.answers[path].value if path in loaded.answers else ""
        label = ", ".join(form.choice_label(node.list_name, item, language) for item in value.split()) \
            if node.list_name else files[value].original if value in files else value
        answers.append([path, form.text(node.label, language)[0], label, value if node.list_name else "",
                        loaded.answers[path].evidence if path in loaded.answers else ""])
    tables = [
        sheets.Table(_("Indicators"), [_("Area"), _("Section"), _("Code"), _("Indicator"), _("Answers behind it"),
                                       _("Evidence"), _("Self-assessed"), _("Self-assessed value"), _("Rating"),
                                       _("Why no value"), _("Reviewed"), _("Reviewed rating"), _("Reason"),
                                       _("Comments")],
                     indicator_rows, widths=[22, 14, 8, 40, 50, 40, 12, 12, 12, 20, 12, 14, 30, 40],
                     percent={6, 10}, rating={8, 11}),
        sheets.Table(_("Answers"), [_("Question code"), _("Question"), _("Answer"), _("Answer code"), _("Evidence")],
                     answers, widths=[22, 60, 40, 20, 40]),
        sheets.Table(_("Areas"), [_("Area"), _("Self-assessed"), _("Reviewed")], area_rows, widths=[40, 14, 14],
                     percent={1, 2}),
    ]
    tables += _repeats(loaded, language)
    return sheets.Book(_("Indicator sheet"), cover, tables,
                       [sheets.Chart(_("Area scores: self-assessed and reviewed"), _("Areas"), 0, [1, 2])],
                       _rating_words())


def _repeats(loaded, language: str) -> list[sheets.Table]:
    """One sheet per repeat: its entries, linked to their parent entry by _index / _parent_index."""
    form, tables = loaded.form, []
    for repeat in (n for n in form.nodes if n.kind == "repeat"):
        questions = [n for n in form.walk(repeat) if n.kind == "question" and n.is_input and n.repeat is repeat]
        rows = []
        for number, index in enumerate(loaded.state.instances(questions[0]) if questions else [], start=1):
            row = [number, index[-2] if len(index) > 1 else ""]
            for node in questions:
                path = responses.node_path(node, index)
                value = loaded.answers[path].value if path in loaded.answers else ""
                row.append(", ".join(form.choice_label(node.list_name, item, language) for item in value.split())
                           if node.list_name else value)
            rows.append(row)
        tables.append(sheets.Table(form.text(repeat.label, language)[0] or repeat.name,
                                   ["_index", "_parent_index"] + [form.text(n.label, language)[0] or n.name
                                                                  for n in questions], rows))
    return tables


def filename(response: Response) -> str:
    return f"matrica-{response.institution.country.code.lower()}-{response.id}-{response.cycle_id}.xlsx"




def _nothing() -> str:
    return _("No response of this cycle within what you may see has figures yet (auditors see approved "
             "responses only): this workbook is empty.")


def _method(indicator) -> str:
    return aggregation(indicator)


def country(user, cycle, place, language: str) -> sheets.Book | None:
    sheet = reports.country_sheet(user, cycle, place)
    if sheet is None:
        return None
    form = sheet.form
    cover = [(_("Country"), country_label(place)), (_("Cycle"), cycle.name_in(language)),
             (_("Institutions"), ", ".join(row.response.institution.name for row in sheet.counted) or "—"),
             (_("Generated"), format_datetime(datetime.now(timezone.utc), "medium")),
             (_("Language"), language), (_("Generated for"), person(user))]
    if place.code == "XK":
        cover.append(("*", kosovo_footnote()))
    if not sheet.counted:
        cover.append((_("Note"), _nothing()))
    indicators = [[code, form.text(indicator.label, language)[0], _section(indicator.section),
                   *_value_pair(sheet.own.get(code), indicator), _rating(sheet.own[code].rating),
                   *_value_pair(sheet.reviewed.get(code), indicator), _rating(sheet.reviewed[code].rating),
                   _reason(sheet.reviewed.get(code)), _method(indicator)]
                  for code, indicator in form.indicators.items()]
    areas = [[form.text(area.label, language)[0],
              sheet.reviewed_areas[area.code].sections["law_policy"].percent,
              sheet.reviewed_areas[area.code].sections["practice"].percent,
              sheet.areas[area.code].percent, sheet.reviewed_areas[area.code].percent,
              _rating(sheet.reviewed_areas[area.code].rating), sheet.reviewed_areas[area.code].total.rated,
              sheet.reviewed_areas[area.code].total.indicators] for area in form.areas]
    institutions = [[row.response.institution.name, status_label(row.response.status)]
                    + [_rating(row.reviewed[code].rating) if row.snapshot else "—" for code in form.indicators]
                    for row in sheet.rows]
    value_headers = [_("Self-assessed"), _("Self-assessed value"), _("Rating"), _("Reviewed"), _("Reviewed value"),
                     _("Reviewed rating")]
    return sheets.Book(_("Country sheet"), cover, [
        sheets.Table(_("Country indicators"), [_("Code"), _("Indicator"), _("Section"), *value_headers, _("Why no value"),
                                               _("How it is aggregated")], indicators,
                     widths=[8, 40, 14, 12, 12, 12, 12, 12, 14, 20, 30], percent={3, 6}, rating={5, 8}),
        sheets.Table(_("Areas"), [_("Area"), _("Law and policy"), _("Practice"), _("Self-assessed"), _("Reviewed"),
                                  _("Rating"), _("Indicators rated"), _("Indicators")], areas,
                     widths=[40, 14, 14, 14, 14, 12, 10, 10], percent={1, 2, 3, 4}, rating={5}),
        sheets.Table(_("Institutions"), [_("Institution"), _("Status")] + list(form.indicators), institutions,
                     widths=[40, 16], rating=set(range(2, 2 + len(form.indicators)))),
    ], [sheets.Chart(_("Country area scores: self-assessed and reviewed"), _("Areas"), 0, [3, 4])], _rating_words())


def _value_pair(result, indicator) -> list:
    """A value as a percentage (points, ratio) or as a number (band): two columns, one filled."""
    value = result.value if result is not None else None
    return [value, None] if indicator.method != "band" else [None, value]


def region(user, cycle, language: str) -> sheets.Book | None:
    form = reports.form_of(cycle)
    if form is None:
        return None
    found = reports.region_sheet(user, cycle)
    names = [country_label(sheet.country) for sheet in found]
    cover = [(_("Cycle"), cycle.name_in(language)), (_("Countries"), ", ".join(names) or "—"),
             (_("Generated"), format_datetime(datetime.now(timezone.utc), "medium")),
             (_("Language"), language), (_("Generated for"), person(user))]
    if any(sheet.country.code == "XK" for sheet in found):
        cover.append(("*", kosovo_footnote()))
    if not any(sheet.counted for sheet in found):
        cover.append((_("Note"), _nothing()))
    areas = [[form.text(area.label, language)[0]] + [sheet.reviewed_areas[area.code].percent for sheet in found]
             for area in form.areas]
    indicators = [[code, form.text(indicator.label, language)[0]]
                  + [sheet.reviewed[code].value for sheet in found] + [_method(indicator)]
                  for code, indicator in form.indicators.items()]
    trends = [(sheet.country, reports.trend(user, sheet.country)) for sheet in found]
    # every cycle any country has figures for, oldest first; a country's gaps stay empty
    cycles = sorted({cycle.id: cycle for _place, trend in trends for cycle in trend.cycles}.values(),
                    key=lambda cycle: (cycle.period_start, cycle.id))
    trend_rows, left_out = [], set()
    for place, trend in trends:
        left_out |= set(trend.left_out)
        for area in form.areas:
            by_cycle = dict(zip((cycle.id for cycle in trend.cycles), trend.areas.get(area.code, [])))
            trend_rows.append([country_label(place), form.text(area.label, language)[0]]
                              + [by_cycle.get(cycle.id) for cycle in cycles])
    trend_note = [[_("The questionnaire versions of these cycles differ: only the indicators they share are "
                     "compared. Left out: %(codes)s.", codes=", ".join(sorted(left_out)))]] if left_out else []
    return sheets.Book(_("Region sheet"), cover, [
        sheets.Table(_("Areas by country (reviewed)"), [_("Area")] + names, areas, widths=[40] + [14] * len(names),
                     percent=set(range(1, 1 + len(names)))),
        sheets.Table(_("Indicators by country (reviewed)"), [_("Code"), _("Indicator")] + names
                     + [_("How it is aggregated")], indicators, widths=[8, 40] + [12] * len(names) + [30]),
        sheets.Table(_("Across cycles"), [_("Country"), _("Area")] + [c.name for c in cycles],
                     trend_rows + trend_note, widths=[24, 40] + [14] * len(cycles),
                     percent=set(range(2, 2 + len(cycles)))),
    ], [], _rating_words())


def _local(moment: datetime | None) -> datetime | None:
    """A stored moment in the reader's time zone, as a spreadsheet holds it (without a zone)."""
    return to_user_timezone(moment).replace(tzinfo=None) if moment is not None else None


class RowCountMismatch(RuntimeError):
    """Fewer or more rows were written than there are responses: the file is not offered."""


def raw(user, cycle, language: str, target, *, labels: str | None = None, multiple: str = "both",
        file_format: str = "xlsx", country_id: int | None = None, progress=None) -> int:
    """Write the cycle's raw data within ``user``'s scope to ``target``; the rows written.

    ``labels``: a language of the questionnaire for answer labels, or None for codes;
    ``progress(done, total)`` is called as rows are written."""
    form = reports.form_of(cycle)
    total = raw_data.count(user, cycle, country_id)
    dates = excel_date_format(get_date_format("short", locale=get_locale()).pattern)
    book = XlsxBook(target, constant_memory=True, date_format=dates) if file_format == "xlsx" else CsvBook(target)
    words = raw_export.Words(_("Responses"), _("Institution"), _("Country"), _("Status"), _("Submitted"),
                             _("Last change"), _nothing())
    statuses = {status: status_label(status) for status in ResponseStatus}
    submissions = (raw_export.Submission(found.id, found.institution, found.country, statuses[found.status],
                                         _local(found.submitted_at), _local(found.updated_at), found.answers)
                   for found in raw_data.responses(user, cycle, country_id, files=form.has_files))
    written = raw_export.write(form, book, raw_export.Options(labels, multiple), words, submissions,
                               (lambda rows: progress(rows, total)) if progress is not None else None)
    if written != total:
        raise RowCountMismatch(f"{written} rows written of {total} responses")
    return written


def raw_filename(cycle, params: dict, head: bytes) -> tuple[str, str]:
    """The raw export's file name and kind (xlsx, csv, or zip for several CSV files), given
    the first bytes written."""
    kind = "xlsx" if params.get("format", "xlsx") == "xlsx" else "zip" if head.startswith(b"PK") else "csv"
    place = f"-{params['country_code'].lower()}" if params.get("country_code") else ""
    return f"matrica-raw-{cycle.id}{place}-{datetime.now(timezone.utc):%Y%m%d-%H%M}.{kind}", kind


__all__ = ["country", "filename", "institution", "raw", "raw_filename", "region"]
