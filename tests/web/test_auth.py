import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Role, User
from app.services import users as user_service
from tests.conftest import csrf_token, login

GENERIC = "The e-mail or password is not correct"


def test_sign_in_and_out(client, demo, auth):
    response = auth.login("official.rs@example.org")
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Centar za zaštitu žrtava trgovine ljudima" in home
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the login page


def test_wrong_password_and_unknown_email_read_the_same(client, demo):
    wrong = login(client, "official.rs@example.org", "not-the-password")
    unknown = login(client, "nobody@example.org", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC in wrong.get_data(as_text=True)
    assert GENERIC in unknown.get_data(as_text=True)
    assert "nobody@example.org" not in unknown.get_data(as_text=True).replace('value="nobody@example.org"', "")


def test_unknown_email_still_checks_a_password_hash(app, demo, monkeypatch):
    calls = []
    real = user_service.check_password_hash
    monkeypatch.setattr(user_service, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    with app.test_request_context():
        assert user_service.authenticate("nobody@example.org", "whatever-password") is None
        assert user_service.authenticate("official.rs@example.org", "whatever-password") is None
    assert len(calls) == 2


def test_deactivated_user_cannot_sign_in(client, make_user, demo):
    make_user("gone@example.org", Role.ADMIN, active=False)
    response = login(client, "gone@example.org")
    assert response.status_code == 401
    assert GENERIC in response.get_data(as_text=True)


def test_login_is_rate_limited(client, demo):
    for _ in range(5):   # per address and account
        assert login(client, "official.rs@example.org", "wrong-password-x").status_code == 401
    blocked = login(client, "official.rs@example.org", "matrica-demo")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)


def test_post_without_csrf_token_is_a_readable_400(client, demo):
    response = client.post("/login", data={"email": "admin@example.org", "password": "matrica-demo"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "security token" in body
    assert "Traceback" not in body


def test_htmx_post_needs_the_header_token(client, demo, auth):
    auth.login("admin@example.org")
    response = client.post("/admin/countries", data={"code": "RO"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    token = auth.token("/admin/countries")
    response = client.post("/admin/countries", data={"code": "RO"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 302


def test_next_parameter_stays_on_this_site(client, demo):
    token = csrf_token(client)
    response = client.post("/login?next=https://evil.example/", data={
        "email": "admin@example.org", "password": "matrica-demo", "csrf_token": token})
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client)
    response = client.post("/login?next=/admin/users", data={
        "email": "admin@example.org", "password": "matrica-demo", "csrf_token": token})
    assert response.headers["Location"] == "/admin/users"


def test_session_cookie_flags(app, client, demo):
    app.config["SESSION_COOKIE_SECURE"] = True
    response = login(client, "admin@example.org")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def _invite_link(client, auth, email="new.person@example.org"):
    auth.login("admin@example.org")
    token = auth.token("/admin/users")
    response = client.post("/admin/users", data={
        "email": email, "name": "New Person", "locale": "sq", "role": "reviewer",
        "country_id": "", "institution_id": "", "csrf_token": token})
    assert response.status_code == 400  # a reviewer needs a country
    assert "A reviewer needs a country." in response.get_data(as_text=True)
    countries = re.findall(r'<option value="(\d+)">Serbia \(RS\)</option>', response.get_data(as_text=True))
    response = client.post("/admin/users", data={
        "email": email, "name": "New Person", "locale": "sq", "role": "reviewer",
        "country_id": countries[0], "institution_id": "", "csrf_token": token})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    link = re.search(r'value="(http://localhost/invitation/[^"]+)"', body).group(1)
    auth.logout()
    return link.replace("http://localhost", "")


def test_invitation_sets_a_password_once(app, client, demo, auth):
    path = _invite_link(client, auth)
    page = client.get(path)
    assert page.status_code == 200 and "new.person@example.org" in page.get_data(as_text=True)
    assert '<html lang="sq">' in page.get_data(as_text=True)   # the language the admin chose for them
    token = csrf_token(client, path)
    short = client.post(path, data={"password": "short", "confirm": "short", "csrf_token": token})
    assert short.status_code == 400
    response = client.post(path, data={"password": "a-good-password", "confirm": "a-good-password",
                                       "csrf_token": token})
    assert response.status_code == 302
    assert login(client, "new.person@example.org", "a-good-password").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    reused = client.get(path)
    assert reused.status_code == 400
    assert "Kjo lidhje është përdorur tashmë" in reused.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "new.person@example.org")).one()
        assert [r.role for r in user.roles] == [Role.REVIEWER]
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(user.id))))
        assert {"user.create", "user.invite", "user.invitation_used"} <= actions


def test_expired_and_tampered_links_change_nothing(app, client, demo, auth):
    path = _invite_link(client, auth)
    app.config["INVITATION_MAX_AGE"] = -1
    token = csrf_token(client, "/login")
    response = client.post(path, data={"password": "a-good-password", "confirm": "a-good-password",
                                       "csrf_token": token})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    app.config["INVITATION_MAX_AGE"] = 3600
    assert client.get(path[:-3] + "abc").status_code == 400
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "new.person@example.org")).one()
        assert user.password_hash is None


def test_password_reset_ends_other_sessions(app, client, demo, auth):
    other = app.test_client()
    assert login(other, "official.al@example.org").status_code == 302
    token = csrf_token(client, "/password/forgot")
    response = client.post("/password/forgot", data={"email": "official.al@example.org", "csrf_token": token})
    assert response.status_code == 302
    with app.test_request_context():
        user = user_service.find_user("official.al@example.org")
        path = "/password/reset/" + user_service.make_link_token(user, user_service.LinkPurpose.PASSWORD_RESET)
    token = csrf_token(client, path)
    response = client.post(path, data={"password": "brand-new-password", "confirm": "brand-new-password",
                                       "csrf_token": token})
    assert response.status_code == 302
    assert other.get("/").status_code == 302  # the old session no longer counts
    assert login(client, "official.al@example.org", "brand-new-password").status_code == 302


def test_forgot_password_answers_the_same_for_unknown_addresses(client, demo):
    token = csrf_token(client, "/password/forgot")
    known = client.post("/password/forgot", data={"email": "official.al@example.org", "csrf_token": token},
                        follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org", "csrf_token": token},
                          follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    message = "If an active account uses this address"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_a_user_changes_their_password_with_the_current_one(app, client, demo, auth):
    other = app.test_client()
    assert login(other, "official.rs@example.org").status_code == 302
    auth.login("official.rs@example.org")
    page = client.get("/account").get_data(as_text=True)
    assert '<label for="name">Ime i prezime</label>' in page   # a person's name, not a thing's ("Naziv")
    client.post("/language", data={"language": "en", "csrf_token": auth.token("/account")})
    page = client.get("/account").get_data(as_text=True)
    assert re.search(r'<label for="password-current">Current password</label>', page)
    assert 'autocomplete="current-password"' in page and 'autocomplete="new-password"' in page
    assert '<label for="name">Full name</label>' in page
    token = auth.token("/account")
    wrong = client.post("/account/password", data={"password-csrf_token": token, "password-current": "not-it",
                                                   "password-password": "a-new-password", "password-confirm": "a-new-password"})
    assert wrong.status_code == 400 and "The current password is not correct." in wrong.get_data(as_text=True)
    changed = client.post("/account/password", data={
        "password-csrf_token": token, "password-current": "matrica-demo",
        "password-password": "a-new-password", "password-confirm": "a-new-password"}, follow_redirects=True)
    assert changed.status_code == 200 and "Your password is changed" in changed.get_data(as_text=True)
    assert client.get("/account").status_code == 200          # this browser stays signed in
    assert other.get("/account").status_code == 302           # every other session ended
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, "official.rs@example.org", "matrica-demo").status_code != 302
    assert login(client, "official.rs@example.org", "a-new-password").status_code == 302
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "official.rs@example.org")).one()
        assert db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_id == str(user.id), AuditEvent.action == "user.password_change")).all() == [
            "user.password_change"]


def test_links_and_their_mails_are_in_the_invitees_language(app, client, demo, auth, monkeypatch):
    from app.services import mail
    sent = []
    monkeypatch.setattr(mail, "configured", lambda: True)
    monkeypatch.setattr(mail, "send", lambda to, subject, body: sent.append((to, subject, body)) or True)
    monkeypatch.setattr(mail, "send_in_background", lambda to, subject, body: sent.append((to, subject, body)))
    auth.login("admin@example.org")
    token = auth.token("/admin/users")
    countries = re.findall(r'<option value="(\d+)">Serbia \(RS\)</option>', client.get("/admin/users").get_data(as_text=True))
    client.post("/admin/users", data={"email": "nova@example.org", "name": "Nova", "locale": "sr_Cyrl",
                                      "role": "reviewer", "country_id": countries[0], "institution_id": "",
                                      "csrf_token": token})
    assert sent and sent[0][0] == "nova@example.org" and "Matrica" in sent[0][1]
    assert "Отворите" in sent[0][2] or "позван" in sent[0][2]   # Serbian Cyrillic, as chosen for her
    auth.logout()
    token = csrf_token(client, "/password/forgot")
    client.post("/password/forgot", data={"email": "official.al@example.org", "csrf_token": token})
    assert sent[-1][0] == "official.al@example.org" and sent[-1][1] != "Reset your Matrica password"   # in sq
