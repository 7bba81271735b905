"""Shared column helpers."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Enum, TypeDecorator, event


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its value in a VARCHAR with a CHECK constraint (portable, readable)."""
    return Enum(enum_cls, name=name, native_enum=False, create_constraint=True, length=32,
                values_callable=lambda cls: [member.value for member in cls],
                validate_strings=True)


class AppendOnly(Exception):
    """A row of an append-only table (audit, review events) was to be changed or deleted."""


def append_only(model: type, what: str) -> None:
    """Refuse, in the ORM, any update or delete of ``model``'s rows."""
    def refuse(_mapper, _connection, _target) -> None:
        raise AppendOnly(f"{what} are never changed or deleted")
    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)
