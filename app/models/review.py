"""Independent review of a response: its status changes (append-only), comment threads on
questions and indicators, the reviewer's own score per indicator, and the scores kept at each
step (snapshots), so that a later change of definition never rewrites a result."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._base import UTCDateTime, append_only, str_enum, utcnow
from app.models.response import Response, ResponseStatus
from app.models.user import User


class ReviewAction(enum.StrEnum):
    SUBMIT = "submit"     # respondent: draft or returned → submitted
    RETURN = "return"     # reviewer: submitted → returned, with a summary
    APPROVE = "approve"   # reviewer: submitted → approved (locked)
    REOPEN = "reopen"     # admin: approved → submitted, with a reason


class ReviewEvent(db.Model):
    """One status change of a response: who, when, from → to, and what they wrote. Never changed."""
    __table_args__ = (Index("ix_review_event_response", "response_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[ReviewAction] = mapped_column(str_enum(ReviewAction, "review_action"))
    from_status: Mapped[ResponseStatus] = mapped_column(str_enum(ResponseStatus, "review_from_status"))
    to_status: Mapped[ResponseStatus] = mapped_column(str_enum(ResponseStatus, "review_to_status"))
    comment: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()


append_only(ReviewEvent, "review events")


class ThreadKind(enum.StrEnum):
    QUESTION = "question"     # target: the answer's path
    INDICATOR = "indicator"   # target: the indicator's code


class Thread(db.Model):
    """A conversation about one question or indicator of a response; open until resolved."""
    __table_args__ = (Index("ix_thread_response", "response_id", "kind", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    kind: Mapped[ThreadKind] = mapped_column(str_enum(ThreadKind, "thread_kind"))
    target: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    comments: Mapped[list[Comment]] = relationship(back_populates="thread", order_by="Comment.id",
                                                   cascade="all, delete-orphan", lazy="selectin")
    resolved_by: Mapped[User | None] = relationship()

    @property
    def open(self) -> bool:
        return self.resolved_at is None


class Comment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    thread: Mapped[Thread] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship(lazy="joined")


class ReviewedScore(db.Model):
    """The reviewer's value for one indicator of a response, beside the self-assessed one; a
    reason is required when they differ."""
    __table_args__ = (UniqueConstraint("response_id", "indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User | None] = relationship()


class ScoreSnapshot(db.Model):
    """The scores of a response as they stood at a step of its review (computed on the
    questionnaire version named), kept so pages and exports read stored figures."""
    __table_args__ = (Index("ix_score_snapshot_response", "response_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    action: Mapped[ReviewAction] = mapped_column(str_enum(ReviewAction, "snapshot_action"))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answers: Mapped[dict] = mapped_column(JSON)   # path → value, as submitted (for the diff of a resubmission)
    scores: Mapped[dict] = mapped_column(JSON)    # indicators and areas, self and reviewed

    response: Mapped[Response] = relationship()
