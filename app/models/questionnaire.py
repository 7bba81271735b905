"""Questionnaires and their versions. A published version is immutable."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._base import UTCDateTime, str_enum, utcnow


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Questionnaire(db.Model):
    """A questionnaire by its XLSForm ``form_id``; each upload becomes its next version."""

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.number")


class QuestionnaireVersion(db.Model):
    __table_args__ = (UniqueConstraint("questionnaire_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id", ondelete="RESTRICT"),
                                                  index=True)
    number: Mapped[int] = mapped_column(Integer)          # 1, 2, 3… per questionnaire
    label: Mapped[str] = mapped_column(String(100), default="")  # the XLSForm settings ``version``
    status: Mapped[VersionStatus] = mapped_column(str_enum(VersionStatus, "version_status"),
                                                  default=VersionStatus.DRAFT)
    # Deferred: loaded only when a version is compiled (once per process) or downloaded, not
    # with every response that refers to its version.
    definition: Mapped[dict] = mapped_column(JSON, deferred=True)   # the parsed, validated definition
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    source_file: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # the .xlsx as uploaded
    # The warnings the upload's check found (errors refuse an upload), kept so the version's
    # page does not read the workbook again: [{sheet, row, column, code, params}].
    check_issues: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")


class PublishedVersionImmutable(Exception):
    pass


@event.listens_for(QuestionnaireVersion, "before_update")
def _freeze_published(_mapper, connection, target: QuestionnaireVersion) -> None:
    """Refuse any change to a version that was already published when loaded."""
    state = db.inspect(target)
    history = state.attrs.status.history
    was = history.deleted[0] if history.deleted else target.status
    if was == VersionStatus.PUBLISHED:
        raise PublishedVersionImmutable(f"questionnaire version {target.id} is published")
