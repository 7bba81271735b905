"""Officials fill the BAN questionnaire in a real Chromium, in two languages, with and without JavaScript."""
import json
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Answer, Response, ResponseStatus, User
from app.services import responses as service
from tests.browser.conftest import choose_language, serious_violations

pytestmark = pytest.mark.browser
AL_INSTITUTION = "Zyra e Koordinatorit Kombëtar kundër Trafikimit"


def _sign_in(page, base, email, language=None):
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill("matrica-demo")
    page.locator("form button.primary").click()
    page.wait_for_url(f"{base}/")
    if language:
        choose_language(page, language)


def _autosaved(page, selector, value):
    page.locator(selector).fill(value)
    page.locator(selector).press("Tab")


def _wait_saved(page, question_id):
    page.locator(f"#{question_id}-feedback .saved").wait_for()


def _answer_the_rest(app, response_id, email):
    """Answer every still-missing relevant question through the service, as another session would."""
    with app.app_context():
        actor = db.session.scalars(select(User).where(User.email == email)).one()
        for _round in range(10):
            loaded = service.load(db.session.get(Response, response_id))
            missing = [p for p in loaded.state.problems() if p.code == "required"]
            if not missing:
                break
            batch = {}
            for problem in missing:
                node = problem.node
                value = {"integer": "0", "decimal": "0", "date": date.today().isoformat(), "text": "—"}.get(node.type)
                if node.list_name:
                    names = [c.name for c in loaded.form.choices[node.list_name]]
                    value = "no" if "no" in names else names[0]
                batch[problem.path] = service.Submitted(value, None, loaded.answers[problem.path].version
                                                        if problem.path in loaded.answers else 0)
            saved = service.save_answers(actor, loaded, batch)
            assert not saved.rejected, saved.outcomes
            db.session.commit()


def _response_id(app, institution):
    with app.app_context():
        return db.session.scalars(select(Response.id).join(Response.institution)
                                  .where(Response.institution.has(name=institution))).one()


@pytest.mark.parametrize("email,language,institution,texts", [
    ("official.rs@example.org", "sr_Latn", "Centar za zaštitu žrtava trgovine ljudima",
     {"saved": "Sačuvano", "too_many": "Ne može biti veće od broja identifikovanih žrtava.",
      "submit": "Predaj odgovor", "submitted": "Predato"}),
    ("official.al@example.org", "sq", AL_INSTITUTION,
     {"saved": "U ruajt", "too_many": "Nuk mund të kalojë viktimat e identifikuara.",
      "submit": "Dorëzo përgjigjen", "submitted": "Dorëzuar"}),
])
def test_official_fills_and_submits_the_ban_questionnaire(app, live_server, page, email, language, institution, texts):
    page.allowed_errors = [r"status of 400"]   # the unconfirmed submit is answered 400, as a refused form is
    response_id = _response_id(app, institution)
    base = live_server
    _sign_in(page, base, email, language)
    page.goto(f"{base}/responses/{response_id}/pages/1")
    assert page.locator("html").get_attribute("lang") == language.replace("_", "-")
    _autosaved(page, "#q-contact_name-input", "Ana Petrović")
    _wait_saved(page, "q-contact_name")
    _autosaved(page, "#q-contact_email-input", "ana@institution.gov")
    _wait_saved(page, "q-contact_email")
    assert texts["saved"] in page.locator("#save-status").inner_text()

    page.goto(f"{base}/responses/{response_id}/pages/3")
    page.locator("#q-id_nrm input[value='yes']").check()
    _wait_saved(page, "q-id_nrm")
    _autosaved(page, "#q-id_nrm-evidence", "Zakon o NRM, čl. 4")
    page.locator("#q-id_nrm-feedback .saved").wait_for()
    # Skip logic: the figures appear once the register is said to hold them, the foreign
    # nationals once someone is identified.
    assert page.locator("#q-id_presumed").is_hidden()
    page.locator("#q-id_data input[value='available']").check()
    _wait_saved(page, "q-id_data")
    page.locator("#q-id_presumed").wait_for(state="visible")
    assert page.locator("#q-id_foreign").is_hidden()
    _autosaved(page, "#q-id_presumed-input", "10")
    _wait_saved(page, "q-id_presumed")
    _autosaved(page, "#q-id_women-input", "4")
    _wait_saved(page, "q-id_women")
    _autosaved(page, "#q-id_boys-input", "2")
    _wait_saved(page, "q-id_boys")
    page.locator("#q-id_foreign").wait_for(state="visible")
    assert "6" in page.locator("#q-id_total_note").inner_text()
    # A constraint error in the official's language; nothing stored.
    _autosaved(page, "#q-id_foreign-input", "9")
    error = page.locator("#q-id_foreign-error")
    error.wait_for()
    assert error.inner_text() == texts["too_many"]
    # matrica.js marks the input invalid once htmx has settled the swapped feedback.
    page.wait_for_function("() => document.querySelector('#q-id_foreign-input').getAttribute('aria-invalid') === 'true'")
    _autosaved(page, "#q-id_foreign-input", "2")
    _wait_saved(page, "q-id_foreign")
    page.wait_for_function("() => !document.querySelector('#q-id_foreign-input').hasAttribute('aria-invalid')")
    # Reload: every answer is still there.
    page.reload()
    assert page.locator("#q-id_presumed-input").input_value() == "10"
    assert page.locator("#q-id_women-input").input_value() == "4"
    assert page.locator("#q-id_boys-input").input_value() == "2"
    assert page.locator("#q-id_foreign-input").input_value() == "2"
    assert page.locator("#q-id_nrm input[value='yes']").is_checked()
    assert page.locator("#q-id_nrm-evidence").input_value() == "Zakon o NRM, čl. 4"
    page.goto(f"{base}/responses/{response_id}/pages/1")
    assert page.locator("#q-contact_name-input").input_value() == "Ana Petrović"

    _answer_the_rest(app, response_id, email)
    page.goto(f"{base}/responses/{response_id}/submit")
    page.get_by_role("button", name=texts["submit"]).click()   # not confirmed yet: asked to
    page.locator("#confirm-error").wait_for()
    page.locator("#confirm").check()
    page.get_by_role("button", name=texts["submit"]).click()
    page.wait_for_url(f"{base}/responses/{response_id}/receipt")
    assert texts["submitted"] in page.locator(".facts").inner_text()
    with app.app_context():
        assert db.session.get(Response, response_id).status == ResponseStatus.SUBMITTED


def test_without_javascript_a_section_saves_as_a_plain_form(app, live_server, no_js_page):
    page = no_js_page
    response_id = _response_id(app, AL_INSTITUTION)
    page.goto(f"{live_server}/login")
    page.locator("#email").fill("official.al@example.org")
    page.locator("#password").fill("matrica-demo")
    page.locator("form button.primary").click()
    page.goto(f"{live_server}/responses/{response_id}/pages/3")
    page.locator("#q-id_data input[value='available']").check()
    page.locator("#q-id_nrm input[value='partially']").check()
    page.locator("#q-id_nrm-evidence").fill("Udhëzimi për Mekanizmin Kombëtar të Referimit")
    page.get_by_role("button", name="Ruaj këtë seksion", exact=True).click()
    page.wait_for_load_state()
    assert "Përgjigjet tuaja në këtë faqe u ruajtën." in page.locator("#flash").inner_text()
    # The figures that depend on the answer appear after the save (no JavaScript to swap them in).
    assert page.locator("#q-id_presumed").is_visible()
    page.locator("#q-id_presumed-input").fill("5")
    page.locator("#q-id_women-input").fill("2")
    page.get_by_role("button", name="Ruaj këtë seksion", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#q-id_foreign").is_visible()
    page.locator("#q-id_foreign-input").fill("9")
    page.get_by_role("button", name="Ruaj këtë seksion", exact=True).click()
    assert "Nuk mund të kalojë viktimat e identifikuara." in page.locator("#q-id_foreign-error").inner_text()
    with app.app_context():
        stored = {a.path: a.value for a in db.session.scalars(select(Answer).where(Answer.response_id == response_id))}
    assert stored["id_presumed"] == "5" and stored["id_nrm"] == "partially" and "id_foreign" not in stored


def test_form_pages_have_no_serious_accessibility_violations(app, live_server, axe_page):
    page = axe_page
    response_id = _response_id(app, "Centar za zaštitu žrtava trgovine ljudima")
    _sign_in(page, live_server, "official.rs@example.org")
    paths = [f"/responses/{response_id}", f"/responses/{response_id}/submit", f"/responses/{response_id}/history"]
    paths += [f"/responses/{response_id}/pages/{n}" for n in range(1, 9)]

    def show_an_error(page, path):
        if path.endswith("/pages/3"):  # audit the page with an error shown, too
            page.locator("#q-id_data input[value='available']").check()
            page.locator("#q-id_presumed").wait_for(state="visible")
            page.locator("#q-id_presumed-input").fill("1")
            page.locator("#q-id_presumed-input").press("Tab")
            page.locator("#q-id_presumed-feedback .saved").wait_for()
            page.locator("#q-id_women-input").fill("5")
            page.locator("#q-id_women-input").press("Tab")
            page.locator("#q-id_foreign").wait_for(state="visible")
            page.locator("#q-id_foreign-input").fill("9")
            page.locator("#q-id_foreign-input").press("Tab")
            page.locator("#q-id_foreign-error").wait_for()

    problems = serious_violations(page, live_server, paths, show_an_error)
    assert not problems, json.dumps(problems, indent=1)
