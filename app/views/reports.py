"""Indicator sheets and charts: per institution, per country, for the region, and across
cycles. Pages read stored snapshots through ``app.services.reports``; they work without
JavaScript (the cycle is a plain GET choice)."""
from __future__ import annotations

import io

from flask import Blueprint, abort, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.extensions import db
from app.i18n import current_language
from app.models import Country, Cycle, Response, ThreadKind
from app.services import reports, responses, review
from app.services.scope import get_scoped, scoped
from app.exports import sheets
from app.views import _form
from app.views import _workbooks as workbooks
from app.views._render import render
from app.views.auth import signed_in

bp = Blueprint("reports", __name__, url_prefix="/reports")

SECTIONS = ("law_policy", "practice")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def section_label(section: str) -> str:
    return _("Law and policy") if section == "law_policy" else _("Practice")


def _label(form, texts) -> str:
    return form.text(texts, current_language())[0]


@bp.route("/")
@login_required
def index():
    user = signed_in()
    cycles = reports.cycles_for(user)
    countries = list(db.session.scalars(scoped(user, Country).order_by(Country.code)))
    return render("reports/index.html", cycles=cycles, countries=countries)


@bp.route("/go")
@login_required
def go():
    """The cycle chosen on a sheet (a plain GET form): the same sheet of that cycle."""
    cycle_id = request.args.get("cycle", type=int)
    country_id = request.args.get("country", type=int)
    if cycle_id is None:
        abort(404)
    get_scoped(signed_in(), Cycle, cycle_id)
    if country_id is not None:
        return redirect(url_for("reports.country", cycle_id=cycle_id, country_id=country_id))
    return redirect(url_for("reports.region", cycle_id=cycle_id))


@bp.route("/responses/<int:response_id>")
@login_required
def institution(response_id: int):
    user = signed_in()
    response = get_scoped(user, Response, response_id)
    form = reports.form_of(response.cycle)
    if form is None:
        abort(404)
    sheet = reports.scored(form, response, reports.latest_snapshots([response.id]).get(response.id))
    loaded = responses.load(response)
    loaded.writable = False
    language = current_language()
    threads = review.threads(response.id)
    areas = []
    for area in form.areas:
        sections = []
        for section in SECTIONS:
            rows = []
            for code, indicator in form.indicators.items():
                if indicator.area != area.code or indicator.section != section:
                    continue
                names = indicator.questions or sorted(indicator.references())
                answers = [_form.question(loaded, form.by_name[name], index, language)
                           for name in names if name in form.by_name and form.by_name[name].is_input
                           for index in loaded.state.instances(form.by_name[name])]
                rows.append({"code": code, "label": _label(form, indicator.label), "method": indicator.method,
                             "own": sheet.own.get(code), "reviewed": sheet.reviewed.get(code),
                             "reason": sheet.reasons.get(code), "answers": answers,
                             "threads": threads.get((ThreadKind.INDICATOR, code), []) + [
                                 thread for q in answers for thread in threads.get((ThreadKind.QUESTION, q.path), [])],
                             "aggregate": indicator.aggregate})
            if rows:
                sections.append({"section": section, "label": section_label(section), "rows": rows,
                                 "own": sheet.areas[area.code].sections[section] if sheet.snapshot else None,
                                 "reviewed": sheet.reviewed_areas[area.code].sections[section] if sheet.snapshot else None})
        areas.append({"code": area.code, "label": _label(form, area.label), "sections": sections,
                      "own": sheet.areas.get(area.code), "reviewed": sheet.reviewed_areas.get(area.code)})
    chart = [(a["label"], a["own"].percent if a["own"] else None, a["reviewed"].percent if a["reviewed"] else None)
             for a in areas]
    return render("reports/institution.html", response=response, sheet=sheet, areas=areas, chart=chart,
                  section_label=section_label)


@bp.route("/responses/<int:response_id>.xlsx")
@login_required
def institution_xlsx(response_id: int):
    """The institution's indicator workbook, at once (it is small)."""
    user = signed_in()
    response = get_scoped(user, Response, response_id)
    if reports.form_of(response.cycle) is None:
        abort(404)
    return _download(workbooks.institution(user, response, current_language()), user, response,
                     workbooks.filename(response))


@bp.route("/cycles/<int:cycle_id>/countries/<int:country_id>.xlsx")
@login_required
def country_xlsx(cycle_id: int, country_id: int):
    user = signed_in()
    cycle = get_scoped(user, Cycle, cycle_id)
    place = get_scoped(user, Country, country_id)
    return _download(workbooks.country(user, cycle, place, current_language()), user, cycle,
                     f"matrica-{place.code.lower()}-{cycle.id}.xlsx")


@bp.route("/cycles/<int:cycle_id>.xlsx")
@login_required
def region_xlsx(cycle_id: int):
    user = signed_in()
    cycle = get_scoped(user, Cycle, cycle_id)
    return _download(workbooks.region(user, cycle, current_language()), user, cycle, f"matrica-region-{cycle.id}.xlsx")


def _download(book, user, subject, name: str):
    if book is None:
        abort(404)
    buffer = io.BytesIO()
    sheets.write(book, buffer)
    reports.downloaded(user, subject, name)
    db.session.commit()
    return send_file(io.BytesIO(buffer.getvalue()), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.route("/cycles/<int:cycle_id>/countries/<int:country_id>")
@login_required
def country(cycle_id: int, country_id: int):
    user = signed_in()
    cycle = get_scoped(user, Cycle, cycle_id)
    place = get_scoped(user, Country, country_id)
    sheet = reports.country_sheet(user, cycle, place)
    if sheet is None:
        abort(404)
    form = sheet.form
    indicators = [(code, _label(form, indicator.label), indicator) for code, indicator in form.indicators.items()]
    areas = [(area.code, _label(form, area.label)) for area in form.areas]
    chart = [(label, sheet.areas[code].percent, sheet.reviewed_areas[code].percent) for code, label in areas]
    institutions_chart = [(row.response.institution.name,
                           _mean([row.reviewed_areas[code].percent for code, _l in areas]) if row.snapshot else None,
                           None) for row in sheet.rows]
    rated = sum(1 for code in form.indicators if code in sheet.reviewed and sheet.reviewed[code].rating)
    return render("reports/country.html", sheet=sheet, indicators=indicators, areas=areas, chart=chart, rated=rated,
                  institutions_chart=institutions_chart, sections=SECTIONS, section_label=section_label,
                  cycles=reports.cycles_for(user))


def _mean(values):
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


@bp.route("/cycles/<int:cycle_id>")
@login_required
def region(cycle_id: int):
    user = signed_in()
    cycle = get_scoped(user, Cycle, cycle_id)
    sheets = reports.region_sheet(user, cycle)
    form = reports.form_of(cycle)
    if form is None:
        abort(404)
    areas = [(area.code, _label(form, area.label)) for area in form.areas]
    indicators = [(code, _label(form, indicator.label), indicator) for code, indicator in form.indicators.items()]
    return render("reports/region.html", cycle=cycle, sheets=sheets, areas=areas, indicators=indicators,
                  cycles=reports.cycles_for(user))


@bp.route("/countries/<int:country_id>/trend")
@login_required
def trend(country_id: int):
    user = signed_in()
    place = get_scoped(user, Country, country_id)
    found = reports.trend(user, place)
    form = found.forms[-1] if found.forms else None
    labels = {code: _label(form, indicator.label) for code, indicator in form.indicators.items()} if form else {}
    series = [(_label(form, area.label), found.areas.get(area.code, [])) for area in form.areas] if form else []
    return render("reports/trend.html", country=place, trend=found, labels=labels, series=series)

