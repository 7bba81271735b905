"""Monitoring cycles: create, pin a published questionnaire version, assign institutions, open."""
from __future__ import annotations

import math
import re
from datetime import date

from babel import Locale
from babel.numbers import get_territory_currencies
from sqlalchemy import select

from app.extensions import db
from app.models import (Answer, Cycle, CycleStatus, Institution, QuestionnaireVersion, Response,
                        ResponseStatus, User, VersionStatus)
from app.services import audit
from app.services.errors import ServiceError


class CycleError(ServiceError, ValueError):
    """A refused change to a cycle."""


_RATE = re.compile(r"([A-Za-z]{3})\s*[=:]?\s*([0-9]+(?:[.,][0-9]+)?)")
MAX_RATE = 1e9


def parse_rates(text: str) -> dict[str, float]:
    """``RSD 117.2; MKD 61.5`` → ``{"RSD": 117.2, "MKD": 61.5}``: units of each currency per euro."""
    known = Locale("en").currencies
    rates: dict[str, float] = {}
    for item in re.split(r"[;\n]+", text or ""):
        item = item.strip()
        if not item:
            continue
        match = _RATE.fullmatch(item)
        if match is None:
            raise CycleError("rates_invalid")
        code, value = match.group(1).upper(), float(match.group(2).replace(",", "."))
        if code not in known or not 0 < value < MAX_RATE or not math.isfinite(value):
            raise CycleError("rates_invalid")
        rates[code] = value
    return rates


def format_rates(rates: dict[str, float] | None) -> str:
    return "; ".join(f"{code} {value:g}" for code, value in sorted((rates or {}).items()))


def currency_of(country_code: str, on: date) -> str | None:
    """The currency in force in a country on a day (CLDR's: Bulgaria's euro from 2026)."""
    found = get_territory_currencies(country_code, on)
    return found[0] if found else None


def missing_rates(cycle: Cycle) -> list[str]:
    """The national currencies of the cycle's institutions, other than the euro, that have no
    exchange rate for its period, when its questionnaire asks for amounts of money (read from
    the stored definition: nothing is compiled for it)."""
    version = cycle.questionnaire_version
    if version is None or not any((record.get("unit") or "").lower() == "currency"
                                  for record in (version.definition or {}).get("survey", [])):
        return []
    needed = {currency_of(institution.country.code, cycle.period_end) for institution in cycle.institutions}
    return sorted(needed - {"EUR", None} - set(cycle.rates or {}))


def save_cycle(actor: User | None, cycle: Cycle | None, *, name: str, period_start: date,
               period_end: date, deadline: date, version_id: int | None,
               names: dict[str, str] | None = None, rates: dict[str, float] | None = None) -> Cycle:
    """Create or change a cycle; ``names``: its name in other languages (empty ones dropped);
    ``rates``: the period's exchange rates (units per euro; None keeps them)."""
    name = " ".join(name.split())
    names = {code: " ".join(text.split()) for code, text in (names or {}).items() if text and text.strip()}
    if not name:
        raise CycleError("name_required")
    if period_end < period_start:
        raise CycleError("period_reversed")
    if deadline < period_start:
        raise CycleError("deadline_before_period")
    clash = db.session.scalars(select(Cycle).where(Cycle.name == name)).first()
    if clash is not None and clash is not cycle:
        raise CycleError("cycle_exists")
    if version_id is not None:
        version = db.session.get(QuestionnaireVersion, version_id)
        if version is None or version.status != VersionStatus.PUBLISHED:
            raise CycleError("version_not_published")
    if cycle is not None and cycle.questionnaire_version_id != version_id and _has_answers(cycle):
        raise CycleError("version_locked_by_answers")
    if cycle is None:
        cycle = Cycle(name=name, names=names, period_start=period_start, period_end=period_end, deadline=deadline,
                      questionnaire_version_id=version_id, status=CycleStatus.PLANNED, rates=rates or {})
        db.session.add(cycle)
        db.session.flush()
        audit.record(actor, "cycle.create", cycle, "name", None, name)
        return cycle
    audit.record_changes(actor, "cycle.update", cycle, {
        "name": (cycle.name, name), "names": (cycle.names or {}, names),
        "period_start": (cycle.period_start, period_start),
        "period_end": (cycle.period_end, period_end), "deadline": (cycle.deadline, deadline),
        "questionnaire_version_id": (cycle.questionnaire_version_id, version_id),
        "rates": (cycle.rates or {}, rates if rates is not None else cycle.rates or {})})
    cycle.name, cycle.names, cycle.period_start, cycle.period_end = name, names, period_start, period_end
    cycle.deadline, cycle.questionnaire_version_id = deadline, version_id
    if rates is not None:
        cycle.rates = rates
    db.session.flush()
    if cycle.status == CycleStatus.OPEN and missing_rates(cycle):
        raise CycleError("rates_missing")
    return cycle


def _has_answers(cycle: Cycle) -> bool:
    return _any_answer(Response.cycle_id == cycle.id)


def _any_answer(condition) -> bool:
    query = select(Answer.id).join(Response, Answer.response_id == Response.id).where(condition).limit(1)
    return db.session.scalars(query).first() is not None


def set_status(actor: User | None, cycle: Cycle, status: CycleStatus) -> None:
    if status == cycle.status:
        return
    if status == CycleStatus.OPEN:
        version = cycle.questionnaire_version
        if version is None or version.status != VersionStatus.PUBLISHED:
            raise CycleError("open_needs_version")
        if missing_rates(cycle):
            raise CycleError("rates_missing")
    audit.record(actor, "cycle.status", cycle, "status", cycle.status, status)
    cycle.status = status
    db.session.flush()


def assign_institutions(actor: User | None, cycle: Cycle, institution_ids: set[int]) -> None:
    """Make the cycle's institutions exactly ``institution_ids``.

    Each newly assigned institution gets its draft response; an institution whose response
    already holds answers or has left draft cannot be removed.
    """
    wanted = set(db.session.scalars(select(Institution).where(Institution.id.in_(institution_ids))).all())
    if len(wanted) != len(institution_ids):
        raise CycleError("institution_unknown")
    current = set(cycle.institutions)
    existing = {r.institution_id: r for r in db.session.scalars(
        select(Response).where(Response.cycle_id == cycle.id))}
    for institution in current - wanted:
        response = existing.get(institution.id)
        if response is not None and (response.status != ResponseStatus.DRAFT or _any_answer(Response.id == response.id)):
            raise CycleError("institution_has_answers")
    for institution in sorted(current - wanted, key=lambda i: i.id):
        response = existing.get(institution.id)
        if response is not None:
            audit.record(actor, "response.delete", response, "status", response.status, None)
            db.session.delete(response)
        cycle.institutions.remove(institution)
        audit.record(actor, "cycle.unassign", cycle, "institution", institution.id, None)
    for institution in sorted(wanted - current, key=lambda i: i.id):
        cycle.institutions.append(institution)
        audit.record(actor, "cycle.assign", cycle, "institution", None, institution.id)
        if institution.id not in existing:
            response = Response(cycle=cycle, institution=institution, status=ResponseStatus.DRAFT)
            db.session.add(response)
            db.session.flush()
            audit.record(actor, "response.create", response, "status", None, ResponseStatus.DRAFT)
    db.session.flush()
    if cycle.status == CycleStatus.OPEN and missing_rates(cycle):   # a new country's currency
        raise CycleError("rates_missing")
