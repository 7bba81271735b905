import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Questionnaire, QuestionnaireVersion, VersionStatus
from app.models.questionnaire import PublishedVersionImmutable
from tests.xlsform_builders import HOSTILE, sample_xlsx, workbook


def _upload(client, token, data: bytes, name="form.xlsx"):
    return client.post("/questionnaires/", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _uploaded(client, token, data: bytes, name: str) -> int:
    """Upload a questionnaire that is stored; the id of the version it became."""
    response = _upload(client, token, data, name)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def test_upload_preview_publish_download(app, client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    response = _upload(client, token, sample_xlsx(), "sample.xlsx")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    body = page.get_data(as_text=True)
    assert "Sample monitoring" in body and "Draft version" in body
    for text in ("Identification", "Shelter", "Compensation and legal redress", "Shqip (sq)", "English (en)"):
        assert text in body, text
    assert "100%" in body  # both languages complete
    with app.app_context():
        version = db.session.scalars(select(QuestionnaireVersion).join(Questionnaire)
                                     .where(Questionnaire.form_id == "sample_monitoring")).one()
        version_id = version.id
    asked = client.get(f"/questionnaires/versions/{version_id}/publish")
    assert asked.status_code == 200 and "can never change again" in asked.get_data(as_text=True)
    unconfirmed = client.post(f"/questionnaires/versions/{version_id}/publish", data={"csrf_token": token})
    assert unconfirmed.status_code == 200 and "can never change again" in unconfirmed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(QuestionnaireVersion, version_id).status == VersionStatus.DRAFT
    published = client.post(f"/questionnaires/versions/{version_id}/publish",
                            data={"csrf_token": token, "confirm": "yes"}, follow_redirects=True)
    assert "is published" in published.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(QuestionnaireVersion, version_id).status == VersionStatus.PUBLISHED
    original = client.get(f"/questionnaires/versions/{version_id}/upload.xlsx")
    assert original.data == sample_xlsx() or original.data[:2] == b"PK"
    exported = client.get(f"/questionnaires/versions/{version_id}/xlsform.xlsx")
    book = load_workbook(io.BytesIO(exported.data), read_only=True)
    assert {"survey", "choices", "settings", "indicators", "areas"} <= set(book.sheetnames)
    book.close()
    # The same file again is recognised; a changed one with the same form_id is the next version.
    same = _upload(client, token, sample_xlsx(), "sample-again.xlsx")
    text = same.get_data(as_text=True)
    assert same.status_code == 409 and "nothing was stored" in text and f"/questionnaires/versions/{version_id}" in text
    again = _upload(client, token, _changed_sample(), "sample-2.xlsx")
    assert again.status_code == 302
    with app.app_context():
        numbers = sorted(db.session.scalars(select(QuestionnaireVersion.number).join(Questionnaire)
                                            .where(Questionnaire.form_id == "sample_monitoring")))
    assert numbers == [1, 2]


@pytest.mark.parametrize("name", ["not_xlsx", "zip_bomb", "xlsm_macros", "formula", "duplicate_headers", "cell_5mb",
                                  "malformed_xml", "groups_1000", "regex_bomb", "regex_380_calls", "range_nan", "loop_bomb"])
def test_bad_files_show_located_errors_and_store_nothing(app, client, demo, auth, name):
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    questionnaires_before = _count(app, Questionnaire)
    events_before = _count(app, AuditEvent)
    response = _upload(client, token, HOSTILE[name](), f"{name}.xlsx")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "was not stored" in body and 'class="issue-error"' in body
    assert _count(app, Questionnaire) == questionnaires_before
    assert _count(app, AuditEvent) == events_before


def test_formula_error_names_sheet_row_and_column(client, demo, auth):
    auth.login("admin@example.org")
    response = _upload(client, auth.token("/questionnaires/"), HOSTILE["formula"]())
    body = response.get_data(as_text=True)
    assert "<td>survey</td><td>2</td><td>C</td>" in body
    assert "This formula has no saved value" in body


def test_errors_are_shown_in_the_user_language(client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    client.post("/language", data={"language": "sq", "csrf_token": token})
    response = _upload(client, token, HOSTILE["not_xlsx"]())
    assert "Ky nuk është një libër pune Excel (.xlsx)." in response.get_data(as_text=True)


def test_published_versions_cannot_change(app, demo):
    with app.app_context():
        version = db.session.scalars(select(QuestionnaireVersion).where(
            QuestionnaireVersion.status == VersionStatus.PUBLISHED)).first()
        version.label = "tampered"
        with pytest.raises(PublishedVersionImmutable):
            db.session.flush()
        db.session.rollback()


def test_only_admins_manage_questionnaires(client, demo, auth):
    auth.login("reviewer.rs@example.org")
    assert client.get("/questionnaires/").status_code == 403


def test_cli_check_import_export(app, runner, tmp_path, demo):
    good = tmp_path / "sample.xlsx"
    good.write_bytes(sample_xlsx())
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(HOSTILE["formula"]())
    ok = runner.invoke(args=["questionnaire", "check", str(good)])
    assert ok.exit_code == 0 and "valid" in ok.output
    refused = runner.invoke(args=["questionnaire", "check", str(bad)])
    assert refused.exit_code == 1
    assert "survey, row 2, column C: This formula has no saved value" in refused.output
    assert runner.invoke(args=["questionnaire", "import", str(bad)]).exit_code == 1
    imported = runner.invoke(args=["questionnaire", "import", str(good), "--publish"])
    assert imported.exit_code == 0 and "version 1 (published)" in imported.output
    out = tmp_path / "out.xlsx"
    exported = runner.invoke(args=["questionnaire", "export", "sample_monitoring:1", "-o", str(out)])
    assert exported.exit_code == 0
    assert runner.invoke(args=["questionnaire", "check", str(out)]).exit_code == 0
    missing = runner.invoke(args=["questionnaire", "export", "nope", "-o", str(out)])
    assert missing.exit_code != 0 and "no questionnaire nope" in missing.output


def test_shipped_questionnaires_check_from_both_source_forms(runner, tmp_path):
    from app.xlsform.source import to_xlsx
    from tests.xlsform_builders import SHIPPED
    for name in ("ban_monitoring", "kbf_reintegration"):
        assert runner.invoke(args=["questionnaire", "check", str(SHIPPED / name)]).exit_code == 0
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(to_xlsx(SHIPPED / name))
        assert runner.invoke(args=["questionnaire", "check", str(path)]).exit_code == 0


def test_a_form_without_form_id_is_named_after_its_file_and_the_version_page_says_so(app, client, demo, auth):
    from tests.xlsform_builders import workbook
    auth.login("admin@example.org")
    client.post("/language", data={"language": "sr_Cyrl", "csrf_token": auth.token("/")})
    data = workbook([["type", "name", "label"], ["text", "q1", "Питање"]], settings=[["form_title"], ["Листа"]])
    response = _upload(client, auth.token("/questionnaires/"), data, "Checklist 2026.xlsx")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "У подешавањима нема form_id: користи се „Checklist_2026”, из имена датотеке." in body
    with app.app_context():
        assert db.session.scalars(select(Questionnaire.form_id).where(Questionnaire.form_id == "Checklist_2026")).one()


def _changed_sample(rescored: bool = False) -> bytes:
    from app.xlsform.definition import build, to_sheets
    from app.xlsform.workbook import read_workbook, write_workbook
    sheets, _warnings = read_workbook(sample_xlsx())
    definition, _issues = build(sheets)
    definition["title"] = definition["title"] + " (revised)"
    definition["settings"]["form_title"] = definition["title"]
    if rescored:
        scored = next(choice for choice in definition["choices"] if choice.get("score"))
        scored["score"] = str(float(scored["score"]) + 1)
    return write_workbook(to_sheets(definition))


def test_a_draft_can_be_discarded_after_a_confirmation_and_a_published_version_cannot(app, client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    first_id = _uploaded(client, token, sample_xlsx(), "sample.xlsx")
    client.post(f"/questionnaires/versions/{first_id}/publish", data={"csrf_token": token, "confirm": "yes"})
    draft_id = _uploaded(client, token, _changed_sample(), "sample-2.xlsx")
    page = client.get(f"/questionnaires/versions/{draft_id}").get_data(as_text=True)
    assert f"/questionnaires/versions/{draft_id}/discard" in page
    asked = client.get(f"/questionnaires/versions/{draft_id}/discard")
    assert asked.status_code == 200 and "Discard draft version 2?" in asked.get_data(as_text=True)
    assert client.post(f"/questionnaires/versions/{draft_id}/discard", data={"confirm": "yes"}).status_code == 400
    done = client.post(f"/questionnaires/versions/{draft_id}/discard", data={"csrf_token": token, "confirm": "yes"},
                       follow_redirects=True)
    assert "is discarded" in done.get_data(as_text=True)
    refused = client.post(f"/questionnaires/versions/{first_id}/discard", data={"csrf_token": token, "confirm": "yes"},
                          follow_redirects=True)
    assert "Only a draft can be discarded" in refused.get_data(as_text=True)
    assert f"/questionnaires/versions/{first_id}/discard" not in client.get(
        f"/questionnaires/versions/{first_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(QuestionnaireVersion, draft_id) is None
        assert db.session.get(QuestionnaireVersion, first_id).status == VersionStatus.PUBLISHED
        actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("questionnaire.%"))))
        assert actions.count("questionnaire.version_discard") == 1


def test_discarding_the_only_version_removes_the_questionnaire(app, client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    draft_id = _uploaded(client, token, sample_xlsx(), "sample.xlsx")
    client.post(f"/questionnaires/versions/{draft_id}/discard", data={"csrf_token": token, "confirm": "yes"})
    with app.app_context():
        assert not db.session.scalars(select(Questionnaire).where(Questionnaire.form_id == "sample_monitoring")).all()
        assert "questionnaire.delete" in list(db.session.scalars(select(AuditEvent.action)))


def test_the_preview_shows_each_page_as_a_respondent_sees_it_in_any_of_its_languages(app, client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    version_id = _uploaded(client, token, sample_xlsx(), "sample.xlsx")
    assert f"/questionnaires/versions/{version_id}/preview/1" in client.get(
        f"/questionnaires/versions/{version_id}").get_data(as_text=True)
    english = client.get(f"/questionnaires/versions/{version_id}/preview/1")
    text = english.get_data(as_text=True)
    assert english.status_code == 200 and "Are standard operating procedures for identification in force?" in text
    assert 'id="q-presumed' in text and " disabled" in text and "hx-post" not in text and "History of this answer" not in text
    albanian = client.get(f"/questionnaires/versions/{version_id}/preview/1?lang=sq").get_data(as_text=True)
    assert "A janë në fuqi procedurat standarde të identifikimit?" in albanian
    assert "Identification" in client.get(f"/questionnaires/versions/{version_id}/preview/1?lang=xx").get_data(
        as_text=True)   # an unknown language: the interface's
    last = len(questionnaires_pages(app, version_id))
    assert client.get(f"/questionnaires/versions/{version_id}/preview/{last}").status_code == 200
    assert client.get(f"/questionnaires/versions/{version_id}/preview/{last + 1}").status_code == 404
    assert client.get(f"/questionnaires/versions/{version_id}/preview/0").status_code == 404
    auth.logout()
    auth.login("auditor@example.org")
    assert client.get(f"/questionnaires/versions/{version_id}/preview/1").status_code in (403, 404)


def questionnaires_pages(app, version_id):
    from app.services import questionnaires as service
    with app.app_context():
        return service.compiled(db.session.get(QuestionnaireVersion, version_id)).pages


def test_a_new_version_shows_what_changed_since_the_one_before(app, client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    first = _uploaded(client, token, sample_xlsx(), "sample.xlsx")
    assert "Changes since version" not in client.get(f"/questionnaires/versions/{first}").get_data(as_text=True)
    second = _uploaded(client, token, _changed_sample(), "sample-2.xlsx")
    page = client.get(f"/questionnaires/versions/{second}").get_data(as_text=True)
    assert "Changes since version 1" in page and "Changed: title" in page
    assert "alter how responses are scored" not in page   # a new title scores nothing differently
    third = _uploaded(client, token, _changed_sample(rescored=True), "sample-3.xlsx")
    page = client.get(f"/questionnaires/versions/{third}").get_data(as_text=True)
    assert "Changes since version 2" in page and "Changed: score" in page and "changes scores" in page
    assert "alter how responses are scored" in page


def test_an_old_excel_questionnaire_is_uploaded_and_given_back_as_it_came(app, client, demo, auth):
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    data = (Path(__file__).resolve().parents[1] / "data" / "xls" / "sample.xls").read_bytes()
    uploaded = _upload(client, token, data, "Monitoring 2019.xls")
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:1000]
    page = client.get(uploaded.headers["Location"]).get_data(as_text=True)
    assert "Sample monitoring" in page and "Draft version" in page
    with app.app_context():
        version_id = db.session.scalars(select(QuestionnaireVersion.id).join(Questionnaire)
                                        .where(Questionnaire.form_id == "sample_monitoring")).one()
    original = client.get(f"/questionnaires/versions/{version_id}/upload.xlsx")
    assert original.data == data and original.mimetype == "application/vnd.ms-excel"
    assert "Monitoring 2019.xls" in original.headers["Content-Disposition"]
    form = client.get("/questionnaires/").get_data(as_text=True)
    assert "XLSForm workbook (.xlsx, .xls or .ods)" in form


def test_a_form_in_one_language_is_not_marked_untranslated(app, client, demo, auth):
    """Texts without a language (plain ``label``), or in the form's only language, are what
    there is: no "(not translated)" on each; a text in a language other than the reader's says
    which, and a language without a real code (``default``) is never written as one."""
    auth.login("admin@example.org")
    token = auth.token("/questionnaires/")
    plain = _uploaded(client, token, workbook([["type", "name", "label"], ["text", "q1", "Question one"]]), "plain.xlsx")
    page = client.get(f"/questionnaires/versions/{plain}/preview/1?lang=sq").get_data(as_text=True)
    assert "Question one" in page and "(not translated)" not in page and 'lang="default"' not in page
    english = _uploaded(client, token, workbook([["type", "name", "label::English (en)"], ["text", "q1", "Question"]],
                                                settings=[["form_id"], ["english_only"]]), "english.xlsx")
    client.post("/language", data={"language": "sq", "csrf_token": token})
    page = client.get(f"/questionnaires/versions/{english}/preview/1").get_data(as_text=True)
    assert '<span lang="en">Question</span>' in page and "(i papërkthyer)" not in page
    page = client.get(f"/questionnaires/versions/{plain}/preview/1").get_data(as_text=True)
    assert "<span>Question one</span>" in page and 'lang="default"' not in page


def test_times_are_shown_in_central_european_time(app, client, demo, auth):
    """Stored in UTC, read where the users are: 10:00 UTC is 11:00 in January, 12:00 in July."""
    from datetime import datetime, timezone
    auth.login("admin@example.org")
    version_id = _uploaded(client, auth.token("/questionnaires/"), sample_xlsx(), "sample.xlsx")
    for moment, shown in ((datetime(2026, 1, 15, 10, 0, tzinfo=timezone.utc), "11:00:00"),
                          (datetime(2026, 7, 15, 10, 0, tzinfo=timezone.utc), "12:00:00")):
        with app.app_context():
            db.session.get(QuestionnaireVersion, version_id).created_at = moment
            db.session.commit()
        assert shown in client.get(f"/questionnaires/versions/{version_id}").get_data(as_text=True)
