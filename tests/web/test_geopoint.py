"""A geopoint is two inputs, latitude and longitude, checked and stored as ODK writes it; a
geotrace or geoshape is written out as text, with a warning."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Answer
from app.services import questionnaires
from app.xlsform.values import InputError, parse_input
from tests.conftest import csrf_token, login


@pytest.fixture
def geo(app, client, make_response):
    response_id = make_response("geo")
    login(client, "official.rs@example.org")
    token = csrf_token(client, f"/responses/{response_id}/pages/1")
    client.post("/language", data={"language": "en", "csrf_token": token})
    return response_id, token


def _save(client, response_id, token, latitude, longitude):
    return client.post(f"/responses/{response_id}/pages/1", data={
        "csrf_token": token, "p:shelter_location": "1", "v:shelter_location": "0",
        "a:shelter_location": [latitude, longitude]})


def _stored(app, response_id):
    with app.app_context():
        return db.session.scalar(select(Answer.value).where(Answer.response_id == response_id,
                                                            Answer.path == "shelter_location"))


def test_a_geopoint_is_two_labelled_inputs_saved_as_latitude_and_longitude(app, client, geo):
    response_id, token = geo
    page = client.get(f"/responses/{response_id}/pages/1").get_data(as_text=True)
    assert '<fieldset class="geopoint"' in page and "<legend>" in page
    assert re.search(r'<label for="q-shelter_location-latitude">Latitude</label>', page)
    assert re.search(r'<label for="q-shelter_location-longitude">Longitude</label>', page)
    saved = _save(client, response_id, token, "42,4411", "19.2636")
    assert saved.status_code in (200, 302), saved.get_data(as_text=True)[:500]
    assert _stored(app, response_id) == "42.4411 19.2636"
    again = client.get(f"/responses/{response_id}/pages/1").get_data(as_text=True)
    assert 'value="42.4411"' in again and 'value="19.2636"' in again


@pytest.mark.parametrize("latitude,longitude,message", [
    ("91", "19", "A latitude is from -90 to 90."), ("42", "-190", "A longitude is from -180 to 180."),
    ("north", "19", "Enter a latitude and a longitude in decimal degrees"), ("42.1", "", "Enter a latitude and a longitude"),
])
def test_a_point_off_the_globe_is_refused_with_a_message_and_nothing_is_stored(app, client, geo, latitude, longitude,
                                                                              message):
    response_id, token = geo
    refused = _save(client, response_id, token, latitude, longitude)
    assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert _stored(app, response_id) is None


def test_geo_types_in_the_definition(app):
    from app.xlsform.source import to_xlsx
    from tests.conftest import FORMS
    definition, issues = questionnaires.check(to_xlsx(FORMS / "geo"))
    assert not [i for i in issues if not i.warning], issues
    assert [(i.code, i.row, i.params.get("type")) for i in issues if i.code == "geo_as_text"] == [("geo_as_text", 3,
                                                                                                  "geotrace")]
    form = questionnaires.CompiledForm(definition)
    node = form.by_name["shelter_location"]
    assert parse_input(form, node, ["-33.8688", "151.2093"]) == "-33.8688 151.2093"
    assert parse_input(form, node, "42.44, 19.26 35 4") == "42.44 19.26 35 4"   # ODK's altitude and accuracy kept
    assert parse_input(form, node, ["", ""]) == ""
    with pytest.raises(InputError):
        parse_input(form, node, "42.44")
    assert form.by_name["route"].type == "text"


def test_autosave_takes_both_coordinates_at_once(app, client, geo):
    response_id, token = geo
    saved = client.post(f"/responses/{response_id}/answer", data={
        "path": "shelter_location", "page": "1", "p:shelter_location": "1", "v:shelter_location": "0",
        "a:shelter_location": ["41.9981", "21.4254"]}, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert saved.status_code == 200 and "<html" not in saved.get_data(as_text=True)
    assert _stored(app, response_id) == "41.9981 21.4254"
