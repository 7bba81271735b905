"""Independent review of a response: its page (answers, comment threads, indicators with the
self and the reviewed score, what changed since the last submission, the review history) and
its steps (return, approve, reopen, comment, resolve, score). Every lookup goes through the
scoping function; each step is one service call and one commit."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import login_required

from app.i18n import current_language
from app.models import Response, ResponseStatus, ReviewAction, ThreadKind
from app.services import responses, review, scores
from app.services.errors import ServiceError
from app.services.scope import get_scoped
from app.views import _form, _notices as notices
from app.views import _history as history
from app.views._render import render
from app.views._transaction import REFUSED, commit_or_report
from app.views.auth import signed_in

bp = Blueprint("review", __name__, url_prefix="/review")


def _version() -> int | None:
    """The version of the response row the form was shown with (a stale tab is refused)."""
    return request.form.get("version", type=int)


def lock_reason(response: Response) -> str | None:
    """Why the response cannot be changed now, in a sentence (None when it can)."""
    if response.status == ResponseStatus.APPROVED:
        approved = review.approved_by(response.id)
        if approved is not None:
            at, by = approved
            return _("Approved on %(date)s by %(name)s; locked.", date=_date(at),
                     name=(by.name or by.email) if by else _("an administrator"))
        return _("Approved; locked.")
    if response.status == ResponseStatus.SUBMITTED:
        return _("Submitted on %(date)s; read-only while it waits for review.",
                 date=_date(response.submitted_at) if response.submitted_at else "—")
    if response.cycle.status.value == "closed":
        return _("The cycle is closed; no more answers are taken.")
    return None


def _date(value) -> str:
    return format_date(value, "medium")


@bp.route("/<int:response_id>")
@login_required
def show(response_id: int):
    user = signed_in()
    response = get_scoped(user, Response, response_id)
    try:
        loaded = responses.load(response)
    except responses.ResponseError as exc:
        abort(409, _("This questionnaire version goes beyond Matrica's limits and cannot be shown. "
                     "An administrator needs to upload a corrected version.")
              if exc.code == "questionnaire_unusable" else None)
    loaded.writable = False
    language = current_language()
    threads = review.threads(response.id)
    reviewed = review.reviewed_scores(response.id)
    own = scores.indicators(loaded.form, loaded.state)
    as_reviewed = review.with_reviewed(loaded.form, own, reviewed)
    sections = _form.sections(loaded, language)
    indicators = []
    for code, indicator in loaded.form.indicators.items():
        if own[code].reason == "not_responsible":   # another kind of institution's: nothing to review here
            continue
        indicators.append({"code": code, "label": _form.text_of(loaded, indicator.label, language),
                           "method": indicator.method, "own": own[code], "reviewed": reviewed.get(code),
                           "as_reviewed": as_reviewed[code]})
    actions = review.allowed_actions(user, response)
    can_review = any(a in actions for a in (ReviewAction.RETURN, ReviewAction.APPROVE)) or (
        response.status == ResponseStatus.SUBMITTED and _may(user, response, "review"))
    may_comment = response.status in (ResponseStatus.SUBMITTED, ResponseStatus.RETURNED) and (
        _may(user, response, "review") or _may(user, response, "answer"))
    return render("review/show.html", response=response, loaded=loaded, sections=sections, indicators=indicators,
                  threads=threads, actions=actions, can_review=can_review, may_comment=may_comment,
                  may_resolve=may_comment and _may(user, response, "review"),
                  changes=_changes(loaded, language), events=review.events(response.id),
                  lock=lock_reason(response), ThreadKind=ThreadKind, ReviewAction=ReviewAction,
                  problems=len(responses.problems(loaded)))


def _changes(loaded, language: str):
    """What changed since the previous submission, each answer named by its question and its
    values as labels; None when there was no earlier submission."""
    changes = review.changes_since_submission(loaded)
    if changes is None:
        return None
    files = _form.files_of(loaded) if loaded.form.has_files else None
    return [history.answer_change(c.path, c.before, c.after, loaded.form, language, files) for c in changes]


def _may(user, response: Response, access: str) -> bool:
    try:
        get_scoped(user, Response, response.id, access)
    except ServiceError:
        return False
    return True


def _back(response_id: int, anchor: str | None = None):
    return redirect(url_for("review.show", response_id=response_id, _anchor=anchor))


@bp.route("/<int:response_id>/return", methods=["POST"])
@login_required
def return_(response_id: int):
    done = commit_or_report(lambda: review.return_response(signed_in(), response_id, request.form.get("summary", ""),
                                                           _version()))
    if done is not REFUSED:
        notices.send(done, ReviewAction.RETURN)
        flash(_("The response is returned to its institution with your summary."), "success")
    return _back(response_id)


@bp.route("/<int:response_id>/approve", methods=["POST"])
@login_required
def approve(response_id: int):
    done = commit_or_report(lambda: review.approve(signed_in(), response_id, _version()))
    if done is not REFUSED:
        notices.send(done, ReviewAction.APPROVE)
        flash(_("The response is approved and locked."), "success")
    return _back(response_id)


@bp.route("/<int:response_id>/reopen", methods=["POST"])
@login_required
def reopen(response_id: int):
    if commit_or_report(lambda: review.reopen(signed_in(), response_id, request.form.get("reason", ""),
                                              _version())) is not REFUSED:
        flash(_("The response is open for review again."), "success")
    return _back(response_id)


@bp.route("/<int:response_id>/comments", methods=["POST"])
@login_required
def comment(response_id: int):
    get_scoped(signed_in(), Response, response_id)   # a response the user may not read is 404 first
    try:
        kind = ThreadKind(request.form.get("kind", ""))
    except ValueError:
        abort(400)
    target = request.form.get("target", "")
    thread = commit_or_report(lambda: review.comment(signed_in(), response_id, kind, target,
                                                     request.form.get("body", "")))
    if thread is not REFUSED:
        flash(_("Your comment is added."), "success")
    return _back(response_id, f"threads-{kind.value}-{_form.html_id(target)}")


@bp.route("/<int:response_id>/threads/<int:thread_id>/resolve", methods=["POST"])
@login_required
def resolve(response_id: int, thread_id: int):
    thread = commit_or_report(lambda: review.resolve(signed_in(), response_id, thread_id))
    if thread is not REFUSED:
        flash(_("The thread is resolved."), "success")
        return _back(response_id, f"threads-{thread.kind.value}-{_form.html_id(thread.target)}")
    return _back(response_id)


@bp.route("/<int:response_id>/scores/<code>", methods=["POST"])
@login_required
def score(response_id: int, code: str):
    get_scoped(signed_in(), Response, response_id)
    raw = request.form.get("value", "").strip().replace(",", ".")
    if raw == "":
        value = None
    else:
        try:
            value = float(raw)
        except ValueError:
            flash(_("Enter the reviewed score as a number from 0 to 100, or leave it empty."), "error")
            return _back(response_id, f"indicator-{code}")
    if commit_or_report(lambda: review.set_reviewed_score(signed_in(), response_id, code, value,
                                                          request.form.get("reason", ""))) is not REFUSED:
        flash(_("The reviewed score of %(code)s is saved.", code=code), "success")
    return _back(response_id, f"indicator-{code}")
