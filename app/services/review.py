"""Independent review: who may move a response's status where (``TRANSITIONS``, the one place
that says so), comment threads on questions and indicators, the reviewer's score per
indicator, and the score snapshots kept at each step.

Every transition is checked on the server against the response's status and the version of
its row the user saw (a stale tab, or two reviewers at once, is a ``Conflict``), leaves an
append-only review event and an audit event, and stores a snapshot of the scores, so pages
and exports read stored figures that a later change of definition never rewrites.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import (Comment, Response, ResponseStatus, ReviewAction, ReviewedScore, ReviewEvent, Role,
                        RoleAssignment, ScoreSnapshot, Thread, ThreadKind, User)
from app.models._base import utcnow
from app.services import audit, responses, scores
from app.services.errors import Conflict, NotAllowed, ServiceError
from app.services.responses import Loaded
from app.services.scope import Access, get_scoped
from app.services.scores import IndicatorResult

MAX_COMMENT = 5000


class ReviewError(ServiceError, ValueError):
    """A refused review step (a required text missing, a score out of range…)."""


@dataclass(frozen=True)
class Transition:
    sources: frozenset[ResponseStatus]
    target: ResponseStatus
    access: Access          # what the actor needs on the response (the scoping function decides)
    admin_only: bool = False
    text_required: bool = False   # a summary (return) or a reason (reopen)


TRANSITIONS: dict[ReviewAction, Transition] = {
    ReviewAction.SUBMIT: Transition(frozenset({ResponseStatus.DRAFT, ResponseStatus.RETURNED}),
                                    ResponseStatus.SUBMITTED, "answer"),
    ReviewAction.RETURN: Transition(frozenset({ResponseStatus.SUBMITTED}), ResponseStatus.RETURNED, "review",
                                    text_required=True),
    ReviewAction.APPROVE: Transition(frozenset({ResponseStatus.SUBMITTED}), ResponseStatus.APPROVED, "review"),
    ReviewAction.REOPEN: Transition(frozenset({ResponseStatus.APPROVED}), ResponseStatus.SUBMITTED, "review",
                                    admin_only=True, text_required=True),
}


def allowed_actions(user, response: Response) -> list[ReviewAction]:
    """The steps ``user`` may take on ``response`` now (what its page offers)."""
    found = []
    for action, transition in TRANSITIONS.items():
        if response.status not in transition.sources or (transition.admin_only and not user.is_admin):
            continue
        try:
            get_scoped(user, Response, response.id, transition.access)
        except ServiceError:
            continue
        found.append(action)
    return found


def _clean(text: str | None, limit: int = MAX_COMMENT) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise ReviewError("text_too_long")
    return text


def _transition(actor: User, response_id: int, action: ReviewAction, seen_version: int | None,
                text: str = "") -> tuple[Response, Transition]:
    """The response, checked for ``action`` by ``actor``: scope, role, status, the version seen."""
    transition = TRANSITIONS[action]
    response = get_scoped(actor, Response, response_id, transition.access)
    if transition.admin_only and not actor.is_admin:
        raise NotAllowed("not_allowed")
    if response.status not in transition.sources or (seen_version is not None and seen_version != response.row_version):
        raise Conflict("status_moved")
    if transition.text_required and not text:
        raise ReviewError("summary_required" if action == ReviewAction.RETURN else "reason_required")
    return response, transition


def _move(actor: User, response: Response, action: ReviewAction, transition: Transition, text: str,
          loaded: Loaded) -> None:
    before = response.status
    response.status = transition.target
    now = utcnow()
    if transition.target == ResponseStatus.SUBMITTED and action == ReviewAction.SUBMIT:
        response.submitted_at = now
    if transition.target == ResponseStatus.APPROVED:
        response.approved_at = now
    elif action == ReviewAction.REOPEN:
        response.approved_at = None
    db.session.add(ReviewEvent(response_id=response.id, at=now, actor_id=actor.id, action=action,
                               from_status=before, to_status=transition.target, comment=text))
    audit.record(actor, f"response.{action.value}", response, "status", before, transition.target)
    _snapshot(response, action, loaded)
    try:
        db.session.flush()
    except StaleDataError:   # another request moved the response on meanwhile
        raise Conflict("status_moved") from None


def submit(actor: User, loaded: Loaded, seen_version: int | None = None) -> list:
    """Submit if every relevant question is answered and valid; else the problems, nothing changed."""
    response, transition = _transition(actor, loaded.id, ReviewAction.SUBMIT, seen_version)
    problems = responses.complete(actor, loaded)
    if problems:
        return problems
    _move(actor, response, ReviewAction.SUBMIT, transition, "", loaded)
    loaded.status = response.status
    return []


def return_response(actor: User, response_id: int, summary: str, seen_version: int | None) -> Response:
    text = _clean(summary)
    response, transition = _transition(actor, response_id, ReviewAction.RETURN, seen_version, text)
    _move(actor, response, ReviewAction.RETURN, transition, text, responses.load(response))
    return response


def approve(actor: User, response_id: int, seen_version: int | None) -> Response:
    """Approve (and so lock) a submitted response whose required answers are all there."""
    response, transition = _transition(actor, response_id, ReviewAction.APPROVE, seen_version)
    loaded = responses.load(response)
    if responses.problems(loaded):
        raise ReviewError("problems_left")
    _move(actor, response, ReviewAction.APPROVE, transition, "", loaded)
    return response


def reopen(actor: User, response_id: int, reason: str, seen_version: int | None) -> Response:
    text = _clean(reason)
    response, transition = _transition(actor, response_id, ReviewAction.REOPEN, seen_version, text)
    _move(actor, response, ReviewAction.REOPEN, transition, text, responses.load(response))
    return response


def events(response_id: int) -> list[ReviewEvent]:
    return list(db.session.scalars(select(ReviewEvent).where(ReviewEvent.response_id == response_id)
                                   .order_by(ReviewEvent.id)))


def last_event(response_id: int, action: ReviewAction) -> ReviewEvent | None:
    return db.session.scalars(select(ReviewEvent).where(ReviewEvent.response_id == response_id,
                                                        ReviewEvent.action == action)
                              .order_by(ReviewEvent.id.desc()).limit(1)).first()


# -- threads ----------------------------------------------------------------------------

def _open_for_comments(response: Response) -> None:
    """Threads are written in while a response is under review or returned: not on a draft
    nobody submitted yet, not on an approved (locked) one."""
    if response.status == ResponseStatus.APPROVED:
        raise Conflict("approved_locked")
    if response.status == ResponseStatus.DRAFT:
        raise Conflict("not_submitted")


def _thread_access(actor: User, response_id: int) -> Response:
    try:
        return get_scoped(actor, Response, response_id, "review")
    except NotAllowed:
        return get_scoped(actor, Response, response_id, "answer")


def comment(actor: User, response_id: int, kind: ThreadKind, target: str, body: str) -> Thread:
    """Add ``body`` to the open thread on ``target`` (a question's path or an indicator's code),
    opening one if there is none."""
    response = _thread_access(actor, response_id)
    _open_for_comments(response)
    text = _clean(body)
    if not text:
        raise ReviewError("comment_required")
    _check_target(response, kind, target)
    thread = db.session.scalars(select(Thread).where(Thread.response_id == response.id, Thread.kind == kind,
                                                     Thread.target == target, Thread.resolved_at.is_(None))).first()
    if thread is None:
        thread = Thread(response_id=response.id, kind=kind, target=target, created_at=utcnow())
        db.session.add(thread)
        db.session.flush()
    thread.comments.append(Comment(author_id=actor.id, body=text, created_at=utcnow()))
    audit.record(actor, "thread.comment", response, f"{kind.value}:{target}", None, text)
    db.session.flush()
    return thread


def resolve(actor: User, response_id: int, thread_id: int) -> Thread:
    """Close a thread (reviewers only)."""
    response = get_scoped(actor, Response, response_id, "review")
    _open_for_comments(response)
    thread = db.session.get(Thread, thread_id)
    if thread is None or thread.response_id != response.id:
        raise ReviewError("unknown_thread")
    if thread.resolved_at is None:
        thread.resolved_at, thread.resolved_by_id = utcnow(), actor.id
        audit.record(actor, "thread.resolve", response, f"{thread.kind.value}:{thread.target}", "open", "resolved")
    db.session.flush()
    return thread


def _check_target(response: Response, kind: ThreadKind, target: str) -> None:
    loaded = responses.load(response)
    if kind == ThreadKind.INDICATOR:
        if target not in loaded.form.indicators:
            raise ReviewError("unknown_target")
    else:
        parsed = responses.node_at(loaded, target)
        if parsed is None or parsed[0].kind != "question" or not parsed[0].is_input:
            raise ReviewError("unknown_target")


def threads(response_id: int) -> dict[tuple[ThreadKind, str], list[Thread]]:
    """The response's threads by what they are about, oldest first."""
    found: dict[tuple[ThreadKind, str], list[Thread]] = {}
    for thread in db.session.scalars(select(Thread).where(Thread.response_id == response_id).order_by(Thread.id)):
        found.setdefault((thread.kind, thread.target), []).append(thread)
    return found


def open_threads(response_ids: list[int]) -> dict[int, int]:
    """How many unresolved threads each response has."""
    if not response_ids:
        return {}
    return dict(db.session.execute(select(Thread.response_id, func.count()).where(
        Thread.response_id.in_(response_ids), Thread.resolved_at.is_(None)).group_by(Thread.response_id)).all())


# -- reviewed scores ---------------------------------------------------------------------

def reviewed_scores(response_id: int) -> dict[str, ReviewedScore]:
    return {r.indicator: r for r in db.session.scalars(select(ReviewedScore).where(
        ReviewedScore.response_id == response_id))}


def set_reviewed_score(actor: User, response_id: int, code: str, value: float | None, reason: str) -> None:
    """The reviewer's value for one indicator (``None`` takes it back); a reason is required
    when it differs from the self-assessed value. Only while the response waits for review."""
    response = get_scoped(actor, Response, response_id, "review")
    if response.status != ResponseStatus.SUBMITTED:
        raise Conflict("not_under_review")
    loaded = responses.load(response)
    indicator = loaded.form.indicators.get(code)
    if indicator is None:
        raise ReviewError("unknown_target")
    existing = reviewed_scores(response.id).get(code)
    text = _clean(reason)
    if value is None:
        if existing is not None:
            audit.record(actor, "score.review", response, code, existing.value, None)
            db.session.delete(existing)
            db.session.flush()
        return
    upper = indicator.upper if indicator.upper is not None else 100.0
    if not 0 <= value <= max(upper, 100.0):
        raise ReviewError("score_out_of_range")
    own = scores.indicators(loaded.form, loaded.state, [code])[code]
    if own.reason == "not_responsible":   # another kind of institution's: never part of this one's figures
        raise ReviewError("indicator_not_theirs")
    if (own.value is None or abs(own.value - value) > 1e-9) and not text:
        raise ReviewError("reason_required")
    if existing is None:
        existing = ReviewedScore(response_id=response.id, indicator=code, value=value)
        db.session.add(existing)
        old = None
    else:
        old = existing.value
    existing.value, existing.reason, existing.reviewer_id, existing.updated_at = value, text, actor.id, utcnow()
    audit.record(actor, "score.review", response, code, old, value)
    db.session.flush()


def with_reviewed(form, results: dict[str, IndicatorResult], reviewed: dict[str, ReviewedScore]) -> dict[str, IndicatorResult]:
    """The indicators as reviewed: the reviewer's value where they set one, rated by the
    indicator's thresholds; the self-assessed result elsewhere."""
    merged = dict(results)
    for code, score in reviewed.items():
        if code in form.indicators:
            merged[code] = scores.rated(form.indicators[code], score.value, results.get(code))
    return merged


# -- snapshots ---------------------------------------------------------------------------

def _result_data(result: IndicatorResult) -> dict:
    return {"value": result.value, "rating": result.rating, "points": result.points, "maximum": result.maximum,
            "numerator": result.numerator, "denominator": result.denominator, "problem": result.problem,
            "reason": result.reason, "flag": result.flag}


def _area_data(area) -> dict:
    def score(s):
        return {"points": s.points, "maximum": s.maximum, "rated": s.rated, "indicators": s.indicators}
    return {"total": score(area.total), "sections": {name: score(s) for name, s in area.sections.items()}}


def _snapshot(response: Response, action: ReviewAction, loaded: Loaded) -> ScoreSnapshot:
    form = loaded.form
    own = scores.indicators(form, loaded.state)
    reviewed = reviewed_scores(response.id)
    as_reviewed = with_reviewed(form, own, reviewed)
    data = {
        "indicators": {code: _result_data(result) for code, result in own.items()},
        "reviewed": {code: {"value": r.value, "reason": r.reason, "rating": as_reviewed[code].rating}
                     for code, r in reviewed.items() if code in as_reviewed},
        "areas": {code: _area_data(area) for code, area in scores.areas(form, own).items()},
        "reviewed_areas": {code: _area_data(area) for code, area in scores.areas(form, as_reviewed).items()},
    }
    snapshot = ScoreSnapshot(response_id=response.id, action=action, created_at=utcnow(),
                             questionnaire_version_id=response.cycle.questionnaire_version_id,
                             answers={path: a.value for path, a in loaded.answers.items()}, scores=data)
    db.session.add(snapshot)
    return snapshot


def latest_snapshot(response_id: int, action: ReviewAction | None = None) -> ScoreSnapshot | None:
    query = select(ScoreSnapshot).where(ScoreSnapshot.response_id == response_id)
    if action is not None:
        query = query.where(ScoreSnapshot.action == action)
    return db.session.scalars(query.order_by(ScoreSnapshot.id.desc()).limit(1)).first()


@dataclass(frozen=True)
class Change:
    path: str
    before: str
    after: str


def changes_since_submission(loaded: Loaded) -> list[Change] | None:
    """What the respondent changed since the submission before the last one (what a reviewer
    reads after a resubmission); None when there was no earlier submission."""
    submissions = list(db.session.scalars(select(ScoreSnapshot).where(
        ScoreSnapshot.response_id == loaded.id, ScoreSnapshot.action == ReviewAction.SUBMIT)
        .order_by(ScoreSnapshot.id.desc()).limit(2)))
    if len(submissions) < 2:
        return None
    before = submissions[1].answers
    now = {path: a.value for path, a in loaded.answers.items()}
    return [Change(path, before.get(path, ""), now.get(path, ""))
            for path in sorted(set(before) | set(now)) if before.get(path, "") != now.get(path, "")]


def approved_by(response_id: int) -> tuple[datetime, User | None] | None:
    event = last_event(response_id, ReviewAction.APPROVE)
    return (event.at, event.actor) if event is not None else None


def recipients(response: Response, action: ReviewAction) -> list[User]:
    """Who hears of a step: a submission goes to the reviewers of the response's country, a
    return or an approval to the respondents of its institution (active accounts only)."""
    if action == ReviewAction.SUBMIT:
        condition = (RoleAssignment.role == Role.REVIEWER) & (RoleAssignment.country_id == response.institution.country_id)
    else:
        condition = (RoleAssignment.role == Role.RESPONDENT) & (RoleAssignment.institution_id == response.institution_id)
    return list(db.session.scalars(select(User).join(RoleAssignment).where(condition, User.active.is_(True))
                                   .order_by(User.email).distinct()))
