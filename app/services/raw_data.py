"""A cycle's answers within the reader's scope, streamed for the raw data export: one ordered
scan of ``answer`` by ``(response_id, path)`` (its unique index) through a server-side
cursor, grouped into one response at a time, so memory stays flat however many responses
there are. The count comes first, so the export can check it wrote every row."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, Country, Cycle, Institution, Response, ResponseStatus
from app.services.scope import scoped

BATCH = 2000   # rows fetched from the cursor at a time


@dataclass
class RawResponse:
    id: int
    institution: str
    country: str
    status: ResponseStatus
    submitted_at: datetime | None
    updated_at: datetime | None
    answers: dict[str, str] = field(default_factory=dict)


def _in_scope(user, cycle: Cycle, country_id: int | None):
    query = scoped(user, Response).where(Response.cycle_id == cycle.id)
    if country_id is not None:
        query = query.where(Institution.country_id == country_id)
    return query.with_only_columns(Response.id)


def count(user, cycle: Cycle, country_id: int | None = None) -> int:
    return db.session.scalar(select(func.count()).select_from(_in_scope(user, cycle, country_id).subquery()))


def responses(user, cycle: Cycle, country_id: int | None = None) -> Iterator[RawResponse]:
    """Every response in scope, by id, each with its answers (empty answers left out)."""
    places = {row.id: (row.name, row.code) for row in db.session.execute(
        select(Institution.id, Institution.name, Country.code).join(Country, Institution.country_id == Country.id))}
    rows = db.session.execute(
        select(Response.id, Response.institution_id, Response.status, Response.submitted_at, Response.updated_at,
               Answer.path, Answer.value)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(Response.id.in_(_in_scope(user, cycle, country_id)))
        .order_by(Response.id, Answer.path)
        .execution_options(yield_per=BATCH))
    for _id, group in groupby(rows, key=lambda row: row.id):
        first = next(group)
        name, code = places[first.institution_id]
        found = RawResponse(first.id, name, code, first.status, first.submitted_at, first.updated_at)
        for row in (first, *group):
            if row.path is not None and row.value not in (None, ""):
                found.answers[row.path] = row.value
        yield found
