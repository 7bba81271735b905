"""Raw data through the progress bar in a real Chromium: the auditor asks for an export, the
page shows a progress bar while a worker (here a thread that starts a moment later, as a
busy worker would) prepares it, HTMX polling brings the download link, and the file opens.
Without JavaScript the page refreshes itself until the link is there. Then axe."""
import io
import threading
import time

import pytest
from openpyxl import load_workbook

from app import jobs
from tests.browser.conftest import serious_violations
from tests.browser.test_review import _sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def slow_worker(app):
    """Jobs go to a worker thread that takes them after a second, not into the request."""
    app.config["EXPORT_AT_ONCE"] = 0
    threads = []

    def enqueue(job_id):
        def work():
            time.sleep(1.0)
            with app.app_context():
                jobs.run_export(app, job_id)
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)

    original = app.extensions["export_task"]
    app.extensions["export_task"] = enqueue
    yield
    for thread in threads:
        thread.join(30)
    app.extensions["export_task"] = original


def _ask(page, base, cycle_id):
    page.goto(f"{base}/exports/")
    page.locator("#cycle").select_option(str(cycle_id))
    page.locator("#labels").select_option("")
    page.locator("input[name='file_format'][value='xlsx']").check()
    page.locator("form.stacked-form button[type='submit']").click()
    page.wait_for_url(f"{base}/exports/*")


def test_the_download_arrives_through_the_progress_bar(app, live_server, page, cycle_with_answers, slow_worker):
    _sign_in(page, live_server, "auditor@example.org")
    _ask(page, live_server, cycle_with_answers)
    assert page.locator("progress#export-progress").is_visible()
    assert "Waiting for a worker" in page.locator(".export-status").inner_text()
    url = page.url
    link = page.get_by_role("link", name="Download")
    link.wait_for(timeout=15_000)
    assert page.url == url                          # the same page, brought up to date by HTMX
    assert page.locator("progress").count() == 0
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as handle:
        rows = list(load_workbook(io.BytesIO(handle.read()))["Responses"].iter_rows(values_only=True))
    assert len(rows) == 2                           # the auditor: the one approved response
    assert download.value.suggested_filename.endswith(".xlsx")


def test_without_javascript_the_page_refreshes_until_the_link_is_there(app, live_server, no_js_page,
                                                                       cycle_with_answers, slow_worker):
    _sign_in(no_js_page, live_server, "admin@example.org")
    _ask(no_js_page, live_server, cycle_with_answers)
    assert no_js_page.locator("progress#export-progress").count() == 1
    no_js_page.get_by_role("link", name="Download").wait_for(timeout=15_000)
    with no_js_page.expect_download() as download:
        no_js_page.get_by_role("link", name="Download").click()
    with open(download.value.path(), "rb") as handle:
        assert load_workbook(io.BytesIO(handle.read())).sheetnames == ["Responses", "site"]


def test_export_pages_have_no_serious_accessibility_violations(app, live_server, axe_page, cycle_with_answers,
                                                              slow_worker):
    _sign_in(axe_page, live_server, "admin@example.org")
    _ask(axe_page, live_server, cycle_with_answers)
    job_path = axe_page.url.removeprefix(live_server)
    for width in (1280, 360):
        axe_page.set_viewport_size({"width": width, "height": 800})
        assert serious_violations(axe_page, live_server, ["/exports/", job_path]) == []
