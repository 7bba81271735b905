"""Evidence documents in a real Chromium: a file chosen is saved at once with JavaScript (and
shown by its name, with a link that opens it), a refused one says why on the field; without
JavaScript the section's Save button carries the file; the page has no serious accessibility
finding at 1280 and 360 pixels wide."""
import hashlib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Answer
from tests.browser.conftest import findings_at_both_widths
from tests.browser.test_review import _sign_in

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _stored(app, response_id, path):
    with app.app_context():
        return db.session.scalar(select(Answer.value).where(Answer.response_id == response_id, Answer.path == path))


def _file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_a_chosen_file_is_saved_at_once_and_a_refused_one_says_why(app, live_server, page, make_response, tmp_path):
    response_id = make_response("evidence")
    _sign_in(page, live_server, "official.rs@example.org")
    page.goto(f"{live_server}/responses/{response_id}/pages/1")
    page.locator("#q-protocol-input").set_input_files(_file(tmp_path, "Zapisnik.pdf", PDF))
    page.locator("#q-protocol-file a").wait_for()
    assert page.locator("#q-protocol-file a").inner_text() == "Zapisnik.pdf"
    assert _stored(app, response_id, "protocol") == hashlib.sha256(PDF).hexdigest() + ".pdf"
    assert page.locator("#q-notes").is_visible()   # relevance follows the upload

    page.locator("#q-photo-input").set_input_files(_file(tmp_path, "board.png", b"not a picture"))
    page.locator("#q-photo-error").wait_for()
    assert "not what its name says" in page.locator("#q-photo-error").inner_text()
    # marked invalid when htmx settles the swap (htmx:load), a moment after the error shows
    page.wait_for_function("() => document.querySelector('#q-photo-input').getAttribute('aria-invalid') === 'true'")
    assert _stored(app, response_id, "photo") is None

    page.locator("#q-protocol-remove").check()
    page.locator("#q-protocol-input").wait_for()
    page.wait_for_function("() => !document.querySelector('#q-protocol-file')")
    assert _stored(app, response_id, "protocol") == ""


def test_without_javascript_the_save_button_carries_the_file(app, live_server, no_js_page, make_response, tmp_path):
    response_id = make_response("evidence")
    page = no_js_page
    _sign_in(page, live_server, "official.rs@example.org")
    page.goto(f"{live_server}/responses/{response_id}/pages/1")
    page.locator("#q-protocol-input").set_input_files(_file(tmp_path, "Zapisnik.pdf", PDF))
    page.get_by_role("button", name="Save this section").click()
    assert page.locator("#q-protocol-file a").inner_text() == "Zapisnik.pdf"
    assert _stored(app, response_id, "protocol").endswith(".pdf")


def test_the_upload_page_has_no_serious_accessibility_violations(app, live_server, axe_page, make_response):
    response_id = make_response("evidence")
    _sign_in(axe_page, live_server, "official.rs@example.org")
    paths = [f"/responses/{response_id}/pages/1", f"/responses/{response_id}/pages/2"]
    assert findings_at_both_widths(axe_page, live_server, paths) == ([], {})
