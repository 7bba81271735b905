"""Two Serbian institutions of different kinds — the national coordinator's office and the police —
answer the shipped BAN questionnaire: each is asked its own questions, and the country sheet's
figures are made of the responsible kind's answers (nothing counted twice, the law answered
once), with the rule and how many indicators were rated shown beside them."""
import pytest
from sqlalchemy import select

from app import demo as demo_data
from app.extensions import db
from app.models import Country, Cycle, Response, Role, User
from app.services import reports, responses, review
from tests.html_checks import parse, text_of

COORDINATOR = "Centar za zaštitu žrtava trgovine ljudima"   # the demo's Serbian national coordinator
POLICE = "Ministarstvo unutrašnjih poslova"


def _answered(email, response_id, seed):
    user = db.session.scalars(select(User).where(User.email == email)).one()
    response = db.session.get(Response, response_id)
    demo_data.fill(user, response, seed, 0.6)
    assert review.submit(user, responses.load(response)) == []
    db.session.commit()
    return responses.load(response)


@pytest.fixture
def country(app, make_response, make_user, demo):
    coordinator = make_response("ban_monitoring", institution=COORDINATOR)
    police = make_response("ban_monitoring", institution=POLICE)
    make_user("official.mup@example.org", Role.RESPONDENT, institution=demo["institutions"][POLICE])
    with app.app_context():
        first = _answered("official.rs@example.org", coordinator, "coordinator")
        second = _answered("official.mup@example.org", police, "police")
        asked = {kind: {node.name for node, _index, path in loaded.state.input_paths() if loaded.state.is_relevant(path)}
                 for kind, loaded in (("coordinator", first), ("police", second))}
        answers = {kind: {path: stored.value for path, stored in loaded.answers.items()}
                   for kind, loaded in (("coordinator", first), ("police", second))}
        cycle = db.session.get(Response, coordinator).cycle_id
        rs = db.session.scalars(select(Country.id).where(Country.code == "RS")).one()
    return {"asked": asked, "answers": answers, "cycle": cycle, "country": rs, "police": police}


def test_each_kind_is_asked_its_own_questions(country):
    coordinator, police = country["asked"]["coordinator"], country["asked"]["police"]
    assert "ip_definition" in coordinator and "ip_definition" not in police     # the law: the coordinator's
    assert "ip_investigations" in police and "ip_investigations" not in coordinator
    assert "id_presumed" in coordinator and "id_presumed" not in police
    assert "co_claims" not in coordinator | police                            # the courts'
    assert "contact_name" in coordinator & police


def test_the_country_sheet_follows_the_responsible_kind(app, client, auth, country):
    police = country["answers"]["police"]
    coordinator = country["answers"]["coordinator"]
    with app.app_context():
        reviewer = db.session.scalars(select(User).where(User.email == "reviewer.rs@example.org")).one()
        sheet = reports.country_sheet(reviewer, db.session.get(Cycle, country["cycle"]),
                                      db.session.get(Country, country["country"]))
    assert len(sheet.counted) == 2
    # IP10 from the police alone; ID4 from the coordinator's register alone (nothing summed twice).
    if police.get("ip_police_data") == "available":
        expected = float(police["ip_financial_cases"]) / float(police["ip_investigations"]) * 100
        assert sheet.own["IP10"].value == pytest.approx(expected)
    identified = sum(float(coordinator[f"id_{who}"]) for who in ("women", "men", "girls", "boys"))
    assert sheet.own["ID4"].numerator == identified
    assert sheet.own["ID4"].denominator == float(coordinator["id_presumed"])
    assert sheet.own["CO6"].reason == "no_responsible"                       # no court answered
    police_row = next(row for row in sheet.rows if row.response.institution.name == POLICE)
    assert police_row.own["IP1"].reason == "not_responsible"                  # not the police's to answer

    auth.login("reviewer.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    page = client.get(f"/reports/cycles/{country['cycle']}/countries/{country['country']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "sum of numerators ÷ sum of denominators, over: Police" in html
    assert "no figures yet from the kind of institution responsible" in html
    document = parse(html)
    rated = sum(1 for result in sheet.reviewed.values() if result.rating)
    assert 0 < rated < len(sheet.form.indicators)   # two kinds of seven: far from every indicator
    assert f"{rated} of {len(sheet.form.indicators)} indicators rated" in text_of(document)


def test_a_reviewer_cannot_score_an_indicator_of_another_kind(app, country):
    with app.app_context():
        reviewer = db.session.scalars(select(User).where(User.email == "reviewer.rs@example.org")).one()
        with pytest.raises(review.ReviewError) as refused:
            review.set_reviewed_score(reviewer, country["police"], "IP1", 50.0, "The law is not applied.")
        assert refused.value.code == "indicator_not_theirs"
        db.session.rollback()
        review.set_reviewed_score(reviewer, country["police"], "IP5", 50.0, "Financial investigations are rare.")
        db.session.commit()
        assert review.reviewed_scores(country["police"])["IP5"].value == 50.0


def test_the_review_page_lists_only_the_indicators_of_the_institution(client, auth, country):
    auth.login("reviewer.rs@example.org")
    page = client.get(f"/review/{country['police']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="indicator-IP10"' in html and 'id="indicator-IP1"' not in html
