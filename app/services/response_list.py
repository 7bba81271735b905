"""Lists of responses: within the reader's scope, filtered, paged and counted, with progress —
a constant number of statements per page, whatever its length (no evaluation per response:
progress is kept by each save; a response nobody has answered yet has its form's empty
progress)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import Answer, Country, Cycle, CycleStatus, Institution, Response, ResponseStatus
from app.services import questionnaires, responses
from app.services.scope import scoped
from app.xlsform.compiled import CompiledForm, UnusableDefinition
from app.xlsform.state import FormState

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    cycle: int | None = None
    country: int | None = None
    institution: int | None = None
    status: ResponseStatus | None = None

    @property
    def active(self) -> bool:
        return any(value is not None for value in (self.cycle, self.country, self.institution, self.status))


@dataclass(frozen=True)
class Row:
    response: Response
    progress: tuple[int, int] | None   # (answered, to answer); None without a usable questionnaire


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    total: int        # responses matching the filters, on every page
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def first(self) -> int:   # 1-based position of the first row shown
        return (self.page - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def listing(user, filters: Filters = Filters(), page: int = 1, size: int = PAGE_SIZE,
            hide_planned: bool = False, waiting_longest_first: bool = False, access: str = "read") -> Listing:
    """The responses ``user`` may access as ``access`` that match ``filters``, page ``page`` (past
    the last page: the last), newest deadline first, then by country and institution — or, for
    a queue, those submitted longest ago first."""
    query = (scoped(user, Response, access).join(Cycle, Response.cycle_id == Cycle.id)
             .join(Country, Institution.country_id == Country.id))
    if filters.cycle is not None:
        query = query.where(Response.cycle_id == filters.cycle)
    if filters.country is not None:
        query = query.where(Institution.country_id == filters.country)
    if filters.institution is not None:
        query = query.where(Response.institution_id == filters.institution)
    if filters.status is not None:
        query = query.where(Response.status == filters.status)
    if hide_planned:
        query = query.where(Cycle.status != CycleStatus.PLANNED)
    total = db.session.scalar(query.with_only_columns(func.count(Response.id)).order_by(None)) or 0
    page = max(1, min(page, max(1, math.ceil(total / size))))
    rows = db.session.scalars(
        query.options(contains_eager(Response.cycle).joinedload(Cycle.questionnaire_version),
                      contains_eager(Response.institution).contains_eager(Institution.country))
        .order_by(*((Response.submitted_at, Response.id) if waiting_longest_first else
                    (Cycle.deadline.desc(), Country.code, Institution.name, Response.id)))
        .limit(size).offset((page - 1) * size)).unique().all()
    return Listing([Row(r, p) for r, p in zip(rows, _progress(rows))], total, page, size)


def _progress(rows: list[Response]) -> list[tuple[int, int] | None]:
    """Each response's progress: as its last save kept it; for one never answered, its form's
    empty progress (worked out once per form); evaluated only for a response answered before
    progress was kept."""
    unknown = [r.id for r in rows if r.answered is None or r.to_answer is None]
    answered = dict(db.session.execute(select(Answer.response_id, func.count()).where(
        Answer.response_id.in_(unknown)).group_by(Answer.response_id)).all()) if unknown else {}
    found = []
    for response in rows:
        if response.answered is not None and response.to_answer is not None:
            found.append((response.answered, response.to_answer))
        elif response.id in answered:
            found.append(responses.progress(response))
        else:
            found.append(_empty(response))
    return found


def _empty(response: Response) -> tuple[int, int] | None:
    version = response.cycle.questionnaire_version
    if version is None:
        return None
    try:
        return _empty_progress(questionnaires.compiled(version), response.institution.kind.value)
    except UnusableDefinition:
        return None


@lru_cache(maxsize=64)
def _empty_progress(form: CompiledForm, kind: str) -> tuple[int, int]:
    """The progress of a response with no answers, by the kind of institution answering (which
    questions are asked of it)."""
    return FormState(form, {}, whole=True, kind=kind).progress()


def status_counts(user) -> list[tuple[Cycle, dict[ResponseStatus, int]]]:
    """Per cycle the reader sees (newest first): how many responses stand at each status."""
    rows = db.session.execute(scoped(user, Response).join(Cycle, Response.cycle_id == Cycle.id)
                              .where(Cycle.status != CycleStatus.PLANNED)
                              .with_only_columns(Response.cycle_id, Response.status, func.count())
                              .group_by(Response.cycle_id, Response.status)).all()
    counts: dict[int, dict[ResponseStatus, int]] = {}
    for cycle_id, status, count in rows:
        counts.setdefault(cycle_id, {})[ResponseStatus(status)] = count
    cycles = db.session.scalars(select(Cycle).where(Cycle.id.in_(counts)).order_by(Cycle.period_start.desc())) \
        if counts else []
    return [(cycle, counts[cycle.id]) for cycle in cycles]


def choices(user) -> dict[str, list]:
    """What the filters offer the reader: cycles, countries and institutions in their scope."""
    return {
        "cycles": db.session.scalars(scoped(user, Cycle).order_by(Cycle.deadline.desc(), Cycle.name)).all(),
        "countries": db.session.scalars(scoped(user, Country).order_by(Country.code)).all(),
        "institutions": db.session.execute(scoped(user, Institution).join(Country, Institution.country_id == Country.id)
                                           .with_only_columns(Institution.id, Institution.name, Country.code)
                                           .order_by(Country.code, Institution.name)).all(),
    }


__all__ = ["Filters", "Listing", "PAGE_SIZE", "Row", "choices", "listing", "status_counts"]
