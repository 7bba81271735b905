"""No silent loss, in a real Chromium: an autosave that does not land says so on its question,
keeps what was typed and is sent again — when the connection returns, or after the official
signs in again in another tab — and leaving with unsaved answers asks first."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Answer, AuditEvent
from tests.browser.test_form import _autosaved, _response_id, _sign_in, _wait_saved

pytestmark = pytest.mark.browser
RS = "Centar za zaštitu žrtava trgovine ljudima"
# What Chromium and htmx log when a request fails, as these tests make them fail.
FAILED_REQUESTS = [r"ERR_INTERNET_DISCONNECTED", r"^htmx:(afterRequest|sendError|responseError)",
                   r"status of (401|422|502)", r"Response Status Error Code (401|422|502)"]


def _stored(app, response_id, path):
    with app.app_context():
        return db.session.scalar(select(Answer.value).where(Answer.response_id == response_id, Answer.path == path))


def _saves(app, response_id, path):
    with app.app_context():
        return len(db.session.scalars(select(AuditEvent.id).where(
            AuditEvent.entity_type == "response", AuditEvent.entity_id == str(response_id),
            AuditEvent.field == path, AuditEvent.action == "answer.save")).all())


def _eventually(condition, seconds=10.0):
    """Wait until ``condition()`` holds (a radio group saves once its choice has settled)."""
    import time
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "never happened"
        time.sleep(0.1)


def test_offline_save_shows_the_failure_and_saves_when_the_connection_returns(app, live_server, page):
    """On a phone (360 px): the connection drops while a value is typed, and comes back."""
    page.allowed_errors = FAILED_REQUESTS
    response_id = _response_id(app, RS)
    _sign_in(page, live_server, "official.rs@example.org", "en")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server}/responses/{response_id}/pages/1")
    page.context.set_offline(True)
    _autosaved(page, "#q-contact_name-input", "Ana Petrović")
    message = page.locator("#q-contact_name-feedback .not-saved-message")
    message.wait_for()
    assert "Not saved: there is no connection" in message.inner_text()
    assert message.get_attribute("role") == "alert"
    assert page.locator("#q-contact_name-input").input_value() == "Ana Petrović"
    assert _stored(app, response_id, "contact_name") is None
    # Leaving now would lose it: the browser asks first.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.context.set_offline(False)
    _wait_saved(page, "q-contact_name")
    assert _stored(app, response_id, "contact_name") == "Ana Petrović"
    assert _saves(app, response_id, "contact_name") == 1
    assert dialogs == []
    # Unsaved again: closing the page asks first (dismissed: the page stays, value and all).
    page.context.set_offline(True)
    _autosaved(page, "#q-contact_name-input", "Ana Petrović-Jovanović")
    page.locator("#q-contact_name-feedback .not-saved-message").wait_for()
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"] and not page.is_closed()
    assert page.locator("#q-contact_name-input").input_value() == "Ana Petrović-Jovanović"


def test_a_retry_button_sends_it_again(app, live_server, page):
    page.allowed_errors = FAILED_REQUESTS
    response_id = _response_id(app, RS)
    _sign_in(page, live_server, "official.rs@example.org", "en")
    page.goto(f"{live_server}/responses/{response_id}/pages/1")
    page.route("**/answer", lambda route: route.fulfill(status=502, body="Bad gateway"))
    _autosaved(page, "#q-contact_email-input", "ana@institution.gov")
    page.locator("#q-contact_email-feedback .not-saved-message").wait_for()
    assert "the server did not answer" in page.locator("#q-contact_email-feedback").inner_text()
    page.unroute("**/answer")
    page.locator("#q-contact_email-feedback button.retry").click()
    _wait_saved(page, "q-contact_email")
    assert _stored(app, response_id, "contact_email") == "ana@institution.gov"


def test_signed_out_in_another_tab_the_value_is_kept_and_saved_after_signing_in(app, live_server, page):
    page.allowed_errors = FAILED_REQUESTS
    response_id = _response_id(app, RS)
    _sign_in(page, live_server, "official.rs@example.org", "en")
    page.goto(f"{live_server}/responses/{response_id}/pages/1")
    other = page.context.new_page()
    other.goto(f"{live_server}/account")
    other.get_by_role("button", name="Sign out").click()
    _autosaved(page, "#q-contact_name-input", "Ana Petrović")
    message = page.locator("#q-contact_name-feedback .not-saved-message")
    message.wait_for()
    assert "you are signed out" in message.inner_text()
    assert page.url.endswith(f"/responses/{response_id}/pages/1")   # still on the section, value in place
    assert page.locator("#q-contact_name-input").input_value() == "Ana Petrović"
    link = message.get_by_role("link")
    assert link.get_attribute("target") == "_blank"
    assert f"next=/responses/{response_id}/pages/1" in link.get_attribute("href").replace("%2F", "/")
    other.goto(f"{live_server}{link.get_attribute('href')}")
    other.locator("#email").fill("official.rs@example.org")
    other.locator("#password").fill("matrica-demo")
    other.locator("form button.primary").click()
    other.wait_for_url(f"{live_server}/responses/{response_id}/pages/1")   # back on the section
    other.close()
    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    _wait_saved(page, "q-contact_name")
    assert _stored(app, response_id, "contact_name") == "Ana Petrović"


def test_a_calmer_form(app, live_server, page):
    """Arrowing through a radio group saves only where it settles; evidence is asked for once
    the answer is positive; a choice can be cleared; Next is the main button."""
    response_id = _response_id(app, RS)
    _sign_in(page, live_server, "official.rs@example.org", "en")
    page.goto(f"{live_server}/responses/{response_id}/pages/3")
    assert page.locator(".form-actions button.primary").inner_text() == "Save and go to the next section"
    box = page.locator("#q-id_nrm-evidence-box")
    assert box.is_hidden()   # not asked for before a positive answer
    first = page.locator("#q-id_nrm input[type=radio]").first
    first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    settled = page.locator("#q-id_nrm input[type=radio]:checked").get_attribute("value")
    _wait_saved(page, "q-id_nrm")
    page.wait_for_timeout(800)
    assert _saves(app, response_id, "id_nrm") == 1 and _stored(app, response_id, "id_nrm") == settled
    page.locator("#q-id_nrm input[value='yes']").check()
    box.wait_for(state="visible")   # a positive answer asks for its evidence
    _eventually(lambda: _stored(app, response_id, "id_nrm") == "yes")
    assert page.locator("#q-id_nrm-feedback .saved").inner_text().startswith("Saved ✓")
    page.locator("#q-id_nrm button.clear-choice").click()
    page.wait_for_function("() => !document.querySelector('#q-id_nrm input[type=radio]:checked')")
    _eventually(lambda: _stored(app, response_id, "id_nrm") == "")
    box.wait_for(state="hidden")
    size = page.locator("#q-id_nrm input[type=radio]").first.bounding_box()
    assert size["width"] >= 24 and size["height"] >= 24


def test_a_refused_value_survives_a_reload_with_its_reason(app, live_server, page):
    page.allowed_errors = FAILED_REQUESTS
    response_id = _response_id(app, RS)
    _sign_in(page, live_server, "official.rs@example.org", "en")
    page.goto(f"{live_server}/responses/{response_id}/pages/3")
    page.locator("#q-id_data input[value='available']").check()
    _wait_saved(page, "q-id_data")
    page.locator("#q-id_presumed").wait_for(state="visible")
    _autosaved(page, "#q-id_presumed-input", "ten")
    page.locator("#q-id_presumed-error").wait_for()
    page.reload()
    assert page.locator("#q-id_presumed-input").input_value() == "ten"
    assert page.locator("#q-id_presumed-error").inner_text() == "Enter a whole number, such as 12."
    assert page.locator("#q-id_presumed-input").get_attribute("aria-invalid") == "true"
    assert _stored(app, response_id, "id_presumed") is None
    _autosaved(page, "#q-id_presumed-input", "10")
    _wait_saved(page, "q-id_presumed")
    page.reload()
    assert page.locator("#q-id_presumed-input").input_value() == "10" and page.locator("#q-id_presumed-error").count() == 0
