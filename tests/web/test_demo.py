"""The demo a new user meets on the first run: a reviewed 2025 cycle with sheets, charts and a
trend, and a response waiting for the Serbian reviewer."""
from sqlalchemy import func, select

from app.cli import load_demo
from app.extensions import db
from app.models import Cycle, CycleStatus, Response, ResponseStatus, ReviewedScore, ScoreSnapshot, Thread
from tests.conftest import login


def test_the_demo_shows_the_product(app, client):
    with app.app_context():
        load_demo()
        db.session.commit()
        assert load_demo() == []   # running it again changes nothing
        past = db.session.scalars(select(Cycle).where(Cycle.name == "2025 annual monitoring")).one()
        assert past.status == CycleStatus.CLOSED
        statuses = db.session.scalars(select(Response.status).where(Response.cycle_id == past.id)).all()
        assert len(statuses) == 19 and set(statuses) == {ResponseStatus.APPROVED}
        assert db.session.scalar(select(func.count()).select_from(ReviewedScore)) >= 3
        assert db.session.scalar(select(func.count()).select_from(Thread)) >= 3
        assert db.session.scalar(select(func.count()).select_from(ScoreSnapshot)) >= 38
        current = db.session.scalars(select(Cycle).where(Cycle.name == "2026 annual monitoring")).one()
        waiting = db.session.scalars(select(Response.status).where(Response.cycle_id == current.id)).all()
        assert sorted(waiting) == sorted([ResponseStatus.DRAFT, ResponseStatus.DRAFT, ResponseStatus.SUBMITTED])
        past_id = past.id
    login(client, "reviewer.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": _token(client)})
    home = client.get("/").get_data(as_text=True)
    assert "Waiting for review, longest first" in home and "Ministarstvo unutrašnjih poslova" in home
    client.post("/logout", data={"csrf_token": _token(client)})
    login(client, "auditor@example.org")
    region = client.get(f"/reports/cycles/{past_id}")
    body = region.get_data(as_text=True)
    assert region.status_code == 200 and body.count("<svg") >= 1
    for country in ("Albania", "Serbia", "North Macedonia", "Bosnia and Herzegovina", "Kosovo*"):
        assert country in body, country
    assert "without prejudice to positions on status" in body


def _token(client):
    from tests.conftest import csrf_token
    return csrf_token(client, "/")
