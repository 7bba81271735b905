"""Independent review: every step by every role, allowed and refused, with its events,
snapshots, threads and reviewed scores."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (AuditEvent, Response, ResponseStatus, ReviewAction, ReviewedScore, ReviewEvent, User,
                        ScoreSnapshot, Thread)
from app.services import review
from tests.conftest import csrf_token
from tests.web.test_form import Filler

RS = "Centar za zaštitu žrtava trgovine ljudima"


def _status(app, response_id):
    with app.app_context():
        response = db.session.get(Response, response_id)
        return response.status, response.row_version


def _count(app, model, **where):
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)


def _post(client, path, data=None):
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **(data or {})})


def _flash(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def submitted(app, client, auth, make_response):
    """A response of the small sample form, filled and submitted by the Serbian official."""
    response_id = make_response("sample")
    auth.login("official.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    filler = Filler(client, response_id, csrf_token(client, f"/responses/{response_id}/pages/1"))
    with app.app_context():
        from app.services import responses
        loaded = responses.load(db.session.get(Response, response_id))
        needed = [(p.path, p.node) for p in responses.problems(loaded)]
    for path, node in needed:
        value = "yes" if node.list_name else "1" if node.type in ("integer", "decimal") else "2026-01-01" \
            if node.type == "date" else "text"
        page = loaded.form.page_of(node)
        filler.autosave(path, value, page=page, evidence="Law 12/2020" if node.evidence else None)
    status, version = _status(app, response_id)
    answer = client.post(f"/responses/{response_id}/submit", data={"csrf_token": filler.token, "version": version,
                                                                      "confirm": "yes"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[-2000:]
    assert _status(app, response_id)[0] == ResponseStatus.SUBMITTED
    auth.logout()
    return response_id


def test_submit_leaves_an_event_and_a_snapshot(app, submitted):
    assert _count(app, ReviewEvent, response_id=submitted, action=ReviewAction.SUBMIT) == 1
    with app.app_context():
        snapshot = db.session.scalars(select(ScoreSnapshot).where(ScoreSnapshot.response_id == submitted)).one()
        assert snapshot.action == ReviewAction.SUBMIT and snapshot.answers and snapshot.scores["indicators"]


def test_a_respondent_can_neither_return_nor_approve(app, client, auth, submitted):
    auth.login("official.rs@example.org")
    for step in ("return", "approve", "reopen"):
        response = _post(client, f"/review/{submitted}/{step}", {"summary": "x", "reason": "x"})
        assert response.status_code == 403   # may read it, may not review it
    assert _status(app, submitted)[0] == ResponseStatus.SUBMITTED
    assert _count(app, ReviewEvent, response_id=submitted) == 1


def test_a_foreign_reviewer_gets_nothing(app, client, auth, submitted, make_user):
    from app.models import Role
    make_user("reviewer.al@example.org", Role.REVIEWER, country="AL")
    auth.login("reviewer.al@example.org")
    assert client.get(f"/review/{submitted}").status_code == 404
    assert _post(client, f"/review/{submitted}/approve").status_code == 404
    assert _post(client, f"/review/{submitted}/comments", {"kind": "question", "target": "x", "body": "x"}).status_code == 404
    assert _status(app, submitted)[0] == ResponseStatus.SUBMITTED


def test_return_needs_a_summary_then_the_respondent_edits_and_resubmits(app, client, auth, submitted):
    auth.login("reviewer.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    page = client.get(f"/review/{submitted}")
    assert page.status_code == 200 and "Return for revision" in page.get_data(as_text=True)
    version = _status(app, submitted)[1]
    empty = client.post(f"/review/{submitted}/return", data={"csrf_token": auth.token(), "summary": " ",
                                                             "version": version}, follow_redirects=True)
    assert "Write a summary" in empty.get_data(as_text=True)
    assert _status(app, submitted)[0] == ResponseStatus.SUBMITTED
    done = client.post(f"/review/{submitted}/return", data={"csrf_token": auth.token(), "summary": "Add sources.",
                                                            "version": version}, follow_redirects=True)
    assert "returned to its institution" in done.get_data(as_text=True)
    assert _status(app, submitted)[0] == ResponseStatus.RETURNED
    stale = client.post(f"/review/{submitted}/approve", data={"csrf_token": auth.token(), "version": version},
                        follow_redirects=True)
    assert "moved this response on" in stale.get_data(as_text=True)
    auth.logout()
    auth.login("official.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    show = client.get(f"/responses/{submitted}").get_data(as_text=True)
    assert "Add sources." in show
    home = client.get("/").get_data(as_text=True)
    assert "Returned to you for revision" in home and "Open comments" in home
    version = _status(app, submitted)[1]
    assert client.post(f"/responses/{submitted}/submit", data={"csrf_token": auth.token(), "version": version,
                                                                "confirm": "yes"}).status_code == 302
    assert _status(app, submitted)[0] == ResponseStatus.SUBMITTED
    assert _count(app, ReviewEvent, response_id=submitted) == 3


def test_comments_threads_and_resolution(app, client, auth, submitted):
    auth.login("reviewer.rs@example.org")
    with app.app_context():
        from app.services import responses
        loaded = responses.load(db.session.get(Response, submitted))
        path = next(iter(loaded.answers))
        code = next(iter(loaded.form.indicators))
    assert _post(client, f"/review/{submitted}/comments", {"kind": "question", "target": path,
                                                          "body": "Which law?"}).status_code == 302
    assert _post(client, f"/review/{submitted}/comments", {"kind": "indicator", "target": code,
                                                          "body": "Too generous."}).status_code == 302
    assert _post(client, f"/review/{submitted}/comments", {"kind": "question", "target": "nope",
                                                          "body": "x"}).status_code == 302
    assert _count(app, Thread, response_id=submitted) == 2
    auth.logout()
    auth.login("official.rs@example.org")
    assert _post(client, f"/review/{submitted}/comments", {"kind": "question", "target": path,
                                                          "body": "Law 12/2020, art. 3."}).status_code == 302
    with app.app_context():
        thread = db.session.scalars(select(Thread).where(Thread.target == path)).one()
        assert [c.body for c in thread.comments] == ["Which law?", "Law 12/2020, art. 3."]
        thread_id = thread.id
    page = client.get(f"/responses/{submitted}/pages/1").get_data(as_text=True)
    assert "Which law?" in page or "Law 12/2020, art. 3." in page or path not in page
    _post(client, f"/review/{submitted}/threads/{thread_id}/resolve")   # a respondent cannot resolve
    with app.app_context():
        assert db.session.get(Thread, thread_id).resolved_at is None
    auth.logout()
    auth.login("reviewer.rs@example.org")
    _post(client, f"/review/{submitted}/threads/{thread_id}/resolve")
    with app.app_context():
        assert db.session.get(Thread, thread_id).resolved_at is not None


def test_reviewed_scores_need_a_reason_and_stay_in_range(app, client, auth, submitted):
    auth.login("reviewer.rs@example.org")
    with app.app_context():
        from app.services import responses, scores
        loaded = responses.load(db.session.get(Response, submitted))
        own = scores.indicators(loaded.form, loaded.state)
        code = next(c for c, r in own.items() if r.value is not None)
        value = own[code].value
    _post(client, f"/review/{submitted}/scores/{code}", {"value": "150", "reason": "x"})
    _post(client, f"/review/{submitted}/scores/{code}", {"value": "-1", "reason": "x"})
    _post(client, f"/review/{submitted}/scores/{code}", {"value": "nan", "reason": "x"})
    different = 0 if value else 50
    _post(client, f"/review/{submitted}/scores/{code}", {"value": str(different), "reason": ""})
    assert _count(app, ReviewedScore, response_id=submitted) == 0
    _post(client, f"/review/{submitted}/scores/{code}", {"value": str(different), "reason": "No evidence."})
    with app.app_context():
        stored = db.session.scalars(select(ReviewedScore)).one()
        assert (stored.value, stored.reason) == (different, "No evidence.")
    page = client.get(f"/review/{submitted}").get_data(as_text=True)
    assert "No evidence." in page
    version = _status(app, submitted)[1]
    client.post(f"/review/{submitted}/approve", data={"csrf_token": auth.token(), "version": version})
    assert _status(app, submitted)[0] == ResponseStatus.APPROVED
    with app.app_context():
        snapshot = db.session.scalars(select(ScoreSnapshot).where(ScoreSnapshot.action == ReviewAction.APPROVE)).one()
        assert snapshot.scores["reviewed"][code]["value"] == different
    # Approved: locked for scores, comments and answers.
    _post(client, f"/review/{submitted}/scores/{code}", {"value": "1", "reason": "late"})
    with app.app_context():
        assert db.session.scalars(select(ReviewedScore)).one().value == different


def test_approve_locks_and_only_an_admin_reopens_with_a_reason(app, client, auth, submitted):
    auth.login("reviewer.rs@example.org")
    version = _status(app, submitted)[1]
    client.post(f"/review/{submitted}/approve", data={"csrf_token": auth.token(), "version": version})
    status, version = _status(app, submitted)
    assert status == ResponseStatus.APPROVED
    _post(client, f"/review/{submitted}/reopen", {"reason": "wrong", "version": version})
    assert _status(app, submitted)[0] == ResponseStatus.APPROVED
    auth.logout()
    auth.login("official.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    show = client.get(f"/responses/{submitted}").get_data(as_text=True)
    assert "Approved on" in show and "locked" in show
    auth.logout()
    auth.login("admin@example.org")
    _post(client, f"/review/{submitted}/reopen", {"reason": "", "version": version})
    assert _status(app, submitted)[0] == ResponseStatus.APPROVED
    _post(client, f"/review/{submitted}/reopen", {"reason": "Figures corrected by the ministry.", "version": version})
    assert _status(app, submitted)[0] == ResponseStatus.SUBMITTED
    with app.app_context():
        events = db.session.scalars(select(ReviewEvent).where(ReviewEvent.response_id == submitted)
                                    .order_by(ReviewEvent.id)).all()
        assert [e.action for e in events] == [ReviewAction.SUBMIT, ReviewAction.APPROVE, ReviewAction.REOPEN]
        assert events[-1].comment == "Figures corrected by the ministry."
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "response.reopen")) == 1


def test_the_state_machine_names_every_step():
    assert {action: (sorted(t.sources), t.target, t.access, t.admin_only)
            for action, t in review.TRANSITIONS.items()} == {
        ReviewAction.SUBMIT: ([ResponseStatus.DRAFT, ResponseStatus.RETURNED], ResponseStatus.SUBMITTED, "answer",
                              False),
        ReviewAction.RETURN: ([ResponseStatus.SUBMITTED], ResponseStatus.RETURNED, "review", False),
        ReviewAction.APPROVE: ([ResponseStatus.SUBMITTED], ResponseStatus.APPROVED, "review", False),
        ReviewAction.REOPEN: ([ResponseStatus.APPROVED], ResponseStatus.SUBMITTED, "review", True),
    }


def test_notices_go_out_in_the_recipients_language(app, client, auth, make_response, monkeypatch):
    """With mail set: a submission tells the country's reviewers, a return and an approval the
    institution's respondents, each in their own language."""
    import smtplib
    import threading
    from tests.web.test_hardening import _FakeSMTP
    app.config["MAIL_SERVER"] = "smtp.example.org"
    monkeypatch.setattr(smtplib, "SMTP", _FakeSMTP)
    _FakeSMTP.sent, _FakeSMTP.fail = [], False
    response_id = make_response("scoring")
    with app.app_context():
        from app.services import responses as service
        official = db.session.scalars(select(User).where(User.email == "official.rs@example.org")).one()
        loaded = service.load(db.session.get(Response, response_id))
        answers = {"q1": "yes", "q2": "yes", "num": "1", "den": "2", "band": "50"}
        service.save_answers(official, loaded, {p: service.Submitted(v, None, 0) for p, v in answers.items()})
        db.session.commit()
    auth.login("official.rs@example.org")
    version = _status(app, response_id)[1]
    client.post(f"/responses/{response_id}/submit", data={"csrf_token": auth.token(), "version": version,
                                                          "confirm": "yes"})
    auth.logout()
    auth.login("reviewer.rs@example.org")
    client.post(f"/review/{response_id}/return", data={"csrf_token": auth.token(), "summary": "More detail.",
                                                       "version": _status(app, response_id)[1]})
    for thread in threading.enumerate():
        if thread.name == "matrica-mail":
            thread.join(5)
    sent = {(m["To"], m["Subject"]) for m in _FakeSMTP.sent}
    # Both demo people read Serbian (Latin): the reviewer hears of the submission, the official of the return.
    assert ("reviewer.rs@example.org", "Predato na recenziju: Centar za zaštitu žrtava trgovine ljudima") in sent
    assert any(to == "official.rs@example.org" and subject.startswith("Vraćeno na doradu") for to, subject in sent)


def test_review_and_audit_events_are_never_changed(app, submitted):
    from app.models._base import AppendOnly
    with app.app_context():
        for model in (ReviewEvent, AuditEvent):
            row = db.session.scalars(select(model).limit(1)).one()
            row.comment = "changed" if model is ReviewEvent else None
            if model is AuditEvent:
                row.new = "changed"
            with pytest.raises(AppendOnly):
                db.session.flush()
            db.session.rollback()
            with pytest.raises(AppendOnly):
                db.session.delete(db.session.scalars(select(model).limit(1)).one())
                db.session.flush()
            db.session.rollback()



def test_a_refused_change_leaves_an_audit_event(app, client, auth, submitted):
    auth.login("official.rs@example.org")
    assert client.post(f"/review/{submitted}/approve", data={"csrf_token": csrf_token(client, "/")}).status_code == 403
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")).one()
        assert (event.entity_id, event.field, event.new) == (f"/review/{submitted}/approve", "POST", "not_allowed")
    assert _status(app, submitted)[0] == ResponseStatus.SUBMITTED
