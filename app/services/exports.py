"""Exports prepared in the background: asking for one (the same export already under way is
shown, not started twice), a worker taking it, its progress, its finished file, a failure
(said plainly, with a retry), and files expiring after a set time.

Progress is written through a connection of its own, a few times a second at most, so the
worker's long read (a server-side cursor inside its transaction) is never committed midway.
A job whose worker stopped reporting shows as failed. Finished files are kept where every
node can serve them: in the database (the default), in ``EXPORT_DIRECTORY`` (a directory
every node shares), or in an S3-compatible store when ``EXPORT_S3_URL`` names a bucket
(``s3://bucket/prefix``; ``EXPORT_S3_ENDPOINT`` for a store other than Amazon's; credentials
and region as boto3 reads them from the environment).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import ExportFile, ExportJob, ExportState, User
from app.models._base import utcnow
from app.services import audit, file_store
from app.services.errors import Conflict, NotFound
from app.services.settings import setting

WORKER_SILENT = timedelta(minutes=2)    # a running job not heard from for this long: its worker died
NEVER_TAKEN = timedelta(minutes=30)     # a queued job no worker took
PROGRESS_EVERY = 0.5                    # seconds between progress writes, at most
UNDER_WAY = (ExportState.QUEUED, ExportState.RUNNING)


def _key(kind: str, params: dict) -> str:
    return f"{kind}:{json.dumps(params, sort_keys=True, separators=(',', ':'))}"[:200]


def keep_for() -> timedelta:
    return timedelta(hours=float(setting("EXPORT_KEEP_HOURS", 24)))


# -- what a page reads ----------------------------------------------------------------

def stalled(job: ExportJob, now: datetime | None = None) -> bool:
    """Under way in the table, but its worker has gone (or none ever took it)."""
    now = now or utcnow()
    if job.state == ExportState.RUNNING:
        return (job.heartbeat_at or job.started_at or job.created_at) < now - WORKER_SILENT
    if job.state == ExportState.QUEUED:
        return job.created_at < now - NEVER_TAKEN
    return False


def expired(job: ExportJob, now: datetime | None = None) -> bool:
    return job.state == ExportState.DONE and job.expires_at is not None and job.expires_at <= (now or utcnow())


def own(user: User, job_id: int) -> ExportJob:
    """One of ``user``'s own exports: a link works only for the user who asked for it."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.user_id != user.id:
        raise NotFound("export")
    return job


def recent(user: User, limit: int = 20) -> list[ExportJob]:
    return list(db.session.scalars(select(ExportJob).where(ExportJob.user_id == user.id)
                                   .order_by(ExportJob.id.desc()).limit(limit)))


# -- asking, retrying -----------------------------------------------------------------

def request(user: User, kind: str, params: dict) -> tuple[ExportJob, bool]:
    """The job for this export: the same one already under way, or a new queued one (True)."""
    key = _key(kind, params)
    for job in db.session.scalars(select(ExportJob).where(ExportJob.user_id == user.id, ExportJob.key == key,
                                                          ExportJob.state.in_(UNDER_WAY))):
        if not stalled(job):
            return job, False
    job = ExportJob(user_id=user.id, kind=kind, params=params, key=key, state=ExportState.QUEUED, done=0)
    db.session.add(job)
    db.session.flush()
    audit.record(user, "export.requested", job, "params", None, key)
    return job, True


def retry(user: User, job: ExportJob) -> ExportJob:
    """A failed (or stalled, or expired) export asked for again: queued afresh."""
    if job.state in UNDER_WAY and not stalled(job) or job.state == ExportState.DONE and not expired(job):
        raise Conflict("export_under_way" if job.state in UNDER_WAY else "export_ready")
    _drop_file(job)
    before = job.state
    job.state, job.done, job.total, job.error = ExportState.QUEUED, 0, None, None
    job.created_at, job.started_at, job.heartbeat_at, job.finished_at, job.expires_at = utcnow(), None, None, None, None
    job.filename = job.media_type = job.stored_path = None
    job.size = None
    audit.record(user, "export.retried", job, "state", before, ExportState.QUEUED)
    return job


# -- the worker's side ----------------------------------------------------------------

def start(job_id: int) -> ExportJob | None:
    """The worker takes a queued job; None when it is gone or another worker has it."""
    now = utcnow()
    taken = db.session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.state == ExportState.QUEUED)
                               .values(state=ExportState.RUNNING, started_at=now, heartbeat_at=now))
    if taken.rowcount != 1:
        return None
    job = db.session.get(ExportJob, job_id)
    db.session.refresh(job)
    audit.record(job.user, "export.started", job, "state", ExportState.QUEUED, ExportState.RUNNING)
    return job


class Progress:
    """Called with (rows written, rows in all) as rows are written; writes at most every
    ``PROGRESS_EVERY`` seconds, through its own connection."""

    def __init__(self, job_id: int):
        self.job_id, self.last = job_id, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY and done < total:
            return
        self.last = now
        with db.engine.begin() as connection:
            connection.execute(update(ExportJob).where(ExportJob.id == self.job_id)
                               .values(done=done, total=total, heartbeat_at=utcnow()))


def finish(job: ExportJob, path: str, filename: str, media_type: str, rows: int) -> None:
    """Keep the written file and mark the job done, in the caller's transaction."""
    size = os.path.getsize(path)
    directory, bucket = setting("EXPORT_DIRECTORY"), _bucket()
    if bucket:
        name, prefix = bucket
        key = f"{prefix}export-{job.id}-{os.urandom(8).hex()}{Path(filename).suffix}"
        _s3().upload_file(path, name, key, ExtraArgs={"ContentType": media_type})
        job.stored_path = f"{file_store.S3}{name}/{key}"
    elif directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        stored = Path(directory) / f"export-{job.id}-{os.urandom(8).hex()}{Path(filename).suffix}"
        shutil.copyfile(path, stored)
        job.stored_path = str(stored)
    else:
        with open(path, "rb") as handle:
            db.session.merge(ExportFile(job_id=job.id, data=handle.read()))
    now = utcnow()
    job.state, job.done, job.total, job.size = ExportState.DONE, rows, rows, size
    job.filename, job.media_type, job.finished_at, job.heartbeat_at = filename, media_type, now, now
    job.expires_at = now + keep_for()
    audit.record(job.user, "export.finished", job, "rows", None, rows)


def fail(job_id: int, code: str) -> None:
    """Mark the job failed (in a transaction of its own: the worker's was rolled back)."""
    job = db.session.get(ExportJob, job_id)
    if job is None:
        return
    before = job.state
    job.state, job.error, job.finished_at = ExportState.FAILED, code[:40], utcnow()
    audit.record(job.user, "export.failed", job, "state", before, f"{ExportState.FAILED}: {code}")


# -- files ----------------------------------------------------------------------------

def _bucket() -> tuple[str, str] | None:
    return file_store.bucket(setting("EXPORT_S3_URL"))


def _s3():
    return file_store.client(setting("EXPORT_S3_ENDPOINT"))


def content(job: ExportJob) -> bytes | str | BinaryIO:
    """The finished file: its bytes, the path of the shared copy, or a stream from the store."""
    if expired(job) or job.state != ExportState.DONE:
        raise Conflict("export_not_ready")
    if job.stored_path and job.stored_path.startswith(file_store.S3):
        stream = file_store.fetch(_s3(), *file_store.in_store(job.stored_path))
        if stream is None:
            raise Conflict("export_not_ready")
        return stream
    if job.stored_path:
        if not os.path.exists(job.stored_path):
            raise Conflict("export_not_ready")
        return job.stored_path
    data = db.session.scalar(select(ExportFile.data).where(ExportFile.job_id == job.id))
    if data is None:
        raise Conflict("export_not_ready")
    return data


def _drop_file(job: ExportJob) -> None:
    db.session.execute(delete(ExportFile).where(ExportFile.job_id == job.id))
    if job.stored_path and job.stored_path.startswith(file_store.S3):
        name, key = file_store.in_store(job.stored_path)
        _s3().delete_object(Bucket=name, Key=key)   # a key already gone is no error in S3
    elif job.stored_path:
        try:
            os.remove(job.stored_path)
        except FileNotFoundError:
            pass


def expire(now: datetime | None = None) -> int:
    """Delete the files of exports past their time (the jobs stay, marked expired); how many."""
    now = now or utcnow()
    jobs = list(db.session.scalars(select(ExportJob).where(
        ExportJob.state == ExportState.DONE, ExportJob.expires_at <= now,
        (ExportJob.size.is_not(None)))))
    for job in jobs:
        _drop_file(job)
        job.size, job.stored_path = None, None
        audit.record(None, "export.expired", job, "file", job.filename, None)
    return len(jobs)
