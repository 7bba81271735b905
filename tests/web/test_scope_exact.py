"""Exact answers of the scoping function, per role and access, and the exact status of each URL:
a row the user may not read is 404, one they may read but not change is 403."""
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Country, Institution, Response, ResponseStatus, Role, User
from app.services.scope import Scope, scope_of, scoped
from tests.conftest import csrf_token

RS = "Centar za zaštitu žrtava trgovine ljudima"
AL = "Zyra e Koordinatorit Kombëtar kundër Trafikimit"


def _user(*roles, active=True, authenticated=True):
    assignments = [SimpleNamespace(role=role, institution_id=institution, country_id=country)
                   for role, institution, country in roles]
    return SimpleNamespace(is_authenticated=authenticated, active=active, roles=assignments)


@pytest.mark.parametrize("user,expected", [
    (_user((Role.ADMIN, None, None)), Scope(admin=True)),
    (_user((Role.ADMIN, None, None), active=False), Scope()),
    (_user((Role.ADMIN, None, None), authenticated=False), Scope()),
    (None, Scope()),
    (_user((Role.RESPONDENT, 7, None)), Scope(institutions=frozenset({7}))),
    (_user((Role.REVIEWER, None, 3)), Scope(read_countries=frozenset({3}), review_countries=frozenset({3}))),
    (_user((Role.AUDITOR, None, 3)), Scope(read_countries=frozenset({3}), auditor_countries=frozenset({3}))),
    (_user((Role.AUDITOR, None, None)), Scope(all_countries=True)),
    (_user((Role.REVIEWER, None, 3), (Role.AUDITOR, None, 4), (Role.RESPONDENT, 9, None)),
     Scope(read_countries=frozenset({3, 4}), review_countries=frozenset({3}), auditor_countries=frozenset({4}),
           institutions=frozenset({9}))),
    (_user((Role.RESPONDENT, None, None)), Scope()),
    (_user((Role.REVIEWER, None, None)), Scope()),
])
def test_scope_of_each_role(user, expected):
    assert scope_of(user) == expected


@pytest.mark.parametrize("user", [
    None, _user((Role.ADMIN, None, None), active=False), _user((Role.ADMIN, None, None), authenticated=False),
    _user((Role.RESPONDENT, None, None)), _user((Role.REVIEWER, None, None)), _user(),
])
def test_no_scope_at_all(user):
    """Compared with literal values, not with ``Scope()``, whose defaults could be wrong too."""
    scope = scope_of(user)
    assert scope.admin is False and scope.all_countries is False
    assert (scope.read_countries, scope.review_countries, scope.auditor_countries, scope.institutions) == \
        (frozenset(), frozenset(), frozenset(), frozenset())


@pytest.fixture
def world(app, demo, make_user):
    """Every demo response approved but Serbia's; a country auditor for Albania."""
    make_user("auditor.al@example.org", Role.AUDITOR, country="AL")
    with app.app_context():
        for response in db.session.scalars(select(Response)):
            if response.institution.country.code != "RS":
                response.status = ResponseStatus.APPROVED
        db.session.commit()
    return demo


def _visible(app, email, model, access):
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        rows = db.session.scalars(scoped(user, model, access)).all()
        if model is Response:
            return {r.institution.name for r in rows}
        if model is Country:
            return {c.code for c in rows}
        return {i.name for i in rows}


def test_what_each_role_reads_answers_and_reviews(app, world):
    """The demo has a Serbian and an Albanian response; the Albanian one is approved."""
    assert _visible(app, "admin@example.org", Response, "read") == {RS, AL}
    assert _visible(app, "admin@example.org", Response, "answer") == set()   # an admin reads, never answers
    assert _visible(app, "official.rs@example.org", Response, "read") == {RS}
    assert _visible(app, "official.rs@example.org", Response, "answer") == {RS}
    assert _visible(app, "official.rs@example.org", Response, "review") == set()
    assert _visible(app, "reviewer.rs@example.org", Response, "read") == {RS}
    assert _visible(app, "reviewer.rs@example.org", Response, "review") == {RS}
    assert _visible(app, "reviewer.rs@example.org", Response, "answer") == set()
    assert _visible(app, "auditor.al@example.org", Response, "read") == {AL}
    assert _visible(app, "auditor.al@example.org", Response, "review") == set()
    assert _visible(app, "auditor.al@example.org", Response, "answer") == set()
    assert _visible(app, "auditor@example.org", Response, "read") == {AL}   # Serbia's is not approved
    assert _visible(app, "auditor.al@example.org", Country, "read") == {"AL"}
    assert _visible(app, "reviewer.rs@example.org", Country, "read") == {"RS"}
    assert _visible(app, "official.rs@example.org", Country, "read") == {"RS"}
    assert _visible(app, "reviewer.rs@example.org", Country, "review") == set()
    assert _visible(app, "official.rs@example.org", Institution, "read") == {RS}
    assert _visible(app, "official.rs@example.org", Institution, "answer") == {RS}
    assert len(_visible(app, "auditor.al@example.org", Institution, "read")) == 3
    assert len(_visible(app, "reviewer.rs@example.org", Institution, "review")) == 4   # with the court


def _response_id(app, name):
    with app.app_context():
        return db.session.scalars(select(Response.id).join(Institution).where(Institution.name == name)).one()


def _autosave(client, response_id):
    token = csrf_token(client, "/")
    return client.post(f"/responses/{response_id}/answer", data={"path": "x", "page": "1"},
                       headers={"HX-Request": "true", "X-CSRFToken": token})


@pytest.mark.parametrize("email,name,read,write", [
    ("official.rs@example.org", RS, 200, 422),   # may answer: the unknown question is refused as such
    ("official.rs@example.org", AL, 404, 404),
    ("reviewer.rs@example.org", RS, 200, 403),
    ("reviewer.rs@example.org", AL, 404, 404),
    ("auditor.al@example.org", AL, 200, 403),
    ("auditor.al@example.org", RS, 404, 404),
    ("auditor@example.org", AL, 200, 403),
    ("auditor@example.org", RS, 404, 404),     # not approved: an auditor does not see it
    ("admin@example.org", RS, 200, 403),
])
def test_exact_status_per_role(app, client, auth, world, email, name, read, write):
    response_id = _response_id(app, name)
    auth.login(email)
    assert client.get(f"/responses/{response_id}").status_code == read
    assert client.get(f"/responses/{response_id}/history").status_code == read
    assert _autosave(client, response_id).status_code == write
    submit = client.post(f"/responses/{response_id}/submit", data={"csrf_token": csrf_token(client, "/"),
                                                                   "confirm": "yes"})
    assert submit.status_code == (404 if read == 404 else 403 if write == 403 else 400)   # 400: answers missing


def test_a_deactivated_admin_reads_nothing(app, client, auth, world):
    auth.login("admin@example.org")
    other = app.test_client()
    assert auth.token("/") and other.get("/").status_code == 302
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
        assert scope_of(admin).admin
        admin.active = False
        assert scope_of(admin) == Scope()
        db.session.rollback()


def test_cycles_and_countries_without_institutions_in_scope(app, world):
    """An admin sees a cycle no institution is in yet and a country with no institution; a
    reviewer sees a cycle only through an institution of their country in it."""
    from datetime import date

    from app.models import Cycle, cycle_institution
    with app.app_context():
        empty = Cycle(name="Not started", period_start=date(2027, 1, 1), period_end=date(2027, 12, 31),
                      deadline=date(2028, 3, 31))
        albanian_only = Cycle(name="Albania only", period_start=date(2027, 1, 1), period_end=date(2027, 12, 31),
                              deadline=date(2028, 3, 31))
        db.session.add_all([empty, albanian_only, Country(code="DE")])
        db.session.flush()
        al = db.session.scalars(select(Institution.id).where(Institution.name == AL)).one()
        db.session.execute(cycle_institution.insert().values(cycle_id=albanian_only.id, institution_id=al))
        db.session.commit()

    def cycles(email):
        with app.app_context():
            user = db.session.scalars(select(User).where(User.email == email)).one()
            return {c.name for c in db.session.scalars(scoped(user, Cycle))}

    assert {"Not started", "Albania only"} <= cycles("admin@example.org")
    assert "Albania only" in cycles("auditor.al@example.org")
    assert not {"Not started", "Albania only"} & cycles("reviewer.rs@example.org")
    assert "DE" in _visible(app, "admin@example.org", Country, "read")
    assert "DE" in _visible(app, "auditor@example.org", Country, "read")   # an auditor of every country
    assert "DE" not in _visible(app, "auditor.al@example.org", Country, "read")
