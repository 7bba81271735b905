"""Responses (one institution's answers in one cycle) and their answers.

Answer storage: one narrow row per (response, question path), the value kept as the
canonical XLSForm/ODK string (numbers as written, select_multiple space-separated, dates
ISO 8601). This serves both loads at once:

* autosave writes one answer: a single-row upsert on the (response_id, path) key with the
  answer's own ``version`` — no read-modify-write of a whole document, so two people
  editing different questions of one response never collide, and a stale edit of the same
  question is detected by its version instead of silently overwriting;
* an export of 100,000 responses is one ordered scan of ``answer`` by
  (response_id, path) — the primary-key order — streamed with a server-side cursor
  (``yield_per``) straight into rows of a write-only workbook, with nothing to decode per
  response and memory bounded by one response at a time.

A JSON document per response would make autosave rewrite and re-serialise the whole
document under a lock, and an EAV table with typed columns per type would need a union of
columns on every read; a text value with the type in the compiled definition avoids both.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._base import UTCDateTime, str_enum, utcnow
from app.models.cycle import Cycle
from app.models.org import Institution


class ResponseStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"  # locked


class Response(db.Model):
    __table_args__ = (UniqueConstraint("cycle_id", "institution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="RESTRICT"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id", ondelete="RESTRICT"),
                                                index=True)
    status: Mapped[ResponseStatus] = mapped_column(str_enum(ResponseStatus, "response_status"),
                                                   default=ResponseStatus.DRAFT)
    # Optimistic locking of the response row itself (status changes, submit, approve).
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Progress as of the last save that could change it (answered of the relevant questions to
    # answer): lists read it instead of evaluating every response. NULL until the first such save.
    answered: Mapped[int | None] = mapped_column(Integer)
    to_answer: Mapped[int | None] = mapped_column(Integer)

    cycle: Mapped[Cycle] = relationship()
    institution: Mapped[Institution] = relationship()

    __mapper_args__ = {"version_id_col": row_version}

    @property
    def is_locked(self) -> bool:
        return self.status == ResponseStatus.APPROVED


class Answer(db.Model):
    __table_args__ = (UniqueConstraint("response_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    # The question's name, or for repeats its path with instance numbers: ``shelter[2]/beds``.
    path: Mapped[str] = mapped_column(String(300))
    value: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)   # means of verification, where asked
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    response: Mapped[Response] = relationship()


class AnswerDraft(db.Model):
    """What was last typed for an answer and refused (not a number, a broken constraint…): kept
    so that a reload shows it with its reason. Never read by scores or exports; gone once a
    valid value is saved for the same question."""
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(300), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(40))       # why it was refused
    params: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
