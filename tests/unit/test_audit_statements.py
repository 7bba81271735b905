"""The one-statement update-and-event of the audit log refuses an update whose parameters would
be taken for the event's (the two share one set of parameters on PostgreSQL)."""
import pytest
from sqlalchemy import bindparam, update

from app.models import Answer
from app.services.audit import _update_then_insert


def test_an_update_with_a_parameter_named_as_an_event_column_is_refused():
    with pytest.raises(ValueError, match=r"\['new'\]"):
        _update_then_insert(update(Answer.__table__).values(value=bindparam("new")))

