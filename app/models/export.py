"""Exports prepared in the background: who asked for what, how far it has got, and the
finished file — kept in the database (or a shared directory) so that any node can serve it,
whichever worker wrote it."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._base import UTCDateTime, str_enum, utcnow
from app.models.user import User


class ExportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(db.Model):
    __table_args__ = (Index("ix_export_job_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))             # raw
    params: Mapped[dict] = mapped_column(JSON)                 # cycle, country, labels, multiple, format, language
    key: Mapped[str] = mapped_column(String(200))              # kind and params, to find the same export running
    state: Mapped[ExportState] = mapped_column(str_enum(ExportState, "export_state"), default=ExportState.QUEUED)
    done: Mapped[int] = mapped_column(Integer, default=0)      # rows written so far
    total: Mapped[int | None] = mapped_column(Integer)         # rows to write, once counted
    error: Mapped[str | None] = mapped_column(String(40))      # why it failed: a code the page words
    filename: Mapped[str | None] = mapped_column(String(200))
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    stored_path: Mapped[str | None] = mapped_column(String(500))   # when files are kept in a shared directory
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # the worker's last sign of life
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ExportFile(db.Model):
    """A finished export's bytes, when files are kept in the database (the default)."""
    job_id: Mapped[int] = mapped_column(ForeignKey("export_job.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
