"""Indicator sheets: per institution, per country, for the region, and across cycles — read
from the score snapshots kept at each review step (stored figures; a later change of
definition never rewrites them), within the reader's scope: auditors see approved responses,
reviewers their countries at any status (marked), respondents their institution.

A country's indicator is aggregated as its definition says (``scores.country``); its areas are
scored from those aggregates. Statements per sheet are constant, not one per institution.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import Country, Cycle, CycleStatus, Institution, Response, ResponseStatus, ScoreSnapshot
from app.services import audit, questionnaires, scores
from app.services.scope import scoped
from app.services.scores import AreaResult, IndicatorResult
from app.xlsform.compiled import CompiledForm

_RESULT_FIELDS = ("value", "rating", "points", "maximum", "numerator", "denominator", "problem", "reason", "flag")


@dataclass
class Scored:
    """One response's figures as its latest snapshot kept them (None: never submitted)."""
    response: Response
    snapshot: ScoreSnapshot | None
    form: CompiledForm | None = None
    own: dict[str, IndicatorResult] = field(default_factory=dict)
    reviewed: dict[str, IndicatorResult] = field(default_factory=dict)   # as reviewed (self where not)
    reasons: dict[str, str] = field(default_factory=dict)                # why the reviewer differs

    @property
    def final(self) -> bool:
        return self.response.status == ResponseStatus.APPROVED

    @cached_property
    def areas(self) -> dict[str, AreaResult]:   # worked out when a page shows them (a region sheet does not)
        return scores.areas(self.form, self.own) if self.form is not None else {}

    @cached_property
    def reviewed_areas(self) -> dict[str, AreaResult]:
        return scores.areas(self.form, self.reviewed) if self.form is not None else {}


def _results(code_data: dict) -> dict[str, IndicatorResult]:
    return {code: IndicatorResult(code, *map(data.get, _RESULT_FIELDS)) for code, data in code_data.items()}


def scored(form: CompiledForm, response: Response, snapshot: ScoreSnapshot | None) -> Scored:
    """A response's figures from its snapshot, as reviewed where the reviewer set a value."""
    if snapshot is None:
        return Scored(response, None)
    own = _results(snapshot.scores.get("indicators", {}))
    reviewed = dict(own)
    reasons = {}
    for code, data in snapshot.scores.get("reviewed", {}).items():
        if code in form.indicators:
            reviewed[code] = scores.rated(form.indicators[code], data["value"], own.get(code))
            reasons[code] = data.get("reason", "")
    return Scored(response, snapshot, form, own, reviewed, reasons)


def latest_snapshots(response_ids: list[int]) -> dict[int, ScoreSnapshot]:
    """Each response's latest snapshot, in one statement."""
    if not response_ids:
        return {}
    latest = (select(func.max(ScoreSnapshot.id)).where(ScoreSnapshot.response_id.in_(response_ids))
              .group_by(ScoreSnapshot.response_id))
    return {s.response_id: s for s in db.session.scalars(select(ScoreSnapshot).where(ScoreSnapshot.id.in_(latest)))}


def _responses(user, cycle_id: int, country_id: int | None = None) -> list[Response]:
    query = (scoped(user, Response).join(Cycle, Response.cycle_id == Cycle.id)
             .join(Country, Institution.country_id == Country.id)
             .where(Response.cycle_id == cycle_id)
             .options(contains_eager(Response.institution).contains_eager(Institution.country),
                      contains_eager(Response.cycle))
             .order_by(Country.code, Institution.name))
    if country_id is not None:
        query = query.where(Institution.country_id == country_id)
    return list(db.session.scalars(query).unique())


def form_of(cycle: Cycle) -> CompiledForm | None:
    version = cycle.questionnaire_version
    return questionnaires.compiled(version) if version is not None else None


@dataclass
class CountrySheet:
    cycle: Cycle
    country: Country
    form: CompiledForm
    rows: list[Scored]                       # institutions, by name
    own: dict[str, IndicatorResult]          # the country's indicators, aggregated as defined
    reviewed: dict[str, IndicatorResult]
    areas: dict[str, AreaResult]
    reviewed_areas: dict[str, AreaResult]

    @property
    def counted(self) -> list[Scored]:
        return [row for row in self.rows if row.snapshot is not None]


def country_sheet(user, cycle: Cycle, country: Country, snapshots: dict[int, ScoreSnapshot] | None = None,
                  responses: list[Response] | None = None) -> CountrySheet | None:
    form = form_of(cycle)
    if form is None:
        return None
    found = responses if responses is not None else _responses(user, cycle.id, country.id)
    kept = snapshots if snapshots is not None else latest_snapshots([r.id for r in found])
    rows = [scored(form, response, kept.get(response.id)) for response in found]
    counted = [row for row in rows if row.snapshot is not None]
    own = scores.country(form, [row.own for row in counted])
    reviewed = scores.country(form, [row.reviewed for row in counted])
    return CountrySheet(cycle, country, form, rows, own, reviewed, scores.areas(form, own), scores.areas(form, reviewed))


def region_sheet(user, cycle: Cycle) -> list[CountrySheet]:
    """Every country in scope with responses in the cycle, each aggregated (constant statements)."""
    found = _responses(user, cycle.id)
    kept = latest_snapshots([r.id for r in found])
    by_country: dict[int, list[Response]] = defaultdict(list)
    for response in found:
        by_country[response.institution.country_id].append(response)
    sheets = []
    for responses in by_country.values():
        sheet = country_sheet(user, cycle, responses[0].institution.country, kept, responses)
        if sheet is not None:
            sheets.append(sheet)
    return sheets


@dataclass
class Trend:
    cycles: list[Cycle]
    shared: list[str]                                 # indicator codes every cycle's version has
    left_out: list[str]                               # codes some versions have and others do not
    values: dict[str, list[IndicatorResult | None]]   # code → one result per cycle
    areas: dict[str, list[float | None]]              # area code → percent per cycle (reviewed)
    forms: list[CompiledForm]


def trend(user, country: Country) -> Trend:
    """One country across the cycles its responses were kept for, oldest first: only the
    indicator codes that every cycle's questionnaire version shares."""
    cycles = list(db.session.scalars(select(Cycle).where(Cycle.status != CycleStatus.PLANNED,
                                                         Cycle.questionnaire_version_id.is_not(None))
                                     .order_by(Cycle.period_start)))
    sheets = [(cycle, country_sheet(user, cycle, country)) for cycle in cycles]
    sheets = [(cycle, sheet) for cycle, sheet in sheets if sheet is not None and sheet.counted]
    if not sheets:
        return Trend([], [], [], {}, {}, [])
    code_sets = [set(sheet.form.indicators) for _cycle, sheet in sheets]
    shared = [code for code in sheets[-1][1].form.indicators if all(code in codes for codes in code_sets)]
    left_out = sorted(set().union(*code_sets) - set(shared))
    values = {code: [sheet.reviewed.get(code) for _cycle, sheet in sheets] for code in shared}
    area_codes = [area.code for area in sheets[-1][1].form.areas]
    areas = {code: [sheet.reviewed_areas[code].percent if code in sheet.reviewed_areas else None
                    for _cycle, sheet in sheets] for code in area_codes}
    return Trend([cycle for cycle, _sheet in sheets], shared, left_out, values, areas,
                 [sheet.form for _cycle, sheet in sheets])


def cycles_for(user) -> list[Cycle]:
    """The cycles with a questionnaire whose responses the reader may see, newest first."""
    return list(db.session.scalars(scoped(user, Cycle).where(Cycle.questionnaire_version_id.is_not(None),
                                                            Cycle.status != CycleStatus.PLANNED)
                                   .order_by(Cycle.period_start.desc())))



def downloaded(user, subject, what: str) -> None:
    """Every download is an audit event (about the response or the cycle it is of)."""
    audit.record(user, "export.download", subject, "file", None, what)
