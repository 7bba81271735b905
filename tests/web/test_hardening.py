"""No request from any role breaks a page: each test is one reproduction of a finding of the
hardening review (stored values, expressions, strings, sessions, login limits, mail)."""
import io
import logging
import re
import smtplib
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, AuditEvent, QuestionnaireVersion, User, UserSession
from app.models._base import utcnow
from app.services import questionnaires as questionnaire_service
from tests.conftest import csrf_token, login
from tests.xlsform_builders import minimal

HX = {"HX-Request": "true"}


def _store(app, response_id, answers: dict[str, str]):
    """Answers written straight into the table, as an older version of Matrica could have stored
    them (the bounds that now refuse them did not exist)."""
    with app.app_context():
        for path, value in answers.items():
            db.session.add(Answer(response_id=response_id, path=path, value=value, version=1, updated_at=utcnow()))
        db.session.commit()


def _autosave(client, response_id, path, value, page=1, token=None):
    token = token or csrf_token(client, f"/responses/{response_id}/pages/{page}")
    return client.post(f"/responses/{response_id}/answer",
                       data={"path": path, "page": str(page), f"p:{path}": "1", f"v:{path}": "0", f"a:{path}": value},
                       headers={**HX, "X-CSRFToken": token})


def _everyone_reads(client, auth, paths, needle=None):
    for email in ("official.rs@example.org", "reviewer.rs@example.org", "admin@example.org"):
        auth.login(email)
        client.post("/language", data={"language": "en", "csrf_token": auth.token()})
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (email, path, response.status_code)
            if needle and "/pages/" in path:
                assert needle in response.get_data(as_text=True), (email, path)
        auth.logout()


# -- 1. a stored answer no longer breaks the pages -------------------------------------------

def test_a_ratio_beyond_any_sense_shows_cannot_be_computed_for_everyone(app, client, auth, make_response):
    response_id = make_response("ban_monitoring")
    _store(app, response_id, {"if_data": "available", "if_budget_planned": "0.0000000000000000001", "if_budget_spent": "999999999999999"})
    _everyone_reads(client, auth, [f"/responses/{response_id}/pages/7", f"/responses/{response_id}", "/",
                                   "/responses/"], needle="cannot be computed")


def test_the_same_answers_are_refused_by_autosave(client, auth, make_response):
    response_id = make_response("ban_monitoring")
    auth.login("official.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    tiny = _autosave(client, response_id, "if_budget_planned", "0.0000000000000000001", page=7)
    assert tiny.status_code == 422 and "digits after the decimal point" in tiny.get_data(as_text=True)
    huge = _autosave(client, response_id, "if_budget_spent", "999999999999999", page=7)
    assert huge.status_code == 422 and "Enter a number from" in huge.get_data(as_text=True)


# -- 2. expressions at their limits -------------------------------------------------------------

def test_a_date_beyond_year_9999_and_a_division_by_a_tiny_number_break_nothing(app, client, auth, make_response):
    response_id = make_response("overflow")
    auth.login("official.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    token = csrf_token(client, f"/responses/{response_id}/pages/1")
    assert _autosave(client, response_id, "deadline", "9999-12-31", token=token).status_code == 200
    assert _autosave(client, response_id, "planned", "0.0000000001", token=token).status_code == 200
    saved = _autosave(client, response_id, "spent", "999999999999999", token=token)
    assert saved.status_code == 200
    slow = _autosave(client, response_id, "code", "a" * 3000 + "b", token=token)   # catastrophic pattern
    assert slow.status_code == 422
    auth.logout()
    _everyone_reads(client, auth, [f"/responses/{response_id}/pages/1", f"/responses/{response_id}",
                                   f"/responses/{response_id}/submit", "/", "/responses/"],
                    needle="cannot be computed")


def test_a_hostile_but_valid_form_is_accepted_and_its_pages_render(app, client, auth, make_response):
    from tests.xlsform_builders import calculation_ladder
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    response = client.post("/questionnaires/", data={"csrf_token": token,
                                                     "file": (io.BytesIO(calculation_ladder(300)), "ladder.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200


# -- 3. control characters and NUL bytes ------------------------------------------------------------

def test_a_line_break_in_a_redirect_target_goes_home(client, demo):
    token = csrf_token(client)
    response = client.post("/language", data={"language": "sq", "next": "/\r\nX-Evil: 1", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "X-Evil" not in response.headers


@pytest.mark.parametrize("query", ["next=/%0d%0aX", "next=%00", "q=%07"])
def test_control_characters_in_a_query_string_are_a_readable_400(client, demo, query):
    response = client.get(f"/login?{query}")
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)


def test_a_nul_byte_in_the_login_is_a_400_on_every_database(client, demo):
    token = csrf_token(client)
    for field in ("email", "password"):
        data = {"email": "admin@example.org", "password": "matrica-demo", "csrf_token": token}
        data[field] += "\x00"
        assert client.post("/login", data=data).status_code == 400
    forgot = client.post("/password/forgot", data={"email": "a\x00@example.org",
                                                   "csrf_token": csrf_token(client, "/password/forgot")})
    assert forgot.status_code == 400


def test_a_nul_byte_in_an_answer_a_name_or_a_path_is_a_400(app, client, auth, make_response):
    response_id = make_response("types")
    auth.login("official.rs@example.org")
    token = csrf_token(client, f"/responses/{response_id}/pages/1")
    assert _autosave(client, response_id, "note_text", "a\x00b", token=token).status_code == 400
    assert _autosave(client, response_id, "count\x00", "1", token=token).status_code == 400
    assert client.get(f"/responses/{response_id}/history?path=count%00").status_code == 400
    account = client.post("/account", data={"name": "Ana\x00", "csrf_token": csrf_token(client, "/account")})
    assert account.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Answer.id)).where(Answer.response_id == response_id)) == 0


def test_a_file_name_with_line_breaks_is_refused_and_stored_names_are_clean(app, client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    refused = client.post("/questionnaires/", data={"csrf_token": token, "file": (io.BytesIO(minimal()), "a\r\nb.xlsx")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400
    with app.app_context():   # through the command line, or stored by an older version
        version = questionnaire_service.import_questionnaire(None, minimal(), "../x\r\nSet-Cookie: y.xlsx")
        assert version.source_filename == "x_Set-Cookie_ y.xlsx"
        version.source_filename = "bad\r\nname.xlsx"
        db.session.commit()
        version_id = version.id
    download = client.get(f"/questionnaires/versions/{version_id}/upload.xlsx")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert "\n" not in download.headers["Content-Disposition"] and "bad_name.xlsx" in download.headers["Content-Disposition"]


# -- 4. sessions that end -------------------------------------------------------------------------

def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_replayed_after_sign_out_opens_nothing(app, client, auth, make_response):
    response_id = make_response("types")
    auth.login("official.rs@example.org")
    token = csrf_token(client, f"/responses/{response_id}/pages/1")
    saved = _cookie(client)
    assert _autosave(client, response_id, "count", "5", token=token).status_code == 200
    auth.logout()
    client.set_cookie("session", saved)
    replayed = client.get(f"/responses/{response_id}")
    assert replayed.status_code == 302 and replayed.headers["Location"].startswith("/login")
    autosave = _autosave(client, response_id, "count", "6", token=token)
    # The page is not swapped for a sign-in form: it keeps the typed value and says it is not saved.
    assert autosave.status_code == 401 and "HX-Redirect" not in autosave.headers
    polled = client.get(f"/responses/{response_id}", headers={"HX-Request": "true"})
    assert polled.status_code == 401 and polled.headers["HX-Redirect"].startswith("/login")
    with app.app_context():
        assert db.session.scalars(select(Answer.value)).all() == ["5"]


def test_signing_out_ends_only_that_session(app, client, auth, demo):
    other = app.test_client()
    assert login(other, "official.rs@example.org").status_code == 302
    auth.login("official.rs@example.org")
    auth.logout()
    assert other.get("/").status_code == 200


def test_a_session_unused_for_too_long_ends(app, client, auth, demo):
    auth.login("official.rs@example.org")
    with client.session_transaction() as session:
        session["seen"] -= app.config["SESSION_IDLE_TIMEOUT"] + 1
    response = client.get("/", follow_redirects=True)
    assert "minutes without activity" in response.get_data(as_text=True)
    assert 'name="password"' in response.get_data(as_text=True)


def test_a_session_ends_after_its_lifetime_however_busy(app, client, auth, demo):
    auth.login("official.rs@example.org")
    assert client.get("/").status_code == 200
    with app.app_context():
        db.session.execute(UserSession.__table__.update().values(
            created_at=utcnow().replace(year=utcnow().year - 1)))
        db.session.commit()
    assert client.get("/").status_code == 302


def test_deactivating_a_user_ends_their_sessions(app, client, auth, demo):
    other = app.test_client()
    assert login(other, "official.al@example.org").status_code == 302
    auth.login("admin@example.org")
    with app.app_context():
        user_id = db.session.scalars(select(User.id).where(User.email == "official.al@example.org")).one()
        before = db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == user_id,
                                                                             UserSession.ended_at.is_(None)))
    client.post(f"/admin/users/{user_id}/active", data={"active": "0", "csrf_token": auth.token(f"/admin/users/{user_id}")})
    with app.app_context():
        after = db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == user_id,
                                                                            UserSession.ended_at.is_(None)))
    assert (before, after) == (1, 0)
    assert other.get("/").status_code == 302


# -- 5. login limits that cannot lock a user out ------------------------------------------------------

def _login_from(client, address, email, password):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_wrong_passwords_from_many_addresses_do_not_lock_the_user_out(app, client, demo, monkeypatch):
    waits = []
    monkeypatch.setattr("app.views.auth.time.sleep", waits.append)
    for number in range(12):
        assert _login_from(client, f"10.0.0.{number}", "official.rs@example.org", "wrong-password-x").status_code == 401
    assert waits, "an account failing from many addresses is slowed down"
    response = _login_from(client, "10.0.1.1", "official.rs@example.org", "matrica-demo")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_one_address_is_limited_per_account_and_in_all(client, demo):
    for _ in range(5):
        assert _login_from(client, "10.9.9.9", "official.rs@example.org", "wrong-password-x").status_code == 401
    assert _login_from(client, "10.9.9.9", "official.rs@example.org", "matrica-demo").status_code == 429
    assert _login_from(client, "10.9.9.8", "official.rs@example.org", "matrica-demo").status_code == 302


def test_without_mail_a_reset_link_is_never_logged(app, client, demo, caplog):
    caplog.set_level(logging.DEBUG)
    token = csrf_token(client, "/password/forgot")
    client.post("/password/forgot", data={"email": "official.al@example.org", "csrf_token": token})
    assert "/password/reset/" not in caplog.text
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "user.reset_requested")) == 1


class _FakeSMTP:
    sent: list = []
    fail = False

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def send_message(self, message):
        if self.fail:
            raise smtplib.SMTPException("refused")
        self.sent.append(message)


def test_with_mail_the_reset_link_goes_out_in_the_background_and_never_into_the_log(app, client, demo, caplog,
                                                                                      monkeypatch):
    app.config["MAIL_SERVER"] = "smtp.example.org"
    monkeypatch.setattr(smtplib, "SMTP", _FakeSMTP)
    _FakeSMTP.sent, _FakeSMTP.fail = [], False
    caplog.set_level(logging.DEBUG)
    token = csrf_token(client, "/password/forgot")
    response = client.post("/password/forgot", data={"email": "official.al@example.org", "csrf_token": token})
    assert response.status_code == 302
    for thread in threading.enumerate():
        if thread.name == "matrica-mail":
            thread.join(5)
    assert len(_FakeSMTP.sent) == 1 and "/password/reset/" in _FakeSMTP.sent[0].get_content()
    _FakeSMTP.fail = True
    client.post("/password/forgot", data={"email": "official.al@example.org", "csrf_token": token})
    for thread in threading.enumerate():
        if thread.name == "matrica-mail":
            thread.join(5)
    assert "failed" in caplog.text and "/password/reset/" not in caplog.text
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org", "csrf_token": token})
    assert unknown.status_code == response.status_code and unknown.headers["Location"] == response.headers["Location"]


# -- 6. behind a proxy --------------------------------------------------------------------------------

def test_behind_a_proxy_each_client_has_its_own_limit_and_https_is_seen(make_app):
    app = make_app(PROXY_FIX=1)
    client = app.test_client()
    secure = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in secure.headers
    token = csrf_token(client)

    def attempt(address, email):
        return client.post("/login", data={"email": email, "password": "wrong-password-x", "csrf_token": token},
                           headers={"X-Forwarded-For": address})
    for number in range(10):
        assert attempt("192.0.2.1", f"person{number}@example.org").status_code == 401
    assert attempt("192.0.2.1", "someone@example.org").status_code == 429
    assert attempt("192.0.2.2", "someone@example.org").status_code == 401


def test_without_the_setting_forwarded_headers_are_not_trusted(client, demo):
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_signing_in_works_with_rate_limits_switched_off(make_app, demo):
    client = make_app(RATELIMIT_ENABLED=False).test_client()
    assert login(client, "admin@example.org", "wrong-password-x").status_code == 401
    assert login(client, "admin@example.org").status_code == 302


def test_a_version_stored_before_the_limits_opens_as_a_clear_message(app, client, auth, make_response):
    """Definitions uploaded before today's limits: a pattern now refused, groups nested 25 deep."""
    response_id = make_response("types")
    with app.app_context():
        from app.models import Response
        version = db.session.get(Response, response_id).cycle.questionnaire_version
        definition = dict(version.definition)
        survey = [dict(row) for row in definition["survey"]]
        for row in survey:
            if row.get("name") == "comment":
                row["constraint"] = "regex(., '(?:a{1500}){1500}')"
        definition["survey"] = survey
        db.session.execute(QuestionnaireVersion.__table__.update().where(QuestionnaireVersion.id == version.id)
                           .values(definition=definition))
        deep = questionnaire_service.import_questionnaire(None, minimal(), "deep.xlsx")
        nested = [{"row": 2 + i, "type": "begin_group", "name": f"g{i}", "label": {"default": "G"}} for i in range(25)]
        closing = [{"row": 100 + i, "type": "end_group"} for i in range(25)]
        deep_definition = dict(deep.definition, survey=nested + deep.definition["survey"] + closing)
        db.session.execute(QuestionnaireVersion.__table__.update().where(QuestionnaireVersion.id == deep.id)
                           .values(definition=deep_definition))
        db.session.commit()
        deep_id = deep.id
    auth.login("official.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    token = csrf_token(client, f"/responses/{response_id}/pages/1")
    saved = _autosave(client, response_id, "comment", "aaa", token=token)
    assert saved.status_code == 422 and "This answer is not allowed here" in saved.get_data(as_text=True)
    auth.logout()
    auth.login("admin@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    page = client.get(f"/questionnaires/versions/{deep_id}")
    assert page.status_code == 200 and "goes beyond Matrica's limits" in page.get_data(as_text=True)


def test_a_retried_save_that_had_landed_changes_nothing_and_writes_no_second_history_line(app, client, auth,
                                                                                          make_response):
    response_id = make_response("types")
    auth.login("official.rs@example.org")
    token = csrf_token(client, f"/responses/{response_id}/pages/1")
    first = _autosave(client, response_id, "count", "5", token=token)
    again = _autosave(client, response_id, "count", "5", token=token)   # its reply was lost: sent again, same base
    assert first.status_code == 200 and again.status_code == 200
    with app.app_context():
        assert db.session.scalars(select(Answer.value)).all() == ["5"]
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "answer.save", AuditEvent.field == "count")) == 1


def test_the_session_token_is_given_to_a_page_whose_own_went_stale(client, auth, demo):
    anonymous = client.get("/session/token")
    assert anonymous.status_code == 200 and anonymous.json["signed_in"] is False
    assert anonymous.headers["Cache-Control"] == "no-store"
    auth.login("official.rs@example.org")
    signed = client.get("/session/token").json
    assert signed["signed_in"] is True and signed["token"]
