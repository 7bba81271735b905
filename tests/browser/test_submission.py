"""A real submission, in a real Chromium: the review page lists the scorecard and every answer,
submitting asks for a confirmation, a receipt follows, and the printed copy leaves the site's
header out; these pages have no serious accessibility finding at 1280 and 360 px."""
import pytest

from tests.browser.conftest import findings_at_both_widths
from tests.browser.test_form import _answer_the_rest, _autosaved, _response_id, _sign_in, _wait_saved

pytestmark = pytest.mark.browser
RS = "Centar za zaštitu žrtava trgovine ljudima"


def test_review_confirm_receipt_and_print(app, live_server, page, axe_page):
    page.allowed_errors = [r"status of 400"]   # the unconfirmed submit is answered 400, as a refused form is
    response_id = _response_id(app, RS)
    _sign_in(page, live_server, "official.rs@example.org", "en")
    page.goto(f"{live_server}/responses/{response_id}/pages/1")
    _autosaved(page, "#q-contact_email-input", "ana@institution.gov")
    _wait_saved(page, "q-contact_email")
    page.goto(f"{live_server}/responses/{response_id}/submit")
    missing = page.locator(".error-summary h3")
    assert missing.count() >= 2   # what is missing, grouped by section
    _answer_the_rest(app, response_id, "official.rs@example.org")
    page.goto(f"{live_server}/responses/{response_id}/submit")
    assert page.get_by_role("heading", name="Indicator scorecard").is_visible()
    assert page.locator(".answer-list dt").count() > 20   # every answer, section by section
    page.get_by_role("button", name="Submit the response").click()
    assert page.locator("#confirm-error").inner_text() == "Tick the box to confirm, then submit."
    page.locator("#confirm").check()
    page.get_by_role("button", name="Submit the response").click()
    page.wait_for_url(f"{live_server}/responses/{response_id}/receipt")
    assert f"M-{response_id}-" in page.locator(".facts").inner_text()
    page.get_by_role("link", name="Printable copy of the response").click()
    page.wait_for_url(f"{live_server}/responses/{response_id}/print")
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden() and page.locator(".answer-list").first.is_visible()

    _sign_in(axe_page, live_server, "official.rs@example.org", "en")
    paths = [f"/responses/{response_id}/receipt", f"/responses/{response_id}/print"]
    assert findings_at_both_widths(axe_page, live_server, paths) == ([], {})
