"""A person signs in, switches language and signs out, in a real Chromium."""
import json

import pytest

from tests.browser.conftest import serious_violations

pytestmark = pytest.mark.browser


def _sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("matrica-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def test_sign_in_switch_language_sign_out(live_server, page):
    _sign_in(page, live_server, "auditor@example.org")
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():   # the language applies as it is chosen
        page.get_by_label("Language").select_option("sq")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "sq"
    assert page.get_by_role("button", name="Dilni").is_visible()
    with page.expect_navigation():
        page.get_by_label("Gjuha").select_option("sr_Cyrl")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "sr-Cyrl"
    page.get_by_role("button", name="Одјава").click()
    page.wait_for_url(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "sr-Cyrl"  # the choice outlives the session


def test_htmx_filter_swaps_the_list_without_a_reload(live_server, page):
    _sign_in(page, live_server, "admin@example.org")
    page.goto(f"{live_server}/admin/institutions")
    marker = page.evaluate("() => (window.__marker = Math.random())")
    page.get_by_label("Country").first.select_option(label="Serbia (RS)")
    page.wait_for_url("**/admin/institutions?country=*")
    page.locator("#institution-list").get_by_text("Republičko javno tužilaštvo").wait_for()
    assert page.locator("#institution-list").get_by_text("Policia e Shtetit").count() == 0
    assert page.evaluate("() => window.__marker") == marker  # same document: HTMX swapped the list


def test_core_pages_have_no_serious_accessibility_violations(live_server, axe_page):
    page = axe_page
    page.goto(f"{live_server}/login")
    pages = ["/login"]
    _sign_in(page, live_server, "admin@example.org")
    pages += ["/", "/responses/", "/admin/", "/admin/users", "/admin/institutions", "/admin/cycles", "/account"]
    problems = serious_violations(page, live_server, pages)
    assert not problems, json.dumps(problems, indent=1)


def test_stepping_through_the_languages_with_the_keyboard_reloads_nothing(live_server, page):
    """WCAG 3.2.2: arrow keys on the closed list change the choice without a reload; the Change
    button appears, and Enter applies the choice."""
    _sign_in(page, live_server, "auditor@example.org")
    select = page.get_by_label("Language")
    select.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert page.locator("html").get_attribute("lang") == "en" and select.input_value() != "en"
    assert page.get_by_role("button", name="Change").is_visible()
    chosen = select.input_value()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == chosen.replace("_", "-")
