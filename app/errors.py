"""Readable, localised error pages (and fragments for HTMX requests)."""
from __future__ import annotations

from flask import Flask, get_template_attribute, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.services.errors import Conflict, NotAllowed, NotFound, ServiceError


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Please go back and try again.")),
        403: (_("Not allowed"), _("Your account does not have access to this page or action.")),
        404: (_("Not found"), _("The page you asked for does not exist, or you do not have access to it.")),
        405: (_("Not allowed"), _("This action cannot be done this way.")),
        409: (_("Conflict"), _("Someone else changed this at the same time. Reload the page and try again.")),
        413: (_("Too large"), _("The file or form you sent is too large.")),
        429: (_("Too many attempts"), _("Too many attempts in a short time. Please wait a minute and try again.")),
        500: (_("Something went wrong"), _("An unexpected error happened. Nothing was saved. Please try again.")),
    }


def _too_large_fragment():
    text = _("Not saved: %(reason)s", reason=_messages()[413][1])
    reply = make_response(get_template_attribute("_macros/form.html", "save_status")(text), 413)
    reply.headers["HX-Retarget"] = "#save-status"
    reply.headers["HX-Reswap"] = "outerHTML"
    return reply


def render_error(code: int, detail: str | None = None):
    title, message = _messages().get(code, (_("Error"), _("An error happened.")))
    return render_template("errors/error.html", code=code, title=title, message=message,
                           detail=detail), code


_STATUS = {NotFound: 404, NotAllowed: 403, Conflict: 409}


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        return render_error(next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 400))

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return render_error(400, _("The form has expired or was sent without its security token. "
                                   "Reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = error.code or 500
        if code < 400:
            return error
        # A view's own (localised) explanation, given as abort(code, text); not Werkzeug's English one.
        detail = error.description if error.description != type(error).description else None
        if code == 413 and request.headers.get("HX-Request"):   # an autosaved file too large: said in the status line
            return _too_large_fragment()
        return render_error(code, detail)

    @app.errorhandler(500)
    def _server_error(error):
        return render_error(500)
