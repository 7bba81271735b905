"""Filling a questionnaire: widgets, autosave, relevance, validation, conflicts, submit, history."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, AuditEvent, Response, ResponseStatus
from tests.conftest import csrf_token, login

HX = {"HX-Request": "true"}


def _answers(app, response_id):
    with app.app_context():
        return {a.path: a.value for a in db.session.scalars(select(Answer).where(Answer.response_id == response_id))}


def _events(app):
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)))


class Filler:
    """A respondent's browser without JavaScript semantics: posts what the page would post."""

    def __init__(self, client, response_id, token):
        self.client, self.response_id, self.token = client, response_id, token
        self.versions: dict[str, int] = {}

    def autosave(self, path, value, page=1, evidence=None, version=None, headers=None):
        data = {"path": path, "page": str(page), f"p:{path}": "1",
                f"v:{path}": str(self.versions.get(path, 0) if version is None else version)}
        if isinstance(value, list):
            data[f"a:{path}"] = value
        elif value is not None:
            data[f"a:{path}"] = value
        if evidence is not None:
            data[f"e:{path}"] = evidence
        response = self.client.post(f"/responses/{self.response_id}/answer", data=data,
                                    headers={**HX, "X-CSRFToken": self.token, **(headers or {})})
        match = re.search(r'name="v:' + re.escape(path) + r'" value="(\d+)"', response.get_data(as_text=True))
        if response.status_code == 200 and match:
            self.versions[path] = int(match.group(1))
        return response


@pytest.fixture
def filler(app, client, make_response):
    response_id = make_response("types")
    login(client, "official.rs@example.org")
    token = csrf_token(client, f"/responses/{response_id}/pages/1")
    client.post("/language", data={"language": "en", "csrf_token": token})  # the official reads Serbian otherwise
    return Filler(client, response_id, token)


def test_every_question_type_is_rendered_accessibly(client, filler):
    page = client.get(f"/responses/{filler.response_id}/pages/1").get_data(as_text=True)
    for fragment in ['id="q-count-input" name="a:count" value="" inputmode="numeric"',
                     'id="q-amount-input" name="a:amount" value="" inputmode="decimal"',
                     '<select id="q-rating-input" name="a:rating"', '<textarea id="q-comment-input"',
                     'type="date" id="q-when-input" name="a:when" value="2026-', 'type="time" id="q-at-input"',
                     'type="datetime-local" id="q-stamp-input"', 'type="checkbox" id="q-ack-input" name="a:ack" value="OK"']:
        assert fragment in page, fragment
    assert 'aria-describedby="q-count-hint"' in page and 'aria-required="true"' in page
    assert 'id="q-fixed"' in page and 'name="a:fixed"' not in page  # read-only: shown, not editable
    assert 'name="a:secret"' not in page                           # hidden: not shown
    choices = client.get(f"/responses/{filler.response_id}/pages/2").get_data(as_text=True)
    assert re.search(r'<fieldset class="choices" role="radiogroup" hx-post="[^"]+"[^>]*hx-trigger="change delay:400ms"'
                     r'[^>]* aria-required="true">', choices) and "<legend>" in choices   # saves once settled
    assert 'type="radio" id="q-sop-1" name="a:sop" value="yes"' in choices
    assert 'type="checkbox" id="q-agencies-1" name="a:agencies" value="police"' in choices
    assert '<select id="q-country-input" name="a:country"' in choices
    assert 'Place 3' in choices                                     # rank: one select per place
    assert '<textarea id="q-sop-evidence" name="e:sop"' in choices


@pytest.mark.parametrize("path,raw,stored", [
    ("count", " 12 ", "12"), ("amount", "12,50", "12.5"), ("rating", "3", "3"), ("comment", "Line one\r\nLine two", "Line one\nLine two"),
    ("when", "2026-03-01", "2026-03-01"), ("at", "14:30", "14:30:00"), ("stamp", "2026-03-01T14:30", "2026-03-01T14:30:00"),
    ("ack", "OK", "OK"),
])
def test_autosave_stores_the_canonical_value(app, filler, path, raw, stored):
    response = filler.autosave(path, raw)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert re.search(r"Saved ✓ \d{1,2}:\d{2}", response.get_data(as_text=True))
    assert _answers(app, filler.response_id)[path] == stored


def test_a_saved_text_is_read_back_exactly_whatever_it_holds(app, filler):
    text = 'Quote " back\\slash ✓ 🙂 <b>tag</b>\nline two\ttab [1, "x"] null ='
    assert filler.autosave("comment", text).status_code == 200
    assert _answers(app, filler.response_id)["comment"] == text
    before = _events(app)
    again = filler.autosave("comment", text)   # the same text again: nothing changed, nothing logged
    assert again.status_code == 200 and _events(app) == before
    assert filler.autosave("comment", text + "!").status_code == 200 and _events(app) == before + 1


@pytest.mark.parametrize("path,raw,message", [
    ("count", "twelve", "Enter a whole number"), ("count", "1.5", "Enter a whole number"),
    ("count", "5000", "Between 0 and 1000."), ("amount", "-3", "This answer is not allowed here."),
    ("rating", "9", "Enter a value from 1 to 5 in steps of 1."), ("comment", "x" * 10_001, "Use at most 10000 characters."),
    ("when", "31.12.2026", "Enter a date as year-month-day"), ("when", "2999-01-01", "Not in the future."),
    ("at", "25:99", "Enter a time"), ("ack", "maybe", "Confirm by ticking the box."),
])
def test_bad_values_are_refused_with_a_message_and_nothing_stored(app, filler, path, raw, message):
    before = _events(app)
    response = filler.autosave(path, raw)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and 'data-invalid="true"' in body and f'id="q-{path}-error"' in body
    assert path not in _answers(app, filler.response_id)
    assert _events(app) == before


def test_choices_are_checked(app, filler):
    assert filler.autosave("sop", "maybe", page=2).status_code == 422
    assert filler.autosave("sop", "yes", page=2).status_code == 200
    assert filler.autosave("agencies", ["police", "police"], page=2).status_code == 422
    assert filler.autosave("agencies", ["police", "other"], page=2).status_code == 200
    assert _answers(app, filler.response_id)["agencies"] == "police other"
    assert filler.autosave("priority", ["police", "social"], page=2).status_code == 422  # rank every option
    assert filler.autosave("priority", ["social", "other", "police"], page=2).status_code == 200


def test_constraint_message_in_the_users_language(client, filler):
    token = csrf_token(client, "/")
    client.post("/language", data={"language": "sq", "csrf_token": token})
    response = filler.autosave("count", "5000")
    assert "Nga 0 deri në 1000." in response.get_data(as_text=True)


def test_missing_translation_falls_back_visibly(client, filler):
    token = csrf_token(client, "/")
    client.post("/language", data={"language": "sq", "csrf_token": token})
    page = client.get(f"/responses/{filler.response_id}/pages/2").get_data(as_text=True)
    assert 'Policia' in page
    assert '<span lang="en">Social services</span> <small class="fallback">' in page


def test_relevance_changes_arrive_out_of_band(filler):
    response = filler.autosave("count", "4")
    body = response.get_data(as_text=True)
    note = re.search(r'<div class="question note" id="q-double_note"[^>]*>', body)
    assert note and "hidden" not in note.group(0) and 'hx-swap-oob="true"' in note.group(0)
    assert "Twice: 8" in body
    hidden_again = filler.autosave("count", "0").get_data(as_text=True)
    assert re.search(r'<div class="question note" id="q-double_note" hidden hx-swap-oob="true">', hidden_again)


def test_groups_appear_and_required_follows_relevance(app, client, filler):
    page3 = client.get(f"/responses/{filler.response_id}/pages/3").get_data(as_text=True)
    assert "This section does not apply" in page3 and 'name="a:detail"' not in page3
    body = filler.autosave("sop", "yes", page=2).get_data(as_text=True)
    assert '<li id="page-nav-2" hx-swap-oob="true">' in body  # this page's entry in the navigation, out of band
    assert re.search(r'<li id="page-nav-3" hx-swap-oob="true">.*?Details</a>\s*<span class="count">0 of 1</span>', body,
                     flags=re.S)                                # and the section the answer switched on
    page3 = client.get(f"/responses/{filler.response_id}/pages/3").get_data(as_text=True)
    assert 'name="a:detail"' in page3 and "does not apply" not in page3
    body = filler.autosave("agencies", ["other"], page=2).get_data(as_text=True)
    assert re.search(r'<div class="question" id="q-agency_other" hx-swap-oob="true">', body)


def test_choice_filter_narrows_the_choices(client, filler):
    filler.autosave("country", "al", page=2)
    page = client.get(f"/responses/{filler.response_id}/pages/2").get_data(as_text=True)
    assert 'value="tirana"' in page and 'value="durres"' in page and 'value="belgrade"' not in page


def test_evidence_is_required_for_a_positive_answer(app, filler):
    body = filler.autosave("sop", "yes", page=2).get_data(as_text=True)
    assert "Name the evidence" in body          # saved, with the missing evidence pointed out
    body = filler.autosave("sop", "yes", page=2, evidence="Law 12/2025, art. 3").get_data(as_text=True)
    assert "Name the evidence" not in body
    with app.app_context():
        answer = db.session.scalars(select(Answer).where(Answer.path == "sop")).one()
        assert answer.evidence == "Law 12/2025, art. 3"


def test_indicator_preview_updates(filler):
    body = filler.autosave("sop", "partially", page=2).get_data(as_text=True)
    row = re.search(r'<template><tr id="indicator-SC1" hx-swap-oob="true">.*?</tr>', body, flags=re.S).group(0)
    assert "50%" in row and "rating-amber" in row
    assert 'id="indicator-RT1"' not in body  # only the indicators this answer feeds


def test_page_save_without_javascript_is_all_or_nothing(app, client, filler):
    url = f"/responses/{filler.response_id}/pages/1"
    token = csrf_token(client, url)
    base = {"csrf_token": token, **{f"p:{p}": "1" for p in ("count", "amount", "comment")}}
    bad = client.post(url, data={**base, "a:count": "7", "a:amount": "abc", "a:comment": "kept?"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Nothing was saved" in text and "Enter a number" in text
    assert 'value="7"' in text and "kept?" in text          # what the person typed is still there
    assert _answers(app, filler.response_id) == {}
    good = client.post(url, data={**base, "a:count": "7", "a:amount": "2.5", "a:comment": "ok", "go": "next"})
    assert good.status_code == 302 and good.headers["Location"].endswith("/pages/2")
    assert _answers(app, filler.response_id) == {"count": "7", "amount": "2.5", "comment": "ok"}


def test_repeats_add_remove_and_sum(app, client, filler):
    url = f"/responses/{filler.response_id}/pages/4"
    page = client.get(url).get_data(as_text=True)
    assert "No entry yet." in page
    token = csrf_token(client, url)
    for _ in range(3):
        assert client.post(url, data={"csrf_token": token, "repeat_action": "add:site"}).status_code == 302
    for number, (name, beds) in enumerate([("North", "4"), ("South", "6"), ("East", "10")], start=1):
        filler.autosave(f"site[{number}]/site_name", name, page=4)
        filler.autosave(f"site[{number}]/site_beds", beds, page=4)
    assert "Remove entry 3" in client.get(url).get_data(as_text=True)
    summary = f"/responses/{filler.response_id}/pages/5"   # the questions after the repeat form a page
    assert "Beds in total: 20" in client.get(summary).get_data(as_text=True)
    client.post(url, data={"csrf_token": token, "repeat_action": "remove:site#2"})
    answers = _answers(app, filler.response_id)
    assert answers["site"] == "2" and answers["site[2]/site_name"] == "East" and "site[3]/site_name" not in answers
    assert "Beds in total: 14" in client.get(summary).get_data(as_text=True)
    assert filler.autosave("site[3]/site_name", "Ghost", page=4).status_code == 422  # no such entry


def test_two_people_edit_different_questions_and_both_are_kept(app, client, filler, make_user):
    make_user("second.rs@example.org", None)
    with app.app_context():
        from app.models import Institution, Role, User
        from app.services import users
        user = db.session.scalars(select(User).where(User.email == "second.rs@example.org")).one()
        institution = db.session.scalars(select(Institution).where(
            Institution.name == "Centar za zaštitu žrtava trgovine ljudima")).one()
        users.assign_role(None, user, users.RoleSpec(Role.RESPONDENT, institution_id=institution.id))
        db.session.commit()
    other_client = app.test_client()
    login(other_client, "second.rs@example.org")
    other = Filler(other_client, filler.response_id, csrf_token(other_client, f"/responses/{filler.response_id}/pages/1"))
    assert filler.autosave("count", "3").status_code == 200
    assert other.autosave("amount", "9").status_code == 200
    assert _answers(app, filler.response_id) == {"count": "3", "amount": "9"}
    # Same question, stale version: a conflict with both values, nothing stored.
    assert other.autosave("comment", "theirs").status_code == 200
    before = _events(app)
    clash = filler.autosave("comment", "mine")
    assert clash.status_code == 409
    body = clash.get_data(as_text=True)
    assert "Someone else changed this answer" in body and "theirs" in body and "mine" in body
    assert "second.rs@example.org" in body
    assert _answers(app, filler.response_id)["comment"] == "theirs" and _events(app) == before
    # Keeping mine re-posts with the version the conflict reported.
    version = int(re.search(r'name="v:comment" value="(\d+)"', body).group(1))
    assert filler.autosave("comment", "mine", version=version).status_code == 200
    assert _answers(app, filler.response_id)["comment"] == "mine"


def test_irrelevant_answers_are_kept_but_not_scored(app, client, filler):
    filler.autosave("count", "4")
    filler.autosave("agencies", ["other"], page=2)
    filler.autosave("agency_other", "Ombudsman", page=2)
    filler.autosave("agencies", ["police"], page=2)
    assert _answers(app, filler.response_id)["agency_other"] == "Ombudsman"
    with app.app_context():
        from app.services import responses
        loaded = responses.load(db.session.get(Response, filler.response_id))
        assert loaded.state.is_relevant("agency_other") is False
        assert loaded.state.value("agency_other") == ""


def test_submit_lists_what_is_missing_then_locks(app, client, filler):
    url = f"/responses/{filler.response_id}/submit"
    review = client.get(url).get_data(as_text=True)
    assert "How many?" in review and f"/responses/{filler.response_id}/pages/1#q-count" in review
    refused = client.post(url, data={"csrf_token": filler.token})
    assert refused.status_code == 400
    for path, value, page in [("count", "2", 1), ("sop", "no", 2), ("detail", "x", 3)]:
        filler.autosave(path, value, page=page)
    ready = client.get(url).get_data(as_text=True)
    assert "Indicator scorecard" in ready and '<dt><span>How many?</span></dt>' in ready   # what will be submitted
    unconfirmed = client.post(url, data={"csrf_token": filler.token})
    assert unconfirmed.status_code == 400 and "Tick the box to confirm" in unconfirmed.get_data(as_text=True)
    ok = client.post(url, data={"csrf_token": filler.token, "confirm": "yes"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith(f"/responses/{filler.response_id}/receipt")
    receipt = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "Receipt of submission" in receipt and f"M-{filler.response_id}-" in receipt
    assert client.post(url, data={"csrf_token": filler.token, "confirm": "yes"}).status_code == 302   # a second click
    printed = client.get(f"/responses/{filler.response_id}/print").get_data(as_text=True)
    assert "How many?" in printed and "Indicator scorecard" in printed
    with app.app_context():
        response = db.session.get(Response, filler.response_id)
        assert response.status == ResponseStatus.SUBMITTED
        assert db.session.scalars(select(Answer.value).where(Answer.path == "when")).one()  # default stored
    before = _events(app)
    locked = filler.autosave("count", "3")
    assert locked.status_code == 409 and "read-only until a reviewer returns it" in locked.get_data(as_text=True)
    assert _events(app) == before and _answers(app, filler.response_id)["count"] == "2"
    page = client.get(f"/responses/{filler.response_id}/pages/1").get_data(as_text=True)
    assert "read-only" in page and 'name="a:count"' not in page
    with app.app_context():
        response = db.session.get(Response, filler.response_id)
        response.status = ResponseStatus.APPROVED
        db.session.commit()
    assert "approved and locked" in filler.autosave("count", "4").get_data(as_text=True)
    no_js = client.post(f"/responses/{filler.response_id}/pages/1",
                        data={"csrf_token": filler.token, "p:count": "1", "a:count": "5"}, follow_redirects=True)
    assert "approved and locked" in no_js.get_data(as_text=True)
    assert _answers(app, filler.response_id)["count"] == "2"


def test_history_shows_who_changed_what(client, filler):
    filler.autosave("count", "1")
    filler.autosave("count", "2")
    page = client.get(f"/responses/{filler.response_id}/history?path=count").get_data(as_text=True)
    table = page.partition("<table")[2]
    assert table.count("Službenik Srbija") == 2 and "official.rs@example.org" not in table   # names, not addresses
    assert re.search(r"<td>Answer changed: “How many\?”</td><td>1</td><td>2</td>", page)
    filler.autosave("sop", "yes", page=2)
    choices = client.get(f"/responses/{filler.response_id}/history?path=sop").get_data(as_text=True)
    assert re.search(r"<td>—</td><td>Yes</td>", choices)   # the choice's label, not its code


def test_bad_requests_store_nothing(app, client, filler, make_response):
    albanian = make_response("types", institution="Zyra e Koordinatorit Kombëtar kundër Trafikimit")
    before = _events(app)
    assert filler.autosave("nope", "1").status_code == 422
    assert filler.autosave("double", "1").status_code == 422          # calculated
    assert filler.autosave("fixed", "1").status_code == 422           # read-only
    no_csrf = client.post(f"/responses/{filler.response_id}/answer", data={"path": "count", "a:count": "1", "p:count": "1",
                                                                         "page": "1"}, headers=HX)
    assert no_csrf.status_code == 400
    foreign = Filler(client, albanian, filler.token)
    assert foreign.autosave("count", "1").status_code == 404
    assert _events(app) == before
    assert _answers(app, filler.response_id) == {} and _answers(app, albanian) == {}


def test_others_read_but_cannot_write(app, client, filler, auth):
    filler.autosave("count", "5")
    auth.logout()
    auth.login("reviewer.rs@example.org")
    page = client.get(f"/responses/{filler.response_id}/pages/1").get_data(as_text=True)
    assert "read-only" in page and "5" in page and 'name="a:count"' not in page
    reviewer = Filler(client, filler.response_id, auth.token("/"))
    assert reviewer.autosave("count", "6").status_code == 403
    assert _answers(app, filler.response_id)["count"] == "5"


def test_respondent_home_shows_progress(client, filler):
    filler.autosave("count", "5")
    listing = client.get("/responses/").get_data(as_text=True)
    assert re.search(r"Test cycle</a></td>.*?</progress> 2 of \d+</td>", listing, flags=re.S)  # count + the default date


def test_home_lists_the_institutions_responses_with_progress(client, filler):
    filler.autosave("count", "5")
    home = client.get("/").get_data(as_text=True)
    assert "Test cycle" in home and "2026 annual monitoring" in home
    assert re.search(r"Test cycle</a></td>.*?<progress value=\"2\"", home, flags=re.S)


def test_an_autosave_redraws_the_progress_only_when_it_can_change(filler):
    first = filler.autosave("comment", "One").get_data(as_text=True)
    assert 'id="page-progress"' in first and '<li id="page-nav-1" hx-swap-oob="true">' in first  # answered now
    again = filler.autosave("comment", "Two").get_data(as_text=True)
    assert "Saved ✓" in again and "Comment" not in again   # a short status; the question is not read out again
    assert 'id="page-progress"' not in again and 'id="page-nav-' not in again  # still answered: the counts stand
    filler.autosave("count", "4")
    switching = filler.autosave("count", "0").get_data(as_text=True)  # answered before and after, but it
    assert 'id="page-progress"' in switching  # switches a note on and off: the counts are sent again
    cleared = filler.autosave("comment", "").get_data(as_text=True)
    assert 'id="page-progress"' in cleared


def test_the_status_is_short_and_an_answer_left_as_it_was_says_nothing(filler):
    saved = filler.autosave("comment", "One").get_data(as_text=True)
    assert len(re.findall(r"Saved ✓ \d{1,2}:\d{2}", saved)) == 2   # on the question, and once in the live region
    unchanged = filler.autosave("comment", "One").get_data(as_text=True)
    assert "Saved" not in unchanged and "No change" not in unchanged


def test_a_choice_can_be_cleared_without_javascript(app, client, filler):
    filler.autosave("sop", "yes", page=2)
    token = csrf_token(client, f"/responses/{filler.response_id}/pages/2")
    with app.app_context():
        version = db.session.scalars(select(Answer.version).where(Answer.path == "sop")).one()
    cleared = client.post(f"/responses/{filler.response_id}/pages/2", data={
        "csrf_token": token, "p:sop": "1", "v:sop": str(version), "a:sop": "yes", "clear": "sop"})
    assert cleared.status_code == 302 and cleared.headers["Location"].endswith("#q-sop")
    assert _answers(app, filler.response_id).get("sop", "") == ""
    page = client.get(f"/responses/{filler.response_id}/pages/2").get_data(as_text=True)
    assert not re.search(r'name="a:sop" value="yes"[^>]* checked', page)


def test_home_says_where_to_continue_and_how_long_is_left(app, client, filler):
    filler.autosave("count", "5")
    home = client.get("/").get_data(as_text=True)
    continue_link = re.search(r'<a href="(/responses/\d+/pages/(\d+))">Continue: ([^<]+)</a>', home)
    assert continue_link, home[-3000:]
    assert re.search(r"\d+ days? (left|late)|due today", home)
    assert "Countries in your scope" not in home   # a respondent has no use for it
    listed = client.get("/responses/").get_data(as_text=True)
    headers = lambda page: re.findall(r'<th scope="col">([^<]+)</th>', page.split('<caption class="visually-hidden">Responses you can see')[1].split("</thead>")[0])
    assert headers(home) == headers(listed)   # the same columns on Home and on the list
    assert "Next step" in headers(listed) and "Open comments" in headers(listed)


def test_a_refused_value_survives_a_reload_with_its_reason_and_is_not_scored(app, client, filler):
    refused = filler.autosave("count", "twelve")
    assert refused.status_code == 422
    page = client.get(f"/responses/{filler.response_id}/pages/1").get_data(as_text=True)
    assert re.search(r'id="q-count-input" name="a:count" value="twelve"', page)
    assert '<p class="error" id="q-count-error">Enter a whole number, such as 12.</p>' in page
    assert "count" not in _answers(app, filler.response_id)            # nothing stored as an answer
    review = client.get(f"/responses/{filler.response_id}/submit").get_data(as_text=True)
    assert "Not saved: “twelve”. Enter a whole number, such as 12." in review
    assert client.post(f"/responses/{filler.response_id}/submit",
                       data={"csrf_token": filler.token, "confirm": "yes"}).status_code == 400
    saved = filler.autosave("count", "12")
    assert saved.status_code == 200 and _answers(app, filler.response_id)["count"] == "12"
    again = client.get(f"/responses/{filler.response_id}/pages/1").get_data(as_text=True)
    assert re.search(r'id="q-count-input" name="a:count" value="12"', again) and 'id="q-count-error"' not in again


def test_a_refused_page_save_without_javascript_keeps_what_was_typed(app, client, filler):
    token = csrf_token(client, f"/responses/{filler.response_id}/pages/1")
    client.post(f"/responses/{filler.response_id}/pages/1", data={
        "csrf_token": token, "p:count": "1", "v:count": "0", "a:count": "-"})
    page = client.get(f"/responses/{filler.response_id}/pages/1").get_data(as_text=True)
    assert re.search(r'id="q-count-input" name="a:count" value="-"', page) and 'id="q-count-error"' in page
