"""Countries and institutions."""
from __future__ import annotations

from sqlalchemy import select

from babel import Locale

from app.extensions import db
from app.models import Country, Institution, InstitutionKind, User
from app.services import audit
from app.services.errors import ServiceError


class OrgError(ServiceError, ValueError):
    """A refused change to a country or institution."""


# CLDR territories that are not countries: unknown region, outlying Oceania, EU, eurozone, UN,
# pseudo-locales.
_NOT_COUNTRIES = {"ZZ", "QO", "EU", "EZ", "UN", "XA", "XB"}


def add_country(actor: User | None, code: str) -> Country:
    code = code.strip().upper()
    if len(code) != 2 or not code.isalpha() or code not in Locale("en").territories or code in _NOT_COUNTRIES:
        raise OrgError("country_code_unknown")
    if db.session.scalars(select(Country).where(Country.code == code)).first() is not None:
        raise OrgError("country_exists")
    country = Country(code=code, active=True)
    db.session.add(country)
    db.session.flush()
    audit.record(actor, "country.create", country, "code", None, code)
    return country


def set_country_active(actor: User | None, country: Country, active: bool) -> None:
    if country.active != active:
        audit.record(actor, "country.update", country, "active", country.active, active)
        country.active = active
        db.session.flush()


def save_institution(actor: User | None, institution: Institution | None, *, country_id: int,
                     kind: InstitutionKind, name: str, active: bool = True) -> Institution:
    name = " ".join(name.split())
    if not name:
        raise OrgError("name_required")
    country = db.session.get(Country, country_id)
    if country is None:
        raise OrgError("country_unknown")
    clash = db.session.scalars(select(Institution).where(
        Institution.country_id == country_id, Institution.name == name)).first()
    if clash is not None and clash is not institution:
        raise OrgError("institution_exists")
    if institution is None:
        institution = Institution(country_id=country_id, kind=kind, name=name, active=active)
        db.session.add(institution)
        db.session.flush()
        audit.record(actor, "institution.create", institution, "name", None, name)
        return institution
    audit.record_changes(actor, "institution.update", institution, {
        "country_id": (institution.country_id, country_id), "kind": (institution.kind, kind),
        "name": (institution.name, name), "active": (institution.active, active)})
    institution.country_id, institution.kind, institution.name, institution.active = country_id, kind, name, active
    db.session.flush()
    return institution
