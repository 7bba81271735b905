"""A live server (the app in a thread, on the test database) and Debian's Chromium via Playwright."""
from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture
def live_server(app, demo) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []

    def collect(message):
        # A refused answer is a 409/422 reply that the page shows; Chromium logs it as an error.
        if message.type == "error" and not re.search(r"status of (409|422)", message.text):
            errors.append(message.text)

    page.on("console", collect)
    page.allowed_errors = []   # patterns a test expects (a lost connection, a server made to fail)
    yield page
    context.close()
    unexpected = [e for e in errors if not any(re.search(pattern, e) for pattern in page.allowed_errors)]
    assert not unexpected, f"browser console errors: {unexpected}"


def _page_in_new_context(browser, **options):
    context = browser.new_context(locale="en-GB", **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def no_js_page(browser):
    """A page with JavaScript switched off: what a person without it gets."""
    yield from _page_in_new_context(browser, java_script_enabled=False)


@pytest.fixture
def axe_page(browser):
    """A page whose context bypasses the CSP so that axe-core can be injected."""
    yield from _page_in_new_context(browser, bypass_csp=True)


AXE = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor" / "axe.min.js"


def serious_violations(page, base: str, paths, before_audit=None) -> list:
    """Run axe-core on each page; the serious and critical violations, and any heading that
    skips a level (heading-order, a best practice axe rates moderate), with where they are."""
    problems = []
    for path in paths:
        page.goto(f"{base}{path}")
        if before_audit is not None:
            before_audit(page, path)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        for violation in result["violations"]:
            if violation["impact"] in ("serious", "critical") or violation["id"] == "heading-order":
                problems.append((path, violation["id"], [n["target"] for n in violation["nodes"]][:3]))
    return problems


def findings_at_both_widths(page, base: str, paths) -> tuple[list, dict]:
    """The serious axe findings at 1280 px and at 360 px, and the pages that scroll sideways on
    a 360 px screen (a wide table must scroll in its own box), with their widths."""
    page.set_viewport_size({"width": 1280, "height": 800})
    problems = serious_violations(page, base, paths)
    page.set_viewport_size({"width": 360, "height": 800})
    problems += serious_violations(page, base, paths)
    wide = {}
    for path in paths:
        page.goto(f"{base}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            wide[path] = width
    return problems, wide


def choose_language(page, code: str) -> None:
    """Pick the interface language in the header, as a person does: it applies as it is chosen
    (the page reloads), unless it already is the language."""
    select = page.locator("#language-select")
    if select.input_value() == code:
        return
    button = page.locator(".language-switcher button")
    if button.is_visible():   # without JavaScript: its Change button sends it
        select.select_option(code)
        button.click()
    else:
        with page.expect_navigation():
            select.select_option(code)
    page.wait_for_load_state()
