"""Every main page of every role at 360 px: no sideways page scroll (a wide table scrolls in
its own box), no serious accessibility finding; the header does not wrap at 1280 px."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Cycle, Response
from tests.browser.conftest import choose_language, findings_at_both_widths
from tests.browser.test_form import _response_id
from tests.browser.test_review import _sign_in

pytestmark = pytest.mark.browser


def _main_pages(app, email: str) -> list[str]:
    from app.models import Country, QuestionnaireVersion
    with app.app_context():
        response_id = db.session.scalars(select(Response.id).order_by(Response.id)).first()
        cycle_id = db.session.scalars(select(Cycle.id).order_by(Cycle.id)).first()
        country_id = db.session.scalars(select(Country.id).where(Country.code == "RS")).one()
        version_id = db.session.scalars(select(QuestionnaireVersion.id).order_by(QuestionnaireVersion.id)).first()
    common = ["/", "/responses/", "/reports/", "/exports/", "/account"]
    if email == "admin@example.org":
        return common + ["/admin/", "/admin/users", "/admin/institutions", "/admin/countries", "/admin/cycles",
                         f"/admin/cycles/{cycle_id}", "/questionnaires/", f"/questionnaires/versions/{version_id}",
                         f"/responses/{response_id}", f"/responses/{response_id}/pages/2",
                         f"/responses/{response_id}/history", f"/responses/{response_id}/submit",
                         f"/responses/{response_id}/print", f"/review/{response_id}",
                         f"/reports/responses/{response_id}", f"/reports/cycles/{cycle_id}",
                         f"/reports/cycles/{cycle_id}/countries/{country_id}", f"/reports/countries/{country_id}/trend"]
    return common


@pytest.mark.parametrize("email", ["official.rs@example.org", "reviewer.rs@example.org", "auditor@example.org",
                                   "admin@example.org"])
def test_every_main_page_fits_a_phone(app, live_server, axe_page, email):
    _sign_in(axe_page, live_server, email)
    assert findings_at_both_widths(axe_page, live_server, _main_pages(app, email)) == ([], {})


@pytest.mark.parametrize("language", ["en", "sq", "sr_Latn", "sr_Cyrl", "mk", "bs", "hr", "cnr"])
def test_the_header_keeps_to_one_row_at_1280(app, live_server, page, language):
    _sign_in(page, live_server, "admin@example.org")
    page.set_viewport_size({"width": 1280, "height": 800})
    choose_language(page, language)
    height = page.locator(".site-header").bounding_box()["height"]
    assert height < 80, (language, height)


def test_on_a_phone_the_header_folds_behind_a_menu_button(app, live_server, page, no_js_page):
    _sign_in(page, live_server, "official.rs@example.org")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{live_server}/account")
    menu = page.get_by_role("button", name="Menu")
    assert menu.get_attribute("aria-expanded") == "false" and page.locator("#site-menu").is_hidden()
    assert page.locator("h1").bounding_box()["y"] < 200   # the page starts near the top
    response_id = _response_id(app, "Centar za zaštitu žrtava trgovine ljudima")
    page.goto(f"{live_server}/responses/{response_id}/pages/3")
    assert page.locator("#page-nav").is_hidden()   # the section list folds behind its summary
    assert page.locator("details.page-nav-fold summary").inner_text().startswith("Section 3 of 8")
    assert page.locator("#page-form .question").first.bounding_box()["y"] < 800   # a question on the first screen
    menu = page.get_by_role("button", name="Menu")
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    page.get_by_role("link", name="Responses").click()
    page.wait_for_url(f"{live_server}/responses/")
    # Without JavaScript the menu stays open and the language goes with its Change button.
    no_js_page.set_viewport_size({"width": 360, "height": 800})
    no_js_page.goto(f"{live_server}/login")
    assert no_js_page.locator("#site-menu").is_visible() and no_js_page.get_by_role("button", name="Menu").is_hidden()
    no_js_page.locator("#language-select").select_option("sq")
    no_js_page.get_by_role("button", name="Change").click()
    assert no_js_page.locator("html").get_attribute("lang") == "sq"
