"""Where a response's answers are kept: the Core statements behind a plain interface.

Each answer is its own row with its own version (see ``app/models/response.py``). Autosave is
the hottest path, so what it reads — the response's status, its cycle's status and
questionnaire version, and every answer — comes in one scoped query (the answers as one JSON
array, written per database), and answers travel as small slotted rows, not ORM objects.
Statements are built once: SQLAlchemy computes a statement's cache key on every execution of a
new statement object, and that costs more than the query.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from app.extensions import db, execute
from app.models import Answer, Cycle, CycleStatus, Institution, QuestionnaireVersion, Response, ResponseStatus
from app.models._base import utcnow
from app.services.scope import Access, get_scoped_columns


@dataclass(slots=True)
class Stored:
    """One stored answer."""
    id: int
    value: str
    evidence: str
    version: int
    updated_by_id: int | None = None


@dataclass(frozen=True, slots=True)
class VersionKey:
    """Which questionnaire version a response is answered on (what finds its compiled form)."""
    id: int
    questionnaire_id: int
    number: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Head:
    """A response as saving an answer needs it, read in one query."""
    id: int
    status: ResponseStatus
    cycle_status: CycleStatus
    version: VersionKey | None
    answers: dict[str, Stored]
    kind: str   # the kind of institution answering (which questions it is asked)


_TABLE, _CYCLES, _RESPONSES, _VERSIONS, _INSTITUTIONS = (Answer.__table__, Cycle.__table__, Response.__table__,
                                                          QuestionnaireVersion.__table__, Institution.__table__)
_COLUMNS = (_TABLE.c.path, _TABLE.c.id, _TABLE.c.value, _TABLE.c.evidence, _TABLE.c.version, _TABLE.c.updated_by_id)
_ANSWERS = select(*_COLUMNS).where(_TABLE.c.response_id == bindparam("response_id"))
_ANSWER = _ANSWERS.where(_TABLE.c.path == bindparam("path"))
_INSERT = insert(_TABLE)
_UPDATE = (update(_TABLE)
           .where(_TABLE.c.id == bindparam("answer_id"), _TABLE.c.version == bindparam("base"))
           .values(value=bindparam("new_value"), version=_TABLE.c.version + 1,
                   updated_at=bindparam("now"), updated_by_id=bindparam("actor_id")))
_UPDATE_WITH_EVIDENCE = _UPDATE.values(evidence=bindparam("new_evidence"))
_DEFINITION = select(QuestionnaireVersion.definition).where(QuestionnaireVersion.id == bindparam("version_id"))


class _AnswersArray(ColumnElement):
    """A response's answers as one JSON array of ``[path, id, value, evidence, version,
    updated_by_id]`` (NULL or empty when it has none): read with the response's head in the
    same query, one value rather than a hundred rows."""
    type = JSON()
    inherit_cache = True
    _traverse_internals = []   # no state: every instance is the same SQL (and cache key)


def _aggregated(array, row):
    return select(array(row(*_COLUMNS))).where(_TABLE.c.response_id == _RESPONSES.c.id).scalar_subquery()


@compiles(_AnswersArray, "postgresql")
def _answers_array_postgresql(element, compiler, **kw):
    return compiler.process(_aggregated(func.json_agg, func.json_build_array), **kw)


@compiles(_AnswersArray)
def _answers_array(element, compiler, **kw):   # SQLite's JSON functions
    return compiler.process(_aggregated(func.json_group_array, func.json_array), **kw)


def _head_columns(statement):
    """The scoped Core statement of a response, shaped into its head (module level: the shaped
    statement is cached by this function)."""
    return (statement.with_only_columns(_RESPONSES.c.id, _RESPONSES.c.status, _CYCLES.c.status, _VERSIONS.c.id,
                                        _VERSIONS.c.questionnaire_id, _VERSIONS.c.number, _VERSIONS.c.created_at,
                                        _AnswersArray(), _INSTITUTIONS.c.kind)
            .join(_CYCLES, _CYCLES.c.id == _RESPONSES.c.cycle_id)
            .outerjoin(_VERSIONS, _VERSIONS.c.id == _CYCLES.c.questionnaire_version_id))


def head(user, response_id: int, access: Access) -> Head:
    """The response ``response_id`` with its answers, if ``user`` may access it (``NotFound`` /
    ``NotAllowed`` otherwise, as ``get_scoped``)."""
    (id_, status, cycle_status, version_id, questionnaire_id, number,
     created_at, rows, kind) = get_scoped_columns(user, Response, response_id, access, _head_columns)
    version = VersionKey(version_id, questionnaire_id, number, created_at) if version_id is not None else None
    return Head(id_, ResponseStatus(status), CycleStatus(cycle_status), version, _by_path(rows or []), kind)


def definition(version_id: int) -> dict:
    """A questionnaire version's stored definition (read when its compiled form is not cached)."""
    return db.session.execute(_DEFINITION, {"version_id": version_id}).scalar_one()


def answers(response_id: int) -> dict[str, Stored]:
    return _by_path(execute(_ANSWERS, {"response_id": response_id}))


def answer(response_id: int, path: str) -> Stored | None:
    return _by_path(execute(_ANSWER, {"response_id": response_id, "path": path})).get(path)


def _by_path(rows) -> dict[str, Stored]:
    return {path: Stored(id_, value or "", evidence or "", version, by) for path, id_, value, evidence, version, by in rows}


def insert_answer(actor_id: int, response_id: int, path: str, value: str, evidence: str = "") -> Stored:
    """A first answer (version 1); an ``IntegrityError`` when someone inserted it first."""
    new_id = execute(_INSERT, {"response_id": response_id, "path": path, "value": value, "evidence": evidence or None,
                               "version": 1, "updated_at": utcnow(), "updated_by_id": actor_id}).inserted_primary_key[0]
    return Stored(new_id, value, evidence, 1, actor_id)


def update_answer(actor_id: int, stored: Stored, base_version: int, value: str, evidence: str | None) -> bool:
    """Store ``value`` (and ``evidence`` unless None) if the answer is still at ``base_version``;
    whether it was. ``stored`` follows the row."""
    params = {"answer_id": stored.id, "base": base_version, "new_value": value, "now": utcnow(), "actor_id": actor_id}
    statement = _UPDATE
    if evidence is not None:
        statement, params["new_evidence"] = _UPDATE_WITH_EVIDENCE, evidence
    if execute(statement, params).rowcount != 1:
        return False
    stored.value, stored.version, stored.updated_by_id = value, base_version + 1, actor_id
    if evidence is not None:
        stored.evidence = evidence
    return True


def set_value(actor_id: int, stored: Stored, value: str) -> None:
    """Overwrite an answer whatever its version (a repeat's number of entries)."""
    execute(update(_TABLE).where(_TABLE.c.id == stored.id).values(
        value=value, version=_TABLE.c.version + 1, updated_at=utcnow(), updated_by_id=actor_id))
    stored.value, stored.version, stored.updated_by_id = value, stored.version + 1, actor_id


def delete_under(response_id: int, prefix: str) -> None:
    """Delete the answers whose path starts with ``prefix`` (an entry of a repeat)."""
    execute(delete(_TABLE).where(_TABLE.c.response_id == response_id, _TABLE.c.path.startswith(prefix, autoescape=True)))


def move(stored: Stored, path: str) -> None:
    """Give an answer another path (an entry of a repeat moving up a place)."""
    execute(update(_TABLE).where(_TABLE.c.id == stored.id).values(path=path, version=_TABLE.c.version + 1))
    stored.version += 1
