"""Background work through Huey: exports too long for a request.

The queue is ``SqliteHuey`` on its own file in ``instance/`` (busy timeout 10 s; or the file
``HUEY_URL`` names, ``sqlite:////path/queue.sqlite``) unless
``HUEY_URL`` names a queue several nodes share: a PostgreSQL database
(``postgresql://user@host/db``: Huey's SQL storage, tasks taken with ``FOR UPDATE SKIP
LOCKED``) or a Redis server (``redis://host:6379/0``). The
consumer is its own process (``flask --app wsgi worker``); tests run tasks at once
(``HUEY_IMMEDIATE``). What a job has done lives in Matrica's own ``export_job`` table, not in
Huey, which has no notion of progress.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Flask, g
from flask_babel import force_locale
from huey import RedisHuey, SqliteHuey, crontab

from app.extensions import db
from app.languages import LANGUAGES
from app.models import Country, Cycle
from app.services import exports
from app.services.errors import ServiceError
from app.services.scope import get_scoped

MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8", "zip": "application/zip"}


def init_app(app: Flask) -> None:
    store = app.config.get("EXPORT_S3_URL")
    if store:   # said at start, not when the first export fails
        if not str(store).startswith("s3://") or len(str(store)) <= len("s3://"):
            raise RuntimeError(f"EXPORT_S3_URL must read s3://bucket or s3://bucket/prefix, not {store!r}")
        try:
            import boto3  # noqa: F401
        except ImportError as missing:
            raise RuntimeError("EXPORT_S3_URL is set but boto3 is not installed: pip install 'matrica[s3]'") from missing
    url = app.config.get("HUEY_URL")
    immediate = bool(app.config.get("HUEY_IMMEDIATE"))
    if url and url.startswith("redis"):
        huey = RedisHuey("matrica", url=url, immediate=immediate)
    elif url and url.startswith(("postgresql", "postgres:")):
        from huey.contrib.sql_huey import SqlHuey   # through peewee, on psycopg 3 like the app
        huey = SqlHuey("matrica", database=peewee_url(url), immediate=immediate)
    else:
        if url and url.startswith("sqlite:///"):
            filename = url[len("sqlite:///"):]
        else:
            Path(app.instance_path).mkdir(parents=True, exist_ok=True)
            filename = os.path.join(app.instance_path, "huey.sqlite")
        huey = SqliteHuey("matrica", filename=filename, timeout=10, immediate=immediate)

    @huey.task(name="export")
    def export_task(job_id: int) -> None:
        with app.app_context():
            run_export(app, job_id)

    @huey.periodic_task(crontab(minute="*/10"), name="expire_exports")
    def expire_task() -> None:
        with app.app_context():
            exports.expire()
            db.session.commit()

    app.extensions["huey"] = huey
    app.extensions["export_task"] = export_task


def peewee_url(url: str) -> str:
    """A PostgreSQL URL as SQLAlchemy writes it (``postgresql+psycopg://…``) in peewee's
    spelling for psycopg 3 (``psycopg3://…``)."""
    return "psycopg3://" + url.split("://", 1)[1]


def enqueue_export(app: Flask, job_id: int) -> None:
    app.extensions["export_task"](job_id)


def run_export(app: Flask, job_id: int) -> None:
    """Write one export: the job is taken, written to a temporary file with progress, kept
    and marked done; or marked failed with a reason, and no half-written file is offered."""
    from app.views import _workbooks as workbooks   # the sheets' words, in the reader's language

    job = exports.start(job_id)
    db.session.commit()
    if job is None:
        return
    params, user = dict(job.params), job.user
    handle, path = tempfile.mkstemp(prefix="matrica-export-")
    os.close(handle)
    try:
        language = params.get("language", "en")
        with app.test_request_context(), force_locale(LANGUAGES.get(language, LANGUAGES["en"])[1]):
            g.language = language
            cycle = get_scoped(user, Cycle, params["cycle"])
            country_id = get_scoped(user, Country, params["country"]).id if params.get("country") else None
            rows = workbooks.raw(user, cycle, language, path, labels=params.get("labels"),
                                 multiple=params.get("multiple", "both"), file_format=params.get("format", "xlsx"),
                                 country_id=country_id, progress=exports.Progress(job_id))
            with open(path, "rb") as written:
                name, kind = workbooks.raw_filename(cycle, params, written.read(4))
        exports.finish(job, path, name, MEDIA[kind], rows)
        db.session.commit()
    except Exception as exc:   # every failure ends the job plainly; the cause goes to the log
        db.session.rollback()
        code = ("not_allowed" if isinstance(exc, ServiceError) else "row_count"
                if isinstance(exc, workbooks.RowCountMismatch) else "write_failed" if isinstance(exc, OSError)
                else "unexpected")
        app.logger.exception("export %s failed: %s", job_id, code)
        exports.fail(job_id, code)
        db.session.commit()
    finally:
        os.remove(path)
