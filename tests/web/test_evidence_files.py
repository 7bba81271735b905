"""Evidence documents as answers (XLSForm image, audio, video, file): uploaded with or without
JavaScript, checked (size, type, content) before anything is kept, stored under their content
hash where every node sees them, served only through a response the user may read, and
listed in the history and in exports by name."""
import hashlib
import io
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, EvidenceBlob, EvidenceFile, Response, ResponseStatus
from tests.conftest import csrf_token, login
from tests.html_checks import by_id, parse, text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def filled(app, client, make_response):
    response_id = make_response("evidence")
    login(client, "official.rs@example.org")
    token = csrf_token(client, f"/responses/{response_id}/pages/1")
    client.post("/language", data={"language": "en", "csrf_token": token})
    return response_id, token


def _upload_page(client, response_id, token, path="protocol", content=PDF, filename="Protokol 2026.pdf", **extra):
    with client.application.app_context():   # the answer's version, as the page carries it
        version = db.session.scalar(select(Answer.version).where(Answer.response_id == response_id,
                                                                 Answer.path == path)) or 0
    data = {"csrf_token": token, f"p:{path}": "1", f"v:{path}": str(version), **extra}
    if content is not None:
        data[f"a:{path}"] = (io.BytesIO(content), filename)
    return client.post(f"/responses/{response_id}/pages/1", data=data, content_type="multipart/form-data")


def _stored(app, response_id, path="protocol"):
    with app.app_context():
        return db.session.scalar(select(Answer.value).where(Answer.response_id == response_id, Answer.path == path))


def _kept(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(EvidenceFile)),
                db.session.scalar(select(func.count()).select_from(EvidenceBlob)))


def test_a_document_uploaded_without_javascript_is_kept_under_its_hash_and_shown_by_its_name(app, client, filled):
    response_id, token = filled
    page = parse(client.get(f"/responses/{response_id}/pages/1").get_data(as_text=True))
    form = by_id(page, "page-form")
    assert form.get("enctype") == "multipart/form-data"
    field = form.find(".//input[@name='a:protocol']")
    assert field.get("type") == "file" and ".pdf" in field.get("accept") and ".exe" not in field.get("accept")
    assert text_of(page.find(f".//label[@for='{field.get('id')}']")).startswith("The signed protocol")
    assert "q-protocol-limits" in field.get("aria-describedby")
    assert "At most 10 MB" in text_of(by_id(page, "q-protocol-limits"))

    saved = _upload_page(client, response_id, token)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    assert _stored(app, response_id) == hashlib.sha256(PDF).hexdigest() + ".pdf"
    again = parse(client.get(f"/responses/{response_id}/pages/1").get_data(as_text=True))
    link = by_id(again, "q-protocol-file").find(".//a")
    assert text_of(link) == "Protokol 2026.pdf"
    assert again.find(".//input[@name='x:protocol']") is not None    # it can be removed
    assert by_id(again, "q-notes") is not None and by_id(again, "q-notes").get("hidden") is None   # relevance sees it

    download = client.get(link.get("href"))
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_an_image_is_saved_by_autosave_and_opens_in_the_browser(app, client, filled):
    response_id, token = filled
    saved = client.post(f"/responses/{response_id}/answer", data={
        "path": "photo", "page": "1", "p:photo": "1", "v:photo": "0", "a:photo": (io.BytesIO(PNG), "board.png")},
        headers={"HX-Request": "true", "X-CSRFToken": token}, content_type="multipart/form-data")
    assert saved.status_code == 200, saved.get_data(as_text=True)[:800]
    assert "<html" not in saved.get_data(as_text=True)
    assert _stored(app, response_id, "photo").endswith(".png")
    shown = client.get(f"/responses/{response_id}/files/{_stored(app, response_id, 'photo')}")
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline")


@pytest.mark.parametrize("content,filename,message", [
    (b"MZ\x90\x00" + b"\x00" * 100, "protocol.exe", "This kind of file is not accepted here. Accepted: .pdf"),
    (b"MZ\x90\x00" + b"\x00" * 100, "protocol.pdf", "The file's content is not what its name says (.pdf)"),
    (b"<svg onload='alert(1)'/>", "drawing.svg", "This kind of file is not accepted here"),
    (b"", "empty.pdf", "The file is empty"),
])
def test_a_refused_file_says_why_and_nothing_is_stored(app, client, filled, content, filename, message):
    response_id, token = filled
    refused = _upload_page(client, response_id, token, content=content, filename=filename)
    page = parse(refused.get_data(as_text=True))
    assert refused.status_code == 400 and message in text_of(page)
    assert by_id(page, "q-protocol-error") is not None
    assert "q-protocol-error" in page.find(".//input[@name='a:protocol']").get("aria-describedby")
    assert _stored(app, response_id) is None and _kept(app) == (0, 0)


def test_a_file_over_the_configured_limit_is_refused_by_autosave_and_nothing_is_stored(app, client, filled):
    response_id, token = filled
    app.config["EVIDENCE_MAX_BYTES"] = 1000
    refused = client.post(f"/responses/{response_id}/answer", data={
        "path": "protocol", "page": "1", "p:protocol": "1", "v:protocol": "0",
        "a:protocol": (io.BytesIO(PDF + b"0" * 2000), "big.pdf")},
        headers={"HX-Request": "true", "X-CSRFToken": token}, content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "The file is too large: at most 1 kB." in refused.get_data(as_text=True)
    assert _stored(app, response_id) is None and _kept(app) == (0, 0)


def test_a_locked_response_takes_no_file(app, client, filled):
    response_id, token = filled
    with app.app_context():
        db.session.get(Response, response_id).status = ResponseStatus.SUBMITTED
        db.session.commit()
    refused = _upload_page(client, response_id, token)
    assert refused.status_code == 302
    assert "read-only" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert _stored(app, response_id) is None and _kept(app) == (0, 0)


def test_a_name_posted_instead_of_a_file_is_refused(app, client, filled):
    """No one can point an answer at a file of another response by posting its name."""
    response_id, token = filled
    forged = client.post(f"/responses/{response_id}/answer", data={
        "path": "protocol", "page": "1", "p:protocol": "1", "v:protocol": "0", "x:protocol": "",
        "a:protocol": "a" * 64 + ".pdf"}, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert forged.status_code == 200 and _stored(app, response_id) is None   # no file sent: nothing changes
    from app.services import responses
    with app.app_context():
        loaded = responses.load(db.session.get(Response, response_id))
        from app.models import User
        official = db.session.scalars(select(User).where(User.email == "official.rs@example.org")).one()
        saved = responses.save_answers(official, loaded, {"protocol": responses.Submitted("a" * 64 + ".pdf", None, 0)})
        assert saved.rejected and saved.outcomes["protocol"].code == "unknown_file"
        db.session.rollback()


def test_files_are_served_only_through_a_response_the_user_may_read(app, client, filled, make_response):
    response_id, token = filled
    _upload_page(client, response_id, token)
    name = _stored(app, response_id)
    url = f"/responses/{response_id}/files/{name}"
    assert client.get(url).status_code == 200
    assert client.get(f"/responses/{response_id}/files/{'0' * 64}.pdf").status_code == 404
    assert client.get(f"/responses/{response_id}/files/..%2F..%2Fetc%2Fpasswd").status_code == 404
    other = make_response("evidence", cycle="Another cycle")   # the same official's other response
    assert client.get(f"/responses/{other}/files/{name}").status_code == 404   # not uploaded there
    client.post("/logout", data={"csrf_token": token})
    login(client, "official.al@example.org")
    assert client.get(url).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "reviewer.rs@example.org")
    assert client.get(url).status_code == 200


def test_removing_a_file_empties_the_answer_and_the_history_keeps_both_names(app, client, filled):
    response_id, token = filled
    _upload_page(client, response_id, token)
    first = _stored(app, response_id)
    _upload_page(client, response_id, token, content=PDF + b"% second\n", filename="Protokol, potpisan.pdf")
    assert _stored(app, response_id) != first
    removed = _upload_page(client, response_id, token, content=None, **{"x:protocol": "1"})
    assert removed.status_code == 302 and _stored(app, response_id) == ""
    history = parse(client.get(f"/responses/{response_id}/history?path=protocol").get_data(as_text=True))
    text = text_of(history)
    assert "Protokol 2026.pdf" in text and "Protokol, potpisan.pdf" in text
    assert first not in text   # the hash is not what a person reads
    links = [a.get("href") for a in history.iter("a") if "/files/" in (a.get("href") or "")]
    assert f"/responses/{response_id}/files/{first}" in links
    assert client.get(f"/responses/{response_id}/files/{first}").data == PDF   # an earlier file stays readable


def test_a_shared_directory_holds_each_content_once_outside_the_web_root(app, client, filled, tmp_path):
    response_id, token = filled
    app.config["EVIDENCE_DIRECTORY"] = str(tmp_path / "evidence")
    _upload_page(client, response_id, token)
    _upload_page(client, response_id, token, path="photo", content=PNG, filename="board.png")
    digest = hashlib.sha256(PDF).hexdigest()
    assert (tmp_path / "evidence" / digest[:2] / digest).read_bytes() == PDF
    assert _kept(app) == (2, 0)   # rows, no bytes in the database
    with client.get(f"/responses/{response_id}/files/{digest}.pdf") as served:
        assert served.data == PDF
    assert not any(Path(app.static_folder).rglob(digest))


def test_an_s3_store_holds_the_files(app, client, filled, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="matrica-evidence")
        app.config["EVIDENCE_S3_URL"] = "s3://matrica-evidence/uploads"
        response_id, token = filled
        _upload_page(client, response_id, token)
        digest = hashlib.sha256(PDF).hexdigest()
        stored = boto3.client("s3").get_object(Bucket="matrica-evidence",
                                                                          Key=f"uploads/{digest}")
        assert stored["Body"].read() == PDF and stored["ContentType"] == "application/pdf"
        assert _kept(app) == (1, 0)
        assert client.get(f"/responses/{response_id}/files/{digest}.pdf").data == PDF


def test_exports_name_the_files_as_uploaded(app, client, filled, runner, tmp_path):
    response_id, token = filled
    _upload_page(client, response_id, token)
    with app.app_context():
        cycle = db.session.get(Response, response_id).cycle_id
        institution = db.session.get(Response, response_id).institution_id
    raw = tmp_path / "raw.xlsx"
    result = runner.invoke(args=["export", "raw", "--cycle", str(cycle), "-o", str(raw)])
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(raw)["Responses"].iter_rows(values_only=True))
    column = rows[0].index("protocol")
    assert [row[column] for row in rows[1:]] == ["Protokol 2026.pdf"]
    book = tmp_path / "institution.xlsx"
    result = runner.invoke(args=["export", "institution", "--cycle", str(cycle), "--institution", str(institution),
                                 "-o", str(book)])
    assert result.exit_code == 0, result.output
    cells = [value for sheet in load_workbook(book) for row in sheet.iter_rows(values_only=True) for value in row]
    assert "Protokol 2026.pdf" in cells and _stored(app, response_id) not in cells


def test_a_request_over_the_size_bound_is_said_in_the_status_line_or_on_an_error_page(app, client, filled):
    response_id, token = filled
    app.config["MAX_CONTENT_LENGTH"] = 2000
    data = {"path": "protocol", "page": "1", "p:protocol": "1", "v:protocol": "0",
            "a:protocol": (io.BytesIO(PDF + b"0" * 5000), "big.pdf")}
    refused = client.post(f"/responses/{response_id}/answer", data=data, content_type="multipart/form-data",
                          headers={"HX-Request": "true", "X-CSRFToken": token})
    assert refused.status_code == 413 and refused.headers["HX-Retarget"] == "#save-status"
    assert text_of(parse(refused.get_data(as_text=True))) == "Not saved: The file or form you sent is too large."
    whole = _upload_page(client, response_id, token, content=PDF + b"0" * 5000)
    assert whole.status_code == 413 and "The file or form you sent is too large." in whole.get_data(as_text=True)
    assert _kept(app) == (0, 0)


def test_evidence_is_never_kept_in_the_folder_of_public_files_and_a_request_can_carry_the_largest(make_app, app):
    with pytest.raises(RuntimeError, match="EVIDENCE_DIRECTORY"):
        make_app(EVIDENCE_DIRECTORY=str(Path(app.static_folder) / "uploads"))
    larger = make_app(EVIDENCE_MAX_BYTES=40 * 1024 * 1024)
    assert larger.config["MAX_CONTENT_LENGTH"] >= 40 * 1024 * 1024
