"""Every role against a foreign institution and country, through every URL that takes an id."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Cycle, Institution, Response, ResponseStatus, Role, User
from app.services.scope import scoped

AL_INSTITUTION = "Zyra e Koordinatorit Kombëtar kundër Trafikimit"
RS_INSTITUTION = "Centar za zaštitu žrtava trgovine ljudima"


def _ids(app):
    with app.app_context():
        responses = {r.institution.name: r.id for r in db.session.scalars(select(Response))}
        institutions = {i.name: i.id for i in db.session.scalars(select(Institution))}
        people = {u.email: u.id for u in db.session.scalars(select(User))}
        cycle = db.session.scalars(select(Cycle)).one().id
    return responses, institutions, people, cycle


def _id_urls(app):
    """Every URL rule with an id in it, with every id set to ``{}``."""
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.arguments and all(a.endswith("_id") for a in rule.arguments):
            rules.append(rule)
    return rules


def _build(rule, value: int) -> str:
    path = rule.rule
    for argument in rule.arguments:
        path = path.replace(f"<int:{argument}>", str(value))
    return path


@pytest.mark.parametrize("email", ["official.rs@example.org", "reviewer.rs@example.org", "auditor@example.org"])
def test_non_admins_get_nothing_of_a_foreign_institution_through_any_url(app, client, demo, auth, email):
    responses, institutions, people, cycle = _ids(app)
    auth.login(email)
    token = auth.token("/")
    foreign = {responses[AL_INSTITUTION], institutions[AL_INSTITUTION], people["official.al@example.org"], cycle}
    rules = _id_urls(app)
    assert len(rules) >= 8, [r.rule for r in rules]
    for rule in rules:
        for value in foreign:
            path = _build(rule, value)
            shared = path.startswith(("/reports/cycles/", "/reports/countries/"))   # a cycle or country is shared:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):            # its sheets show what is in scope
                response = client.open(path, method=method, data={"csrf_token": token, "active": "0"})
                allowed = (200, 403, 404) if shared else (403, 404)
                assert response.status_code in allowed, (method, path, response.status_code)
                assert AL_INSTITUTION not in _text_of(response), (method, path)


def _text_of(response) -> str:
    """What a response shows: its text, or every cell of the workbook it downloads."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        import io
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return " ".join(str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                        for value in row if value is not None)
    return response.get_data(as_text=True)


def test_respondent_sees_only_own_institution(app, client, demo, auth):
    responses, *_ = _ids(app)
    auth.login("official.rs@example.org")
    assert client.get(f"/responses/{responses[RS_INSTITUTION]}").status_code == 200
    assert client.get(f"/responses/{responses[AL_INSTITUTION]}").status_code == 404
    listing = client.get("/responses/").get_data(as_text=True)
    assert RS_INSTITUTION in listing and AL_INSTITUTION not in listing


def test_reviewer_sees_own_country_only(app, client, demo, auth):
    responses, *_ = _ids(app)
    auth.login("reviewer.rs@example.org")
    assert client.get(f"/responses/{responses[RS_INSTITUTION]}").status_code == 200
    assert client.get(f"/responses/{responses[AL_INSTITUTION]}").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert "Srbija (RS)" in home and "(AL)" not in home  # the reviewer reads Serbian (Latin)


def test_auditor_sees_approved_responses_only(app, client, demo, auth):
    responses, *_ = _ids(app)
    auth.login("auditor@example.org")
    assert client.get(f"/responses/{responses[RS_INSTITUTION]}").status_code == 404
    with app.app_context():
        response = db.session.get(Response, responses[RS_INSTITUTION])
        response.status = ResponseStatus.APPROVED
        db.session.commit()
    assert client.get(f"/responses/{responses[RS_INSTITUTION]}").status_code == 200
    assert client.get(f"/responses/{responses[AL_INSTITUTION]}").status_code == 404


def test_country_auditor_is_limited_to_the_country(app, client, demo, auth, make_user):
    responses, *_ = _ids(app)
    make_user("auditor.al@example.org", Role.AUDITOR, country="AL")
    with app.app_context():
        for response in db.session.scalars(select(Response)):
            response.status = ResponseStatus.APPROVED
        db.session.commit()
    auth.login("auditor.al@example.org")
    assert client.get(f"/responses/{responses[AL_INSTITUTION]}").status_code == 200
    assert client.get(f"/responses/{responses[RS_INSTITUTION]}").status_code == 404


def test_admin_reads_everything(app, client, demo, auth):
    responses, institutions, people, cycle = _ids(app)
    auth.login("admin@example.org")
    for path in [f"/responses/{responses[AL_INSTITUTION]}", f"/admin/institutions/{institutions[AL_INSTITUTION]}",
                 f"/admin/users/{people['official.al@example.org']}", f"/admin/cycles/{cycle}"]:
        assert client.get(path).status_code == 200, path


def test_write_access_is_narrower_than_read(app, demo):
    with app.app_context():
        reviewer = db.session.scalars(select(User).where(User.email == "reviewer.rs@example.org")).one()
        official = db.session.scalars(select(User).where(User.email == "official.rs@example.org")).one()
        auditor = db.session.scalars(select(User).where(User.email == "auditor@example.org")).one()
        names = lambda user, access: {r.institution.name for r in db.session.scalars(scoped(user, Response, access))}
        assert names(official, "answer") == {RS_INSTITUTION}
        assert names(reviewer, "answer") == set()
        assert names(reviewer, "review") == {RS_INSTITUTION}
        assert names(official, "review") == set()
        assert names(auditor, "answer") == names(auditor, "review") == set()


def test_deactivated_user_loses_access_at_once(app, client, demo, auth):
    auth.login("official.rs@example.org")
    assert client.get("/").status_code == 200
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "official.rs@example.org")).one()
        user.active = False
        db.session.commit()
    assert client.get("/").status_code == 302


def test_a_removed_role_stops_giving_access_on_the_next_request(app, client, demo, auth):
    """The signed-in user's roles are read on every request, not kept in the session."""
    auth.login("official.rs@example.org")
    with app.app_context():
        response_id = db.session.scalars(
            select(Response.id).join(Institution).where(Institution.name == RS_INSTITUTION)).one()
    assert client.get(f"/responses/{response_id}").status_code == 200
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "official.rs@example.org")).one()
        user.roles.clear()
        db.session.commit()
    assert client.get(f"/responses/{response_id}").status_code == 404
    assert RS_INSTITUTION not in client.get("/").get_data(as_text=True)
