"""Writing audit events. Every state change calls ``record`` (or ``update_recorded``, for an UPDATE
of one row) inside the same transaction."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Update, bindparam, insert, literal_column, select

from app.extensions import db, execute
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


def _event(actor: User | None, action: str, entity: Any, field: str | None, old: Any, new: Any) -> dict:
    return {
        "at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "action": action,
        "entity_type": entity.__table__.name,
        "entity_id": str(entity.id),
        "field": field,
        "old": _text(old),
        "new": _text(new),
    }


def record(actor: User | None, action: str, entity: Any, field: str | None = None,
           old: Any = None, new: Any = None) -> None:
    """Append one event in the current transaction (written at once; rolled back with it)."""
    execute(_INSERT, _event(actor, action, entity, field, old, new))


def update_recorded(statement: Update, params: dict, actor: User, action: str, entity: Any, field: str | None,
                    old: Any, new: Any) -> bool:
    """Run ``statement``, an UPDATE of at most one row, and record the event if it changed a
    row; whether it did. The statement's own parameters must not be named as the event's
    columns, except ``actor_id`` (the same actor). On PostgreSQL both are one statement (a
    data-modifying CTE: one round trip, as autosave does this on every answer)."""
    connection = db.session.connection()
    event = _event(actor, action, entity, field, old, new)
    if connection.dialect.name == "postgresql":
        return connection.execute(_update_then_insert(statement), params | event).rowcount == 1
    if connection.execute(statement, params).rowcount != 1:
        return False
    connection.execute(_INSERT, event)
    return True


_EVENT_COLUMNS = ("at", "actor_id", "action", "entity_type", "entity_id", "field", "old", "new")


@lru_cache(maxsize=None)
def _update_then_insert(statement: Update):
    """``WITH changed AS (UPDATE … RETURNING 1) INSERT INTO audit_event … SELECT … FROM changed``:
    the event is inserted for the row the update changed, and for none if it changed none."""
    clashes = (set(statement.compile().params) & set(_EVENT_COLUMNS)) - {"actor_id"}
    if clashes:
        raise ValueError(f"the update's parameters {sorted(clashes)} are named as the event's columns")
    changed = statement.returning(literal_column("1")).cte("changed")
    table = AuditEvent.__table__
    values = select(*(bindparam(name, type_=table.c[name].type) for name in _EVENT_COLUMNS)).select_from(changed)
    return (insert(table).from_select(_EVENT_COLUMNS, values, include_defaults=False)
            .execution_options(preserve_rowcount=True))   # an INSERT's rowcount is not kept otherwise


def record_changes(actor: User | None, action: str, entity: Any, changes: dict[str, tuple[Any, Any]]) -> None:
    """One event per changed field; unchanged fields are skipped."""
    for field, (old, new) in changes.items():
        if _text(old) != _text(new):
            record(actor, action, entity, field, old, new)
