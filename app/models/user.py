"""Users, their password hashes and their role assignments (each with its scope)."""
from __future__ import annotations

import enum
from datetime import datetime

import hashlib

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._base import UTCDateTime, str_enum, utcnow
from app.models.org import Country, Institution


class Role(enum.StrEnum):
    RESPONDENT = "respondent"  # scope: exactly one institution
    REVIEWER = "reviewer"      # scope: one country per assignment (a reviewer may hold several)
    AUDITOR = "auditor"        # scope: one country per assignment, or every country (no country)
    ADMIN = "admin"            # everything


def password_fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "unset").encode()).hexdigest()[:16]


class Account(UserMixin):
    """What an account row (``User``) and the signed-in user of a request (``SessionUser``)
    share: the identity Flask-Login keeps in the session, and the roles (both have ``id``,
    ``active`` and ``roles``)."""

    def password_fingerprint(self) -> str:
        raise NotImplementedError

    def get_id(self) -> str:  # the session remembers the password it was opened with
        return f"{self.id}:{self.password_fingerprint()}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def has_role(self, role: Role) -> bool:
        return any(assignment.role == role for assignment in self.roles)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)


class User(Account, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # None until an invited user sets a password through their invitation link.
    password_hash: Mapped[str | None] = mapped_column(String(256))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Loaded with the user (one query per request for the signed-in user and their scope).
    roles: Mapped[list[RoleAssignment]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                       order_by="RoleAssignment.id", lazy="selectin")

    def password_fingerprint(self) -> str:
        """Changes whenever the password does: ends sessions and spends links issued before."""
        return password_fingerprint(self.password_hash)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class RoleAssignment(db.Model):
    __table_args__ = (
        UniqueConstraint("user_id", "role", "institution_id", "country_id"),
        CheckConstraint(
            "(role = 'respondent' AND institution_id IS NOT NULL AND country_id IS NULL)"
            " OR (role = 'reviewer' AND institution_id IS NULL AND country_id IS NOT NULL)"
            " OR (role = 'auditor' AND institution_id IS NULL)"
            " OR (role = 'admin' AND institution_id IS NULL AND country_id IS NULL)",
            name="scope_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id", ondelete="CASCADE"),
                                                       index=True)
    country_id: Mapped[int | None] = mapped_column(ForeignKey("country.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    institution: Mapped[Institution | None] = relationship()
    country: Mapped[Country | None] = relationship()


class UserSession(db.Model):
    """One signed-in session (a browser's cookie names it): ended at sign-out, on a password
    change, or when it outlives its absolute lifetime. Kept in the database, so every node sees
    a session end the moment it ends."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True)   # random, in the signed cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
