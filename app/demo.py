"""Demo data that shows the product: a closed 2025 cycle whose responses were answered,
reviewed (a few reviewed scores differ, a few comment threads) and approved, so sheets, charts
and a trend have figures on the first run; and, in the open 2026 cycle, a second Serbian
institution's response submitted and waiting for the Serbian reviewer.

Answers are made up but plausible and the same on every run (seeded per institution); they go
through the same services as a person's would (validation, audit, review steps, snapshots).
"""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import (Cycle, CycleStatus, Institution, Response, ResponseStatus, Role, RoleAssignment, ThreadKind,
                        User)
from app.services import cycles, responses, review, scores, users
from app.services.responses import Submitted

PAST_CYCLE = "2025 annual monitoring"
# Units per euro over the year (the convertible mark's is fixed); Montenegro and Kosovo use the euro.
RATES = {"ALL": 98.4, "BAM": 1.95583, "MKD": 61.5, "RSD": 117.2}

def annual_names(year: int) -> dict[str, str]:
    """A yearly monitoring cycle's name in each interface language (demo data)."""
    return {"sq": f"Monitorimi vjetor {year}", "sr_Latn": f"Godišnje praćenje {year}",
            "sr_Cyrl": f"Годишње праћење {year}", "mk": f"Годишно следење {year}", "bs": f"Godišnje praćenje {year}",
            "hr": f"Godišnje praćenje {year}.", "cnr": f"Godišnje praćenje {year}"}
TEXTS = ["The national action plan 2023–2025 and its annual implementation report.",
         "Standard operating procedures adopted by the ministry; training records kept by the academy.",
         "Case files and the register of the national referral mechanism.",
         "Agreement with the NGO shelter; monitoring visits twice a year."]


def respondent_for(institution: Institution, password: str) -> User:
    """The demo official of an institution: one it has, else one made (once)."""
    existing = db.session.scalars(select(User).join(RoleAssignment).where(
        RoleAssignment.role == Role.RESPONDENT, RoleAssignment.institution_id == institution.id).order_by(User.id)).first()
    if existing is not None:
        return existing
    email = f"official.{institution.country.code.lower()}.{institution.id}@example.org"
    user = users.find_user(email)
    if user is None:
        user = users.create_user(None, email, f"{institution.name} — focal point", "en", password=password,
                                 roles=[users.RoleSpec(Role.RESPONDENT, institution_id=institution.id)])
    return user


def _value(node, chance: random.Random, quality: float) -> str | None:
    if node.list_name == "ypn":
        roll = chance.random()
        return "na" if roll < 0.05 else "yes" if roll < 0.05 + quality else "partially" if roll < 0.25 + quality \
            else "no"
    if node.list_name == "data":   # whether figures are available: mostly, from the institution's records
        return "available" if chance.random() < 0.9 else "not_available"
    if node.type == "select_one":
        return None   # chosen from the form's choices by the caller
    if node.type == "select_multiple":
        return None
    if node.type == "decimal":
        return str(chance.randint(10, 500) * 1000)
    if node.type == "date":
        return "2025-12-15"
    if node.type == "text":
        return "focal.point@institution.example" if "email" in node.name else chance.choice(TEXTS)
    return None


def fill(official: User, response: Response, seed: str, quality: float) -> None:
    """Answer every question the response asks, one at a time in document order, as an official
    would: a value a constraint refuses is tried again as 0, then left for the next pass."""
    chance = random.Random(seed)
    for _pass in range(3):
        loaded = responses.load(response)
        first_count: dict[int, int] = {}   # per page: its first count, which later counts are parts of
        for node, index, path in list(loaded.state.input_paths()):
            if node.chain or node.read_only is True or path in loaded.answers or not loaded.state.is_relevant(path):
                continue
            value = _value(node, chance, quality)
            if node.type == "integer":
                page = loaded.form.page_of(node)
                if page not in first_count:
                    first_count[page] = chance.randint(80, 300)
                    value = str(first_count[page])
                else:
                    value = str(chance.randint(0, first_count[page] // 5))
            if value is None and node.list_name:
                names = [c.name for c in loaded.form.choices[node.list_name]]
                value = names[chance.randrange(len(names))] if node.type == "select_one" else \
                    " ".join(sorted(chance.sample(names, k=min(2, len(names)))))
            if value is None:
                continue
            evidence = chance.choice(TEXTS) if node.evidence == "required-when-positive" else None
            for attempt in (value, "0"):   # a refused value writes nothing: no rollback needed
                if not responses.save_answers(official, loaded, {path: Submitted(attempt, evidence, 0)}).rejected:
                    break
        db.session.flush()
        if not responses.problems(responses.load(response)):
            return


def _indicator_to_question(loaded, chance: random.Random) -> tuple[str, float] | None:
    own = scores.indicators(loaded.form, loaded.state)
    rated = [(code, result.value) for code, result in own.items() if result.value is not None and result.value > 40]
    return chance.choice(rated) if rated else None


def load_past_cycle(version, institutions: list[Institution], reviewers: dict[str, User], password: str) -> list[str]:
    """The closed 2025 cycle, approved; returns what it created."""
    if db.session.scalars(select(Cycle).where(Cycle.name == PAST_CYCLE)).first() is not None:
        return []
    cycle = cycles.save_cycle(None, None, name=PAST_CYCLE, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
                              deadline=date(2026, 3, 31), version_id=version.id, names=annual_names(2025),
                              rates=RATES)
    cycles.assign_institutions(None, cycle, {institution.id for institution in institutions})
    cycles.set_status(None, cycle, CycleStatus.OPEN)
    approved = 0
    for number, institution in enumerate(institutions):
        response = db.session.scalars(select(Response).where(Response.cycle_id == cycle.id,
                                                             Response.institution_id == institution.id)).one()
        official = respondent_for(institution, password)
        quality = 0.25 + 0.45 * ((number * 37) % 10) / 10   # from mostly "no" to mostly "yes"
        fill(official, response, f"{PAST_CYCLE}/{institution.name}", quality)
        if review.submit(official, responses.load(response)):
            continue   # could not be completed: stays a draft (never happens with the shipped form)
        reviewer = reviewers.get(institution.country.code) or reviewers["*"]
        chance = random.Random(f"review/{institution.name}")
        loaded = responses.load(response)
        if number % 3 == 0:
            picked = _indicator_to_question(loaded, chance)
            if picked is not None:
                code, value = picked
                review.comment(reviewer, response.id, ThreadKind.INDICATOR, code,
                               "The evidence covers the capital only; is the figure national?")
                review.comment(official, response.id, ThreadKind.INDICATOR, code,
                               "It covers the capital and two regions; the other regions report from next year.")
                review.set_reviewed_score(reviewer, response.id, code, max(0.0, round(value - 30)),
                                          "Only part of the country is covered.")
        review.approve(reviewer, response.id, None)
        approved += 1
    cycles.set_status(None, cycle, CycleStatus.CLOSED)
    return [f"cycle {PAST_CYCLE} ({approved} of {len(institutions)} responses approved)"]


def load_waiting_response(cycle: Cycle, institution: Institution, password: str) -> list[str]:
    """A second Serbian institution in the current cycle, submitted, waiting for review."""
    if any(i.id == institution.id for i in cycle.institutions):
        return []
    cycles.assign_institutions(None, cycle, {i.id for i in cycle.institutions} | {institution.id})
    response = db.session.scalars(select(Response).where(Response.cycle_id == cycle.id,
                                                         Response.institution_id == institution.id)).one()
    official = respondent_for(institution, password)
    fill(official, response, f"{cycle.name}/{institution.name}", 0.6)
    if review.submit(official, responses.load(response)):
        return [f"response of {institution.name} (draft: could not be completed)"]
    assert response.status == ResponseStatus.SUBMITTED
    return [f"response of {institution.name}, submitted for review"]
