"""Monitoring cycles: a period, a deadline, a pinned questionnaire version, the institutions."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._base import UTCDateTime, str_enum, utcnow
from app.models.org import Institution
from app.models.questionnaire import QuestionnaireVersion


class CycleStatus(enum.StrEnum):
    PLANNED = "planned"  # being prepared; respondents do not see it yet
    OPEN = "open"        # respondents fill their responses (needs a pinned published version)
    CLOSED = "closed"    # no more answers; review and reports go on


cycle_institution = Table(
    "cycle_institution",
    db.metadata,
    Column("cycle_id", ForeignKey("cycle.id", ondelete="CASCADE"), primary_key=True),
    Column("institution_id", ForeignKey("institution.id", ondelete="RESTRICT"), primary_key=True,
           index=True),
)


class Cycle(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The name in other interface languages (code → name); a language without one shows ``name``.
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    # The period's exchange rates: currency code → units of it per euro (RSD → 117.2). Amounts
    # answered in a national currency are shown in euro at these rates.
    rates: Mapped[dict] = mapped_column(JSON, default=dict)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[CycleStatus] = mapped_column(str_enum(CycleStatus, "cycle_status"),
                                                default=CycleStatus.PLANNED)
    questionnaire_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_version.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    questionnaire_version: Mapped[QuestionnaireVersion | None] = relationship()
    institutions: Mapped[list[Institution]] = relationship(secondary=cycle_institution,
                                                           order_by="Institution.name")

    def name_in(self, language: str) -> str:
        """The cycle's name in ``language``, else its name as entered."""
        return (self.names or {}).get(language) or self.name
