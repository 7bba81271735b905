"""The append-only audit log: who did what, when, to which entity and field, from what to what."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._base import UTCDateTime, append_only, utcnow
from app.models.user import User


class AuditEvent(db.Model):
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(50))        # e.g. user.invite, answer.save
    entity_type: Mapped[str] = mapped_column(String(50))   # e.g. user, institution, response
    entity_id: Mapped[str] = mapped_column(String(50))
    field: Mapped[str | None] = mapped_column(String(300))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()


append_only(AuditEvent, "audit events")
