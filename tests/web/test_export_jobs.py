"""Raw data in the browser: a small export downloads at once; a larger one becomes a job (run
at once here, as Huey's immediate mode does) with a progress page that stops HTMX polling with
286; only its owner can see or download it; the same export is not started twice; a stalled,
failed or expired job says so and can be asked for again; every step is an audit event."""
import errno
import io
import os
import re
import sys
import tempfile
import zipfile
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws
from openpyxl import load_workbook
from sqlalchemy import select, update

from app import jobs
from app.exports.writer import XlsxBook
from app.extensions import db
from app.models import AuditEvent, ExportFile, ExportJob, ExportState, User
from app.models._base import utcnow
from app.services import exports, raw_data

from tests.conftest import HOSTILE_TEXT as HOSTILE


def _post(client, auth, cycle_id, **fields):
    data = {"cycle": str(cycle_id), "country": "", "labels": "", "multiple": "both", "file_format": "xlsx",
            "csrf_token": auth.token("/exports/"), **fields}
    return client.post("/exports/", data=data)


def _job_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return int(re.search(r"/exports/(\d+)$", response.headers["Location"]).group(1))


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("export.%"))
                                       .order_by(AuditEvent.id)))


def test_a_small_export_downloads_at_once(app, client, auth, cycle_with_answers):
    auth.login("admin@example.org")
    page = client.get("/exports/")
    assert page.status_code == 200 and "Raw data" in page.get_data(as_text=True)
    download = _post(client, auth, cycle_with_answers)
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(download.data))["Responses"].iter_rows(values_only=True))
    assert len(rows) == 3 and HOSTILE in rows[1] + rows[2]
    assert _actions(app) == ["export.download"]


def test_a_larger_export_is_a_job_with_progress_then_a_download_only_its_owner_gets(
        app, client, auth, make_user, cycle_with_answers):
    app.config["EXPORT_AT_ONCE"] = 0
    auth.login("reviewer.rs@example.org")
    job_id = _job_id(_post(client, auth, cycle_with_answers, labels="sr_Cyrl", file_format="csv"))
    page = client.get(f"/exports/{job_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Spremno: 1 odgovor." in text and "refresh" not in text   # the reviewer reads Serbian
    polled = client.get(f"/exports/{job_id}", headers={"HX-Request": "true"})
    assert polled.status_code == 286 and "<html" not in polled.get_data(as_text=True)
    link = re.search(r'href="(/exports/\d+/file)"', text).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/zip"
    assert ".zip" in download.headers["Content-Disposition"]   # the questionnaire has a repeat: two CSV files
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        main = archive.read(archive.namelist()[0])
    assert main.startswith(b"\xef\xbb\xbf") and "Institucija" in main.decode("utf-8-sig")   # the reviewer's language
    assert "'" + HOSTILE in main.decode("utf-8-sig").replace('""', '"')
    assert _actions(app) == ["export.requested", "export.started", "export.finished", "export.download"]
    listed = client.get("/exports/").get_data(as_text=True)
    assert link in listed
    auth.logout()
    make_user("other.rs@example.org", _reviewer(), country="RS")
    auth.login("other.rs@example.org")
    assert client.get(f"/exports/{job_id}").status_code == 404
    assert client.get(link).status_code == 404
    assert link not in client.get("/exports/").get_data(as_text=True)


def _reviewer():
    from app.models import Role
    return Role.REVIEWER


def test_a_running_export_is_shown_again_not_started_twice(app, client, auth, cycle_with_answers):
    app.config["EXPORT_AT_ONCE"] = 0
    auth.login("admin@example.org")
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
        params = {"cycle": cycle_with_answers, "country": None, "country_code": None, "labels": None,
                  "multiple": "both", "format": "xlsx", "language": "en"}
        job, created = exports.request(admin, "raw", params)
        db.session.commit()
        first = job.id
    assert created
    again = _post(client, auth, cycle_with_answers)
    assert _job_id(again) == first
    page = client.get(f"/exports/{first}")
    text = page.get_data(as_text=True)
    assert "already being prepared" in text and "Waiting for a worker" in text
    assert 'hx-trigger="every 1s"' in text and 'http-equiv="refresh"' in text
    assert client.get(f"/exports/{first}", headers={"HX-Request": "true"}).status_code == 200
    assert client.get(f"/exports/{first}/file").status_code == 302   # not ready: back to its page
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ExportJob.id))) == 1


def test_a_job_whose_worker_died_shows_failed_and_runs_again_on_retry(app, client, auth, cycle_with_answers):
    app.config["EXPORT_AT_ONCE"] = 0
    auth.login("admin@example.org")
    job_id = _job_id(_post(client, auth, cycle_with_answers))
    with app.app_context():
        db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
            state=ExportState.RUNNING, heartbeat_at=utcnow() - timedelta(minutes=5)))
        db.session.execute(db.delete(ExportFile))
        db.session.commit()
    text = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "worker preparing this export stopped" in text and "Ask for it again" in text
    assert client.get(f"/exports/{job_id}", headers={"HX-Request": "true"}).status_code == 286
    retried = client.post(f"/exports/{job_id}/retry", data={"csrf_token": auth.token(f"/exports/{job_id}")})
    assert retried.status_code == 302
    assert "Ready: 2 responses." in client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert client.get(f"/exports/{job_id}/file").data[:2] == b"PK"
    assert "export.retried" in _actions(app)


def test_a_short_count_fails_the_job_and_offers_no_file(app, client, auth, cycle_with_answers, monkeypatch):
    app.config["EXPORT_AT_ONCE"] = -1
    monkeypatch.setattr(raw_data, "count", lambda *args, **kwargs: 5)   # the export will write 2 rows, not 5
    auth.login("admin@example.org")
    job_id = _job_id(_post(client, auth, cycle_with_answers))
    text = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "Not every response was written" in text and f"/exports/{job_id}/file" not in text
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        assert (job.state, job.error) == (ExportState.FAILED, "row_count")
        assert db.session.scalar(select(db.func.count()).select_from(ExportFile)) == 0
    assert _actions(app)[-1] == "export.failed"


def test_finished_files_expire_and_are_deleted(app, client, auth, cycle_with_answers):
    app.config["EXPORT_AT_ONCE"] = 0
    auth.login("admin@example.org")
    job_id = _job_id(_post(client, auth, cycle_with_answers))
    with app.app_context():
        assert exports.expire() == 0
        db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        assert exports.expire() == 1
        db.session.commit()
        assert db.session.scalar(select(db.func.count()).select_from(ExportFile)) == 0
    text = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "deleted after its time ran out" in text
    refused = client.get(f"/exports/{job_id}/file", follow_redirects=True)
    assert "This file is not available" in refused.get_data(as_text=True)


def test_files_can_live_in_a_shared_directory(app, client, auth, cycle_with_answers, tmp_path):
    app.config.update(EXPORT_AT_ONCE=0, EXPORT_DIRECTORY=str(tmp_path / "shared"))
    auth.login("admin@example.org")
    job_id = _job_id(_post(client, auth, cycle_with_answers))
    stored = list((tmp_path / "shared").iterdir())
    assert len(stored) == 1 and stored[0].read_bytes()[:2] == b"PK"
    with client.get(f"/exports/{job_id}/file") as served:
        assert served.data == stored[0].read_bytes()
    with app.app_context():
        db.session.execute(update(ExportJob).values(expires_at=utcnow()))
        exports.expire()
        db.session.commit()
    assert not list((tmp_path / "shared").iterdir())


@pytest.mark.parametrize("fields,field", [
    ({"cycle": "999999"}, "cycle"), ({"labels": "xx"}, "labels"), ({"multiple": "all"}, "multiple"),
    ({"file_format": "pdf"}, "file_format"), ({"country": "abc"}, "country"),
])
def test_bad_choices_are_refused_with_the_field_named(app, client, auth, cycle_with_answers, fields, field):
    auth.login("admin@example.org")
    refused = _post(client, auth, cycle_with_answers, **fields)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'href="#{field}"' in text
    assert _actions(app) == []


def test_the_form_needs_its_csrf_token(app, client, auth, cycle_with_answers):
    auth.login("admin@example.org")
    refused = client.post("/exports/", data={"cycle": str(cycle_with_answers), "multiple": "both",
                                             "file_format": "xlsx"})
    assert refused.status_code in (400, 422) and _actions(app) == []


def test_progress_is_written_at_most_twice_a_second_and_always_at_the_end(app, cycle_with_answers):
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
        job, _ = exports.request(admin, "raw", {"cycle": cycle_with_answers})
        db.session.commit()
        progress = exports.Progress(job.id)
        progress(1, 10)
        progress(2, 10)   # too soon: not written
        db.session.expire_all()
        assert (db.session.get(ExportJob, job.id).done, db.session.get(ExportJob, job.id).total) == (1, 10)
        progress(10, 10)  # the last one always is
        db.session.expire_all()
        assert db.session.get(ExportJob, job.id).done == 10


def test_a_short_count_offers_no_file_at_once_either(app, client, auth, cycle_with_answers, monkeypatch):
    monkeypatch.setattr(raw_data, "count", lambda *args, **kwargs: 1)   # 2 rows will be written
    auth.login("admin@example.org")
    refused = _post(client, auth, cycle_with_answers)
    assert refused.status_code == 422 and "Not every response was written" in refused.get_data(as_text=True)
    assert _actions(app) == []



def _queues() -> list[str]:
    """The queues a deployment can name: a SQLite file (the default), PostgreSQL when the suite
    runs on it, Redis when one answers here."""
    queues = ["sqlite"]
    if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        queues.append("postgresql")
    try:
        import redis
        redis.Redis.from_url(REDIS_QUEUE, socket_connect_timeout=1).ping()
        queues.append("redis")
    except Exception:   # no server here: that queue is not tried
        pass
    return queues


REDIS_QUEUE = "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("queue", _queues())
def test_a_queued_export_waits_for_a_worker_which_takes_it_from_the_shared_queue(
        make_app, migrated, cycle_with_answers, tmp_path, queue):
    url = {"sqlite": f"sqlite:///{tmp_path}/queue.sqlite", "postgresql": migrated, "redis": REDIS_QUEUE}[queue]
    queued = make_app(HUEY_URL=url, HUEY_IMMEDIATE=False)
    huey = queued.extensions["huey"]
    assert type(huey.storage).__name__ == {"sqlite": "SqliteStorage", "postgresql": "SqlStorage",
                                           "redis": "RedisStorage"}[queue]
    assert (tmp_path / "queue.sqlite").exists() == (queue == "sqlite")
    huey.flush()
    with queued.app_context():
        admin = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
        job, _created = exports.request(admin, "raw", {"cycle": cycle_with_answers, "language": "sq"})
        db.session.commit()
        job_id = job.id
    jobs.enqueue_export(queued, job_id)
    with queued.app_context():
        assert db.session.get(ExportJob, job_id).state == ExportState.QUEUED   # nothing ran in the caller
    task = huey.dequeue()   # what `flask worker` does, on whichever node
    assert task is not None and huey.dequeue() is None
    huey.execute(task)
    with queued.app_context():
        done = db.session.get(ExportJob, job_id)
        assert (done.state, done.done, done.total) == (ExportState.DONE, 2, 2)
        book = load_workbook(io.BytesIO(exports.content(done)))
        assert book.sheetnames[0] == "Përgjigjet" and book["Përgjigjet"].max_row == 3
    huey.flush()
    if queue == "postgresql":
        huey.storage.database.close()   # peewee's connection, as a worker closes it when it stops


def test_files_can_live_in_an_s3_compatible_store(app, client, auth, cycle_with_answers, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "eu-central-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        store = boto3.client("s3")
        store.create_bucket(Bucket="matrica-exports", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        app.config.update(EXPORT_AT_ONCE=0, EXPORT_S3_URL="s3://matrica-exports/cycles/")
        auth.login("admin@example.org")
        job_id = _job_id(_post(client, auth, cycle_with_answers))
        keys = [found["Key"] for found in store.list_objects_v2(Bucket="matrica-exports")["Contents"]]
        assert len(keys) == 1 and keys[0].startswith("cycles/export-") and keys[0].endswith(".xlsx")
        stored = store.get_object(Bucket="matrica-exports", Key=keys[0])["Body"].read()
        with client.get(f"/exports/{job_id}/file") as served:
            assert served.status_code == 200 and served.data == stored and stored[:2] == b"PK"
            assert served.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        store.delete_object(Bucket="matrica-exports", Key=keys[0])   # gone from the store by other hands
        refused = client.get(f"/exports/{job_id}/file", follow_redirects=True)
        assert refused.status_code == 200 and "This file is not available" in refused.get_data(as_text=True)
        with app.app_context():
            db.session.execute(update(ExportJob).values(expires_at=utcnow()))
            assert exports.expire() == 1
            db.session.commit()
        retried = client.post(f"/exports/{job_id}/retry", data={"csrf_token": auth.token(f"/exports/{job_id}")})
        assert retried.status_code == 302
        assert store.list_objects_v2(Bucket="matrica-exports")["KeyCount"] == 1   # written again, to the store


def test_a_store_named_wrongly_or_without_its_library_stops_the_start(make_app, monkeypatch):
    with pytest.raises(RuntimeError, match="s3://bucket"):
        make_app(EXPORT_S3_URL="matrica-exports")
    monkeypatch.setitem(sys.modules, "boto3", None)   # as if boto3 were not installed
    with pytest.raises(RuntimeError, match="boto3 is not installed"):
        make_app(EXPORT_S3_URL="s3://matrica-exports")


def test_a_full_disk_fails_the_job_plainly_and_leaves_no_file_behind(app, client, auth, cycle_with_answers,
                                                                     monkeypatch, tmp_path):
    app.config["EXPORT_AT_ONCE"] = 0
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))   # where the worker writes before the file is kept

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(XlsxBook, "close", full)
    auth.login("admin@example.org")
    job_id = _job_id(_post(client, auth, cycle_with_answers))
    text = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "The file could not be written (the disk may be full). Ask for it again." in text
    assert f"/exports/{job_id}/file" not in text and "Ask for it again" in text
    with app.app_context():
        assert db.session.get(ExportJob, job_id).error == "write_failed"
        assert db.session.scalar(select(db.func.count()).select_from(ExportFile)) == 0
    assert not list(tmp_path.glob("matrica-*"))   # the half-written file and its scratch rows are gone
    monkeypatch.undo()
    retried = client.post(f"/exports/{job_id}/retry", data={"csrf_token": auth.token(f"/exports/{job_id}")})
    assert retried.status_code == 302 and "Ready: 2 responses." in client.get(f"/exports/{job_id}").get_data(as_text=True)


def test_a_full_disk_refuses_a_small_export_plainly_too(app, client, auth, cycle_with_answers, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(XlsxBook, "close", full)
    auth.login("admin@example.org")
    refused = _post(client, auth, cycle_with_answers)
    assert refused.status_code == 422
    assert "The file could not be written (the disk may be full)." in refused.get_data(as_text=True)
    assert _actions(app) == []
