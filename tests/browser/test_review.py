"""The review in a real Chromium: an official submits; the reviewer comments on a question and
returns; the official sees the comment beside the question, answers it and resubmits; the
reviewer sees what changed, sets a reviewed score with a reason and approves; the auditor
opens the institution's and the country's sheets. Then axe on every new page."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Country, Response, ResponseStatus, User
from app.services import responses, review
from app.services.responses import Submitted
from tests.browser.conftest import choose_language, serious_violations
from tests.conftest import RS_INSTITUTION

pytestmark = pytest.mark.browser


def _sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill("matrica-demo")
    page.locator("form button.primary").click()
    page.wait_for_url(f"{base}/")
    choose_language(page, "en")


def _sign_out(page):
    page.locator("form[action='/logout'] button").click()
    page.wait_for_load_state()


def _fill(app, response_id):
    with app.app_context():
        official = db.session.scalars(select(User).where(User.email == "official.rs@example.org")).one()
        loaded = responses.load(db.session.get(Response, response_id))
        answers = {"q1": "yes", "q2": "partially", "num": "3", "den": "4", "band": "80"}
        saved = responses.save_answers(official, loaded, {p: Submitted(v, None, 0) for p, v in answers.items()})
        assert not saved.rejected
        db.session.commit()


def test_submit_comment_return_resubmit_score_approve_and_read_the_sheets(app, live_server, page, make_response):
    response_id = make_response("scoring")
    _fill(app, response_id)
    base = live_server
    # The official submits.
    _sign_in(page, base, "official.rs@example.org")
    page.goto(f"{base}/responses/{response_id}/submit")
    page.get_by_label("I confirm that these answers are complete").check()
    page.get_by_role("button", name="Submit the response").click()
    page.wait_for_url(f"{base}/responses/{response_id}/receipt")
    assert page.get_by_role("heading", name="Receipt of submission").is_visible()
    _sign_out(page)
    # The reviewer comments on a question and returns the response.
    _sign_in(page, base, "reviewer.rs@example.org")
    page.goto(f"{base}/")
    page.locator("#waiting-heading").wait_for()
    page.goto(f"{base}/review/{response_id}")
    page.get_by_label("Comment on Is there a law?").fill("Which law, and since when?")
    page.locator("#threads-question-q-q1 button").click()
    page.wait_for_url(f"**/review/{response_id}#threads-question-q-q1")
    assert "Which law, and since when?" in page.content()
    page.get_by_label("Summary for the institution (required to return)").fill("Name the law, please.")
    page.get_by_role("button", name="Return for revision").click()
    page.wait_for_load_state()
    assert "returned to its institution" in page.content()
    _sign_out(page)
    # The official sees the comment beside the question, answers it, changes an answer, resubmits.
    _sign_in(page, base, "official.rs@example.org")
    page.goto(f"{base}/responses/{response_id}")
    assert "Name the law, please." in page.content()
    page.goto(f"{base}/responses/{response_id}/pages/1")
    comments = page.locator("#q-q1 .question-comments")
    assert "Which law, and since when?" in comments.inner_text()
    comments.get_by_role("link", name="Answer the comment").click()
    page.get_by_label("Comment on Is there a law?").fill("Law 12/2020 on human trafficking, since March 2020.")
    page.locator("#threads-question-q-q1 button").click()
    page.wait_for_load_state()
    page.goto(f"{base}/responses/{response_id}/pages/1")
    page.locator("#q-q2 input[value='yes']").check()
    page.locator("#q-q2-feedback .saved").wait_for()
    page.goto(f"{base}/responses/{response_id}/submit")
    page.get_by_label("I confirm that these answers are complete").check()
    page.get_by_role("button", name="Submit the response").click()
    page.wait_for_url(f"{base}/responses/{response_id}/receipt")
    _sign_out(page)
    # The reviewer sees what changed, scores P1 lower with a reason, and approves.
    _sign_in(page, base, "reviewer.rs@example.org")
    page.goto(f"{base}/review/{response_id}")
    changes = page.locator("section[aria-labelledby='changes-heading']")
    assert "Partially" in changes.inner_text() and "Yes" in changes.inner_text() and "Is it applied?" in changes.inner_text()
    page.locator("#score-P1").fill("50")
    page.locator("#reason-P1").fill("The law is not applied in every region.")
    page.locator("#indicator-P1 .score-form button").click()
    page.wait_for_load_state()
    assert "The reviewed score of P1 is saved." in page.content()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert "approved and locked" in page.content()
    _sign_out(page)
    # The auditor reads the institution's and the country's sheets.
    with app.app_context():
        cycle_id = db.session.get(Response, response_id).cycle_id
        serbia = db.session.scalars(select(Country.id).where(Country.code == "RS")).one()
    _sign_in(page, base, "auditor@example.org")
    page.goto(f"{base}/reports/responses/{response_id}")
    sheet = page.content()
    assert "The law is not applied in every region." in sheet and "Law 12/2020" in sheet
    assert page.locator("svg[role='img'] title").count() >= 1
    page.goto(f"{base}/reports/cycles/{cycle_id}/countries/{serbia}")
    assert RS_INSTITUTION in page.content() and "sum of numerators ÷ sum of denominators" in page.content()
    with app.app_context():
        assert db.session.get(Response, response_id).status == ResponseStatus.APPROVED


def test_review_and_sheet_pages_have_no_serious_accessibility_violations(app, live_server, axe_page, make_response):
    response_id = make_response("scoring")
    _fill(app, response_id)
    with app.app_context():
        official = db.session.scalars(select(User).where(User.email == "official.rs@example.org")).one()
        reviewer = db.session.scalars(select(User).where(User.email == "reviewer.rs@example.org")).one()
        review.submit(official, responses.load(db.session.get(Response, response_id)))
        review.set_reviewed_score(reviewer, response_id, "P1", 50.0, "Partly applied.")
        db.session.commit()
        cycle_id = db.session.get(Response, response_id).cycle_id
        serbia = db.session.scalars(select(Country.id).where(Country.code == "RS")).one()
    _sign_in(axe_page, live_server, "reviewer.rs@example.org")
    paths = ["/", f"/review/{response_id}", f"/reports/responses/{response_id}",
             f"/reports/cycles/{cycle_id}/countries/{serbia}", f"/reports/cycles/{cycle_id}",
             f"/reports/countries/{serbia}/trend", "/reports/", "/responses/", f"/responses/{response_id}/history"]
    assert serious_violations(axe_page, live_server, paths) == []
    for width in (360,):
        axe_page.set_viewport_size({"width": width, "height": 800})
        assert serious_violations(axe_page, live_server, paths[1:4]) == []
