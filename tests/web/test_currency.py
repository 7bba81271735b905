"""Amounts of money in each country's currency: a cycle whose questionnaire asks for amounts
cannot open while a national currency of its institutions has no exchange rate for the period,
and an amount is read in its currency with its value in euro at the cycle's rate."""
import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Answer, Cycle, CycleStatus, Institution
from app.models._base import utcnow
from app.services import cycles, questionnaires
from app.xlsform.source import to_xlsx
from tests.conftest import csrf_token


@pytest.mark.parametrize("text,rates", [
    ("RSD 117.2; MKD 61.5", {"RSD": 117.2, "MKD": 61.5}), ("rsd=117,2\nBAM: 1.95583", {"RSD": 117.2, "BAM": 1.95583}),
    ("", {}),
])
def test_rates_are_read_as_written(text, rates):
    assert cycles.parse_rates(text) == rates


@pytest.mark.parametrize("text", ["RSD", "RSD -5", "XYZ 2", "RSD 0", "117.2 RSD", "RSD 1e400"])
def test_a_rate_that_is_not_a_rate_is_refused(text):
    with pytest.raises(cycles.CycleError) as refused:
        cycles.parse_rates(text)
    assert refused.value.code == "rates_invalid"


def test_the_currency_is_the_one_in_force_in_the_period():
    assert cycles.currency_of("RS", date(2026, 12, 31)) == "RSD"
    assert cycles.currency_of("XK", date(2026, 12, 31)) == "EUR"
    assert (cycles.currency_of("BG", date(2025, 12, 31)), cycles.currency_of("BG", date(2026, 12, 31))) == ("BGN", "EUR")


def test_a_cycle_with_amounts_opens_only_with_every_rate(app, client, auth, demo):
    with app.app_context():
        data = to_xlsx(questionnaires.SHIPPED / "ban_monitoring")
        version = questionnaires.find_version("ban_monitoring") or \
            questionnaires.import_questionnaire(None, data, "ban.xlsx", publish=True)
        cycle = cycles.save_cycle(None, None, name="Rates cycle", period_start=date(2026, 1, 1),
                                  period_end=date(2026, 12, 31), deadline=date(2027, 3, 31), version_id=version.id)
        serbian = db.session.scalars(select(Institution).where(Institution.name == "Republičko javno tužilaštvo")).one()
        cycles.assign_institutions(None, cycle, {serbian.id})
        db.session.commit()
        cycle_id = cycle.id
    auth.login("admin@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    page = client.get(f"/admin/cycles/{cycle_id}").get_data(as_text=True)
    assert "have no exchange rate for the period yet: RSD" in page
    token = csrf_token(client, f"/admin/cycles/{cycle_id}")
    refused = client.post(f"/admin/cycles/{cycle_id}/status", data={"status": "open", "csrf_token": token},
                          follow_redirects=True)
    assert "enter the period's exchange rate of every national currency" in unescape(refused.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Cycle, cycle_id).status == CycleStatus.PLANNED
    fields = {"cycle-name": "Rates cycle", "cycle-period_start": "2026-01-01", "cycle-period_end": "2026-12-31",
              "cycle-deadline": "2027-03-31", "cycle-version_id": str(version.id), "csrf_token": token}
    wrong = client.post(f"/admin/cycles/{cycle_id}", data=fields | {"cycle-rates": "RSD one hundred"})
    assert wrong.status_code == 400 and "such as RSD 117.2; MKD 61.5." in wrong.get_data(as_text=True)
    client.post(f"/admin/cycles/{cycle_id}", data=fields | {"cycle-rates": "RSD 117.2"})
    opened = client.post(f"/admin/cycles/{cycle_id}/status", data={"status": "open", "csrf_token": token},
                         follow_redirects=True)
    assert "Cycle status changed." in opened.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(Cycle, cycle_id)
        assert (stored.status, stored.rates) == (CycleStatus.OPEN, {"RSD": 117.2})


def test_an_amount_is_read_in_its_currency_and_in_euro(app, client, auth, make_response):
    response_id = make_response("ban_monitoring")   # the Serbian coordinator, in a cycle with RSD 117.2
    with app.app_context():
        for path, value in {"if_data": "available", "if_budget_planned": "2344000"}.items():
            db.session.add(Answer(response_id=response_id, path=path, value=value, version=1, updated_at=utcnow()))
        db.session.commit()
    auth.login("official.rs@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    printed = unescape(client.get(f"/responses/{response_id}/print").get_data(as_text=True))
    assert "2,344,000 RSD (≈ €20,000.00 at the cycle's rate)" in printed


def test_the_amount_input_names_the_institutions_currency(app, client, auth, make_response):
    response_id = make_response("ban_monitoring")   # the Serbian coordinator
    with app.app_context():
        db.session.add(Answer(response_id=response_id, path="if_data", value="available", version=1, updated_at=utcnow()))
        db.session.commit()
    auth.login("official.rs@example.org")
    page = next(text for number in range(1, 40)
                for text in [client.get(f"/responses/{response_id}/pages/{number}").get_data(as_text=True)]
                if 'id="q-if_budget_planned-input"' in text)
    field = re.search(r'<input[^>]*id="q-if_budget_planned-input"[^>]*>\s*<span class="unit" id="([^"]+)">RSD</span>', page)
    assert field is not None and f'{field.group(1)}' in re.search(r'aria-describedby="([^"]+)"', field.group(0)).group(1)
    assert 'id="q-if_data-unit"' not in page   # a question that is no amount has none
