"""What the platform operator's screens read: counts, lists and histories (the changes
themselves are the use cases of ``org``, ``users`` and ``cycles``)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import (AuditEvent, Country, Cycle, Institution, Questionnaire, QuestionnaireVersion, Response,
                        RoleAssignment, User, VersionStatus)

RECENT_EVENTS = 20
USER_EVENTS = 50


def counts() -> dict[str, int]:
    """How many countries, institutions, users, cycles and questionnaires there are (one statement)."""
    names = ("countries", "institutions", "users", "cycles", "questionnaires")
    models = (Country, Institution, User, Cycle, Questionnaire)
    row = db.session.execute(select(*(select(func.count(m.id)).scalar_subquery() for m in models))).one()
    return dict(zip(names, row))


def recent_events(limit: int = RECENT_EVENTS) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))


def countries() -> list[Country]:
    return list(db.session.scalars(select(Country).order_by(Country.code)))


def countries_with_institution_counts() -> list[tuple[Country, int]]:
    return [tuple(row) for row in db.session.execute(
        select(Country, func.count(Institution.id)).outerjoin(Institution).group_by(Country.id).order_by(Country.code))]


def institutions(country_id: int | None = None) -> list[tuple[Institution, Country]]:
    """Institutions with their country, by country code and name (of one country if given)."""
    query = select(Institution, Country).join(Country).order_by(Country.code, Institution.name)
    if country_id:
        query = query.where(Institution.country_id == country_id)
    return [tuple(row) for row in db.session.execute(query)]


def people_of(institution: Institution) -> list[User]:
    return list(db.session.scalars(select(User).join(RoleAssignment)
                                   .where(RoleAssignment.institution_id == institution.id).order_by(User.email)))


def users(search: str = "") -> list[User]:
    """Users by e-mail, those whose e-mail or name contains ``search`` if given."""
    query = select(User).order_by(User.email)
    if search:
        query = query.where(User.email.contains(search.lower(), autoescape=True)
                            | User.name.ilike(f"%{search}%"))
    return list(db.session.scalars(query))


def user_events(user: User, limit: int = USER_EVENTS) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user",
                                                            AuditEvent.entity_id == str(user.id))
                                   .order_by(AuditEvent.id.desc()).limit(limit)))


def published_versions() -> list[tuple[QuestionnaireVersion, Questionnaire]]:
    return [tuple(row) for row in db.session.execute(
        select(QuestionnaireVersion, Questionnaire).join(Questionnaire)
        .where(QuestionnaireVersion.status == VersionStatus.PUBLISHED)
        .order_by(Questionnaire.title, QuestionnaireVersion.number))]


def cycles_with_response_counts() -> list[tuple[Cycle, int]]:
    return [tuple(row) for row in db.session.execute(
        select(Cycle, func.count(Response.id)).outerjoin(Response).group_by(Cycle.id).order_by(Cycle.period_start.desc()))]


def responses_of(cycle: Cycle) -> dict[int, Response]:
    """The cycle's responses by institution."""
    return {r.institution_id: r for r in db.session.scalars(select(Response).where(Response.cycle_id == cycle.id))}
