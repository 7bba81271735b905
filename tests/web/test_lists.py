"""Lists are paged, filtered and counted, never silently cut, and cost a constant number of
statements per page whatever its length."""
import re
from datetime import date

import pytest
from sqlalchemy import event, insert, select

from app.extensions import db
from app.models import Country, Cycle, CycleStatus, Institution, InstitutionKind, Response, ResponseStatus
from app.services import cycles as cycle_service
from app.services import questionnaires as questionnaire_service
from app.xlsform.source import to_xlsx
from tests.conftest import FORMS


@pytest.fixture
def many(app, demo):
    """``many(n)``: n more Serbian and Albanian institutions with a response each in one open cycle."""
    def build(count: int) -> int:
        with app.app_context():
            data = to_xlsx(FORMS / "types")
            version = questionnaire_service.import_questionnaire(None, data, "types.xlsx", publish=True)
            cycle = cycle_service.save_cycle(None, None, name=f"Big cycle {count}", period_start=date(2026, 1, 1),
                                             period_end=date(2026, 12, 31), deadline=date(2027, 3, 31),
                                             version_id=version.id)
            cycle_service.set_status(None, cycle, CycleStatus.OPEN)
            countries = dict(db.session.execute(select(Country.code, Country.id)).all())
            rows = [{"country_id": countries["RS" if i % 2 else "AL"], "kind": InstitutionKind.OTHER.value,
                     "name": f"Institution {i:04d}", "active": True} for i in range(count)]
            db.session.execute(insert(Institution), rows)
            ids = db.session.scalars(select(Institution.id).where(Institution.name.like("Institution %"))).all()
            db.session.execute(insert(Response), [{"cycle_id": cycle.id, "institution_id": i,
                                                   "status": ResponseStatus.DRAFT.value, "row_version": 1} for i in ids])
            db.session.commit()
            return cycle.id
    return build


def _statements(app):
    seen = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def _list(client, query=""):
    """The list itself (the filters above it name every institution in scope)."""
    return client.get(f"/responses/{query}").get_data(as_text=True).partition('id="response-list"')[2]


def test_the_list_is_paged_and_says_how_many(client, auth, many):
    cycle_id = many(120)
    auth.login("admin@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    assert "Showing 1–50 of 122" in _list(client)   # and the demo's two
    first = _list(client, f"?cycle={cycle_id}")
    assert "Showing 1–50 of 120" in first and first.count('<tr>') - 1 == 50
    last = _list(client, f"?cycle={cycle_id}&page=3")
    assert "Showing 101–120 of 120" in last and last.count("<tr>") - 1 == 20
    assert "Showing 101–120 of 120" in _list(client, f"?cycle={cycle_id}&page=99")   # past the end: the last page
    assert "Institution 0119" in last
    assert re.search(rf'href="/responses/\?[^"]*page=2[^"]*" rel="prev"', last) and f"cycle={cycle_id}" in last
    assert 'aria-current="page"' in last and 'rel="next"' not in last


def test_filters_narrow_the_list_and_the_count(client, auth, many, demo, app):
    cycle_id = many(40)
    auth.login("admin@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    serbia = demo["countries"]["RS"]
    body = _list(client, f"?cycle={cycle_id}&country={serbia}")
    assert "of 20" in body and "Institution 0002" not in body and "Institution 0001" in body
    assert "of 40" in _list(client, f"?cycle={cycle_id}&status=draft")
    assert "There is no response" in _list(client, f"?cycle={cycle_id}&status=approved")
    assert "of 40" in _list(client, f"?cycle={cycle_id}&status=nonsense&country=x")   # a bad filter is none
    fragment = client.get(f"/responses/?cycle={cycle_id}&country={serbia}", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert not text.lstrip().lower().startswith("<!doctype") and 'id="response-list"' in text and "of 20" in text
    assert "HX-Request" in fragment.headers["Vary"]


def test_a_reviewer_sees_only_their_country_counted(client, auth, many):
    many(40)
    auth.login("reviewer.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    body = _list(client)
    assert "Institution 0001" in body
    assert not re.search(r"Institution \d{3}[02468]<", body)   # the Albanian ones (even numbers)


def test_a_page_costs_the_same_statements_for_20_or_200_responses(app, client, auth, many):
    many(200)
    auth.login("admin@example.org")
    seen = _statements(app)
    small = client.get("/responses/?country=999999")   # nothing matches: still one count, one page
    assert small.status_code == 200
    for warm_up in ("?page=1", "?page=4"):   # each questionnaire version is compiled once per process
        client.get(f"/responses/{warm_up}")
    counts = {}
    for size_query in ("?page=1", "?page=4"):
        seen.clear()
        assert client.get(f"/responses/{size_query}").status_code == 200
        counts[size_query] = len(seen)
    home = []
    for _round in range(2):
        seen.clear()
        client.get("/")
        home.append(len(seen))
    assert counts["?page=1"] == counts["?page=4"] <= 12, counts
    assert home[0] == home[1] <= 16, home   # the list, the review queue, where each cycle stands


def test_home_shows_a_few_and_links_to_all(client, auth, many):
    many(30)
    auth.login("admin@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    body = client.get("/").get_data(as_text=True)
    assert "All responses (32)" in body   # and the demo's two
    responses = body.partition('id="responses-heading"')[2]
    assert responses.count("<tr>") - 1 == 10
    assert "Where each cycle stands" in body and "Nothing waits for review." in body
