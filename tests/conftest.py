"""Fixtures, flaskr style: app, client, runner, login helpers and builders.

The suite runs against SQLite (a fresh file) or, when DATABASE_URL is set, PostgreSQL.
The schema is made by the migrations (never by create_all); each test starts from empty tables.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import MetaData, create_engine, inspect, text

from app import create_app
from app.cli import DEMO_PASSWORD, load_demo
from app.demo import RATES
from app.extensions import db
from app.models import Answer, Country, Institution, InstitutionKind, Response, ResponseStatus, Role
from app.services import users as user_service
from tests.html_checks import check_html

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
    "PREFERRED_URL_SCHEME": "http",
    "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # still scrypt, cheaper for the suite
    "CHECK_DATABASE_ON_START": False,
    "SERVER_NAME": None,
    "HUEY_IMMEDIATE": True,   # background jobs run at once, in the request that asks for them
}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


def _drop_everything(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        metadata.drop_all(connection)
        if "alembic_version" in inspect(connection).get_table_names():
            connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated(database_url) -> str:
    """The database, emptied and brought to the newest migration once per session."""
    _drop_everything(database_url)
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _empty_tables(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def app(migrated) -> Iterator[Flask]:
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": migrated})
    yield app
    _empty_tables(app)


@pytest.fixture
def make_app(migrated):
    """Builder: an app with extra settings (``make_app(PROXY_FIX=1)``), on the test database."""
    made = []

    def build(**config) -> Flask:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": migrated, **config})
        app.test_client_class = CheckedClient
        made.append(app)
        return app

    yield build
    for app in made:
        _empty_tables(app)


class CheckedClient(FlaskClient):
    """A test client that parses and checks every HTML response."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if response.mimetype == "text/html" and response.status_code not in (301, 302, 303, 304):
            fragment = "HX-Request" in (kwargs.get("headers") or {}) and not response.get_data(as_text=True).lstrip().lower().startswith("<!doctype")
            check_html(response.get_data(as_text=True), fragment=fragment)
        return response


@pytest.fixture
def client(app) -> FlaskClient:
    app.test_client_class = CheckedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(app) -> dict:
    """The demo world (countries, institutions, the five demo users, one cycle)."""
    with app.app_context():
        load_demo(with_history=False)
        db.session.commit()
        institutions = {i.name: i.id for i in db.session.scalars(db.select(Institution))}
        countries = {c.code: c.id for c in db.session.scalars(db.select(Country))}
    return {"institutions": institutions, "countries": countries}


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = DEMO_PASSWORD):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def auth(client):
    """Log in and out as someone: ``auth.login("admin@example.org")``."""

    class Auth:
        def login(self, email: str, password: str = DEMO_PASSWORD):
            response = login(client, email, password)
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            return response

        def logout(self):
            return client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

        def token(self, path: str = "/") -> str:
            return csrf_token(client, path)

    return Auth()


@pytest.fixture
def make_user(app):
    """Builder: ``make_user("x@example.org", Role.REVIEWER, country="RS")``."""

    def build(email: str, role: Role | None = None, *, institution: int | None = None, country: str | None = None,
              password: str | None = DEMO_PASSWORD, active: bool = True) -> int:
        with app.app_context():
            country_id = None
            if country:
                country_id = db.session.scalars(db.select(Country.id).where(Country.code == country)).one()
            roles = [user_service.RoleSpec(role, institution_id=institution, country_id=country_id)] if role else []
            user = user_service.create_user(None, email, "", "en", password=password, roles=roles)
            user.active = active
            db.session.commit()
            return user.id

    return build


@pytest.fixture
def make_institution(app):
    def build(name: str, country: str = "RS", kind: InstitutionKind = InstitutionKind.OTHER) -> int:
        with app.app_context():
            country_id = db.session.scalars(db.select(Country.id).where(Country.code == country)).one()
            institution = Institution(name=name, country_id=country_id, kind=kind)
            db.session.add(institution)
            db.session.commit()
            return institution.id

    return build


RS_INSTITUTION = "Centar za zaštitu žrtava trgovine ljudima"
FORMS = Path(__file__).resolve().parent / "data" / "forms"


@pytest.fixture
def make_response(app, demo):
    """Builder: a published questionnaire (a folder under tests/data/forms, or a shipped one),
    an open cycle pinning it, and the draft response of an institution; returns its id."""
    from app.models import Cycle, CycleStatus
    from app.services import cycles as cycle_service
    from app.services import questionnaires as questionnaire_service
    from app.xlsform.source import to_xlsx

    def build(form: str = "types", institution: str = RS_INSTITUTION, cycle: str = "Test cycle") -> int:
        folder = FORMS / form if (FORMS / form).exists() else questionnaire_service.SHIPPED / form
        with app.app_context():
            data = to_xlsx(folder)
            definition, _issues = questionnaire_service.check(data)
            version = questionnaire_service.find_version(definition["form_id"])
            if version is None or version.status.value != "published":
                version = questionnaire_service.import_questionnaire(None, data, f"{form}.xlsx", publish=True)
            item = db.session.scalars(db.select(Cycle).where(Cycle.name == cycle)).first()
            if item is None:
                item = cycle_service.save_cycle(None, None, name=cycle, period_start=date(2026, 1, 1), rates=RATES,
                                                period_end=date(2026, 12, 31), deadline=date(2027, 3, 31),
                                                version_id=version.id)
                cycle_service.set_status(None, item, CycleStatus.OPEN)
            institution_id = db.session.scalars(db.select(Institution.id).where(Institution.name == institution)).one()
            cycle_service.assign_institutions(None, item, {i.id for i in item.institutions} | {institution_id})
            db.session.commit()
            return db.session.scalars(db.select(Response.id).where(Response.cycle_id == item.id,
                                                                     Response.institution_id == institution_id)).one()

    return build


# A cycle of the 'types' questionnaire for the raw data exports: the RS response answered
# (a repeat of two sites, a select-multiple, a formula-like comment) and approved.
HOSTILE_TEXT = '=HYPERLINK("http://evil.example","click")'
RAW_ANSWERS = {"count": "3", "amount": "2.5", "comment": HOSTILE_TEXT, "when": "2026-02-01",
               "agencies": "police other", "sop": "yes", "site[1]/site_name": "North", "site[1]/site_beds": "4",
               "site[2]/site_name": "-South", "site[2]/site_beds": "6"}


@pytest.fixture
def cycle_with_answers(app, make_response):
    """The RS response answered (and approved), the AL one left empty in draft; the cycle's id."""
    rs = make_response("types")
    al = make_response("types", institution="Zyra e Koordinatorit Kombëtar kundër Trafikimit")
    with app.app_context():
        for path, value in RAW_ANSWERS.items():
            db.session.add(Answer(response_id=rs, path=path, value=value))
        db.session.get(Response, rs).status = ResponseStatus.APPROVED
        db.session.commit()
        assert db.session.get(Response, al).status == ResponseStatus.DRAFT
        return db.session.get(Response, rs).cycle_id
