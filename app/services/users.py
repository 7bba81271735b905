"""Accounts: passwords, invitations and resets (expiring signed one-time links), roles."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, exists, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db, execute
from app.languages import LANGUAGES
from app.models import Country, Institution, Role, RoleAssignment, User, UserSession
from app.models.user import Account, password_fingerprint
from app.models._base import utcnow
from app.services import audit
from app.services.errors import ServiceError
from app.services.settings import setting

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


class AccountError(ServiceError, ValueError):
    """A refused account operation; ``code`` names the reason for the interface."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=setting("PASSWORD_HASH_METHOD"))


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("password_too_long")


_dummy_hash: dict[str, str] = {}


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None.

    An unknown e-mail still costs one password-hash check, so the answer time does not tell
    whether an account exists.
    """
    user = find_user(email)
    if user is None or user.password_hash is None:
        method = setting("PASSWORD_HASH_METHOD")
        if method not in _dummy_hash:
            _dummy_hash[method] = generate_password_hash("not-a-password", method=method)
        check_password_hash(_dummy_hash[method], password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


@dataclass(frozen=True, slots=True)
class Assignment:
    """A role assignment as the signed-in user carries it."""
    role: Role
    institution_id: int | None
    country_id: int | None


class SessionUser(Account):
    """The signed-in user as every request sees it (``current_user``): who they are and their
    roles, read with one query and no ORM objects. What changes the account itself works on
    its row, ``account_of(current_user)``."""

    __slots__ = ("id", "email", "name", "locale", "active", "roles", "_fingerprint")

    def __init__(self, id: int, email: str, name: str, locale: str | None, active: bool, fingerprint: str,
                 roles: tuple[Assignment, ...]):
        self.id, self.email, self.name, self.locale, self.active = id, email, name, locale, active
        self._fingerprint, self.roles = fingerprint, roles

    def password_fingerprint(self) -> str:  # as of the password the session was opened with
        return self._fingerprint

    def __repr__(self) -> str:
        return f"<SessionUser {self.email}>"


# Every request loads its user and roles, if its session is still open: one Core query, built
# once (its cache key with it).
_USERS, _ROLES, _SESSIONS = User.__table__, RoleAssignment.__table__, UserSession.__table__
_SESSION_USER = (select(_USERS.c.email, _USERS.c.name, _USERS.c.locale, _USERS.c.active, _USERS.c.password_hash,
                        _ROLES.c.role, _ROLES.c.institution_id, _ROLES.c.country_id)
                 .select_from(_USERS.outerjoin(_ROLES, _ROLES.c.user_id == _USERS.c.id))
                 .where(_USERS.c.id == bindparam("user_id"),
                        exists().where(_SESSIONS.c.id == bindparam("session_id"), _SESSIONS.c.user_id == _USERS.c.id,
                                       _SESSIONS.c.ended_at.is_(None),
                                       _SESSIONS.c.created_at >= bindparam("opened_after")))
                 .order_by(_ROLES.c.id))


def load_session_user(ident: str, session_id: str | None, opened_after: datetime) -> SessionUser | None:
    """The user a session cookie names, if still active, with the password the session was
    opened with, and the session ``session_id`` open and opened after ``opened_after``."""
    user_id, _sep, fingerprint = ident.partition(":")
    if not user_id.isdigit() or not session_id:
        return None
    rows = execute(_SESSION_USER, {"user_id": int(user_id), "session_id": session_id,
                                   "opened_after": opened_after}).all()
    if not rows:
        return None
    email, name, locale, active, password_hash = rows[0][:5]
    if not active or password_fingerprint(password_hash) != fingerprint:
        return None
    roles = tuple(Assignment(Role(role), institution_id, country_id)
                  for *_user, role, institution_id, country_id in rows if role is not None)
    return SessionUser(int(user_id), email, name, locale, active, fingerprint, roles)


def open_session(user: User, opened_after: datetime) -> str:
    """A new session of ``user``; the user's sessions ended or opened before ``opened_after``
    are deleted on the way (they can never be used again)."""
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id, or_(UserSession.ended_at.is_not(None), UserSession.created_at < opened_after)))
    session_id = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=session_id, user_id=user.id, created_at=utcnow()))
    db.session.flush()
    return session_id


def end_session(session_id: str | None) -> None:
    """End one session (signing out): its cookie, replayed, opens nothing any more."""
    if session_id:
        db.session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None))
                           .values(ended_at=utcnow()))


def end_sessions(user: User) -> None:
    """End every session of ``user`` (their password changed, or an admin deactivated them)."""
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                       .values(ended_at=utcnow()))


def account_of(user: SessionUser | User) -> User:
    """The signed-in user's account row, to change it (accounts are deactivated, never deleted)."""
    return user if isinstance(user, User) else db.session.get_one(User, user.id)


# -- one-time links -------------------------------------------------------------------

class LinkPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password-reset"


def _serializer(purpose: LinkPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(setting("SECRET_KEY"), salt=f"matrica-{purpose}")


def _max_age(purpose: LinkPurpose) -> int:
    key = "INVITATION_MAX_AGE" if purpose == LinkPurpose.INVITATION else "PASSWORD_RESET_MAX_AGE"
    return int(setting(key))


def make_link_token(user: User, purpose: LinkPurpose) -> str:
    return _serializer(purpose).dumps({"u": user.id, "p": user.password_fingerprint()})


def user_for_token(token: str, purpose: LinkPurpose) -> User:
    """The user a link was made for; AccountError ``link_expired`` / ``link_invalid`` /
    ``link_used`` otherwise (a link is spent once the password it was made for changes)."""
    try:
        data = _serializer(purpose).loads(token, max_age=_max_age(purpose))
    except SignatureExpired:
        raise AccountError("link_expired") from None
    except BadSignature:
        raise AccountError("link_invalid") from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active:
        raise AccountError("link_invalid")
    if user.password_fingerprint() != data.get("p"):
        raise AccountError("link_used")
    return user


def change_password(user: User, current: str, new: str) -> None:
    """The user's own password change: the current password is asked for; every session of
    theirs ends (the caller opens a fresh one for the browser that asked)."""
    if user.password_hash is None or not check_password_hash(user.password_hash, current):
        raise AccountError("wrong_password")
    check_password_rules(new)
    user.password_hash = hash_password(new)
    end_sessions(user)
    audit.record(user, "user.password_change", user, "password", None, "(changed)")
    db.session.flush()


def set_password_with_token(token: str, purpose: LinkPurpose, password: str) -> User:
    user = user_for_token(token, purpose)
    check_password_rules(password)
    user.password_hash = hash_password(password)
    end_sessions(user)
    audit.record(user, f"user.{purpose.replace('-', '_')}_used", user, "password", None, "(changed)")
    db.session.flush()
    return user


def link_sent(actor: User | None, user: User, purpose: LinkPurpose) -> None:
    """Record that a fresh one-time link went to (or was shown for) ``user``."""
    audit.record(actor, f"user.{purpose.replace('-', '_')}_sent", user)


# -- administration -------------------------------------------------------------------

@dataclass(frozen=True)
class RoleSpec:
    role: Role
    institution_id: int | None = None
    country_id: int | None = None


def validate_role(spec: RoleSpec) -> None:
    if spec.role == Role.RESPONDENT:
        if spec.institution_id is None or spec.country_id is not None:
            raise AccountError("respondent_needs_institution")
        if db.session.get(Institution, spec.institution_id) is None:
            raise AccountError("unknown_institution")
    elif spec.role == Role.REVIEWER:
        if spec.country_id is None or spec.institution_id is not None:
            raise AccountError("reviewer_needs_country")
    elif spec.role == Role.AUDITOR:
        if spec.institution_id is not None:
            raise AccountError("auditor_needs_country_or_all")
    elif spec.institution_id is not None or spec.country_id is not None:
        raise AccountError("admin_has_no_scope")
    if spec.country_id is not None and db.session.get(Country, spec.country_id) is None:
        raise AccountError("unknown_country")


def _describe(spec: RoleAssignment | RoleSpec) -> str:
    if spec.institution_id:
        return f"{spec.role.value}@institution:{spec.institution_id}"
    if spec.country_id:
        return f"{spec.role.value}@country:{spec.country_id}"
    return spec.role.value


def create_user(actor: User | None, email: str, name: str = "", locale: str | None = None,
                password: str | None = None, roles: list[RoleSpec] | tuple = ()) -> User:
    email = normalise_email(email)
    if not email or "@" not in email:
        raise AccountError("email_invalid")
    if find_user(email) is not None:
        raise AccountError("email_taken")
    if locale is not None and locale not in LANGUAGES:
        raise AccountError("locale_unknown")
    if password is not None:
        check_password_rules(password)
    user = User(email=email, name=name.strip(), locale=locale,
                password_hash=hash_password(password) if password is not None else None, active=True)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", user, "email", None, email)
    for spec in roles:
        assign_role(actor, user, spec)
    return user


def invite_user(actor: User | None, email: str, name: str, locale: str | None, role: RoleSpec) -> User:
    """A new user without a password, who sets one through their invitation link."""
    user = create_user(actor, email, name, locale, password=None, roles=[role])
    audit.record(actor, "user.invite", user)
    return user


def assign_role(actor: User | None, user: User, spec: RoleSpec) -> RoleAssignment:
    validate_role(spec)
    if any(_describe(existing) == _describe(spec) for existing in user.roles):
        raise AccountError("role_exists")
    assignment = RoleAssignment(role=spec.role, institution_id=spec.institution_id, country_id=spec.country_id)
    user.roles.append(assignment)
    db.session.flush()
    audit.record(actor, "user.role_add", user, "role", None, _describe(assignment))
    return assignment


def remove_role(actor: User | None, user: User, assignment_id: int) -> None:
    assignment = next((a for a in user.roles if a.id == assignment_id), None)
    if assignment is None:
        raise AccountError("role_unknown")
    if assignment.role == Role.ADMIN and _active_admin_count() <= 1 and user.active:
        raise AccountError("last_admin")
    user.roles.remove(assignment)
    audit.record(actor, "user.role_remove", user, "role", _describe(assignment), None)
    db.session.flush()


def _active_admin_count() -> int:
    return db.session.scalar(
        select(func.count(func.distinct(User.id))).join(RoleAssignment)
        .where(RoleAssignment.role == Role.ADMIN, User.active.is_(True))) or 0


def set_active(actor: User | None, user: User, active: bool) -> None:
    if user.active == active:
        return
    if not active and user.is_admin and _active_admin_count() <= 1:
        raise AccountError("last_admin")
    audit.record(actor, "user.activate" if active else "user.deactivate", user, "active", user.active, active)
    user.active = active
    if not active:
        end_sessions(user)
    db.session.flush()


def update_profile(actor: User, user: User, name: str, locale: str | None) -> None:
    if locale is not None and locale not in LANGUAGES:
        raise AccountError("locale_unknown")
    audit.record_changes(actor, "user.update", user, {"name": (user.name, name.strip()),
                                                     "locale": (user.locale, locale)})
    user.name = name.strip()
    user.locale = locale
    db.session.flush()
