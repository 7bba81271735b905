"""One request, one transaction: run a use case, then commit, or roll back and say why."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash, request
from flask_login import current_user

from app.extensions import db
from app.services import audit
from app.services.errors import NotAllowed, NotFound, ServiceError
from app.views._messages import error_message
from app.views.auth import signed_in

T = TypeVar("T")
REFUSED = object()   # what ``commit_or_report`` returns when the service refused


def commit_or_report(call: Callable[[], T], report: Callable[[str], object] | None = None) -> T | object:
    """Run ``call`` (a use case that flushes, never commits) and commit; when the service refuses
    (a ``ServiceError``), roll back, hand the localised reason to ``report`` (a field's
    ``errors.append``; by default a flashed error) and return ``REFUSED``. What the user may not
    see or do (``NotFound``, ``NotAllowed``) goes on to the error handler: 404 or 403."""
    try:
        result = call()
    except (NotFound, NotAllowed) as exc:
        db.session.rollback()
        _record_refusal(exc)
        raise   # 404 and 403, as the scoping function said (one handler maps them)
    except ServiceError as exc:
        db.session.rollback()
        (report or flash_error)(error_message(exc.code))
        return REFUSED
    db.session.commit()
    return result


def flash_error(text: str) -> None:
    flash(text, "error")


def _record_refusal(exc: ServiceError) -> None:
    """A change refused because it touched what the user may not change: an audit event of
    its own (the change itself was rolled back)."""
    if not current_user.is_authenticated:
        return
    audit.record(signed_in(), "access.refused", audit.Ref("request", request.path[:50]), request.method,
                 None, exc.code or type(exc).__name__)
    db.session.commit()
