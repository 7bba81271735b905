"""Countries and the institutions that answer questionnaires."""
from __future__ import annotations

import enum
from datetime import datetime

from babel import Locale
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._base import UTCDateTime, str_enum, utcnow


class Country(db.Model):
    """A country by its ISO 3166 code; XK (Kosovo) is the user-assigned code CLDR uses."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    institutions: Mapped[list[Institution]] = relationship(back_populates="country",
                                                            order_by="Institution.name")

    def name(self, locale: Locale | str | None = None) -> str:
        """The country's name from CLDR in ``locale`` (English when none)."""
        loc = Locale.parse(locale) if isinstance(locale, str) else (locale or Locale("en"))
        return loc.territories.get(self.code, self.code)

    def __repr__(self) -> str:
        return f"<Country {self.code}>"


class InstitutionKind(enum.StrEnum):
    MINISTRY = "ministry"
    POLICE = "police"
    PROSECUTION = "prosecution"
    COURT = "court"
    SOCIAL_WELFARE = "social_welfare"
    SHELTER = "shelter"
    LABOUR_INSPECTORATE = "labour_inspectorate"
    NATIONAL_COORDINATOR = "national_coordinator"
    NGO = "ngo"
    OTHER = "other"


class Institution(db.Model):
    __table_args__ = (UniqueConstraint("country_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("country.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[InstitutionKind] = mapped_column(str_enum(InstitutionKind, "institution_kind"))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    country: Mapped[Country] = relationship(back_populates="institutions")

    def __repr__(self) -> str:
        return f"<Institution {self.id} {self.name!r}>"
