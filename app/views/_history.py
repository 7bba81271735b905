"""Audit events as a person reads them: who by name, what as a sentence, values as labels
(a choice's label in the reader's language, a status by its name), on a response's history
and on the administrator's audit log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from app.models import CycleStatus, ResponseStatus, VersionStatus
from app.templating import person, status_label
from app.xlsform.compiled import CompiledForm
from app.xlsform.state import parse_path


@dataclass(frozen=True)
class Line:
    at: datetime | None   # None: a change between two submissions, not an event
    who: str
    what: str
    before: str
    after: str
    before_url: str | None = None   # an uploaded file: where to open it
    after_url: str | None = None


def _actions() -> dict[str, str]:
    return {
        "answer.save": _("Answer changed"), "answer.evidence": _("Evidence changed"),
        "answer.remove": _("Entry removed"), "repeat.count": _("Number of entries changed"),
        "response.submit": _("Submitted"), "response.return": _("Returned for revision"),
        "response.approve": _("Approved"), "response.reopen": _("Reopened for review"),
        "thread.comment": _("Comment"), "thread.resolve": _("Thread resolved"),
        "score.review": _("Reviewed score"),
        "user.login": _("Signed in"), "user.logout": _("Signed out"), "user.create": _("Account created"),
        "user.invite": _("Invited"), "user.update": _("Account details changed"),
        "user.role_add": _("Role added"), "user.role_remove": _("Role removed"),
        "user.activate": _("Account activated"), "user.deactivate": _("Account deactivated"),
        "user.reset_requested": _("Password reset asked for"), "user.invitation_used": _("Invitation used"),
        "user.password_reset_used": _("Password reset"), "user.password_change": _("Password changed"), "user.invitation_sent": _("Invitation link sent"),
        "user.password_reset_sent": _("Password reset link sent"),
        "cycle.create": _("Cycle created"), "cycle.update": _("Cycle changed"), "cycle.status": _("Cycle status changed"),
        "questionnaire.create": _("Questionnaire created"),
        "questionnaire.version_upload": _("Questionnaire version uploaded"),
        "questionnaire.version_publish": _("Questionnaire version published"),
    }


_STATUSES = {status.value: status for enum in (ResponseStatus, CycleStatus, VersionStatus) for status in enum}


def line(event, form: CompiledForm | None = None, language: str = "en", files: dict | None = None) -> Line:
    """One event as a line of history; ``form``: the response's questionnaire, to name its
    questions and choices; ``files``: its uploaded files (``FileView`` by stored name), to name
    them as uploaded and link to them."""
    what = _actions().get(event.action, event.action)
    subject = _subject(event.field, form, language)
    if subject:
        what = _("%(action)s: %(subject)s", action=what, subject=subject)
    return Line(event.at, person(event.actor) if event.actor is not None else _("system"), what,
                *_values(event.old, event.new, event.field, form, language, files))


def _values(before: str | None, after: str | None, field: str | None, form: CompiledForm | None, language: str,
            files: dict | None) -> tuple[str, str, str | None, str | None]:
    """Before and after as a person reads them, with a link for each that is an uploaded file."""
    shown = [files[value] if files and value in files else None for value in (before, after)]
    return (shown[0].original if shown[0] else _value(before, field, form, language),
            shown[1].original if shown[1] else _value(after, field, form, language),
            shown[0].url if shown[0] else None, shown[1].url if shown[1] else None)


def _subject(field: str | None, form: CompiledForm | None, language: str) -> str:
    if not field or field == "status":
        return ""
    if form is None:
        return field
    kind, _sep, target = field.partition(":")
    if kind in ("question", "indicator") and target:
        field = target
        if kind == "indicator":
            indicator = form.indicators.get(target)
            return f"{target} {form.text(indicator.label, language)[0]}" if indicator else target
    parsed = parse_path(form, field.split("#")[0])
    if parsed is None or not parsed[0].label:
        return field
    return "“" + form.text(parsed[0].label, language)[0] + "”"


def _value(value: str | None, field: str | None, form: CompiledForm | None, language: str) -> str:
    if value is None or value == "":
        return "—"
    if field == "status" and value in _STATUSES:
        return status_label(_STATUSES[value])
    if form is not None and field and "#" not in field:
        parsed = parse_path(form, field)
        if parsed is not None and parsed[0].list_name:
            return ", ".join(form.choice_label(parsed[0].list_name, item, language) for item in value.split())
    return value


def answer_change(path: str, before: str, after: str, form: CompiledForm, language: str,
                  files: dict | None = None) -> Line:
    """A changed answer as a line (no one and no time: what a diff of two submissions shows)."""
    return Line(None, "", _subject(path, form, language) or path, *_values(before, after, path, form, language, files))
