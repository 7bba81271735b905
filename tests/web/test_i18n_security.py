import re

import pytest

from app.i18n import LANGUAGES
from tests.conftest import csrf_token


def test_unknown_locale_falls_back_to_english(client):
    response = client.get("/login", headers={"Accept-Language": "xx-YY"})
    assert '<html lang="en">' in response.get_data(as_text=True)
    token = csrf_token(client)
    client.post("/language", data={"language": "klingon", "csrf_token": token})
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("code,lang,sign_in", [
    ("sq", "sq", "Hyni"), ("sr_Latn", "sr-Latn", "Prijava"), ("sr_Cyrl", "sr-Cyrl", "Пријава"),
    ("mk", "mk", "Најава"), ("bs", "bs", "Prijava"), ("hr", "hr", "Prijava"), ("cnr", "cnr", "Prijava"),
])
def test_language_switcher_sets_lang_and_translates(client, code, lang, sign_in):
    token = csrf_token(client)
    response = client.post("/language", data={"language": code, "next": "/login", "csrf_token": token})
    assert response.headers["Location"] == "/login"
    body = client.get("/login").get_data(as_text=True)
    assert f'<html lang="{lang}">' in body
    assert sign_in in body


def test_accept_language_picks_a_supported_language(client):
    body = client.get("/login", headers={"Accept-Language": "sr-Latn-RS,sr;q=0.8"}).get_data(as_text=True)
    assert '<html lang="sr-Latn">' in body
    body = client.get("/login", headers={"Accept-Language": "sq-XK"}).get_data(as_text=True)
    assert '<html lang="sq">' in body


def test_montenegrin_shows_as_crnogorski_and_formats_as_sr_latn_me(app):
    assert LANGUAGES["cnr"] == ("Crnogorski", "sr_Latn_ME")


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"   # pages are not kept by shared caches
    assert "Strict-Transport-Security" not in response.headers   # plain HTTP
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert secure.headers.getlist("Content-Security-Policy") == [csp]   # once, not twice
    with client.get("/static/js/matrica.js") as script:   # static files may be cached
        assert "no-store" not in script.headers.get("Cache-Control", "")


def test_secret_key_rotation_keeps_sessions_signed_with_a_fallback_key(app, client, auth, demo):
    auth.login("official.rs@example.org")
    assert client.get("/").status_code == 200
    old_key = app.config["SECRET_KEY"]
    app.config.update(SECRET_KEY="a-new-key-after-rotation", SECRET_KEY_FALLBACKS=[old_key])
    assert client.get("/").status_code == 200   # still signed in
    app.config.update(SECRET_KEY_FALLBACKS=[])
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]   # old cookie refused


def test_htmx_is_served_locally(client):
    body = client.get("/login").get_data(as_text=True)
    sources = re.findall(r'<script src="([^"]+)"', body)
    assert sources == ["/static/vendor/htmx.min.js", "/static/js/matrica.js"]
    with client.get(sources[0]) as script:
        assert script.status_code == 200 and b"htmx" in script.data
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


def test_not_found_page_is_readable(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)
