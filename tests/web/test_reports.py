"""Indicator sheets against values computed by hand: two Serbian institutions answer the small
scoring form, the reviewer changes one score, approves one response; the sheets show the self
and the reviewed figures, each aggregated as its definition says, to each reader in scope."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Country, Cycle, Institution, Response, ResponseStatus, Role, User
from app.services import reports, responses, review
from app.services.responses import Submitted

SECOND = "Ministarstvo unutrašnjih poslova"
FIRST = "Centar za zaštitu žrtava trgovine ljudima"


def _fill_and_submit(email, response_id, answers):
    user = db.session.scalars(select(User).where(User.email == email)).one()
    loaded = responses.load(db.session.get(Response, response_id))
    saved = responses.save_answers(user, loaded, {path: Submitted(value, None, 0) for path, value in answers.items()})
    assert not saved.rejected, saved.outcomes
    assert review.submit(user, responses.load(db.session.get(Response, response_id))) == []
    db.session.commit()


@pytest.fixture
def sheets(app, make_response, make_user, demo):
    first = make_response("scoring", institution=FIRST)
    second = make_response("scoring", institution=SECOND)
    make_user("official.mup@example.org", Role.RESPONDENT, institution=demo["institutions"][SECOND])
    with app.app_context():
        _fill_and_submit("official.rs@example.org", first, {"q1": "yes", "q2": "partially", "num": "3", "den": "4",
                                                            "band": "80"})
        _fill_and_submit("official.mup@example.org", second, {"q1": "no", "q2": "no", "num": "0", "den": "30",
                                                              "band": "40"})
        reviewer = db.session.scalars(select(User).where(User.email == "reviewer.rs@example.org")).one()
        review.set_reviewed_score(reviewer, first, "P1", 50.0, "The law is not applied everywhere.")
        review.approve(reviewer, first, None)
        db.session.commit()
        cycle = db.session.get(Response, first).cycle_id
        country = db.session.scalars(select(Country.id).where(Country.code == "RS")).one()
    return {"first": first, "second": second, "cycle": cycle, "country": country}


def _sheet(app, email, ids):
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        return reports.country_sheet(user, db.session.get(Cycle, ids["cycle"]), db.session.get(Country, ids["country"]))


def test_the_reviewer_sees_both_institutions_aggregated_as_defined(app, sheets):
    sheet = _sheet(app, "reviewer.rs@example.org", sheets)
    assert len(sheet.counted) == 2
    own, reviewed = sheet.own, sheet.reviewed
    assert own["P1"].value == pytest.approx(37.5) and own["P1"].rating == "red"          # (3 + 0) of (4 + 4)
    assert own["R1"].value == pytest.approx(3 / 34 * 100) and own["R1"].rating == "red"   # not the mean, 37.5
    assert own["B1"].value == 60.0 and own["B1"].rating == "amber"                        # mean of 80 and 40
    assert reviewed["P1"].value == pytest.approx(25.0)   # the reviewer's 50 % of 4 points, then (2 + 0) of 8
    assert reviewed["R1"].value == own["R1"].value       # not reviewed: as self-assessed
    assert sheet.areas["a"].total.points == 0.0 and sheet.areas["a"].total.maximum == 4.0
    assert sheet.areas["b"].percent == 50.0 and sheet.areas["b"].rating == "amber"


def test_an_institution_sheet_keeps_self_and_reviewed_side_by_side(app, sheets):
    with app.app_context():
        response = db.session.get(Response, sheets["first"])
        form = reports.form_of(response.cycle)
        scored = reports.scored(form, response, reports.latest_snapshots([response.id])[response.id])
    assert (scored.own["P1"].value, scored.own["P1"].rating) == (75.0, "green")
    assert (scored.reviewed["P1"].value, scored.reviewed["P1"].rating) == (50.0, "amber")
    assert scored.reasons["P1"] == "The law is not applied everywhere."
    assert scored.areas["a"].sections["law_policy"].percent == 100.0          # P1 green: 2 of 2
    assert scored.reviewed_areas["a"].sections["law_policy"].percent == 50.0  # P1 amber: 1 of 2


def test_an_auditor_sees_the_approved_institution_only(app, sheets):
    sheet = _sheet(app, "auditor@example.org", sheets)
    assert [row.response.id for row in sheet.rows] == [sheets["first"]]
    assert sheet.own["P1"].value == 75.0 and sheet.reviewed["P1"].value == 50.0


def test_the_pages_show_the_figures_in_every_language(app, client, auth, sheets):
    auth.login("reviewer.rs@example.org")
    for language in ("en", "sq", "sr_Cyrl", "mk", "cnr"):
        client.post("/language", data={"language": language, "csrf_token": auth.token()})
        for path in (f"/reports/responses/{sheets['first']}",
                     f"/reports/cycles/{sheets['cycle']}/countries/{sheets['country']}",
                     f"/reports/cycles/{sheets['cycle']}", f"/reports/countries/{sheets['country']}/trend", "/reports/"):
            page = client.get(path)
            assert page.status_code == 200, (language, path)
            body = page.get_data(as_text=True)
            if "countries" in path and "trend" not in path:
                assert "<svg" in body and "<title" in body and "<desc" in body
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    country = client.get(f"/reports/cycles/{sheets['cycle']}/countries/{sheets['country']}").get_data(as_text=True)
    assert "38%" in country and "sum of numerators ÷ sum of denominators" in country and "60" in country
    institution = client.get(f"/reports/responses/{sheets['first']}").get_data(as_text=True)
    assert "75%" in institution and "50%" in institution and "The law is not applied everywhere." in institution


def test_sheets_respect_the_scope(app, client, auth, sheets, make_user):
    make_user("reviewer.al@example.org", Role.REVIEWER, country="AL")
    auth.login("reviewer.al@example.org")
    assert client.get(f"/reports/responses/{sheets['first']}").status_code == 404
    assert client.get(f"/reports/cycles/{sheets['cycle']}/countries/{sheets['country']}").status_code == 404
    region = client.get(f"/reports/cycles/{sheets['cycle']}").get_data(as_text=True)
    assert FIRST not in region


def test_a_region_sheet_costs_the_same_statements_for_more_countries(app, client, auth, sheets):
    from sqlalchemy import event
    seen = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    auth.login("admin@example.org")
    client.get(f"/reports/cycles/{sheets['cycle']}")
    seen.clear()
    assert client.get(f"/reports/cycles/{sheets['cycle']}").status_code == 200
    assert len(seen) <= 12, seen


def test_another_cycle_is_one_plain_choice_away(app, client, auth, sheets):
    auth.login("reviewer.rs@example.org")
    assert client.get(f"/reports/go?cycle={sheets['cycle']}&country={sheets['country']}").headers["Location"] == \
        f"/reports/cycles/{sheets['cycle']}/countries/{sheets['country']}"
    assert client.get(f"/reports/go?cycle={sheets['cycle']}").headers["Location"] == f"/reports/cycles/{sheets['cycle']}"
    assert client.get("/reports/go?cycle=99999").status_code == 404
    assert client.get("/reports/go").status_code == 404
