"""A cycle's answers within the reader's scope, streamed for the raw data export: one ordered
scan of ``answer`` by ``(response_id, path)`` (its unique index) through a server-side
cursor, grouped into one response at a time, so memory stays flat however many responses
there are. The count comes first, so the export can check it wrote every row."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter

from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, Country, Cycle, EvidenceFile, Institution, Response, ResponseStatus
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


def responses(user, cycle: Cycle, country_id: int | None = None, files: bool = False) -> Iterator[RawResponse]:
    """Every response in scope, by id, each with its answers (empty answers left out): two
    ordered scans read side by side, the responses and their answers. ``files``: the
    questionnaire has file questions, whose answers are given as the names the files were
    uploaded with."""
    in_scope = _in_scope(user, cycle, country_id)
    connection = db.session.connection()   # Core rows: the ORM's per-row work would double the read
    found = connection.execute(
        select(Response.id, Institution.name, Country.code, Response.status, Response.submitted_at,
               Response.updated_at)
        .join(Institution, Response.institution_id == Institution.id).join(Country, Institution.country_id == Country.id)
        .where(Response.id.in_(in_scope)).order_by(Response.id).execution_options(yield_per=BATCH))
    value = Answer.value
    if files:
        value = func.coalesce(EvidenceFile.original, Answer.value)
    answers_query = select(Answer.response_id, Answer.path, value)
    if files:
        answers_query = answers_query.outerjoin(EvidenceFile, (EvidenceFile.response_id == Answer.response_id)
                                                & (EvidenceFile.name == Answer.value))
    answers = connection.execute(
        answers_query.where(Answer.response_id.in_(in_scope), Answer.value.is_not(None), Answer.value != "")
        .order_by(Answer.response_id, Answer.path).execution_options(yield_per=BATCH))
    grouped = groupby(answers, key=itemgetter(0))
    pending = next(grouped, None)
    for row in found:
        response = RawResponse(row.id, row.name, row.code, row.status, row.submitted_at, row.updated_at)
        while pending is not None and pending[0] < row.id:   # answers of a response no longer in scope
            pending = next(grouped, None)
        if pending is not None and pending[0] == row.id:
            response.answers = {path: value for _id, path, value in pending[1]}
            pending = next(grouped, None)
        yield response
