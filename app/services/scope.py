"""The one place that answers "which institutions and responses may this user read or write?".

Every view and export asks ``scoped(user, Model, access)`` for a query, or
``get_scoped(user, Model, id, access)`` for one row: a row outside the user's reading scope
is ``NotFound`` (404: its existence is not revealed), a readable row outside the asked access
is ``NotAllowed`` (403).

Access levels:
* ``read``   — see it (admin: all; auditor: their countries or all, approved responses only;
  reviewer: their countries; respondent: their institution);
* ``answer`` — fill a response (respondents of its institution);
* ``review`` — comment, score, return, approve (reviewers of its country, and admins).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NoReturn, TypeVar

from sqlalchemy import ColumnElement, FromClause, Select, bindparam, false, or_, select, true
from app.extensions import db, execute
from app.models import Country, Cycle, Institution, Response, ResponseStatus, Role, User, cycle_institution
from app.services.errors import NotAllowed, NotFound

Access = Literal["read", "answer", "review"]
T = TypeVar("T")

# The conditions are written on the tables, not on the mapped classes: the same condition then
# serves an ORM query of objects and a Core statement of a few columns (``get_scoped_columns``),
# which SQLAlchemy executes without the ORM's work on each row.
_COUNTRY, _CYCLE, _INSTITUTION, _RESPONSE = (Country.__table__, Cycle.__table__, Institution.__table__,
                                             Response.__table__)


@dataclass(frozen=True)
class Scope:
    admin: bool = False
    all_countries: bool = False                  # auditor of every country
    read_countries: frozenset[int] = frozenset()  # reviewer and auditor countries
    review_countries: frozenset[int] = frozenset()
    auditor_countries: frozenset[int] = frozenset()
    institutions: frozenset[int] = frozenset()    # respondent institutions


def scope_of(user: User | None) -> Scope:
    if user is None or not user.is_authenticated or not user.active:
        return Scope()
    admin = all_countries = False
    read, review, audit, insts = set(), set(), set(), set()
    for assignment in user.roles:
        if assignment.role == Role.ADMIN:
            admin = True
        elif assignment.role == Role.RESPONDENT and assignment.institution_id:
            insts.add(assignment.institution_id)
        elif assignment.role == Role.REVIEWER and assignment.country_id:
            review.add(assignment.country_id)
            read.add(assignment.country_id)
        elif assignment.role == Role.AUDITOR:
            if assignment.country_id is None:
                all_countries = True
            else:
                audit.add(assignment.country_id)
                read.add(assignment.country_id)
    return Scope(admin, all_countries, frozenset(read), frozenset(review), frozenset(audit), frozenset(insts))


def _among(column, ids: frozenset[int]):
    """``column IN ids``, or ``column = id`` for the usual single id: SQLAlchemy writes an IN
    list into the SQL again at every execution, a comparison is compiled once (the statements
    are cached per scope, the ids with them)."""
    if len(ids) == 1:
        return column == next(iter(ids))
    return column.in_(sorted(ids))


def _institution_filter(scope: Scope, access: Access):
    if access == "answer":
        return _among(_INSTITUTION.c.id, scope.institutions) if scope.institutions else false()
    if access == "review":
        if scope.admin:
            return true()
        return _among(_INSTITUTION.c.country_id, scope.review_countries) if scope.review_countries else false()
    if scope.admin or scope.all_countries:
        return true()
    clauses = []
    if scope.read_countries:
        clauses.append(_among(_INSTITUTION.c.country_id, scope.read_countries))
    if scope.institutions:
        clauses.append(_among(_INSTITUTION.c.id, scope.institutions))
    return or_(*clauses) if clauses else false()


def _response_filter(scope: Scope, access: Access):
    """Responses: by institution; auditors read approved responses only."""
    if access != "read":
        return _institution_filter(scope, access)
    if scope.admin:
        return true()
    clauses = []
    if scope.institutions:
        clauses.append(_among(_INSTITUTION.c.id, scope.institutions))
    if scope.review_countries:
        clauses.append(_among(_INSTITUTION.c.country_id, scope.review_countries))
    approved = _RESPONSE.c.status == ResponseStatus.APPROVED
    if scope.all_countries:
        clauses.append(approved)
    elif scope.auditor_countries:
        clauses.append(approved & _among(_INSTITUTION.c.country_id, scope.auditor_countries))
    return or_(*clauses) if clauses else false()


def scoped(user: User | None, model: type[T], access: Access = "read") -> Select[tuple[T]]:
    """A query of the rows of ``model`` that ``user`` may access as ``access``."""
    return _scoped(scope_of(user), model, access)


# Statements are immutable and depend only on the scope: each process builds one per scope
# (and SQLAlchemy its cache key once) instead of one per request.
@lru_cache(maxsize=2048)
def _scoped(scope: Scope, model: type[T], access: Access) -> Select[tuple[T]]:
    source, condition = _rows(scope, model, access)
    return select(model).select_from(source).where(condition)


@lru_cache(maxsize=2048)
def _rows(scope: Scope, model: type, access: Access) -> tuple[FromClause, ColumnElement[bool]]:
    """Where the rows of ``model`` in scope are read from, and the condition they meet."""
    if model is Institution:
        return _INSTITUTION, _institution_filter(scope, access)
    if model is Country:
        if access != "read":
            return _COUNTRY, false()
        if scope.admin or scope.all_countries:
            return _COUNTRY, true()
        in_scope = select(_INSTITUTION.c.country_id).where(_institution_filter(scope, "read"))
        return _COUNTRY, _among(_COUNTRY.c.id, scope.read_countries) | _COUNTRY.c.id.in_(in_scope)
    if model is Response:
        return (_RESPONSE.join(_INSTITUTION, _RESPONSE.c.institution_id == _INSTITUTION.c.id),
                _response_filter(scope, access))
    if model is Cycle:
        if access != "read":
            return _CYCLE, false()
        if scope.admin:
            return _CYCLE, true()
        visible = select(cycle_institution.c.cycle_id).join(
            _INSTITUTION, _INSTITUTION.c.id == cycle_institution.c.institution_id
        ).where(_institution_filter(scope, "read"))
        return _CYCLE, _CYCLE.c.id.in_(visible)
    raise TypeError(f"no scoping rule for {model.__name__}")


def get_scoped(user: User | None, model: type[T], ident: int, access: Access = "read", options=()) -> T:
    """The row ``ident`` of ``model`` if ``user`` may access it as ``access``.

    ``NotFound`` when the user may not even read it, ``NotAllowed`` when they may read it but not
    ``access`` it.
    ``options`` are loader options kept in a module constant: the statement is cached by them.
    """
    scope = scope_of(user)
    row = db.session.scalars(_one(scope, model, access, tuple(options)), {"ident": ident}).first()
    return row if row is not None else _refuse(scope, model, ident, access)


def get_scoped_columns(user: User | None, model: type, ident: int, access: Access, shape: Callable[[Select], Select]):
    """As ``get_scoped``, for a hot path that needs a few columns rather than ORM objects:
    ``shape`` turns a Core statement of the row (its table's columns) into the columns wanted,
    joining what it needs through the tables. It is a module-level function: the shaped
    statement is cached by it."""
    scope = scope_of(user)
    row = execute(_shaped(scope, model, access, shape), {"ident": ident}).first()
    return row if row is not None else _refuse(scope, model, ident, access)


def _refuse(scope: Scope, model: type, ident: int, access: Access) -> NoReturn:
    if access != "read" and db.session.scalars(_one(scope, model, "read", ()), {"ident": ident}).first() is not None:
        raise NotAllowed("not_allowed")
    raise NotFound("not_found")


@lru_cache(maxsize=2048)
def _one(scope: Scope, model: type[T], access: Access, options: tuple) -> Select[tuple[T]]:
    return _scoped(scope, model, access).where(model.id == bindparam("ident")).options(*options)  # type: ignore[attr-defined]


@lru_cache(maxsize=2048)
def _shaped(scope: Scope, model: type, access: Access, shape: Callable[[Select], Select]) -> Select:
    source, condition = _rows(scope, model, access)
    table = model.__table__  # type: ignore[attr-defined]
    return shape(select(*table.c).select_from(source).where(condition, table.c.id == bindparam("ident")))
