"""Evidence documents uploaded as answers (XLSForm ``image``, ``audio``, ``video``, ``file``).

The answer's value is the file's content-hash name (``<sha256>.pdf``); an ``EvidenceFile`` row
ties that name to the response it was uploaded to, with the name it had on the uploader's
disk. The bytes are kept once per content: in ``evidence_blob`` (the default), or in a
directory or an S3-compatible store every node shares, under the same hash.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._base import UTCDateTime, utcnow


class EvidenceFile(db.Model):
    __table_args__ = (UniqueConstraint("response_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))           # <sha256>.<extension>: the answer's value
    original: Mapped[str] = mapped_column(String(255))      # the file's name as uploaded
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class EvidenceBlob(db.Model):
    """A file's bytes, when evidence is kept in the database (the default)."""
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
