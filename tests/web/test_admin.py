import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import (AuditEvent, Country, Cycle, CycleStatus, Institution, Questionnaire,
                        QuestionnaireVersion, Response, User, VersionStatus)


def _option(body: str, label_fragment: str) -> str:
    match = re.search(r'<option value="(\d+)"[^>]*>[^<]*' + re.escape(label_fragment), body)
    assert match, label_fragment
    return match.group(1)


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)))


def test_add_country_validates_and_audits(app, client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/admin/countries")
    before = _audit_count(app)
    bad = client.post("/admin/countries", data={"code": "ZZ", "csrf_token": token})
    assert bad.status_code == 400 and "two-letter ISO 3166" in bad.get_data(as_text=True)
    assert 'aria-describedby="code-hint code-error"' in bad.get_data(as_text=True)
    duplicate = client.post("/admin/countries", data={"code": "rs", "csrf_token": token})
    assert "already listed" in duplicate.get_data(as_text=True)
    assert _audit_count(app) == before
    added = client.post("/admin/countries", data={"code": "bg", "csrf_token": token}, follow_redirects=True)
    assert "Bulgaria" in added.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Country).where(Country.code == "BG")).one()
    assert _audit_count(app) == before + 1


def test_institution_create_edit_and_filter(app, client, demo, auth):
    auth.login("admin@example.org")
    page = client.get("/admin/institutions").get_data(as_text=True)
    token = auth.token("/admin/institutions")
    me = _option(page, "Montenegro (ME)")
    response = client.post("/admin/institutions", data={
        "name": "Vrhovno državno tužilaštvo", "country_id": me, "kind": "prosecution", "active": "y",
        "csrf_token": token})
    assert response.status_code == 302
    clash = client.post("/admin/institutions", data={
        "name": "Vrhovno  državno tužilaštvo", "country_id": me, "kind": "court", "csrf_token": token})
    assert "already exists in that country" in clash.get_data(as_text=True)
    filtered = client.get(f"/admin/institutions?country={me}", headers={"HX-Request": "true"})
    body = filtered.get_data(as_text=True)
    assert "Vrhovno državno tužilaštvo" in body and "Policia e Shtetit" not in body
    assert "<html" not in body  # only the list block
    assert "HX-Request" in filtered.headers["Vary"]
    with app.app_context():
        item = db.session.scalars(select(Institution).where(Institution.name == "Vrhovno državno tužilaštvo")).one()
    response = client.post(f"/admin/institutions/{item.id}", data={
        "name": "Vrhovno državno tužilaštvo Crne Gore", "country_id": me, "kind": "prosecution",
        "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "institution",
                                                             AuditEvent.entity_id == str(item.id))).all()
        assert ("name", "Vrhovno državno tužilaštvo", "Vrhovno državno tužilaštvo Crne Gore") in {
            (e.field, e.old, e.new) for e in events}


def test_roles_add_remove_and_last_admin_kept(app, client, demo, auth):
    auth.login("admin@example.org")
    with app.app_context():
        official = db.session.scalars(select(User).where(User.email == "official.al@example.org")).one().id
        admin = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
        admin_id, admin_role = admin.id, admin.roles[0].id
    page = client.get(f"/admin/users/{official}").get_data(as_text=True)
    token = auth.token(f"/admin/users/{official}")
    al = _option(page, "Albania (AL)")
    response = client.post(f"/admin/users/{official}", data={"role": "reviewer", "country_id": al,
                                                             "institution_id": "", "csrf_token": token})
    assert response.status_code == 302
    again = client.post(f"/admin/users/{official}", data={"role": "reviewer", "country_id": al,
                                                          "institution_id": "", "csrf_token": token})
    assert "already has this role" in again.get_data(as_text=True)
    last = client.post(f"/admin/users/{admin_id}/roles/{admin_role}/remove", data={"csrf_token": token},
                       follow_redirects=True)
    assert "last active administrator" in last.get_data(as_text=True)
    off = client.post(f"/admin/users/{admin_id}/active", data={"csrf_token": token, "active": "0"},
                      follow_redirects=True)
    assert "last active administrator" in off.get_data(as_text=True)


def test_deactivate_and_reactivate_user(app, client, demo, auth):
    auth.login("admin@example.org")
    with app.app_context():
        official = db.session.scalars(select(User).where(User.email == "official.al@example.org")).one().id
    token = auth.token("/admin/users")
    response = client.post(f"/admin/users/{official}/active", data={"csrf_token": token, "active": "0"},
                           follow_redirects=True)
    assert "deactivated" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, official).active is False
    client.post(f"/admin/users/{official}/active", data={"csrf_token": token, "active": "1"})
    with app.app_context():
        assert db.session.get(User, official).active is True


def test_reset_link_shown_when_mail_is_not_configured(app, client, demo, auth):
    auth.login("admin@example.org")
    with app.app_context():
        official = db.session.scalars(select(User).where(User.email == "official.al@example.org")).one().id
    token = auth.token("/admin/users")
    response = client.post(f"/admin/users/{official}/link", data={"csrf_token": token})
    assert response.status_code == 200
    assert "/password/reset/" in response.get_data(as_text=True)


def test_user_search_returns_the_list_block(client, demo, auth):
    auth.login("admin@example.org")
    response = client.get("/admin/users?q=reviewer", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "reviewer.rs@example.org" in body and "auditor@example.org" not in body


def _publish_version(app) -> int:
    with app.app_context():
        questionnaire = Questionnaire(form_id="tiny", title="Tiny")
        version = QuestionnaireVersion(questionnaire=questionnaire, number=1, definition={"survey": []},
                                       status=VersionStatus.PUBLISHED)
        db.session.add(version)
        db.session.commit()
        return version.id


def test_cycle_lifecycle(app, client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/admin/cycles")
    reversed_period = client.post("/admin/cycles", data={
        "name": "2027 annual", "period_start": "2027-12-31", "period_end": "2027-01-01",
        "deadline": "2028-03-01", "version_id": "", "csrf_token": token})
    assert reversed_period.status_code == 400
    assert "must end after it starts" in reversed_period.get_data(as_text=True)
    response = client.post("/admin/cycles", data={
        "name": "2027 annual", "period_start": "2027-01-01", "period_end": "2027-12-31",
        "deadline": "2028-03-01", "version_id": "", "csrf_token": token})
    assert response.status_code == 302
    cycle_path = response.headers["Location"]
    cycle_id = int(cycle_path.rsplit("/", 1)[1])
    # Opening needs a pinned published version.
    refused = client.post(f"{cycle_path}/status", data={"status": "open", "csrf_token": token},
                          follow_redirects=True)
    assert "Pin a published questionnaire version" in refused.get_data(as_text=True)
    version_id = _publish_version(app)
    saved = client.post(cycle_path, data={
        "cycle-name": "2027 annual", "cycle-period_start": "2027-01-01", "cycle-period_end": "2027-12-31",
        "cycle-deadline": "2028-03-01", "cycle-version_id": str(version_id), "cycle-csrf_token": token})
    assert saved.status_code == 302
    with app.app_context():
        ids = [i.id for i in db.session.scalars(select(Institution).order_by(Institution.id)).all()[:3]]
    assigned = client.post(f"{cycle_path}/institutions", data={
        "assign-institution_ids": [str(i) for i in ids], "assign-csrf_token": token})
    assert assigned.status_code == 302
    opened = client.post(f"{cycle_path}/status", data={"status": "open", "csrf_token": token})
    assert opened.status_code == 302
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        assert cycle.status == CycleStatus.OPEN and cycle.questionnaire_version_id == version_id
        assert {r.institution_id for r in db.session.scalars(select(Response).where(Response.cycle_id == cycle_id))} == set(ids)
    # Unassigning keeps the rest; responses of removed institutions go.
    client.post(f"{cycle_path}/institutions", data={"assign-institution_ids": [str(ids[0])], "assign-csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id)).where(Response.cycle_id == cycle_id)) == 1


def test_non_admin_gets_403_on_admin_pages(client, demo, auth):
    auth.login("reviewer.rs@example.org")
    for path in ["/admin/", "/admin/countries", "/admin/institutions", "/admin/users", "/admin/cycles"]:
        response = client.get(path)
        assert response.status_code == 403, path


def test_statuses_of_different_kinds_keep_their_own_names(app):
    from app.models import ResponseStatus
    from app.templating import status_label
    with app.test_request_context():
        assert status_label(ResponseStatus.DRAFT) == "Draft"
        assert status_label(VersionStatus.DRAFT) == "Draft version"


def test_a_cycle_has_a_name_in_each_language_shown_to_each_reader(app, client, auth, demo):
    from app.models import Cycle
    auth.login("admin@example.org")
    with app.app_context():
        cycle_id = db.session.scalars(select(Cycle.id).where(Cycle.name == "2026 annual monitoring")).one()
    page = client.get(f"/admin/cycles/{cycle_id}").get_data(as_text=True)
    assert '<legend>The name in each language (optional)</legend>' in page and 'lang="sq"' in page
    form = {name: value for name, value in re.findall(r'<input[^>]*name="(cycle-[a-z_A-Z]+)"[^>]*value="([^"]*)"', page)}
    form.update({"cycle-period_start": "2026-01-01", "cycle-period_end": "2026-12-31", "cycle-deadline": "2027-03-31",
                 "cycle-version_id": re.search(r'<option selected value="(\d+)"|<option value="(\d+)" selected', page).group(1)
                 or "", "cycle-name_sq": "Monitorimi i vitit 2026", "cycle-name_mk": "",
                 "cycle-csrf_token": auth.token(f"/admin/cycles/{cycle_id}")})
    saved = client.post(f"/admin/cycles/{cycle_id}", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        assert cycle.names["sq"] == "Monitorimi i vitit 2026" and "mk" not in cycle.names
    auth.logout()
    auth.login("official.al@example.org")   # reads Albanian
    assert "Monitorimi i vitit 2026" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("official.rs@example.org")   # reads sr-Latn: the demo's own Serbian name
    assert "Godišnje praćenje 2026" in client.get("/").get_data(as_text=True)
