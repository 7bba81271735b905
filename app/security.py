"""Security headers (a strict Content-Security-Policy: no inline script or style), and the
refusal of control characters in any request input."""
from __future__ import annotations

import re

from flask import Flask, Response, request
from flask_babel import gettext as _
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from app.errors import render_error
from app.xlsform.values import CONTROL

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


# Set on every response unless a view set its own (an uploaded evidence file does).
_ALWAYS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
_NO_STORE = ("Cache-Control", "no-store")


# NUL, the other C0 and C1 controls, DEL and the Unicode noncharacters have no place in what
# people type: PostgreSQL refuses NUL in text, a line break in a redirect target splits a header,
# HTML, spreadsheets and XML cannot hold them. A form value may hold tab and line breaks (a text
# answer); the path, query strings, form field names and file names may not. Header values
# (Latin-1 as they arrive, so UTF-8 bytes look like C1 characters) are checked for C0 and DEL.
_IN_FORM_VALUES = CONTROL
_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_IN_HEADERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def has_control_characters() -> bool:
    """Whether any input of this request holds a character refused there."""
    if _IN_NAMES.search(request.path):
        return True
    if any(_IN_NAMES.search(key) or _IN_NAMES.search(value) for key, value in request.args.items(multi=True)):
        return True
    if any(_IN_HEADERS.search(value) for _name, value in request.headers.items()):
        return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if any(_IN_NAMES.search(key) or _IN_FORM_VALUES.search(value)
               for key, value in request.form.items(multi=True)):
            return True
        if any(_IN_NAMES.search(key) or _IN_NAMES.search(upload.filename or "")
               for key, upload in request.files.items(multi=True)):
            return True
    return False


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per set of keys
    instead of on every request (building it serialises a probe value to learn its type)."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()

    @app.before_request
    def _refuse_control_characters():
        if has_control_characters():
            return render_error(400, _("The request holds invisible control characters (such as a NUL byte), "
                                       "which cannot be accepted. Remove them and try again."))
        return None

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        headers.extend([header for header in _ALWAYS if header[0].lower() not in present])
        if request.is_secure and "strict-transport-security" not in present:
            headers.add(*_HSTS)
        if response.mimetype == "text/html" and "cache-control" not in present:
            headers.add(*_NO_STORE)
        return response
