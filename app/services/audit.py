"""Writing audit events. Every state change calls ``record`` inside the same transaction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from app.extensions import execute
from app.models import AuditEvent, User
from app.models._base import utcnow

# One statement object for every event: SQLAlchemy computes its cache key once. Inline: the
# new row's id is not read back (no RETURNING on PostgreSQL), nothing needs it.
_INSERT = insert(AuditEvent.__table__).inline()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "value") and not isinstance(value, str):  # enums
        value = value.value
    return str(value)


@dataclass(frozen=True, slots=True)
class Ref:
    """What an event is about, when no ORM object of it is at hand: its table and id."""
    table: str
    id: int | str


def _event(actor: User | None, action: str, entity: Any, field: str | None, old: Any, new: Any) -> dict:
    return {
        "at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "action": action,
        "entity_type": entity.table if isinstance(entity, Ref) else entity.__table__.name,
        "entity_id": str(entity.id),
        "field": field,
        "old": _text(old),
        "new": _text(new),
    }


def record(actor: User | None, action: str, entity: Any, field: str | None = None,
           old: Any = None, new: Any = None) -> None:
    """Append one event in the current transaction (written at once; rolled back with it)."""
    execute(_INSERT, _event(actor, action, entity, field, old, new))


def record_changes(actor: User | None, action: str, entity: Any, changes: dict[str, tuple[Any, Any]]) -> None:
    """One event per changed field; unchanged fields are skipped."""
    for field, (old, new) in changes.items():
        if _text(old) != _text(new):
            record(actor, action, entity, field, old, new)
